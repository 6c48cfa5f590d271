/**
 * Where an id lives. The seam's `status(id)` and `cancel(id)` take no name, while BullMQ keeps
 * one queue per name, so fanout records every name it enqueues under the prefix and looks for the
 * id under each in one script (names are lanes: a handful, not one per job).
 */
import type { Queue } from 'bullmq'
import { namesKey, toJobId } from './keys.js'
import type { BullClient, Producers } from './producer.js'
import { LOCATE } from './scripts.js'

export type Location =
  | { readonly kind: 'job'; readonly name: string }
  | { readonly kind: 'dead' | 'cancelled'; readonly name: string; readonly record: string }

export interface Located {
  readonly location: Location | undefined
  /** Any queue's client, for fanout's own commands. */
  readonly client: BullClient
}

/** The queue that runs fanout's lookups when no name is known yet. */
export const LOOKUP_QUEUE = '__fanout'

export async function locate(
  producers: Producers,
  prefix: string,
  id: string,
  signal: AbortSignal,
): Promise<Located> {
  const { client } = await producers.get(LOOKUP_QUEUE, signal)
  producers.define(client, LOCATE)
  const reply = (await client.runCommand(LOCATE.name, [
    namesKey(prefix),
    prefix,
    toJobId(id),
    id,
  ])) as [string, string, string?] | null
  if (!Array.isArray(reply)) return { location: undefined, client }
  const [kind, name, record] = reply
  if (kind === 'job') return { location: { kind, name }, client }
  return { location: { kind: kind as 'dead' | 'cancelled', name, record: record ?? '{}' }, client }
}

export type { Queue }

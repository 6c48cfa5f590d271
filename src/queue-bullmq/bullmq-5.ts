/**
 * BullMQ 5 next to BullMQ 6. BullMQ 6 reaches Redis through a backend (`queue.backend`) that adds
 * jobs and holds the client; BullMQ 5 has none: its queues hold the client and their `scripts` add
 * jobs, and it takes ioredis only. From 5.77 its client runs scripts the way BullMQ 6's does
 * (`runCommand`), so these two lookups are all that differ. 5.77 is also the floor for
 * another reason: earlier 5.x workers fetch again a job that `close()` handed back, and run it as
 * they close.
 */
import { InvalidOptionError } from '../core/errors.js'
import type { Bullmq } from './bullmq.js'
import type { ClientKind } from './clients.js'

/** BullMQ 6 exports its Redis backend; BullMQ 5 has none. */
export function hasBackend(bull: Bullmq): boolean {
  return (
    typeof (bull as unknown as { RedisQueueBackend?: unknown }).RedisQueueBackend === 'function'
  )
}

/** BullMQ 5 cannot use a node-redis client: say so at construction, not at the first enqueue. */
export function checkClient(bull: Bullmq, kind: ClientKind): void {
  if (kind === 'node-redis' && !hasBackend(bull))
    throw new InvalidOptionError(
      'bullmqQueue(): `connection` is a node-redis client, which the installed bullmq 5 cannot use: pass an ioredis client, or install bullmq 6 (npm install bullmq@6).',
    )
}

interface Base {
  readonly backend?: {
    readonly client: Promise<unknown>
    addJobToTransaction(client: unknown, json: unknown, jobId: string): Promise<unknown>
  }
  readonly client: Promise<unknown>
  readonly scripts: {
    addJob(client: unknown, json: unknown, opts: unknown, jobId: string): Promise<unknown>
  }
}

/** The client of a queue's or worker's connection, for fanout's own commands. */
export function bullClient(queueOrWorker: unknown): Promise<unknown> {
  const base = queueOrWorker as Base
  return base.backend?.client ?? base.client
}

/**
 * Sends BullMQ's own add of `json` on `client`, written before this returns (the command that
 * follows on the same connection runs after it).
 */
export function sendAdd(
  queue: unknown,
  client: unknown,
  json: { readonly opts: unknown },
  jobId: string,
): Promise<unknown> {
  const base = queue as Base
  if (base.backend !== undefined) return base.backend.addJobToTransaction(client, json, jobId)
  return base.scripts.addJob(client, json, json.opts, jobId)
}

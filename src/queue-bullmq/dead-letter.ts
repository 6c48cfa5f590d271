/**
 * The dead letter: per name, a capped record of each job that died ({id, name, attemptsMade,
 * error: {code, status}, diedAt}, never its data), oldest dropped first past `maxDead`. The
 * BullMQ job itself stays in BullMQ's failed set (within `removeOnFail`), which is what
 * `requeueDead()` moves back to waiting with fresh attempts.
 */
import type { Job } from 'bullmq'
import type { DeadJob, JobErrorInfo } from '../queue/job-queue.js'
import { fanoutKeys, toJobId } from './keys.js'
import { errorInfo } from './payload.js'
import type { BullClient, Producers } from './producer.js'
import { FORGET, RECORD } from './scripts.js'

/** Writes a record in `hash`/`order` (dead letters and cancellations share the shape). */
export async function writeRecord(
  producers: Producers,
  client: BullClient,
  keys: { readonly hash: string; readonly order: string },
  record: DeadJob,
  cap: number,
): Promise<void> {
  producers.define(client, RECORD)
  await client.runCommand(RECORD.name, [
    keys.hash,
    keys.order,
    record.id,
    JSON.stringify(record),
    record.diedAt,
    cap,
  ])
}

export function deadKeys(prefix: string, name: string) {
  const keys = fanoutKeys(prefix, name)
  return { hash: keys.deadRecords, order: keys.deadOrder }
}

export function deadRecord(
  id: string,
  name: string,
  attemptsMade: number,
  error: JobErrorInfo,
  diedAt: number,
): DeadJob {
  return { id, name, attemptsMade, error: errorInfo(error), diedAt }
}

export async function listDead(
  producers: Producers,
  prefix: string,
  name: string,
  limit: number,
  signal: AbortSignal,
): Promise<DeadJob[]> {
  const { client } = await producers.get(name, signal)
  const keys = deadKeys(prefix, name)
  const ids = await zrange(client, keys.order, limit)
  if (ids.length === 0) return []
  const records = await client.hmget(keys.hash, ...ids)
  const out: DeadJob[] = []
  for (const raw of records) {
    if (typeof raw !== 'string') continue
    const r = JSON.parse(raw) as DeadJob
    out.push(deadRecord(r.id, r.name, r.attemptsMade, r.error, r.diedAt))
  }
  return out
}

export async function requeue(
  producers: Producers,
  prefix: string,
  name: string,
  only: readonly string[] | undefined,
  signal: AbortSignal,
): Promise<number> {
  const { queue, client } = await producers.get(name, signal)
  const keys = deadKeys(prefix, name)
  const ids = only ?? (await zrange(client, keys.order, Infinity))
  let moved = 0
  const done: string[] = []
  for (const id of ids) {
    signal.throwIfAborted()
    const job = (await queue.getJob(toJobId(id))) as Job | undefined
    const known = (await client.hmget(keys.hash, id))[0]
    if (typeof known !== 'string') continue
    done.push(id)
    // Gone from BullMQ's failed set (past `removeOnFail`): there is nothing left to run again.
    if (job === undefined || !(await job.isFailed())) continue
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
    moved++
  }
  if (done.length > 0) {
    producers.define(client, FORGET)
    await client.runCommand(FORGET.name, [keys.hash, keys.order, ...done])
  }
  return moved
}

async function zrange(client: BullClient, key: string, limit: number): Promise<string[]> {
  const stop = limit === Infinity ? -1 : limit - 1
  return (
    client as unknown as { zrange(k: string, a: number, b: number): Promise<string[]> }
  ).zrange(key, 0, stop)
}

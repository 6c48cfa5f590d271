/**
 * What the BullMQ worker processes of the fault tests share: the queue with a short lock (a lost
 * worker's job comes back within about a second), the run log, the documented idempotency guard
 * around the side effect, and a graceful exit on SIGTERM.
 */
import type { Worker } from '../../../src/queue/index.js'
import { bullmqQueue } from '../../../src/queue-bullmq/index.js'
import { rawClient, type ClientKind, type RawClient } from '../clients.js'

export async function openQueue(kind: ClientKind, prefix: string) {
  const raw = await rawClient(kind)
  const queue = bullmqQueue({
    connection: raw.client,
    prefix,
    lockDurationMs: 1000,
    stalledIntervalMs: 300,
  })
  return { raw, queue }
}

/** Notes a run of the job in the shared run list; answers how many runs it now holds. */
export async function noteRun(
  raw: RawClient,
  prefix: string,
  jobId: string,
  attempt: number,
): Promise<number> {
  return Number(
    await raw.command(['RPUSH', `${prefix}:runs`, `${process.pid}:${jobId}:${attempt}`]),
  )
}

/** The side effect behind the guard: SET NX on the job id, then INCR; true when this run won. */
export async function chargeOnce(raw: RawClient, prefix: string, jobId: string): Promise<boolean> {
  const won = (await raw.command(['SET', `${prefix}:guard:${jobId}`, '1', 'NX'])) === 'OK'
  if (won) await raw.command(['INCR', `${prefix}:effects`])
  return won
}

/** On SIGTERM: close the worker with `graceMs`, then the queue and client, and exit. Says it started. */
export function serveUntilTerm(
  w: Worker,
  queue: { close(): Promise<void> },
  raw: RawClient,
  graceMs: number,
): void {
  process.once('SIGTERM', () => {
    void (async () => {
      await w.close({ graceMs })
      await queue.close()
      raw.close()
      process.exit(0)
    })()
  })
  // Not `reply()`, which exits: this process runs until it is killed or terminated.
  process.send!({ started: true })
}

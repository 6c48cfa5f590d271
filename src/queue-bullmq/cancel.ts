/**
 * `cancel(id)`: a queued job (waiting, prioritized, delayed) is removed from BullMQ and a
 * cancellation record answers its status (`failed`, `FANOUT_ABORTED`) from then on; a running one
 * has its delivery's signal aborted through the `CancelBus`. BullMQ's remove refuses a job that a
 * worker took meanwhile, which then counts as running.
 */
import { fanoutKeys, toJobId } from './keys.js'
import { locate } from './locate.js'
import type { CancelBus } from './cancel-bus.js'
import { deadRecord, writeRecord } from './dead-letter.js'
import type { Producers } from './producer.js'

const QUEUED = new Set(['waiting', 'prioritized', 'delayed', 'paused', 'wait'])

export async function cancelJob(
  producers: Producers,
  cancels: CancelBus,
  prefix: string,
  cap: number,
  id: string,
  signal: AbortSignal,
): Promise<boolean> {
  const { location } = await locate(producers, prefix, id, signal)
  if (location?.kind !== 'job') return false
  const { name } = location
  const { queue, client } = await producers.get(name, signal)
  const jobId = toJobId(id)
  const state = await queue.getJobState(jobId)
  if (QUEUED.has(state)) {
    const job = await queue.getJob(jobId)
    if ((await queue.remove(jobId)) === 1) {
      const keys = fanoutKeys(prefix, name)
      const error = { code: 'FANOUT_ABORTED', status: null }
      const record = deadRecord(id, name, job?.attemptsStarted ?? 0, error, Date.now())
      await writeRecord(
        producers,
        client,
        { hash: keys.cancelled, order: keys.cancelledOrder },
        record,
        cap,
      )
      return true
    }
    if ((await queue.getJobState(jobId)) !== 'active') return false
  } else if (state !== 'active') return false
  await cancels.publish(name, id)
  return true
}

/**
 * `status(id)`: BullMQ's state mapped onto the seam's. Waiting, prioritized and delayed are all
 * `queued` (with the time a retry or a delay runs, and the last attempt's error); active is
 * `running`; completed carries its result; failed is `failed` or `dead` by what fanout stored in
 * it. A dead-lettered or cancelled job whose BullMQ job was already removed by the retention
 * bounds is still answered from fanout's own record.
 */
import type { Job, Queue } from 'bullmq'
import type { JobData, JobStatus } from '../queue/job-queue.js'
import { toJobId } from './keys.js'
import { locate } from './locate.js'
import { decodeError, decodeFailure, LAST_ERROR_FIELD, RUN_AT_FIELD } from './payload.js'
import type { Producers } from './producer.js'

export async function jobStatus(
  producers: Producers,
  prefix: string,
  id: string,
  signal: AbortSignal,
): Promise<JobStatus | undefined> {
  const { location } = await locate(producers, prefix, id, signal)
  if (location === undefined) return undefined
  if (location.kind !== 'job') return fromRecord(id, location.name, location.kind, location.record)
  const { queue, client } = await producers.get(location.name, signal)
  const jobId = toJobId(id)
  const [state, job, extra] = await Promise.all([
    queue.getJobState(jobId),
    queue.getJob(jobId) as Promise<Job | undefined>,
    client.hmget(queue.toKey(jobId), LAST_ERROR_FIELD, RUN_AT_FIELD),
  ])
  if (job === undefined || state === 'unknown') return undefined
  const base = { id, name: location.name, attemptsMade: job.attemptsStarted }
  switch (state) {
    case 'active':
      return { ...base, state: 'running' }
    case 'completed':
      return { ...base, state: 'completed', result: (job.returnvalue ?? null) as JobData }
    case 'failed': {
      const { dead, ...error } = decodeFailure(job.failedReason)
      return dead === true ? { ...base, state: 'dead', error } : { ...base, state: 'failed', error }
    }
    default:
      return {
        ...base,
        state: 'queued',
        runAt: runAt(state, job, extra[1]),
        lastError: decodeError(extra[0]),
      }
  }
}

function runAt(state: string, job: Job, stored: string | null | undefined): number | null {
  if (state !== 'delayed') return null
  const at = Number(stored)
  if (stored != null && Number.isFinite(at)) return at
  return job.delay > 0 ? job.timestamp + job.delay : null
}

function fromRecord(
  id: string,
  name: string,
  kind: 'dead' | 'cancelled',
  record: string,
): JobStatus {
  const parsed = JSON.parse(record) as { attemptsMade?: unknown }
  const attemptsMade = typeof parsed.attemptsMade === 'number' ? parsed.attemptsMade : 0
  const error = decodeError(JSON.stringify((parsed as { error?: unknown }).error ?? {}))!
  return kind === 'dead'
    ? { id, name, attemptsMade, state: 'dead', error }
    : { id, name, attemptsMade, state: 'failed', error }
}

export type { Queue }

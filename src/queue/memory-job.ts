/** A job as the embedded queue keeps it, and the status a caller sees of it. */
import type { TimerHandle } from '../core/clock.js'
import { unknownError } from './error-info.js'
import type { JobData, JobErrorInfo, JobState, JobStatus } from './job-queue.js'

export interface MemoryRun {
  readonly controller: AbortController
  /** The consumer running it: taken back from it when its grace period ends. */
  readonly owner: object
}

export interface MemoryJob {
  readonly id: string
  readonly name: string
  readonly data: JobData
  readonly attempts: number
  readonly deadlineAt: number | null
  state: JobState
  attemptsMade: number
  /** Epoch ms before which a queued job will not run, or null. */
  runAt: number | null
  lastError: JobErrorInfo | null
  result: JobData
  error: JobErrorInfo | null
  diedAt: number
  /** The delay or backoff timer of a queued job. */
  timer: TimerHandle | undefined
  /** Set while it runs; a settlement whose run is no longer this one is ignored. */
  run: MemoryRun | undefined
  /** Cancelled while running: whatever the worker decides short of success, it ends failed. */
  cancelled: boolean
}

export function newJob(
  id: string,
  name: string,
  data: JobData,
  attempts: number,
  deadlineAt: number | null,
): MemoryJob {
  return {
    id,
    name,
    data,
    attempts,
    deadlineAt,
    state: 'queued',
    attemptsMade: 0,
    runAt: null,
    lastError: null,
    result: null,
    error: null,
    diedAt: 0,
    timer: undefined,
    run: undefined,
    cancelled: false,
  }
}

/** A frozen snapshot: later changes to the job do not show through. */
export function snapshotOf(job: MemoryJob): JobStatus {
  const base = { id: job.id, name: job.name, attemptsMade: job.attemptsMade }
  switch (job.state) {
    case 'queued':
      return Object.freeze({ ...base, state: 'queued', runAt: job.runAt, lastError: job.lastError })
    case 'running':
      return Object.freeze({ ...base, state: 'running' })
    case 'completed':
      return Object.freeze({ ...base, state: 'completed', result: job.result })
    case 'failed':
      return Object.freeze({ ...base, state: 'failed', error: job.error ?? unknownError })
    case 'dead':
      return Object.freeze({ ...base, state: 'dead', error: job.error ?? unknownError })
  }
}

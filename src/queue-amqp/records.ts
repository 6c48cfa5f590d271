/**
 * RabbitMQ keeps messages, not jobs: once a message is acknowledged it is gone, and a queued one
 * cannot be looked up by id. What `status()`, dedupe, `cancel()` and `dead()` need is kept beside
 * the broker in a `JobRecordStore`: `memoryRecordStore()` for one process, `redisRecordStore()`
 * for many. The message stays the job's carrier (its data travels only in the message); the
 * record says where the job is and which copy of its message is the current one.
 */
import type { JobData, JobErrorInfo, JobState } from '../queue/job-queue.js'

/** One job as the store holds it. */
export interface JobRecord {
  readonly id: string
  readonly name: string
  readonly state: JobState
  readonly attemptsMade: number
  /**
   * The attempt number carried by the job's current message. A message with a smaller one is a
   * stale copy (its acknowledgement was lost after a retry was published) and is dropped.
   */
  readonly pending: number
  readonly runAt: number | null
  readonly lastError: JobErrorInfo | null
  readonly result: JobData
  readonly error: JobErrorInfo | null
  readonly diedAt: number | null
  /** Set by `cancel()` on a running job: the consumer running it aborts its signal. */
  readonly cancelRequested: boolean
}

/** What `start()` answers for a delivered message. */
export type StartAnswer =
  /** Run it: the attempt number the delivery carries. */
  | { readonly run: true; readonly attempt: number }
  /** Acknowledge and drop it: the job is final (cancelled, completed...) or this copy is stale. */
  | { readonly run: false }

/** What `cancel()` did. */
export type CancelAnswer = 'cancelled' | 'running' | 'none'

/** What a settlement writes. */
export type RecordUpdate =
  | {
      readonly state: 'queued'
      readonly runAt: number
      readonly lastError: JobErrorInfo
      readonly pending: number
    }
  | { readonly state: 'completed'; readonly result: JobData }
  | { readonly state: 'failed'; readonly error: JobErrorInfo }
  | { readonly state: 'dead'; readonly error: JobErrorInfo; readonly diedAt: number }

export interface JobRecordStore {
  /** Creates the record unless one with its id exists; true when it was created. Atomic. */
  create(record: JobRecord): Promise<boolean>
  get(id: string): Promise<JobRecord | undefined>
  /** Removes a record whose publish failed (the rollback of `create`). */
  remove(id: string): Promise<void>
  /**
   * A message for `id` carrying attempt number `pending` was delivered: drop it, or mark the job
   * running and count the attempt. A job cancelled while running whose worker died is not run
   * again: it becomes failed (`FANOUT_ABORTED`) and is dropped. A missing record (its publish outlived enqueue's timeout and
   * was rolled back, or it passed its retention) is recreated from `fallback`: a job that reached
   * the broker runs.
   */
  start(id: string, pending: number, fallback: JobRecord): Promise<StartAnswer>
  /**
   * Writes a settlement. With `run` (the attempt `start()` answered), only while the record is
   * still running that attempt: a run whose delivery the broker took back and gave to another
   * consumer (a blocked event loop missed its heartbeats, H2) must not settle the job over the
   * run that holds it now.
   */
  update(id: string, update: RecordUpdate, run?: number): Promise<void>
  /** Queued → failed with `FANOUT_ABORTED`; running → `cancelRequested` and the listeners told. */
  cancel(id: string): Promise<CancelAnswer>
  /** Calls `listener(id)` when `cancel()` (here or in another process) asks a running job to stop. */
  onCancel(listener: (id: string) => void): () => void
  /**
   * Calls `listener` when cancels may have been missed (the subscriber reconnected): a consumer
   * then reads its running jobs' records and stops those flagged `cancelRequested`.
   */
  onResync(listener: () => void): () => void
  /** Dead records of `name`, oldest first, at most `limit`. */
  dead(name: string, limit: number): Promise<readonly JobRecord[]>
  /**
   * Puts a dead job back: queued with its attempts counted from zero again, its message carrying
   * `pending`. False when it is not dead.
   */
  revive(id: string, pending: number): Promise<boolean>
  close(): Promise<void>
}

/** The error a cancelled queued job ends with. */
export const ABORTED: JobErrorInfo = Object.freeze({ code: 'FANOUT_ABORTED', status: null })

/** A new record for an enqueue. */
export function newRecord(id: string, name: string, runAt: number | null): JobRecord {
  return {
    id,
    name,
    state: 'queued',
    attemptsMade: 0,
    pending: 1,
    runAt,
    lastError: null,
    result: null,
    error: null,
    diedAt: null,
    cancelRequested: false,
  }
}

/** The record after `update`. */
export function applyUpdate(record: JobRecord, update: RecordUpdate): JobRecord {
  switch (update.state) {
    case 'queued':
      return { ...record, ...update, cancelRequested: false }
    case 'completed':
      return { ...record, state: 'completed', result: update.result, runAt: null }
    case 'failed':
      return { ...record, state: 'failed', error: update.error, runAt: null }
    case 'dead':
      return { ...record, state: 'dead', error: update.error, diedAt: update.diedAt, runAt: null }
  }
}

/** True for states a job never leaves on its own. */
export const isFinal = (state: JobState): boolean =>
  state === 'completed' || state === 'failed' || state === 'dead'

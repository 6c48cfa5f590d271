/**
 * The seam between fanout's job helpers (`offload`, `worker`, `jobStatus`, `requeueDead`) and a
 * broker. A backend only moves jobs: it stores them, hands them out, and carries out the
 * settlement the worker decided. Every decision (retry or not, after how long, dead letter or
 * plain failure) is made once, in `worker()`, so the embedded queue, BullMQ and RabbitMQ behave
 * the same and one conformance suite checks all three.
 *
 * Delivery is at least once on every backend: a worker that dies mid-job, or whose completion
 * never reaches the broker, leaves the job to run again. Handlers must be idempotent.
 */

/** What a job carries: JSON values only, because the job crosses a process boundary. */
export type JobData =
  string | number | boolean | null | readonly JobData[] | { readonly [key: string]: JobData }

/**
 * Why an attempt or a job failed, without the error's message: messages may hold request details
 * or credentials, and this is stored in the broker and shown by status routes.
 */
export interface JobErrorInfo {
  /** A `FanoutError` code, the upstream's own error code, or `FANOUT_JOB_FAILED`. */
  readonly code: string
  /** The HTTP status the failure carried, if any. */
  readonly status: number | null
}

/** One job to add. `offload()` builds it; backends never see caller options directly. */
export interface EnqueueRequest {
  /** The job's name: a lane of the queue, handled by one `worker()`. */
  readonly name: string
  /** The job's identity. A second enqueue with an id the backend still knows adds nothing. */
  readonly id: string
  readonly data: JobData
  /** Queue-level attempts in all (at least 1). */
  readonly attempts: number
  /** Run no earlier than this many milliseconds from now. */
  readonly delayMs: number
  /** Wall-clock time (epoch ms) after which running the job is pointless, or `null`. */
  readonly deadlineAt: number | null
  /** Aborted when the caller stops waiting: the backend gives up the enqueue and rejects. */
  readonly signal?: AbortSignal | undefined
}

export interface EnqueueResult {
  readonly id: string
  /** True when a job with this id already existed: nothing was added. */
  readonly deduplicated: boolean
}

interface StatusBase {
  readonly id: string
  readonly name: string
  /** Attempts started so far (a redelivery after a crash counts). */
  readonly attemptsMade: number
}

/**
 * Where a job is. `failed` is final and was not retried (the error said retrying cannot help);
 * `dead` is final after every attempt failed, and sits in the dead letter until `requeueDead()`.
 */
export type JobStatus =
  | (StatusBase & {
      readonly state: 'queued'
      /** Epoch ms before which it will not run (a delay or a retry's backoff), or `null`. */
      readonly runAt: number | null
      /** Why the previous attempt failed, when this is a retry. */
      readonly lastError: JobErrorInfo | null
    })
  | (StatusBase & { readonly state: 'running' })
  | (StatusBase & { readonly state: 'completed'; readonly result: JobData })
  | (StatusBase & { readonly state: 'failed'; readonly error: JobErrorInfo })
  | (StatusBase & { readonly state: 'dead'; readonly error: JobErrorInfo })

export type JobState = JobStatus['state']

/** A job handed to a consumer. */
export interface Delivery {
  readonly id: string
  readonly name: string
  readonly data: JobData
  /** 1 for the first run; grows with each retry and each redelivery after a lost worker. */
  readonly attempt: number
  /** The job's `attempts`. */
  readonly attempts: number
  readonly deadlineAt: number | null
  /**
   * Aborted when the job is cancelled, when the backend loses the job (its lock or channel), or
   * when the consumer's grace period ends on close.
   */
  readonly signal: AbortSignal
}

/** What the worker decided; the backend carries it out. */
export type Settlement =
  | { readonly outcome: 'completed'; readonly result: JobData }
  /** Run again after `delayMs` (exactly: a `Retry-After` is honoured as given). */
  | { readonly outcome: 'retry'; readonly delayMs: number; readonly error: JobErrorInfo }
  /** Final, not retried, not dead-lettered. */
  | { readonly outcome: 'failed'; readonly error: JobErrorInfo }
  /** Final after its attempts: into the dead letter. */
  | { readonly outcome: 'dead'; readonly error: JobErrorInfo }

export interface ConsumeOptions {
  /** Jobs run at once by this consumer (the prefetch on RabbitMQ). */
  readonly concurrency: number
}

export interface CloseOptions {
  /**
   * How long running jobs may take to finish. When it ends their signals are aborted and they
   * are left to the broker to deliver again: never acknowledged, never lost.
   */
  readonly graceMs: number
}

export interface Consumer {
  /** Stops fetching, waits for running jobs up to `graceMs`, then resolves. */
  close(options: CloseOptions): Promise<void>
}

/** A dead-lettered job, as listed by `JobQueue.dead()`: identity and failure, never data. */
export interface DeadJob {
  readonly id: string
  readonly name: string
  readonly attemptsMade: number
  readonly error: JobErrorInfo
  /** Epoch ms when it was dead-lettered. */
  readonly diedAt: number
}

export interface JobQueue {
  /** `'memory'`, `'bullmq'`, `'amqp'`: for errors and traces. */
  readonly backend: string
  /**
   * Adds a job, or finds the one with its id. Rejects with `QueueUnavailableError` when the
   * broker cannot take it (never buffers it offline) and with `QueueFullError` when the queue
   * holds its `maxQueued` waiting jobs.
   */
  enqueue(request: EnqueueRequest): Promise<EnqueueResult>
  /** The job's status, or `undefined` when the backend does not know the id (never added, or removed after its retention). */
  status(id: string): Promise<JobStatus | undefined>
  /** Hands jobs named `name` to `process` and carries out what it answers. */
  consume(
    name: string,
    process: (delivery: Delivery) => Promise<Settlement>,
    options: ConsumeOptions,
  ): Consumer
  /**
   * A queued job is removed (its status becomes `failed` with `FANOUT_ABORTED`); a running one has
   * its delivery's signal aborted. False when the id is unknown or already final.
   */
  cancel(id: string): Promise<boolean>
  /** Dead-lettered jobs named `name`, oldest first, at most `limit`. */
  dead(name: string, options?: { readonly limit?: number }): Promise<readonly DeadJob[]>
  /** Puts dead jobs (all of `name`'s, or those in `ids`) back as new attempts; answers how many. */
  requeueDead(name: string, options?: { readonly ids?: readonly string[] }): Promise<number>
  /** Releases the backend's connections. Consumers should be closed first. */
  close(): Promise<void>
}

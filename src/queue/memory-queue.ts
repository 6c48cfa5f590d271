/**
 * `memoryQueue()`: the embedded `JobQueue`, for one process, tests and development. It keeps
 * everything in memory, so it is NOT durable: a crash or a restart loses every job. Use BullMQ
 * (`fanout/queue/bullmq`) or RabbitMQ (`fanout/queue/amqp`) when jobs must survive the process.
 *
 * It behaves like the brokers where the seam says so (dedupe by id while the job is known,
 * at-least-once, a consumer's close takes unfinished jobs back) and is bounded everywhere:
 * `maxQueued` waiting jobs, `maxFinished` finished ones and `maxDead` dead ones kept.
 */
import type { Clock } from '../core/clock.js'
import { AbortedError, QueueFullError, QueueUnavailableError } from '../core/errors.js'
import { invoke } from '../core/call.js'
import { checkNumber, snapshot } from '../core/validate.js'
import type {
  Consumer,
  ConsumeOptions,
  DeadJob,
  Delivery,
  EnqueueRequest,
  EnqueueResult,
  JobData,
  JobQueue,
  JobStatus,
  Settlement,
} from './job-queue.js'
import { checkJobId, checkJobName } from './job-name.js'
import { MemoryConsumer } from './memory-consumer.js'
import { abortedError, unknownError } from './error-info.js'
import { newJob, snapshotOf, type MemoryJob } from './memory-job.js'
import { memorySettings, type MemoryQueueOptions, type MemorySettings } from './memory-options.js'
import { Line } from './line.js'

export type { MemoryQueueOptions } from './memory-options.js'

/**
 * An in-memory `JobQueue` (`backend: 'memory'`). Not durable: jobs live as long as the process.
 *
 * @example
 * const queue = memoryQueue({ maxQueued: 1_000 })
 */
export function memoryQueue(options?: MemoryQueueOptions): JobQueue {
  return new MemoryQueue(memorySettings(options))
}

class MemoryQueue implements JobQueue {
  readonly backend = 'memory'
  readonly #settings: MemorySettings
  readonly #jobs = new Map<string, MemoryJob>()
  /** Jobs ready to run, per name, in order; entries whose job left `queued` are skipped. */
  readonly #ready = new Map<string, Line<MemoryJob>>()
  readonly #consumers = new Map<string, MemoryConsumer[]>()
  /** Completed and failed jobs, oldest first, for the retention bound. */
  readonly #finished = new Set<MemoryJob>()
  /** Dead jobs, oldest first. */
  readonly #dead = new Set<MemoryJob>()
  #waiting = 0
  #closed = false
  #pumping = new Set<string>()
  /** Wall-clock time, moved by the queue's clock so fake timers move it too. */
  readonly #epochAtStart: number
  readonly #clockAtStart: number

  constructor(settings: MemorySettings) {
    this.#settings = settings
    this.#epochAtStart = Date.now()
    this.#clockAtStart = settings.clock.now()
  }

  get clock(): Clock {
    return this.#settings.clock
  }

  #now(): number {
    return this.#epochAtStart + (this.#settings.clock.now() - this.#clockAtStart)
  }

  #open(operation: string): void {
    if (this.#closed)
      throw new QueueUnavailableError('memory', operation, 'closed', 'the memory queue is closed')
  }

  enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    return invoke(() => {
      this.#open('enqueue')
      const { signal } = request
      if (signal?.aborted === true) throw signal.reason
      const id = checkJobId('enqueue()', request.id)
      if (this.#jobs.has(id)) return { id, deduplicated: true }
      if (this.#waiting >= this.#settings.maxQueued)
        throw new QueueFullError(
          `the memory queue holds its maxQueued of ${this.#settings.maxQueued} waiting jobs`,
          this.#settings.maxQueued,
        )
      const attempts = checkNumber('enqueue()', 'attempts', request.attempts, {
        min: 1,
        max: 1_000,
        integer: true,
      })
      const job = newJob(
        id,
        checkJobName('enqueue()', request.name),
        asStored(request.data),
        attempts,
        request.deadlineAt,
      )
      this.#jobs.set(id, job)
      this.#waiting++
      this.#schedule(job, request.delayMs)
      return { id, deduplicated: false }
    })
  }

  status(id: string): Promise<JobStatus | undefined> {
    return invoke(() => {
      this.#open('status')
      const job = this.#jobs.get(id)
      return job === undefined ? undefined : snapshotOf(job)
    })
  }

  consume(
    name: string,
    process: (delivery: Delivery) => Promise<Settlement>,
    options: ConsumeOptions,
  ): Consumer {
    this.#open('consume')
    checkJobName('consume()', name)
    const opts = snapshot('consume()', options)
    const concurrency = checkNumber('consume()', 'concurrency', opts.concurrency, {
      min: 1,
      max: 10_000,
      integer: true,
    })
    const consumer = new MemoryConsumer(name, process, concurrency, {
      clock: this.#settings.clock,
      detach: (c) => {
        const list = this.#consumers.get(name) ?? []
        const rest = list.filter((x) => x !== c)
        if (rest.length > 0) this.#consumers.set(name, rest)
        else this.#consumers.delete(name)
      },
      takeBack: (job) => this.#takeBack(job),
    })
    this.#consumers.set(name, [...(this.#consumers.get(name) ?? []), consumer])
    this.#pump(name)
    return consumer
  }

  cancel(id: string): Promise<boolean> {
    return invoke(() => {
      this.#open('cancel')
      const job = this.#jobs.get(id)
      if (job === undefined) return false
      if (job.state === 'queued') {
        this.#leaveQueue(job)
        this.#finish(job, { outcome: 'failed', error: abortedError })
        return true
      }
      if (job.state !== 'running' || job.cancelled) return false
      job.cancelled = true
      job.run?.controller.abort(new AbortedError(`job "${id}" was cancelled`))
      return true
    })
  }

  dead(name: string, options?: { readonly limit?: number }): Promise<readonly DeadJob[]> {
    return invoke(() => {
      this.#open('dead')
      const opts = snapshot('dead()', options)
      const limit =
        opts.limit === undefined
          ? Infinity
          : checkNumber('dead()', 'limit', opts.limit, { min: 1, max: 1_000_000, integer: true })
      const out: DeadJob[] = []
      for (const job of this.#dead) {
        if (out.length >= limit) break
        if (job.name !== name) continue
        out.push(
          Object.freeze({
            id: job.id,
            name: job.name,
            attemptsMade: job.attemptsMade,
            error: job.error ?? unknownError,
            diedAt: job.diedAt,
          }),
        )
      }
      return out
    })
  }

  requeueDead(name: string, options?: { readonly ids?: readonly string[] }): Promise<number> {
    return invoke(() => {
      this.#open('requeueDead')
      const opts = snapshot('requeueDead()', options)
      const ids = opts.ids === undefined ? undefined : new Set(opts.ids)
      let count = 0
      for (const job of [...this.#dead]) {
        if (job.name !== name || (ids !== undefined && !ids.has(job.id))) continue
        this.#dead.delete(job)
        // A new run of the job: its attempts start over, its last failure stays visible.
        job.state = 'queued'
        job.attemptsMade = 0
        job.lastError = job.error
        job.error = null
        job.cancelled = false
        this.#waiting++
        this.#schedule(job, 0)
        count++
      }
      return count
    })
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    for (const job of this.#jobs.values()) {
      if (job.timer !== undefined) this.#settings.clock.clearTimeout(job.timer)
      job.timer = undefined
      const run = job.run
      if (run === undefined) continue
      // Released from its consumer too: a consumer closed after the queue has nothing to wait for.
      job.run = undefined
      ;(run.owner as MemoryConsumer).released(job)
      run.controller.abort(new AbortedError('the memory queue was closed'))
    }
    for (const list of this.#consumers.values()) for (const c of list) c.closing = true
    this.#consumers.clear()
    this.#ready.clear()
    return Promise.resolve()
  }

  /** Makes a queued job ready now, or after `delayMs` on the queue's clock. */
  #schedule(job: MemoryJob, delayMs: number): void {
    if (!(delayMs > 0)) {
      job.runAt = null
      this.#makeReady(job)
      return
    }
    job.runAt = this.#now() + delayMs
    job.timer = this.#settings.clock.setTimeout(() => {
      job.timer = undefined
      this.#makeReady(job)
    }, delayMs)
  }

  #makeReady(job: MemoryJob): void {
    let line = this.#ready.get(job.name)
    if (line === undefined) this.#ready.set(job.name, (line = new Line()))
    line.push(job)
    this.#pump(job.name)
  }

  #leaveQueue(job: MemoryJob): void {
    this.#waiting--
    if (job.timer !== undefined) this.#settings.clock.clearTimeout(job.timer)
    job.timer = undefined
  }

  /**
   * Hands ready jobs to free consumers, one each in turn so consumers share the work. Deferred
   * to a microtask: an enqueue never runs a handler inside the caller's own call.
   */
  #pump(name: string): void {
    if (this.#pumping.has(name)) return
    this.#pumping.add(name)
    queueMicrotask(() => {
      this.#pumping.delete(name)
      if (this.#closed) return
      const ready = this.#ready.get(name)
      const consumers = this.#consumers.get(name)
      if (ready === undefined || consumers === undefined) return
      let progress = true
      while (progress && ready.length > 0) {
        progress = false
        for (const consumer of consumers) {
          const job = consumer.free ? this.#nextReady(ready) : undefined
          if (job === undefined) continue
          this.#start(consumer, job)
          progress = true
        }
      }
      if (ready.length === 0) this.#ready.delete(name)
    })
  }

  #nextReady(ready: Line<MemoryJob>): MemoryJob | undefined {
    while (ready.length > 0) {
      const job = ready.shift()!
      // Skipped: cancelled, or delayed again, since it was put in line.
      if (job.state === 'queued' && job.timer === undefined && this.#jobs.get(job.id) === job)
        return job
    }
    return undefined
  }

  #start(consumer: MemoryConsumer, job: MemoryJob): void {
    this.#leaveQueue(job)
    job.state = 'running'
    job.attemptsMade++
    const run = { controller: new AbortController(), owner: consumer }
    job.run = run
    consumer.active.add(job)
    const delivery: Delivery = Object.freeze({
      id: job.id,
      name: job.name,
      data: job.data,
      attempt: job.attemptsMade,
      attempts: job.attempts,
      deadlineAt: job.deadlineAt,
      signal: run.controller.signal,
    })
    invoke(() => consumer.process(delivery)).then(
      (settlement) => this.#settle(job, run, settlement),
      () =>
        // A process that rejects broke the seam's contract; the job is not lost, nor retried forever.
        this.#settle(
          job,
          run,
          job.attemptsMade < job.attempts
            ? { outcome: 'retry', delayMs: 0, error: unknownError }
            : { outcome: 'dead', error: unknownError },
        ),
    )
  }

  #settle(job: MemoryJob, run: object, settlement: Settlement): void {
    if (job.run !== run || this.#closed) return
    job.run = undefined
    ;(run as { owner: MemoryConsumer }).owner.released(job)
    const outcome =
      job.cancelled && settlement.outcome !== 'completed'
        ? ({ outcome: 'failed', error: abortedError } as const)
        : settlement
    if (outcome.outcome === 'retry') {
      job.state = 'queued'
      job.lastError = outcome.error
      this.#waiting++
      this.#schedule(job, outcome.delayMs)
    } else {
      this.#finish(job, outcome)
    }
    this.#pump(job.name)
  }

  #takeBack(job: MemoryJob): void {
    const run = job.run
    if (run === undefined) return
    job.run = undefined
    ;(run.owner as MemoryConsumer).released(job)
    if (this.#closed) return
    job.state = 'queued'
    this.#waiting++
    this.#schedule(job, 0)
  }

  #finish(job: MemoryJob, settlement: Exclude<Settlement, { outcome: 'retry' }>): void {
    if (settlement.outcome === 'completed') {
      job.state = 'completed'
      job.result = asStored(settlement.result)
    } else {
      job.state = settlement.outcome
      job.error = settlement.error
    }
    job.runAt = null
    if (job.state === 'dead') {
      job.diedAt = this.#now()
      this.#dead.add(job)
      this.#trim(this.#dead, this.#settings.maxDead)
    } else {
      this.#finished.add(job)
      this.#trim(this.#finished, this.#settings.maxFinished)
    }
  }

  /** Drops the oldest entries past `max`: the queue forgets them (their ids may be used again). */
  #trim(set: Set<MemoryJob>, max: number): void {
    for (const job of set) {
      if (set.size <= max) return
      set.delete(job)
      this.#jobs.delete(job.id)
    }
  }
}

/**
 * What a broker would give back: the value through JSON, so a caller's later change to its
 * object does not reach the stored job, and a value that is not JSON comes back as a broker
 * would return it (a `Date` as a string), in tests too.
 */
function asStored(value: JobData | undefined): JobData {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JobData)
}

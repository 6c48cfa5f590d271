/**
 * `amqpQueue()`: the `JobQueue` seam on RabbitMQ (3.8+, no plugins) through amqplib.
 *
 * Enqueue creates the job's record if absent (dedupe), then publishes with a confirm; it resolves
 * once the broker has the message, and fails within `timeout` (or at the caller's signal) with
 * `QueueUnavailableError` when the broker is down, partitioned or blocked. Nothing is buffered
 * while the broker is away: each call fails, and the next one after the broker returns connects
 * again. A publish that fails rolls its record back, so a later enqueue of the same id adds it.
 * The window: between the record and the confirm (at most `timeout` for the caller, until the
 * publish settles for the record) a second enqueue of that id answers `deduplicated: true`; if
 * the publish then fails, the record is removed and that second caller's job does not exist.
 * A publish confirmed after the caller's timeout still runs (its record is kept, or recreated by
 * the consumer): the caller saw an error for a job that was added, so enqueueing again with the
 * same id is the safe answer to a timeout.
 */
import { FanoutError, QueueFullError } from '../core/errors.js'
import type { JobQueue, JobStatus } from '../queue/job-queue.js'
import { loadAmqplib } from './amqplib.js'
import { startConsumer, type ConsumerContext } from './consumer.js'
import { Link } from './link.js'
import { encode, publishOptions } from './message.js'
import { memoryRecordStore } from './memory-records.js'
import { readOptions, type AmqpQueueOptions } from './options.js'
import { bounded, confirmed, Nacked, unavailable } from './publish.js'
import { newRecord, type JobRecord } from './records.js'
import { requeueDead } from './requeue.js'
import { delayBucket, mainQueue, type Topology } from './topology.js'

export interface AmqpQueue extends JobQueue {
  readonly backend: 'amqp'
}

const noop = (): void => {}

export function amqpQueue(options: AmqpQueueOptions): AmqpQueue {
  const o = readOptions(options)
  const amqp = loadAmqplib()
  const ownStore = o.records === undefined
  const store = o.records ?? memoryRecordStore()
  const topology: Topology = {
    prefix: o.prefix,
    deliveryLimit: o.deliveryLimit,
    maxQueued: o.maxQueued,
  }
  const link = new Link({
    amqp,
    url: o.url,
    connectTimeoutMs: o.connectTimeoutMs,
    heartbeatS: o.heartbeatS,
    topology,
  })
  const ctx: ConsumerContext = { link, store, topology }
  let closed = false
  const closedError = (operation: string) => unavailable(operation, 'closed', 'after close()')

  const publish = async (request: Parameters<JobQueue['enqueue']>[0], wait: number) => {
    const session = await link.session().catch((error: unknown) => {
      throw unavailable('enqueue', 'error', 'could not connect to RabbitMQ', error)
    })
    if (session.blocked !== undefined)
      throw unavailable(
        'enqueue',
        'error',
        `refused: RabbitMQ blocks publishers (${session.blocked})`,
      )
    if (session.inFlight >= o.maxUnconfirmed)
      throw unavailable(
        'enqueue',
        'error',
        `refused: ${o.maxUnconfirmed} publishes await their confirm (maxUnconfirmed)`,
      )
    session.inFlight++
    try {
      await session.declared.jobQueues(request.name)
      const queue =
        wait === 0
          ? mainQueue(topology, request.name)
          : await session.declared.delay(request.name, wait)
      const job = {
        id: request.id,
        name: request.name,
        data: request.data,
        attempts: request.attempts,
        deadlineAt: request.deadlineAt,
      }
      await confirmed(session.publisher, queue, encode(job), publishOptions(request.id, 1))
    } finally {
      session.inFlight--
    }
  }

  const failure = (error: unknown): unknown => {
    if (error instanceof Nacked)
      return o.maxQueued === undefined
        ? unavailable('enqueue', 'error', 'was refused (nack) by RabbitMQ')
        : new QueueFullError(
            `amqpQueue: the queue holds its ${o.maxQueued} waiting jobs (maxQueued).`,
            o.maxQueued,
          )
    if (error instanceof FanoutError) return error
    return unavailable('enqueue', 'error', 'failed on RabbitMQ', error)
  }

  return {
    backend: 'amqp',
    enqueue(request) {
      if (closed) return Promise.reject(closedError('enqueue'))
      const wait = delayBucket(request.delayMs)
      return bounded('enqueue', o.timeoutMs, request.signal, async () => {
        const record = newRecord(request.id, request.name, wait > 0 ? Date.now() + wait : null)
        if (!(await store.create(record))) return { id: request.id, deduplicated: true }
        try {
          await publish(request, wait)
        } catch (error) {
          await store.remove(request.id).catch(noop)
          throw failure(error)
        }
        return { id: request.id, deduplicated: false }
      })
    },
    async status(id) {
      if (closed) throw closedError('status')
      const record = await bounded('status', o.timeoutMs, undefined, () => store.get(id))
      return record === undefined ? undefined : statusOf(record)
    },
    consume(name, process, consumeOptions) {
      if (closed) throw closedError('consume')
      return startConsumer(ctx, name, process, consumeOptions.concurrency)
    },
    async cancel(id) {
      if (closed) throw closedError('cancel')
      return (await bounded('cancel', o.timeoutMs, undefined, () => store.cancel(id))) !== 'none'
    },
    async dead(name, deadOptions) {
      if (closed) throw closedError('dead')
      const limit = Math.max(0, Math.min(deadOptions?.limit ?? 100, 1_000))
      const records = await store.dead(name, limit)
      return records.map((r) => ({
        id: r.id,
        name: r.name,
        attemptsMade: r.attemptsMade,
        error: r.error ?? { code: 'FANOUT_JOB_FAILED', status: null },
        diedAt: r.diedAt ?? 0,
      }))
    },
    requeueDead(name, requeueOptions) {
      if (closed) return Promise.reject(closedError('requeueDead'))
      return requeueDead(ctx, name, requeueOptions?.ids)
    },
    async close() {
      if (closed) return
      closed = true
      await link.close()
      if (ownStore) await store.close()
    },
  }
}

/** The seam's status for a record. */
export function statusOf(r: JobRecord): JobStatus {
  const base = { id: r.id, name: r.name, attemptsMade: r.attemptsMade }
  switch (r.state) {
    case 'queued':
      return { ...base, state: 'queued', runAt: r.runAt, lastError: r.lastError }
    case 'running':
      return { ...base, state: 'running' }
    case 'completed':
      return { ...base, state: 'completed', result: r.result }
    case 'failed':
      return {
        ...base,
        state: 'failed',
        error: r.error ?? { code: 'FANOUT_JOB_FAILED', status: null },
      }
    case 'dead':
      return {
        ...base,
        state: 'dead',
        error: r.error ?? { code: 'FANOUT_JOB_FAILED', status: null },
      }
  }
}

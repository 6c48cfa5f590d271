/**
 * `amqpQueue()`: the `JobQueue` seam on RabbitMQ (3.8+, no plugins) through amqplib.
 *
 * A backend only moves jobs: enqueue (enqueue.ts), consume (consumer.ts, settle.ts), requeue
 * (requeue.ts); where each job is lives in the `JobRecordStore` (records.ts).
 */
import { FanoutError } from '../core/errors.js'
import type { JobQueue, JobStatus } from '../queue/job-queue.js'
import { loadAmqplib } from './amqplib.js'
import type { ConsumerContext } from './context.js'
import { startConsumer } from './consumer.js'
import { Link } from './link.js'
import { enqueuer } from './enqueue.js'
import { memoryRecordStore } from './memory-records.js'
import { readOptions, type AmqpQueueOptions } from './options.js'
import { bounded, unavailable } from './publish.js'
import type { JobRecord } from './records.js'
import { requeueDead } from './requeue.js'
import type { Topology } from './topology.js'

export interface AmqpQueue extends JobQueue {
  readonly backend: 'amqp'
}

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

  const enqueue = enqueuer({ link, store, topology, options: o })

  return {
    backend: 'amqp',
    enqueue(request) {
      if (closed) return Promise.reject(closedError('enqueue'))
      return enqueue(request)
    },
    async status(id) {
      if (closed) throw closedError('status')
      const record = await bounded('status', o.timeoutMs, undefined, () =>
        store.get(id).catch(storeFailed('status')),
      )
      return record === undefined ? undefined : statusOf(record)
    },
    consume(name, process, consumeOptions) {
      if (closed) throw closedError('consume')
      return startConsumer(ctx, name, process, consumeOptions.concurrency)
    },
    async cancel(id) {
      if (closed) throw closedError('cancel')
      const answer = await bounded('cancel', o.timeoutMs, undefined, () =>
        store.cancel(id).catch(storeFailed('cancel')),
      )
      return answer !== 'none'
    },
    async dead(name, deadOptions) {
      if (closed) throw closedError('dead')
      const limit = Math.max(0, Math.min(deadOptions?.limit ?? 100, 1_000))
      const records = await bounded('dead', o.timeoutMs, undefined, () =>
        store.dead(name, limit).catch(storeFailed('dead')),
      )
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

/** A record store's failure as the queue's: `QueueUnavailableError`, the store's error its cause. */
const storeFailed =
  (operation: string) =>
  (error: unknown): never => {
    if (error instanceof FanoutError) throw error
    throw unavailable(operation, 'error', 'failed in the job record store', error)
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

/**
 * `bullmqQueue(options)`: the seam's `JobQueue` on BullMQ. Producing, status and the dead letter
 * share one duplicate connection without an offline queue; each consumer has its own. See
 * docs/queue.md (BullMQ) for what each option bounds and how a crash or a Redis outage behaves.
 */
import { InvalidOptionError } from '../core/errors.js'
import type { JobQueue } from '../queue/job-queue.js'
import { loadBullmq } from './bullmq.js'
import { checkClient } from './bullmq-5.js'
import { CancelBus } from './cancel-bus.js'
import { cancelJob } from './cancel.js'
import { duplicateClient } from './clients.js'
import { startConsumer } from './consume.js'
import { listDead, requeue } from './dead-letter.js'
import { enqueueJob } from './enqueue.js'
import { bounded } from './operation.js'
import { resolveOptions, type BullmqQueueOptions } from './options.js'
import { Producers } from './producer.js'
import { jobStatus } from './status.js'

export function bullmqQueue(options: BullmqQueueOptions): JobQueue {
  const o = resolveOptions(options)
  const bull = loadBullmq()
  checkClient(bull, o.kind)
  const owned = duplicateClient(o.client, o.kind, { failFast: true })
  const producers = new Producers(bull, o, owned)
  const cancels = new CancelBus(o.client, o.kind, o.prefix, owned)
  const consumers = new Set<{ close(options: { graceMs: number }): Promise<void> }>()
  let closed = false
  const op = <T>(operation: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    bounded(operation, o.operationTimeoutMs, closed, work)
  const ctx = { bull, options: o, producers, isClosed: () => closed }

  return {
    backend: 'bullmq',
    enqueue: (request) => enqueueJob(ctx, request),
    status: (id) => op('status', (signal) => jobStatus(producers, o.prefix, id, signal)),
    cancel: (id) =>
      op('cancel', (signal) => cancelJob(producers, cancels, o.prefix, o.maxDead, id, signal)),
    dead: (name, opts) =>
      op('dead', (signal) => listDead(producers, o.prefix, name, limitOf(opts?.limit), signal)),
    requeueDead: (name, opts) =>
      op('requeueDead', (signal) => requeue(producers, o.prefix, name, opts?.ids, signal)),
    consume(name, process, consumeOptions) {
      if (closed) throw new InvalidOptionError(`bullmqQueue: consume("${name}") after close()`)
      const consumer = startConsumer(
        { bull, options: o, producers, cancels },
        name,
        process,
        consumeOptions,
      )
      const tracked = {
        close: async (closeOptions: { graceMs: number }) => {
          await consumer.close(closeOptions)
          consumers.delete(tracked)
        },
      }
      consumers.add(tracked)
      return tracked
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.all([...consumers].map((c) => c.close({ graceMs: 0 })))
      await producers.close()
      cancels.close()
      owned.close()
    },
  }
}

function limitOf(limit: number | undefined): number {
  if (limit === undefined) return 1000
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidOptionError(
      `bullmqQueue: dead() \`limit\` must be a positive integer, got ${String(limit)}`,
    )
  return limit
}

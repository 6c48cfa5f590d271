/**
 * Enqueue: create the job's record if absent (dedupe), then publish with a confirm. It resolves
 * once the broker has the message, and fails within `timeout` (or at the caller's signal) with
 * `QueueUnavailableError` when the broker is down, partitioned or blocked. Nothing is buffered
 * while the broker is away: each call fails, and the next one after the broker returns connects
 * again. A publish that fails rolls its record back, so a later enqueue of the same id adds it.
 *
 * The dedupe window: between the record and the confirm (at most `timeout` for the caller, until
 * the publish settles for the record) a second enqueue of that id answers `deduplicated: true`;
 * if the publish then fails, the record is removed and that second caller's job does not exist.
 * A publish confirmed after the caller's timeout still runs (its record is kept, or recreated by
 * the consumer): the caller saw an error for a job that was added, so enqueueing again with the
 * same id is the safe answer to a timeout.
 */
import { FanoutError, QueueFullError } from '../core/errors.js'
import type { EnqueueRequest, EnqueueResult } from '../queue/job-queue.js'
import type { Link } from './link.js'
import { encode, publishOptions } from './message.js'
import type { ResolvedOptions } from './options.js'
import { bounded, confirmed, Nacked, unavailable } from './publish.js'
import { newRecord, type JobRecordStore } from './records.js'
import { delayBucket, mainQueue, type Topology } from './topology.js'

export interface EnqueueContext {
  readonly link: Link
  readonly store: JobRecordStore
  readonly topology: Topology
  readonly options: ResolvedOptions
}

const noop = (): void => {}

export function enqueuer(ctx: EnqueueContext): (request: EnqueueRequest) => Promise<EnqueueResult> {
  const { link, store, topology, options: o } = ctx
  const publish = async (request: EnqueueRequest, wait: number): Promise<void> => {
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

  return (request) => {
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
  }
}

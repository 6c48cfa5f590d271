/**
 * One `consume()`: its own confirm channel on the shared connection, prefetch = concurrency,
 * manual acknowledgements. A message is acknowledged only after its settlement is carried out
 * (the retry or dead copy confirmed by the broker, the record written), so a worker that dies at
 * any point leaves it to be delivered again: at least once, never lost.
 *
 * When the channel or connection is lost, running jobs' signals abort (the broker has already
 * put their messages back) and their late settlements are ignored; the consumer attaches again
 * on its own, backing off from 100 ms to 5 s while the broker is away.
 */
import type { ConfirmChannel, ConsumeMessage } from 'amqplib'
import { AbortedError } from '../core/errors.js'
import { AckBatch } from './acks.js'
import type { CloseOptions, Consumer, Delivery, Settlement } from '../queue/job-queue.js'
import type { ConsumerContext } from './context.js'
import { CLOSE_MS, within } from './link.js'
import { decode, type JobMessage } from './message.js'
import { newRecord, type StartAnswer } from './records.js'
import { settle } from './settle.js'
import { Declared, mainQueue } from './topology.js'

type Process = (delivery: Delivery) => Promise<Settlement>

interface Attached {
  readonly ch: ConfirmChannel
  readonly declared: Declared
  readonly tag: string
  readonly acks: AckBatch
  lost: boolean
}

interface Running {
  readonly controller: AbortController
  readonly attached: Attached
  readonly done: Promise<void>
}

const noop = (): void => {}
const BACKOFF_MIN_MS = 100
const BACKOFF_MAX_MS = 5_000

export function startConsumer(
  ctx: ConsumerContext,
  name: string,
  process: Process,
  concurrency: number,
): Consumer {
  const running = new Map<string, Running>()
  let attached: Attached | undefined
  let closing = false
  let backoff = BACKOFF_MIN_MS
  let retryTimer: ReturnType<typeof setTimeout> | undefined

  const lose = (a: Attached): void => {
    if (a.lost) return
    a.lost = true
    a.acks.lose()
    if (attached === a) attached = undefined
    for (const [, r] of running) {
      if (r.attached === a) r.controller.abort(new AbortedError('amqpQueue: the channel was lost'))
    }
    a.ch.close().catch(noop)
    schedule()
  }
  const schedule = (): void => {
    if (closing || retryTimer !== undefined) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      attach().catch(noop)
    }, backoff)
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
  }

  const attach = async (): Promise<void> => {
    if (closing || attached !== undefined) return
    let ch: ConfirmChannel | undefined
    try {
      const session = await ctx.link.session()
      ch = await session.model.createConfirmChannel()
      ch.on('error', noop)
      const declared = new Declared(ch, ctx.topology)
      await declared.jobQueues(name)
      await ch.prefetch(concurrency)
      const a: Attached = { ch, declared, tag: '', acks: new AckBatch(ch), lost: false }
      ch.on('close', () => lose(a))
      const { consumerTag } = await ch.consume(
        mainQueue(ctx.topology, name),
        (message) => {
          if (message === null) lose(a)
          else {
            a.acks.delivered(message)
            void handle(a, message)
          }
        },
        { noAck: false },
      )
      ;(a as { tag: string }).tag = consumerTag
      if (closing || a.lost) {
        a.lost = true
        await ch.close().catch(noop)
        return
      }
      attached = a
      backoff = BACKOFF_MIN_MS
    } catch {
      ch?.close().catch(noop)
      schedule()
    }
  }

  const handle = (a: Attached, message: ConsumeMessage): Promise<void> => {
    const decoded = decode(message)
    if (decoded === undefined) {
      // Not a fanout job: straight to the dead queue (the main queue's dead-letter exchange).
      a.acks.nack(message, false)
      return Promise.resolve()
    }
    const { job, pending } = decoded
    const controller = new AbortController()
    const run = runJob(ctx, process, a, message, job, pending, controller)
    const entry: Running = { controller, attached: a, done: run }
    running.set(job.id, entry)
    return run.finally(() => {
      if (running.get(job.id) === entry) running.delete(job.id)
    })
  }

  const stopWatching = watchCancels(ctx, running)
  const stopLost = ctx.link.onLost(() => {
    if (attached !== undefined) lose(attached)
  })
  void attach()

  return {
    async close(options: CloseOptions) {
      if (closing) return
      closing = true
      clearTimeout(retryTimer)
      stopLost()
      const a = attached
      // Bounded: a partitioned broker never answers, and its connection is as good as closed.
      if (a !== undefined && !a.lost) await within(a.ch.cancel(a.tag), CLOSE_MS)
      await waitFor(
        [...running.values()].map((r) => r.done),
        options.graceMs,
      )
      for (const [, r] of running)
        r.controller.abort(new AbortedError('amqpQueue: the consumer closed before the job ended'))
      stopWatching()
      if (a !== undefined) {
        if (!a.lost) a.acks.flush()
        a.acks.lose()
        a.lost = true
        // Closing the channel with messages unacknowledged hands them back to the broker.
        await within(a.ch.close(), CLOSE_MS)
      }
    },
  }
}

/**
 * Aborts a running job's signal when it is cancelled: on the store's notice, and after a resync
 * (notices may have been lost) for each running job whose record is flagged. Returns the stop.
 */
function watchCancels(ctx: ConsumerContext, running: ReadonlyMap<string, Running>): () => void {
  const cancelled = (): AbortedError => new AbortedError('amqpQueue: the job was cancelled')
  const stopCancel = ctx.store.onCancel((id) => {
    running.get(id)?.controller.abort(cancelled())
  })
  const stopResync = ctx.store.onResync(() => {
    for (const [id, r] of running) {
      void ctx.store.get(id).then((record) => {
        if (record?.cancelRequested === true) r.controller.abort(cancelled())
      }, noop)
    }
  })
  return () => {
    stopCancel()
    stopResync()
  }
}

/** One delivery: start it in the records, run it, carry out the settlement, acknowledge it. */
async function runJob(
  ctx: ConsumerContext,
  process: Process,
  a: Attached,
  message: ConsumeMessage,
  job: JobMessage,
  pending: number,
  controller: AbortController,
): Promise<void> {
  try {
    const answer = await startJob(ctx, a, job, pending)
    if (answer === undefined || a.lost) return
    if (!answer.run) {
      acknowledge(a, message)
      return
    }
    const settlement = await process({
      id: job.id,
      name: job.name,
      data: job.data,
      attempt: answer.attempt,
      attempts: job.attempts,
      deadlineAt: job.deadlineAt,
      signal: controller.signal,
    })
    // The channel went away or the grace period ended: the broker delivers it again.
    if (a.lost) return
    await settle(ctx, a.ch, a.declared, job, pending, settlement, answer.attempt)
    acknowledge(a, message)
  } catch {
    // The broker or the records failed while settling: leave the message to be delivered again.
    if (!a.lost) a.acks.nack(message, true)
  }
}

/**
 * `store.start()`, tried again (100 ms, doubling to 5 s) while the record store fails and the
 * channel lasts. The message stays unacknowledged meanwhile: handing it back would count as a
 * delivery against the queue's delivery limit, and a record-store outage must not dead-letter jobs.
 */
async function startJob(
  ctx: ConsumerContext,
  a: Attached,
  job: JobMessage,
  pending: number,
): Promise<StartAnswer | undefined> {
  for (let wait = BACKOFF_MIN_MS; !a.lost; wait = Math.min(wait * 2, BACKOFF_MAX_MS)) {
    try {
      return await ctx.store.start(job.id, pending, newRecord(job.id, job.name, null))
    } catch {
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
  return undefined
}

/** Acks (with this tick's others), unless the channel is gone: then the broker delivers it again. */
function acknowledge(a: Attached, message: ConsumeMessage): void {
  if (!a.lost) a.acks.ack(message)
}

/** Resolves when every promise has settled or `ms` have passed (never, for Infinity), whichever is first. */
function waitFor(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return Promise.resolve()
  return new Promise<void>((resolve) => {
    // setTimeout would take Infinity (or anything past 2^31 - 1 ms) as 1 ms.
    const timer = Number.isFinite(ms) && ms < 2 ** 31 ? setTimeout(resolve, ms) : undefined
    void Promise.allSettled(promises).then(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

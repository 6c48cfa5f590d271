/**
 * `consume()`: a BullMQ `Worker` on a connection of its own, handing each job to the seam's
 * `process` and carrying out its settlement. Its delivery's signal is aborted when the job is
 * cancelled (any process, `CancelBus`), when BullMQ aborts it, or when `close()`'s grace ends.
 *
 * `close({graceMs})` stops fetching at once and lets running jobs finish for up to `graceMs`
 * (BullMQ's own close waits forever). When the grace ends, each job still running is moved back to
 * waiting, not failed and not acknowledged, so another worker runs it (H3). A worker that dies
 * instead (SIGKILL) leaves its jobs locked: they run again once `lockDurationMs` passed and a
 * stalled check found them (H1).
 */
import type { Job, Worker } from 'bullmq'
import { invoke } from '../core/call.js'
import { AbortedError } from '../core/errors.js'
import type { ConsumeOptions, Consumer, Delivery, JobData, Settlement } from '../queue/job-queue.js'
import type { Bullmq } from './bullmq.js'
import { bullClient } from './bullmq-5.js'
import type { CancelBus } from './cancel-bus.js'
import { duplicateClient } from './clients.js'
import { fromJobId } from './keys.js'
import type { ResolvedOptions } from './options.js'
import { encodeFailure, GENERIC_FAILURE, readPayload } from './payload.js'
import type { BullClient, Producers } from './producer.js'
import { settle, type SettleContext } from './settle.js'

export interface ConsumeContext {
  readonly bull: Bullmq
  readonly options: ResolvedOptions
  readonly producers: Producers
  readonly cancels: CancelBus
}

type Process = (delivery: Delivery) => Promise<Settlement>

interface Running {
  abort(reason: unknown): void
  release(): void
}

const RELEASED = Symbol('released')
/** A handler that throws instead of settling is tried again after this long. */
const THROWN_RETRY_MS = 1000
/** How long close() waits for the jobs it hands back after the grace period. */
const RELEASE_MS = 2000

export function startConsumer(
  ctx: ConsumeContext,
  name: string,
  process: Process,
  options: ConsumeOptions,
): Consumer & { readonly worker: Worker } {
  const { options: o, bull } = ctx
  const owned = duplicateClient(o.client, o.kind, { failFast: false })
  const running = new Map<string, Running>()
  const settleCtx: SettleContext = {
    bull,
    producers: ctx.producers,
    prefix: o.prefix,
    maxDead: o.maxDead,
    client: () => bullClient(worker) as Promise<BullClient>,
  }
  const processor = async (
    job: Job,
    token?: string,
    bullSignal?: AbortSignal,
  ): Promise<JobData> => {
    const id = fromJobId(job.id!)
    // BullMQ made this job's AbortController already (the processor takes a signal): fanout
    // aborts that one, rather than making and linking a second per job.
    const abort = (reason: unknown): boolean => worker.cancelJob(job.id!, reason as string)
    const signal = bullSignal ?? new AbortController().signal
    let release!: () => void
    const released = new Promise<typeof RELEASED>((resolve) => (release = () => resolve(RELEASED)))
    running.set(job.id!, { abort, release })
    const untrack = ctx.cancels.track(name, id, abort)
    try {
      const payload = readPayload(job.data)
      const delivery: Delivery = {
        id,
        name,
        data: payload.d,
        attempt: Math.max(1, job.attemptsStarted),
        attempts: payload.n,
        deadlineAt: payload.dl,
        signal,
      }
      const outcome = await Promise.race([
        invoke(() => process(delivery)).then(
          (settlement) => settlement,
          (): Settlement => ({
            outcome: 'retry',
            delayMs: THROWN_RETRY_MS,
            error: GENERIC_FAILURE,
          }),
        ),
        released,
      ])
      if (outcome === RELEASED) {
        await job.moveToWait(token)
        throw new bull.WaitingError()
      }
      return await settle(settleCtx, job, token ?? '', id, outcome).catch((error: unknown) =>
        handBack(bull, job, token, error),
      )
    } finally {
      untrack()
      running.delete(job.id!)
    }
  }
  const worker: Worker = new bull.Worker(name, processor, {
    connection: owned.raw as never,
    prefix: o.prefix,
    concurrency: options.concurrency,
    lockDuration: o.lockDurationMs,
    stalledInterval: o.stalledIntervalMs,
    maxStalledCount: o.maxStalledCount,
    // A completion that failed on a blip is tried again while the job is still locked.
    runRetryDelay: Math.min(1000, o.lockDurationMs / 4),
    removeOnComplete: { count: o.removeOnComplete },
    removeOnFail: { count: o.removeOnFail },
  })
  worker.on('error', () => {})
  ctx.cancels.listen()
  let closing: Promise<void> | undefined
  const w = worker
  return {
    worker: w,
    close({ graceMs }) {
      closing ??= (async () => {
        const finished = w.close()
        if (!(await within(finished, graceMs))) {
          for (const job of running.values()) {
            job.abort(new AbortedError('The consumer closed before the job finished'))
            job.release()
          }
          // Handing the jobs back takes a round trip each. Past that, BullMQ is stuck on a Redis
          // that does not answer: drop the connections, and the jobs' locks lapse (H1's path).
          if (!(await within(finished, RELEASE_MS))) void w.disconnect().catch(() => {})
        }
        owned.close()
      })()
      return closing
    },
  }
}

/**
 * A settlement Redis could not carry out (a retry's move to delayed, a dead-letter write) must
 * neither fail the job for good nor store the client's message: the job goes back to waiting, or,
 * when even that fails, stays locked until its lock lapses and it runs again. BullMQ's own
 * control errors (delayed, unrecoverable, waiting) pass through.
 */
async function handBack(
  bull: Bullmq,
  job: Job,
  token: string | undefined,
  error: unknown,
): Promise<never> {
  if (
    error instanceof bull.DelayedError ||
    error instanceof bull.UnrecoverableError ||
    error instanceof bull.WaitingError
  )
    throw error
  try {
    await job.moveToWait(token)
  } catch {
    throw new Error(encodeFailure({ code: 'FANOUT_QUEUE_UNAVAILABLE', status: null }, false))
  }
  throw new bull.WaitingError()
}

/** True when `promise` settled within `ms`. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    const done = (): void => {
      clearTimeout(timer)
      resolve(true)
    }
    promise.then(done, done)
  })
}

/**
 * Adding a job, bounded by `enqueueTimeoutMs` and the request's signal, with a dedupe answer
 * BullMQ does not give: `Queue.add()` returns the same job whether its id was new or known. So
 * the job's data starts with a nonce of this call, and the ADDED script, sent right behind the
 * add on the same connection, reads the stored job back: the add is new exactly when the stored
 * data carries this call's nonce. Of any number of concurrent adds of one id, one wrote the job,
 * so exactly one answers new; and it costs no round trip and no MULTI over a plain add.
 */
import { systemClock } from '../core/clock.js'
import { QueueFullError, QueueUnavailableError, isFanoutError } from '../core/errors.js'
import { withTimeLimit } from '../core/time-limit.js'
import type { EnqueueRequest, EnqueueResult } from '../queue/job-queue.js'
import type { Queue } from 'bullmq'
import type { Bullmq } from './bullmq.js'
import { sendAdd } from './bullmq-5.js'
import { fanoutKeys, jobKey, namesKey, toJobId } from './keys.js'
import type { ResolvedOptions } from './options.js'
import { dataPrefix, nextNonce, type Payload } from './payload.js'
import type { BullClient, Producers } from './producer.js'
import { ADDED } from './scripts.js'

export interface EnqueueContext {
  readonly bull: Bullmq
  readonly options: ResolvedOptions
  readonly producers: Producers
  isClosed(): boolean
}

export function enqueueJob(ctx: EnqueueContext, request: EnqueueRequest): Promise<EnqueueResult> {
  if (ctx.isClosed()) return Promise.reject(unavailable('closed', 'the queue is closed'))
  const ms = ctx.options.enqueueTimeoutMs
  const onTimeout = (): QueueUnavailableError =>
    unavailable('timeout', `Redis did not take the job within ${ms} ms`)
  const ready = ctx.producers.ready(request.name)
  // Hot path: everything is connected, so the MULTI goes out now and only its reply is raced.
  if (ready !== undefined && ctx.options.maxQueued === Infinity && request.signal?.aborted !== true)
    return raceReply(send(ctx, request, ready), ms, request.signal, onTimeout).catch(
      (error: unknown) => rethrow(error, request),
    )
  return withTimeLimit(systemClock, request.signal, ms, onTimeout, (signal) =>
    add(ctx, request, signal),
  ).catch((error: unknown) => rethrow(error, request))
}

function rethrow(error: unknown, request: EnqueueRequest): never {
  if (isFanoutError(error) || request.signal?.aborted === true) throw error
  throw unavailable('error', 'Redis is unreachable or refused the job', error)
}

/**
 * `reply`, or a rejection when `ms` pass or `signal` aborts first: one timer and one listener,
 * both released on every path. The command is already on its way and cannot be withdrawn.
 */
function raceReply<T>(
  reply: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const settle = (done: () => void): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      done()
    }
    const onAbort = (): void => settle(() => reject(signal!.reason as Error))
    const timer = setTimeout(() => settle(() => reject(onTimeout())), ms)
    signal?.addEventListener('abort', onAbort, { once: true })
    reply.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error as Error)),
    )
  })
}

async function add(
  ctx: EnqueueContext,
  request: EnqueueRequest,
  signal: AbortSignal,
): Promise<EnqueueResult> {
  const ready = await ctx.producers.get(request.name, signal)
  const { maxQueued } = ctx.options
  if (maxQueued !== Infinity && (await ready.queue.count()) >= maxQueued)
    throw new QueueFullError(
      `Queue "${request.name}" holds its maxQueued ${maxQueued} waiting jobs: the job was not added`,
      maxQueued,
    )
  signal.throwIfAborted()
  return send(ctx, request, ready)
}

/**
 * Builds the job, sends BullMQ's add and then ADDED on the same connection without waiting in
 * between (one round trip), and answers whether the job is the one this call built.
 */
async function send(
  ctx: EnqueueContext,
  request: EnqueueRequest,
  { queue, client }: { queue: Queue; client: BullClient },
): Promise<EnqueueResult> {
  const jobId = toJobId(request.id)
  const nonce = nextNonce()
  const payload: Payload = {
    k: nonce,
    d: request.data,
    n: request.attempts,
    dl: request.deadlineAt,
  }
  const job = new ctx.bull.Job(
    queue,
    request.name,
    payload,
    jobOptions(ctx.options, request, jobId),
    jobId,
  )
  ctx.producers.define(client, ADDED)
  const { prefix } = ctx.options
  const keys = fanoutKeys(prefix, request.name)
  const check = [
    jobKey(prefix, request.name, request.id),
    namesKey(prefix),
    keys.cancelled,
    keys.cancelledOrder,
    request.name,
    request.id,
    dataPrefix(nonce),
  ]
  // Both commands are written in this tick, in this order, so ADDED runs right after the add.
  const added = sendAdd(queue, client, job.asJSON(), jobId)
  const owned = client.runCommand(ADDED.name, check)
  const [, first] = await Promise.all([added, owned])
  // -1: the add had not run yet (its script was re-sent with EVAL after a Redis restart).
  const answer = first === -1 ? await client.runCommand(ADDED.name, check) : first
  return { id: request.id, deduplicated: answer !== 0 }
}

function jobOptions(options: ResolvedOptions, request: EnqueueRequest, jobId: string) {
  return {
    jobId,
    attempts: 1,
    ...(request.delayMs > 0 ? { delay: request.delayMs } : {}),
    removeOnComplete: options.removeOnComplete,
    removeOnFail: options.removeOnFail,
    // A stack trace would be stored in Redis next to the job: fanout stores codes only.
    stackTraceLimit: 0,
  }
}

function unavailable(
  reason: 'timeout' | 'error' | 'closed',
  detail: string,
  cause?: unknown,
): QueueUnavailableError {
  return new QueueUnavailableError(
    'bullmq',
    'enqueue',
    reason,
    `BullMQ queue unavailable: ${detail}`,
    cause === undefined ? undefined : { cause },
  )
}

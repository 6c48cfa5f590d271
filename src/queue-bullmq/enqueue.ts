/**
 * Adding a job, bounded by `enqueueTimeoutMs` and the request's signal, with a dedupe answer
 * BullMQ does not give: `Queue.add()` returns the same job whether its id was new or known. So
 * the add runs in a MULTI right after fanout's ADMIT script, which answers whether the job key
 * existed: both run as one step on the server, and in one round trip, the cost of a plain add.
 */
import { systemClock } from '../core/clock.js'
import { QueueFullError, QueueUnavailableError, isFanoutError } from '../core/errors.js'
import { withTimeLimit } from '../core/time-limit.js'
import type { EnqueueRequest, EnqueueResult } from '../queue/job-queue.js'
import type { Queue } from 'bullmq'
import type { Bullmq } from './bullmq.js'
import { fanoutKeys, jobKey, namesKey, toJobId } from './keys.js'
import type { ResolvedOptions } from './options.js'
import type { Payload } from './payload.js'
import type { BullClient, Producers } from './producer.js'
import { ADMIT } from './scripts.js'

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

/** Builds the job and runs the MULTI on a ready queue. */
async function send(
  ctx: EnqueueContext,
  request: EnqueueRequest,
  { queue, client }: { queue: Queue; client: BullClient },
): Promise<EnqueueResult> {
  const jobId = toJobId(request.id)
  const payload: Payload = { d: request.data, n: request.attempts, dl: request.deadlineAt }
  const job = new ctx.bull.Job(
    queue,
    request.name,
    payload,
    jobOptions(ctx.options, request, jobId),
    jobId,
  )
  ctx.producers.define(client, ADMIT)
  const { prefix } = ctx.options
  const keys = fanoutKeys(prefix, request.name)
  const admit = [
    jobKey(prefix, request.name, request.id),
    namesKey(prefix),
    keys.cancelled,
    keys.cancelledOrder,
    request.name,
    request.id,
  ]
  const replies = await runAdd(client, queue, job.asJSON(), jobId, admit)
  return { id: request.id, deduplicated: replies === 1 }
}

/** One MULTI: ADMIT, then BullMQ's own add. Answers ADMIT's reply. */
async function runAdd(
  client: BullClient,
  queue: Parameters<Bullmq['Job']['create']>[0],
  json: ReturnType<InstanceType<Bullmq['Job']>['asJSON']>,
  jobId: string,
  admit: readonly unknown[],
): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    const multi = client.multi()
    multi.runCommand(ADMIT.name, [...admit])
    const backend = (queue as unknown as { backend: AddBackend }).backend
    // Queues the add on the MULTI; its own promise only reports the queuing.
    backend.addJobToTransaction(multi, json, jobId).catch(() => {})
    let failed: unknown
    try {
      const replies = (await multi.exec()) ?? []
      failed = replies.find(([error]) => error !== null)?.[0]
      if (failed == null) return replies[0]?.[1]
    } catch (error) {
      failed = error
    }
    // After a Redis restart the server has forgotten the scripts: EVALSHA inside a MULTI cannot
    // fall back to EVAL, so load them and run the MULTI again (nothing of it ran).
    if (attempt === 0 && noScript(failed)) {
      await loadScripts(client)
      continue
    }
    throw failed
  }
}

/** NOSCRIPT, as a reply error (ioredis) or inside node-redis's error for a failed MULTI. */
function noScript(error: unknown): boolean {
  const replies = (error as { replies?: unknown } | null)?.replies
  const all = Array.isArray(replies) ? [error, ...replies] : [error]
  return all.some((e) => /NOSCRIPT/.test(String((e as { message?: unknown } | null)?.message)))
}

interface AddBackend {
  addJobToTransaction(multi: unknown, json: unknown, jobId: string): Promise<unknown>
}

/** Loads every script the client has defined (node-redis adapter; ioredis loads its own). */
async function loadScripts(client: BullClient): Promise<void> {
  const scripts = (client as unknown as { scripts?: Map<string, { lua: string }> }).scripts
  const raw = (client as unknown as { raw?: { scriptLoad?(lua: string): Promise<unknown> } }).raw
  if (scripts === undefined || raw?.scriptLoad === undefined) return
  await Promise.all([...scripts.values()].map((script) => raw.scriptLoad!(script.lua)))
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

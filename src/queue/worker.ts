/**
 * `worker()`: runs a job name's handler under fanout's policies and decides, once for every
 * backend, what becomes of each attempt (see `decide.ts`). The backend only carries it out.
 */
import { invoke, pipe, type Call, type CallContext } from '../core/call.js'
import { InvalidOptionError } from '../core/errors.js'
import { execute } from '../core/execute.js'
import { recorderFor } from '../core/trace.js'
import { checkKnownKeys, checkDuration, show, snapshot } from '../core/validate.js'
import { decide } from './decide.js'
import type { Delivery, JobData, JobQueue, Settlement } from './job-queue.js'
import { checkJobName } from './job-name.js'
import type { IfJson } from './json-type.js'
import { workerSettings, type WorkerOptions, type WorkerSettings } from './worker-options.js'

export type { QueueBackoffOptions, WorkerOptions } from './worker-options.js'

/**
 * What a handler receives besides the job's data: the call context of this attempt (pass it on
 * as `{ context: ctx }` to `fanout/http`, `cached()`, a `Loader`…) and the job's identity.
 */
export interface JobContext extends CallContext {
  readonly jobId: string
  /** The queue-level attempt: 1 first, grows with each retry and each redelivery after a lost worker. */
  readonly attempt: number
  /** Queue-level attempts in all. */
  readonly attempts: number
  /** Wall-clock time (epoch ms) after which the job is pointless, or `null`. */
  readonly deadline: number | null
}

export type JobHandler<D, R> = (data: D, ctx: JobContext) => R | PromiseLike<R>

export interface Worker {
  readonly name: string
  /**
   * Graceful shutdown (H3): stops taking jobs, lets running ones finish for `graceMs` (default
   * the worker's), then aborts their signals and leaves them to run again. Idempotent.
   */
  close(options?: { readonly graceMs?: number }): Promise<void>
}

/** Where the delivery rides in the call context, past the policies (they copy the context with `...`). */
const DELIVERY = Symbol('fanout.queue.delivery')
type DeliveryContext = CallContext & { readonly [DELIVERY]: Delivery }

/**
 * The job a worker's policy is running for, read from the call context it was given: a
 * `limit({ perKey, key })` or a `rateLimit()` key per tenant takes the tenant from the job's
 * data. `undefined` outside a worker.
 *
 * @example
 * const perTenant = limit({ concurrency: 8, perKey: 2, key: (ctx) => String(tenantOf(jobOf(ctx)?.data)) })
 */
export function jobOf(ctx: CallContext): Delivery | undefined {
  return (ctx as Partial<DeliveryContext>)[DELIVERY]
}

/**
 * Consumes the jobs named `name`, running `handler(data, ctx)` through `execute()` with the
 * delivery's signal and the job's deadline.
 *
 * @example
 * const reports = worker(queue, 'render-report', (data: { id: string }, ctx) => render(data.id, ctx), {
 *   policies: [retry()],
 *   concurrency: 4,
 * })
 * // on SIGTERM: let running reports finish for 10 s, then leave the rest to run again
 * await reports.close({ graceMs: 10_000 })
 */
export function worker<D = JobData, R = JobData | void>(
  queue: JobQueue,
  name: string,
  handler: JobHandler<D, R> & IfJson<D> & IfJson<Exclude<R, void | undefined>>,
  options?: WorkerOptions,
): Worker {
  checkJobName('worker()', name)
  if (typeof handler !== 'function')
    throw new InvalidOptionError(
      `worker(): the handler must be a function (data, ctx) => result, got ${show(handler)}.`,
    )
  const settings = workerSettings(options)
  const call: Call<R, DeliveryContext> = pipe(...settings.policies).wrap((ctx: DeliveryContext) => {
    const delivery = ctx[DELIVERY]
    // The handler's context is the call context's fields plus the job's, built field by field:
    // a spread of a context carrying a symbol key takes V8's slow path, a third of a job's cost
    // on the memory queue. The delivery rides along, so jobOf(ctx) works in a handler too.
    const jobCtx: JobContext & { readonly [DELIVERY]: Delivery } = {
      signal: ctx.signal,
      deadlineAt: ctx.deadlineAt,
      task: ctx.task,
      clock: ctx.clock,
      trace: ctx.trace,
      [DELIVERY]: delivery,
      jobId: delivery.id,
      attempt: delivery.attempt,
      attempts: settings.attempts ?? delivery.attempts,
      deadline: delivery.deadlineAt,
    }
    return invoke(() => handler(delivery.data as D, jobCtx))
  })
  const consumer = queue.consume(name, (delivery) => runJob(delivery, call, name, settings), {
    concurrency: settings.concurrency,
  })
  let closing: Promise<void> | undefined
  return {
    name,
    close(closeOptions) {
      const opts = snapshot('Worker.close()', closeOptions)
      checkKnownKeys('Worker.close()', opts, ['graceMs'])
      const graceMs =
        opts.graceMs === undefined
          ? settings.graceMs
          : checkDuration('Worker.close()', 'graceMs', opts.graceMs, {
              min: 0,
              allowInfinity: true,
            })
      closing ??= consumer.close({ graceMs })
      return closing
    },
  }
}

async function runJob<R>(
  delivery: Delivery,
  call: Call<R, DeliveryContext>,
  name: string,
  settings: WorkerSettings,
): Promise<Settlement> {
  try {
    const result = await attempt(delivery, call, name, settings)
    return { outcome: 'completed', result: result === undefined ? null : (result as JobData) }
  } catch (error) {
    return decide(
      error,
      {
        attempt: delivery.attempt,
        attempts: settings.attempts ?? delivery.attempts,
        aborted: delivery.signal.aborted,
      },
      settings.backoff,
    )
  }
}

/**
 * One attempt of the job. With a deadline it runs under `execute()`, which enforces it. Without
 * one the delivery's own signal is the attempt's (it is already this job's alone), so no
 * controller or timer is made per job: only the race with that signal, so an aborted job settles
 * at once even when its handler ignores the signal.
 */
function attempt<R>(
  delivery: Delivery,
  call: Call<R, DeliveryContext>,
  name: string,
  settings: WorkerSettings,
): Promise<R> {
  const { clock, onEvent } = settings
  if (delivery.deadlineAt !== null) {
    // The deadline travels as wall-clock time (it crosses processes); the policies run on `clock`.
    const deadlineAt = clock.now() + (delivery.deadlineAt - Date.now())
    return execute((ctx) => call({ ...ctx, [DELIVERY]: delivery }), {
      signal: delivery.signal,
      deadlineAt,
      clock,
      name,
      ...(onEvent === undefined ? {} : { onEvent }),
    })
  }
  const { signal } = delivery
  if (signal.aborted) return Promise.reject(signal.reason)
  const trace = recorderFor(onEvent)
  const ctx: DeliveryContext = {
    signal,
    deadlineAt: Infinity,
    attempt: 1,
    task: name,
    clock,
    trace,
    [DELIVERY]: delivery,
  }
  return new Promise<R>((resolve, reject) => {
    // A listener of its own on the job's own signal: core/signals' shared dispatch is for
    // signals many calls listen to, and costs a third of a job here.
    const onAbortEvent = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbortEvent, { once: true })
    const stop = (): void => signal.removeEventListener('abort', onAbortEvent)
    invoke(() => call(ctx)).then(
      (value) => {
        stop()
        resolve(value)
      },
      (error: unknown) => {
        stop()
        reject(error)
      },
    )
  })
}

/**
 * `offload()`: adds a job from a request path. The route answers 202 at once (`accepted()`),
 * a `worker()` runs the job elsewhere. The enqueue is bounded by the caller's signal and
 * deadline, and a broker that cannot take the job fails it fast (`QueueUnavailableError`, a 503
 * for the route) instead of buffering it.
 */
import {
  DeadlineError,
  InvalidArgumentError,
  isFanoutError,
  QueueUnavailableError,
} from '../core/errors.js'
import { onAbort } from '../core/signals.js'
import { withTimeLimit } from '../core/time-limit.js'
import { checkPayload } from './credentials.js'
import { idempotentJobId, randomJobId } from './job-id.js'
import type { JobQueue } from './job-queue.js'
import type { IfJson } from './json-type.js'
import { checkJobName } from './job-name.js'
import { offloadSettings, type OffloadOptions } from './offload-options.js'

export type { OffloadOptions } from './offload-options.js'

export interface OffloadResult {
  readonly jobId: string
  /** True when the idempotency key found a job already there: nothing new was added. */
  readonly deduplicated: boolean
}

/**
 * Adds job `name` with `data` to `queue`. Works as a plain call and as a flow task
 * (`(_, ctx) => offload(queue, name, data, { context: ctx })`).
 *
 * @example
 * const { jobId } = await offload(queue, 'render-report', { reportId }, {
 *   idempotencyKey: idempotencyKeyOf(request),
 *   scope: tenantId,
 *   signal: request.signal,
 * })
 */
export function offload<D>(
  queue: JobQueue,
  name: string,
  data: D & IfJson<D>,
  options?: OffloadOptions,
): Promise<OffloadResult> {
  checkJobName('offload()', name)
  checkQueue(queue)
  const settings = offloadSettings(options)
  const payload = checkPayload('offload()', data, settings.credentials)
  const { clock, signal, key } = settings
  if (signal?.aborted === true) return Promise.reject(signal.reason)
  const ms = settings.deadlineAt - clock.now()
  if (ms <= 0)
    return Promise.reject(
      new DeadlineError(`offload "${name}": the deadline had already passed`, 0),
    )
  const jobDeadlineAt =
    settings.jobDeadline === undefined ? null : Date.now() + settings.jobDeadline
  const add = async (bound: AbortSignal | undefined): Promise<OffloadResult> => {
    const id = key === undefined ? randomJobId() : await idempotentJobId(name, key.scope, key.value)
    try {
      const added = await queue.enqueue({
        name,
        id,
        data: payload,
        attempts: settings.attempts,
        delayMs: settings.delayMs,
        deadlineAt: jobDeadlineAt,
        signal: bound,
      })
      return { jobId: added.id, deduplicated: added.deduplicated }
    } catch (error) {
      if (isFanoutError(error) || (bound?.aborted === true && error === bound.reason)) throw error
      throw new QueueUnavailableError(
        queue.backend,
        'enqueue',
        'error',
        `the ${queue.backend} queue could not take job "${name}"`,
        { cause: error },
      )
    }
  }
  // Without a deadline there is nothing to time: the caller's signal (if any) goes to the
  // backend as it is, and no controller or timer is made for the enqueue, the route's hot path.
  if (ms === Infinity) return signal === undefined ? add(undefined) : untilAborted(signal, add)
  return withTimeLimit(
    clock,
    signal,
    ms,
    () => new DeadlineError(`offload "${name}" missed its deadline of ${Math.round(ms)} ms`, ms),
    add,
  )
}

/** `add(signal)`, rejecting with the signal's reason as soon as it aborts. */
function untilAborted<T>(
  signal: AbortSignal,
  add: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = onAbort(signal, () => reject(signal.reason))
    add(signal).then(
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

function checkQueue(queue: unknown): asserts queue is JobQueue {
  const q = queue as Partial<JobQueue> | null
  if (typeof q !== 'object' || q === null || typeof q.enqueue !== 'function')
    throw new InvalidArgumentError(
      "offload(): the first argument must be a JobQueue (memoryQueue(), or a broker's queue).",
    )
}

/**
 * `retry()`: makes more attempts when an attempt fails for a reason worth retrying.
 *
 * Invariants:
 * - at most `maxAttempts` calls of what it wraps (fewer when layers inside it retried too, see
 *   below), and none after the caller aborted or the deadline;
 * - a wait never ends after the deadline: if the next attempt could not start in time, the call
 *   fails now (with `RateLimitedError` when the upstream's Retry-After is what does not fit);
 * - every wait is a finite, non-negative timer on `ctx.clock`, cleared at once on abort;
 * - when the retry budget is why no retry is made, the call fails with `RetryBudgetError`
 *   (`cause`: the upstream's last error), never silently with that error;
 * - an error this policy gave up on is marked with the attempts made for it, and an enclosing
 *   `retry()` counts them against its own `maxAttempts`: 3 nested layers of 3 make 3 attempts,
 *   not 27, and a client's own 3 attempts inside a `retry({ maxAttempts: 4 })` are followed by
 *   at most one more round (≤ 6), so the outer layer's promise of 4 attempts is kept. The mark is
 *   on the error object, so an upstream must not rethrow one shared error instance for unrelated
 *   calls.
 */
import { attemptChannel, subscribed, traced } from '../core/diagnostics.js'
import type { Call, CallContext, Policy } from '../core/call.js'
import { sleep } from '../core/clock.js'
import { DeadlineError, isFanoutError, RateLimitedError, RetryBudgetError } from '../core/errors.js'
import { backoffDelay } from './backoff.js'
import { failureLabel, isIdempotentError, isRetryableError, statusOf } from './classify.js'
import { retryAfterOf } from './retry-after.js'
import { retrySettings, type RetryOptions, type RetrySettings } from './retry-options.js'

export type { RetryInfo, RetryOptions } from './retry-options.js'

const GAVE_UP = Symbol.for('fanout.retry.gaveUp')

/** True when an inner `retry()` already gave up on this error. */
export function isRetriedError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    Object.getOwnPropertyDescriptor(error, GAVE_UP) !== undefined
  )
}

/**
 * Upstream attempts behind this error: what the `retry()` layers inside made before giving up on
 * it, or 1. A mark from an older copy of fanout (`true`) carries no count: nothing more is tried.
 */
function attemptsBehind(error: unknown): number {
  if (typeof error !== 'object' || error === null) return 1
  const mark = Object.getOwnPropertyDescriptor(error, GAVE_UP)?.value as unknown
  if (mark === undefined) return 1
  return typeof mark === 'number' ? mark : Infinity
}

/** Records on the error that `made` upstream attempts were made for it, for an enclosing `retry()`. */
function markGaveUp(error: unknown, made: number): unknown {
  if (typeof error !== 'object' || error === null) return error
  const mark = Object.getOwnPropertyDescriptor(error, GAVE_UP)
  if (mark === undefined ? Object.isExtensible(error) : mark.configurable === true) {
    Object.defineProperty(error, GAVE_UP, { value: made, configurable: true })
  }
  return error
}

function budgetError(task: string, attempts: number, error: unknown): RetryBudgetError {
  const made = attempts === 1 ? '1 attempt' : `${attempts} attempts`
  return new RetryBudgetError(
    `"${task}": not retried: the retry budget is spent (too many recent attempts to this upstream failed); gave up after ${made}, the last failing with ${failureLabel(error)}`,
    error,
    { attempts, status: statusOf(error), retryAfterMs: retryAfterOf(error) },
  )
}

/**
 * @example
 * const getUser = retry({ maxAttempts: 4 }).wrap(({ signal }) => api.user(id, { signal }))
 * await execute(getUser, { deadline: 2_000 })
 */
export function retry(options?: RetryOptions): Policy {
  const settings = retrySettings(options)
  const { maxAttempts } = settings
  return {
    name: maxAttempts === 1 ? 'retry(off)' : `retry(${maxAttempts})`,
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return (ctx) => attempts(settings, next, ctx)
    },
  }
}

/** Whether the failure is of a kind worth retrying: only those are charged to the budget. */
function retryable(s: RetrySettings, error: unknown, attempt: number): boolean {
  return s.shouldRetry !== undefined ? s.shouldRetry(error, { attempt }) : isRetryableError(error)
}

/** Whether this policy may repeat the request at all. */
function mayRepeat(s: RetrySettings, error: unknown): boolean {
  // An inner layer stopped by its budget speaks for the upstream's health: not overruled here.
  if (s.idempotent === false || isFanoutError(error, 'FANOUT_RETRY_BUDGET')) return false
  return s.idempotent !== undefined || isIdempotentError(error) !== false
}

/** One call through the policy: attempts until one succeeds or a failure is final. */
async function attempts<T, C extends CallContext>(
  s: RetrySettings,
  next: Call<T, C>,
  ctx: C,
): Promise<T> {
  const { clock, trace } = ctx
  let previous = s.params.base
  // This call's last failure, so a success that names no origin refunds the one that failed.
  let failure: unknown
  // Upstream attempts made so far, those of `retry()` layers inside included: nested layers
  // share one count instead of multiplying (an inner 3 inside an outer 4 makes at most 6).
  let made = 0
  for (;;) {
    const attempt = made + 1
    if (ctx.signal.aborted) throw ctx.signal.reason
    if (attempt > 1 && clock.now() >= ctx.deadlineAt)
      throw new DeadlineError(`"${ctx.task}": no time left for attempt ${attempt}`, 0)
    if (trace.enabled)
      trace.emit({ type: 'attempt.started', task: ctx.task, at: clock.now(), attempt })
    try {
      const actx = attempt === ctx.attempt ? ctx : { ...ctx, attempt }
      const value = await (subscribed(attemptChannel)
        ? traced(attemptChannel, { policy: 'retry', task: ctx.task, attempt, hedge: 0 }, () =>
            next(actx),
          )
        : next(actx))
      s.budget?.onSuccess(value, failure)
      return value
    } catch (error) {
      // The caller leaving is not the upstream failing: no retry, no budget charge.
      if (ctx.signal.aborted) throw error
      made += attemptsBehind(error)
      // A 404 or a bad request says nothing about the upstream's health: not charged.
      const worth = retryable(s, error, attempt)
      if (worth) s.budget?.onFailure(error)
      failure = error
      if (made >= s.maxAttempts || !worth || !mayRepeat(s, error))
        throw made > 1 ? markGaveUp(error, made) : error
      previous = scheduleRetry(s, ctx, error, attempt, made, previous)
      await sleep(clock, previous, ctx.signal)
    }
  }
}

/**
 * The wait before the next attempt, once the budget allows one and it fits before the deadline;
 * otherwise throws the error the call ends with.
 */
function scheduleRetry(
  s: RetrySettings,
  ctx: CallContext,
  error: unknown,
  attempt: number,
  made: number,
  previous: number,
): number {
  const { clock, trace } = ctx
  const { delay, reason } = nextWait(s, ctx, error, made, previous)
  if (s.budget !== undefined && !s.budget.canRetry(error)) {
    if (trace.enabled)
      trace.emit({ type: 'retry.budgetExhausted', task: ctx.task, at: clock.now(), attempt })
    throw markGaveUp(budgetError(ctx.task, made, error), made)
  }
  if (trace.enabled)
    trace.emit({
      type: 'retry.scheduled',
      task: ctx.task,
      at: clock.now(),
      attempt,
      delayMs: delay,
      reason,
      cause: failureLabel(error),
    })
  return delay
}

/** The backoff delay, raised to the upstream's Retry-After; throws when it does not fit. */
function nextWait(
  s: RetrySettings,
  ctx: CallContext,
  error: unknown,
  made: number,
  previous: number,
): { delay: number; reason: 'backoff' | 'retry-after' } {
  let delay = backoffDelay(s.strategy, made - 1, previous, s.params)
  let reason: 'backoff' | 'retry-after' = 'backoff'
  const asked = retryAfterOf(error)
  if (asked !== undefined) {
    if (asked > s.maxRetryAfter) {
      throw new RateLimitedError(
        `"${ctx.task}": the upstream asked to wait ${Math.ceil(asked)} ms, more than maxRetryAfter (${s.maxRetryAfter} ms)`,
        asked,
        { cause: error },
      )
    }
    // Retry-After is a floor: jitter may only add to it.
    if (asked >= delay) {
      delay = asked
      reason = 'retry-after'
    }
  }
  const left = ctx.deadlineAt - ctx.clock.now()
  if (delay >= left) {
    if (reason === 'retry-after') {
      throw new RateLimitedError(
        `"${ctx.task}": the upstream asked to wait ${Math.ceil(delay)} ms, but only ${Math.max(0, Math.floor(left))} ms are left before the deadline`,
        delay,
        { cause: error },
      )
    }
    throw markGaveUp(error, made)
  }
  return { delay, reason }
}

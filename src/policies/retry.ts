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
import type { Call, CallContext, Policy } from '../core/call.js'
import { sleep } from '../core/clock.js'
import {
  DeadlineError,
  InvalidOptionError,
  isFanoutError,
  RateLimitedError,
  RetryBudgetError,
} from '../core/errors.js'
import {
  checkBoolean,
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  show,
  snapshot,
} from '../core/validate.js'
import { BACKOFF_STRATEGIES, backoffDelay, type BackoffStrategy } from './backoff.js'
import { retryBudget, type RetryBudget } from './budget.js'
import { failureLabel, isIdempotentError, isRetryableError, statusOf } from './classify.js'
import { retryAfterOf } from './retry-after.js'

export interface RetryInfo {
  /** The attempt that failed (1 = the first). */
  readonly attempt: number
}

export interface RetryOptions {
  /** Attempts in total, the first included. Default 3; 1 disables retrying. Integer 1–10. */
  readonly maxAttempts?: number
  /** Backoff strategy. Default `full` jitter. */
  readonly backoff?: BackoffStrategy
  /** Base delay in ms. Default 100. */
  readonly baseDelay?: number
  /** Largest backoff delay in ms. Default 20,000. */
  readonly maxDelay?: number
  /** Longest `Retry-After` to honour, in ms; a longer one fails fast. Default 60,000. */
  readonly maxRetryAfter?: number
  /**
   * Whether a failure is worth another attempt. Default: transient network errors, attempt
   * timeouts, 408/429/500/502/503/504 (see `isRetryableError`). Only these failures are
   * charged to the retry budget.
   */
  readonly shouldRetry?: (error: unknown, info: RetryInfo) => boolean
  /**
   * Whether repeating the call is safe. `false` never retries. Left unset, an error that names
   * a non-idempotent HTTP method (POST, PATCH…) is not retried; `true` retries those too (say so
   * only with an idempotency key or a naturally idempotent operation).
   */
  readonly idempotent?: boolean
  /**
   * Retry budget. Default: a `retryBudget()` of this `retry()`'s own (per origin: 100 tokens, a
   * success gives one back); pass one to share it among policies, or `false` for none.
   */
  readonly budget?: RetryBudget | false
  /** Uniform random source in [0, 1) for jitter. Default `Math.random`. */
  readonly random?: () => number
}

const KNOWN = [
  'maxAttempts',
  'backoff',
  'baseDelay',
  'maxDelay',
  'maxRetryAfter',
  'shouldRetry',
  'idempotent',
  'budget',
  'random',
] as const

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
  const where = 'retry()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, KNOWN)
  const maxAttempts =
    opts.maxAttempts === undefined
      ? 3
      : checkNumber(where, 'maxAttempts', opts.maxAttempts, { min: 1, max: 10, integer: true })
  const strategy = opts.backoff ?? 'full'
  if (!BACKOFF_STRATEGIES.includes(strategy)) {
    throw new InvalidOptionError(
      `${where}: \`backoff\` must be one of ${BACKOFF_STRATEGIES.map((s) => `"${s}"`).join(', ')}, got ${show(strategy)}.`,
    )
  }
  const base =
    opts.baseDelay === undefined
      ? 100
      : checkDuration(where, 'baseDelay', opts.baseDelay, { max: 3_600_000 })
  const cap =
    opts.maxDelay === undefined
      ? 20_000
      : checkDuration(where, 'maxDelay', opts.maxDelay, { max: 2_147_483_647 })
  if (cap < base)
    throw new InvalidOptionError(
      `${where}: \`maxDelay\` (${cap} ms) must be at least \`baseDelay\` (${base} ms).`,
    )
  const maxRetryAfter =
    opts.maxRetryAfter === undefined
      ? 60_000
      : checkDuration(where, 'maxRetryAfter', opts.maxRetryAfter, { min: 0, max: 2_147_483_647 })
  const shouldRetry =
    opts.shouldRetry === undefined
      ? undefined
      : checkFunction<(error: unknown, info: RetryInfo) => boolean>(
          where,
          'shouldRetry',
          opts.shouldRetry,
          '(error, { attempt }) => boolean',
        )
  const idempotent =
    opts.idempotent === undefined ? undefined : checkBoolean(where, 'idempotent', opts.idempotent)
  const random =
    opts.random === undefined
      ? Math.random
      : checkFunction<() => number>(where, 'random', opts.random, '() => number in [0, 1)')
  let budget: RetryBudget | undefined
  if (opts.budget === undefined) budget = retryBudget()
  else if (opts.budget !== false) {
    const b = opts.budget as Partial<RetryBudget> | null
    if (
      typeof b !== 'object' ||
      b === null ||
      typeof b.canRetry !== 'function' ||
      typeof b.onFailure !== 'function' ||
      typeof b.onSuccess !== 'function'
    ) {
      throw new InvalidOptionError(
        `${where}: \`budget\` must be a retryBudget() or false, got ${show(opts.budget)}.`,
      )
    }
    budget = opts.budget
  }
  const params = { base, cap, random }

  /** Whether the failure is of a kind worth retrying: only those are charged to the budget. */
  const retryable = (error: unknown, attempt: number): boolean =>
    shouldRetry !== undefined ? shouldRetry(error, { attempt }) : isRetryableError(error)
  /** Whether this policy may repeat the request at all. */
  const mayRepeat = (error: unknown): boolean => {
    // An inner layer stopped by its budget speaks for the upstream's health: not overruled here.
    if (idempotent === false || isFanoutError(error, 'FANOUT_RETRY_BUDGET')) return false
    return idempotent !== undefined || isIdempotentError(error) !== false
  }

  return {
    name: maxAttempts === 1 ? 'retry(off)' : `retry(${maxAttempts})`,
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return async (ctx) => {
        const { clock, trace } = ctx
        let previous = base
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
            const value = await next(attempt === ctx.attempt ? ctx : { ...ctx, attempt })
            budget?.onSuccess(value, failure)
            return value
          } catch (error) {
            // The caller leaving is not the upstream failing: no retry, no budget charge.
            if (ctx.signal.aborted) throw error
            made += attemptsBehind(error)
            // A 404 or a bad request says nothing about the upstream's health: not charged.
            const worth = retryable(error, attempt)
            if (worth) budget?.onFailure(error)
            failure = error
            if (made >= maxAttempts || !worth || !mayRepeat(error))
              throw made > 1 ? markGaveUp(error, made) : error

            let delay = backoffDelay(strategy, made - 1, previous, params)
            let reason: 'backoff' | 'retry-after' = 'backoff'
            const asked = retryAfterOf(error)
            if (asked !== undefined) {
              if (asked > maxRetryAfter) {
                throw new RateLimitedError(
                  `"${ctx.task}": the upstream asked to wait ${Math.ceil(asked)} ms, more than maxRetryAfter (${maxRetryAfter} ms)`,
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
            const left = ctx.deadlineAt - clock.now()
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
            if (budget !== undefined && !budget.canRetry(error)) {
              if (trace.enabled)
                trace.emit({
                  type: 'retry.budgetExhausted',
                  task: ctx.task,
                  at: clock.now(),
                  attempt,
                })
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
            previous = delay
            await sleep(clock, delay, ctx.signal)
          }
        }
      }
    },
  }
}

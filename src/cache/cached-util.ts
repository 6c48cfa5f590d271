/** Small pieces `cached()` and its cross-process flight share: bounded store calls and error judgements. */
import type { Clock } from '../core/clock.js'
import { isFanoutError } from '../core/errors.js'
import { withTimeLimit } from '../core/time-limit.js'
import { codeOf, statusOf, TRANSIENT_ERROR_CODES } from '../policies/classify.js'
import type { NegativeCacheOptions } from './cached-options.js'

/** What a bounded store call gives instead of an answer when it failed or took too long. */
export const BYPASS = Symbol('bypass')

const STALE_IF_ERROR_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504])

/**
 * A store call bounded by `ms` (and the caller's signal); a sync answer skips the timer. A failure
 * or a timeout gives `BYPASS`, except a caller's abort, and an error `keep` says must surface.
 */
export function bounded<T>(
  clock: Clock,
  ms: number,
  op: () => T | PromiseLike<T>,
  signal?: AbortSignal,
  keep?: (error: unknown) => boolean,
): T | typeof BYPASS | Promise<T | typeof BYPASS> {
  let result: T | PromiseLike<T>
  try {
    result = op()
  } catch (error) {
    if (keep?.(error) === true) throw error
    return BYPASS
  }
  if (!isThenable(result)) return result
  const pending = result
  return withTimeLimit(
    clock,
    signal,
    ms,
    () => BYPASS,
    () => Promise.resolve(pending),
  ).catch((error: unknown) => {
    if (isCallerAbort(signal, error) || keep?.(error) === true) throw error
    return BYPASS
  })
}

export function remembers(
  negative: { readonly when: NegativeCacheOptions['when'] | undefined },
  error: unknown,
): boolean {
  if (negative.when === undefined) {
    const status = statusOf(error)
    return status === 404 || status === 410
  }
  try {
    return Boolean(negative.when(error))
  } catch {
    // A broken predicate must not replace the caller's real error with its own: just don't cache.
    return false
  }
}

/**
 * Whether a stale value may stand in for this failure: 500, 502, 503, 504 or a network error —
 * including a fanout time limit on the fetch (an upstream that does not answer in time is down
 * as far as the caller can tell).
 */
export function isTransient(error: unknown): boolean {
  // retry() stopped by its budget: judge the upstream's own last error.
  if (isFanoutError(error, 'FANOUT_RETRY_BUDGET')) return isTransient(error.cause)
  const status = statusOf(error)
  if (status !== undefined) return STALE_IF_ERROR_STATUSES.has(status)
  if (isFanoutError(error, 'FANOUT_TIMEOUT')) return true
  const code = codeOf(error)
  return code !== undefined && TRANSIENT_ERROR_CODES.has(code)
}

export function isCallerAbort(signal: AbortSignal | undefined, error: unknown): boolean {
  return signal !== undefined && signal.aborted && error === signal.reason
}

export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** A `StoreError`: a misconfigured store, which no fallback may hide. */
export const isStoreError = (error: unknown): boolean => isFanoutError(error, 'FANOUT_STORE')

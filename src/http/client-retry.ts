/**
 * The client's `retry` option: fanout's own `retry()` around each attempt (an attempt is the
 * `beforeRequest` hooks, then every redirect hop), so the same backoff, Retry-After handling,
 * budget, deadline checks and trace events apply as anywhere else in fanout.
 *
 * Which requests are repeated is decided by the error, as `retry()` always does: every error an
 * attempt fails with carries `idempotent` — true for GET, HEAD, OPTIONS, PUT, DELETE (the
 * original method: a POST redirected to a GET stays a POST), for a request with an
 * `Idempotency-Key` header, or when the request says `idempotent: true`. A `retry()` the caller
 * wraps around the client reads the same flag.
 */
import type { Call, CallContext, Policy } from '../core/call.js'
import { InvalidOptionError, isFanoutError } from '../core/errors.js'
import {
  noopRecorder,
  recorderFor,
  teeRecorder,
  type Recorder,
  type TraceEvent,
} from '../core/trace.js'
import { own } from '../core/own.js'
import { show } from '../core/validate.js'
import { isIdempotentMethod, isRetryableError } from '../policies/classify.js'
import { retry, type RetryOptions } from '../policies/retry.js'
import { HttpTimeoutError } from './errors.js'

/**
 * `true` (or leaving it out): `retry()`'s defaults; a number: attempts in total, the first
 * included (1 turns retrying off); `RetryOptions`: `retry(options)`; a `Policy`: used as given
 * (a shared `retry()`, say); `false`: no retries.
 */
export type HttpRetry = boolean | number | RetryOptions | Policy

/** A request's own choice: a policy, `false` for none, or undefined for the client's. */
export type RetryChoice = Policy | false | undefined

/**
 * The client's own rule: `retry()`'s default, except the headers and body limits. Those fire when
 * the caller said to stop waiting for a server that already has the request: repeating it would
 * make the caller wait a multiple of the limit it set, and add load where the upstream is already
 * slow (ky does not retry its timeouts either). A connect limit is retried: nothing was sent.
 * A `retry()` of the caller's own, or `retry: { shouldRetry }`, decides otherwise if it wants.
 */
export function clientShouldRetry(error: unknown): boolean {
  if (error instanceof HttpTimeoutError && error.phase !== 'connect') return false
  return isRetryableError(error)
}

/** Parses a `retry` option that was given (`undefined` is the caller's "not given"). */
export function parseRetry(where: string, value: unknown): Policy | false {
  if (value === false) return false
  if (value === true) return retry({ shouldRetry: clientShouldRetry })
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > 10) {
      throw new InvalidOptionError(
        `${where}: \`retry\` as a number is the attempts in total, the first included: an integer from 1 to 10, got ${show(value)}. Use false for none.`,
      )
    }
    return value === 1 ? false : retry({ maxAttempts: value, shouldRetry: clientShouldRetry })
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    if (typeof (value as Partial<Policy>).wrap === 'function') return value as Policy
    try {
      const options = own(value as RetryOptions)
      return retry(
        options.shouldRetry === undefined
          ? { ...options, shouldRetry: clientShouldRetry }
          : options,
      )
    } catch (error) {
      if (isFanoutError(error, 'FANOUT_INVALID_OPTION'))
        throw new InvalidOptionError(`${where}: in \`retry\`, ${error.message}`)
      throw error
    }
  }
  throw new InvalidOptionError(
    `${where}: \`retry\` must be true, false, a number of attempts, retry() options or a policy such as retry(), got ${show(value)}.`,
  )
}

/** Whether repeating a request is safe: the caller's word, else an `Idempotency-Key`, else the method. */
export function isIdempotentRequest(
  method: string,
  headers: Readonly<Record<string, string>>,
  explicit: boolean | undefined,
): boolean {
  return explicit ?? (isIdempotentMethod(method) || headers['idempotency-key'] !== undefined)
}

/**
 * Marks an attempt's error with `idempotent` (not enumerable, so never in JSON or logs). The
 * caller's own abort reason is left alone: it is the caller's object, and never retried anyway.
 */
export function markIdempotent(error: unknown, idempotent: boolean, reason: unknown): unknown {
  if (
    typeof error === 'object' &&
    error !== null &&
    error !== reason &&
    Object.isExtensible(error) &&
    !Object.hasOwn(error, 'idempotent')
  ) {
    Object.defineProperty(error, 'idempotent', {
      value: idempotent,
      enumerable: false,
      configurable: true,
    })
  }
  return error
}

/** The recorder a request's retry events go to: the client's `onEvent`, the request's `trace`, both or neither. */
export function recorderOf(
  onEvent: ((event: TraceEvent) => void) | undefined,
  trace: Recorder | undefined,
): Recorder {
  const own = trace !== undefined && trace.enabled ? trace : undefined
  if (onEvent === undefined) return own ?? noopRecorder
  return own === undefined ? recorderFor(onEvent) : teeRecorder(own, recorderFor(onEvent))
}

/** A signal that never aborts: the context of a request without one (retry() reads `ctx.signal`). */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal

/**
 * `policy.wrap(attempt)`, made once per policy: the client's default policy is wrapped once, a
 * request's own policy once per request (the map forgets it with the policy).
 */
export function wrapperCache<C extends CallContext>(
  attempt: Call<unknown, C>,
): (policy: Policy) => Call<unknown, C> {
  const wrapped = new WeakMap<Policy, Call<unknown, C>>()
  return (policy) => {
    let call = wrapped.get(policy)
    if (call === undefined) {
      call = policy.wrap(attempt)
      wrapped.set(policy, call)
    }
    return call
  }
}

/**
 * The one place that turns a failed attempt into a `Settlement`, the same for every backend:
 *
 * - the delivery's signal aborted (cancelled, or the backend took the job back): failed with
 *   `FANOUT_ABORTED` (a backend that took the job back ignores it and runs the job again);
 * - a `RateLimitedError` (or any 429/503 carrying `retryAfterMs`): retried after exactly that
 *   wait, the upstream's own word, not a generic backoff;
 * - retrying cannot help (a 4xx other than 408/429, a passed deadline, invalid input, an error
 *   marked with `permanentError()`): failed at once;
 * - anything else is taken as transient: retried with fanout's backoff while attempts remain,
 *   then dead-lettered.
 *
 * A failed flow is judged by the failure of the task that failed it.
 */
import { backoffDelay } from '../policies/backoff.js'
import { field } from '../core/own.js'
import { isFanoutError } from '../core/errors.js'
import { abortedError, errorInfo } from './error-info.js'
import type { JobErrorInfo, Settlement } from './job-queue.js'
import { isPermanentError } from './permanent.js'
import type { QueueBackoff } from './worker-options.js'

/** Fanout's own verdicts that no later attempt can change. */
const FINAL_CODES: ReadonlySet<string> = new Set([
  'FANOUT_DEADLINE',
  'FANOUT_INVALID_ARGUMENT',
  'FANOUT_INVALID_OPTION',
  'FANOUT_ABORTED',
])

export interface Attempt {
  /** This attempt, 1-based. */
  readonly attempt: number
  /** Attempts in all. */
  readonly attempts: number
  readonly aborted: boolean
}

export function decide(failure: unknown, at: Attempt, backoff: QueueBackoff): Settlement {
  if (at.aborted) return { outcome: 'failed', error: abortedError }
  const error = rootOf(failure)
  const info = errorInfo(error)
  if (isFinal(error, info)) return { outcome: 'failed', error: info }
  if (at.attempt >= at.attempts) return { outcome: 'dead', error: info }
  const asked = retryAfterOf(error, info)
  if (asked === Infinity) return { outcome: 'failed', error: info }
  if (asked !== undefined && info.code === 'FANOUT_RATE_LIMITED')
    return { outcome: 'retry', delayMs: Math.ceil(asked), error: info }
  if (asked !== undefined && (info.status === 429 || info.status === 503))
    return { outcome: 'retry', delayMs: Math.ceil(asked), error: info }
  const delay = backoffDelay(backoff.strategy, at.attempt - 1, backoff.baseDelay, {
    base: backoff.baseDelay,
    cap: backoff.maxDelay,
    random: backoff.random,
  })
  // An open breaker says when it will let a call through: waiting less only fails again.
  const floor = info.code === 'FANOUT_CIRCUIT_OPEN' && asked !== undefined ? asked : 0
  return { outcome: 'retry', delayMs: Math.ceil(Math.max(delay, floor)), error: info }
}

/**
 * A failed flow (`FANOUT_TASK_FAILED`) is judged by the task failure that failed it: a handler
 * that runs a flow whose task got a 400 must not be retried as if the flow itself were transient.
 */
function rootOf(error: unknown): unknown {
  let e = error
  for (let depth = 0; depth < 4 && isFanoutError(e, 'FANOUT_TASK_FAILED'); depth++) {
    const cause = (e as { cause?: unknown }).cause
    if (cause === undefined) break
    e = cause
  }
  return e
}

function isFinal(error: unknown, info: JobErrorInfo): boolean {
  if (isPermanentError(error)) return true
  if (isFanoutError(error) && FINAL_CODES.has(error.code)) return true
  const status = info.status
  return status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429
}

/** The wait the error asks for, in ms, when it names one. */
function retryAfterOf(error: unknown, info: JobErrorInfo): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const ms = field(error, 'retryAfterMs')
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) return undefined
  return info.code === 'FANOUT_RATE_LIMITED' ||
    info.status === 429 ||
    info.status === 503 ||
    info.code === 'FANOUT_CIRCUIT_OPEN'
    ? ms
    : undefined
}

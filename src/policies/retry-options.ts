/**
 * The options of `retry()`: their types, and their checking into the settings the policy runs on,
 * kept apart from the policy so the attempt loop reads on its own. Every mistake is an
 * `InvalidOptionError` at creation, naming the option, the value and what it takes.
 */
import { InvalidOptionError } from '../core/errors.js'
import {
  checkBoolean,
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  show,
  snapshot,
} from '../core/validate.js'
import { BACKOFF_STRATEGIES, type BackoffStrategy } from './backoff.js'
import { retryBudget, type RetryBudget } from './budget.js'

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

/** What a `retry()` runs on: its options checked, defaults filled in. */
export interface RetrySettings {
  readonly maxAttempts: number
  readonly strategy: BackoffStrategy
  /** Base delay, largest backoff delay and the jitter source, as `backoffDelay()` takes them. */
  readonly params: { readonly base: number; readonly cap: number; readonly random: () => number }
  readonly maxRetryAfter: number
  readonly shouldRetry: ((error: unknown, info: RetryInfo) => boolean) | undefined
  readonly idempotent: boolean | undefined
  readonly budget: RetryBudget | undefined
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

const WHERE = 'retry()'

/** Checks `retry()`'s options; throws `InvalidOptionError` on the first mistake. */
export function retrySettings(options: RetryOptions | undefined): RetrySettings {
  const opts = snapshot(WHERE, options)
  checkKnownKeys(WHERE, opts, KNOWN)
  const maxAttempts =
    opts.maxAttempts === undefined
      ? 3
      : checkNumber(WHERE, 'maxAttempts', opts.maxAttempts, { min: 1, max: 10, integer: true })
  const strategy = checkStrategy(opts.backoff ?? 'full')
  const base =
    opts.baseDelay === undefined
      ? 100
      : checkDuration(WHERE, 'baseDelay', opts.baseDelay, { max: 3_600_000 })
  const cap =
    opts.maxDelay === undefined
      ? 20_000
      : checkDuration(WHERE, 'maxDelay', opts.maxDelay, { max: 2_147_483_647 })
  if (cap < base)
    throw new InvalidOptionError(
      `${WHERE}: \`maxDelay\` (${cap} ms) must be at least \`baseDelay\` (${base} ms).`,
    )
  const maxRetryAfter =
    opts.maxRetryAfter === undefined
      ? 60_000
      : checkDuration(WHERE, 'maxRetryAfter', opts.maxRetryAfter, { min: 0, max: 2_147_483_647 })
  const shouldRetry =
    opts.shouldRetry === undefined
      ? undefined
      : checkFunction<(error: unknown, info: RetryInfo) => boolean>(
          WHERE,
          'shouldRetry',
          opts.shouldRetry,
          '(error, { attempt }) => boolean',
        )
  const idempotent =
    opts.idempotent === undefined ? undefined : checkBoolean(WHERE, 'idempotent', opts.idempotent)
  const random =
    opts.random === undefined
      ? Math.random
      : checkFunction<() => number>(WHERE, 'random', opts.random, '() => number in [0, 1)')
  const budget = checkBudget(opts.budget)
  const params = { base, cap, random }
  return { maxAttempts, strategy, params, maxRetryAfter, shouldRetry, idempotent, budget }
}

function checkStrategy(strategy: BackoffStrategy): BackoffStrategy {
  if (!BACKOFF_STRATEGIES.includes(strategy)) {
    throw new InvalidOptionError(
      `${WHERE}: \`backoff\` must be one of ${BACKOFF_STRATEGIES.map((s) => `"${s}"`).join(', ')}, got ${show(strategy)}.`,
    )
  }
  return strategy
}

/** The budget to charge: a fresh one by default, none for `false`, else the one given. */
function checkBudget(budget: RetryBudget | false | undefined): RetryBudget | undefined {
  if (budget === undefined) return retryBudget()
  if (budget === false) return undefined
  const b = budget as Partial<RetryBudget> | null
  if (
    typeof b !== 'object' ||
    b === null ||
    typeof b.canRetry !== 'function' ||
    typeof b.onFailure !== 'function' ||
    typeof b.onSuccess !== 'function'
  ) {
    throw new InvalidOptionError(
      `${WHERE}: \`budget\` must be a retryBudget() or false, got ${show(budget)}.`,
    )
  }
  return budget
}

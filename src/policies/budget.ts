/**
 * A retry budget shared by every call through the policies that hold it: the token bucket of
 * gRPC's retryThrottling (and the AWS SDK retry quota). Each failed attempt takes a token, each
 * success gives back `tokenRatio`; retries are allowed only while more than half the tokens
 * remain. Under a total outage a handful of retries happen and then none, so upstream attempts
 * per logical call tend to 1 instead of multiplying by maxAttempts exactly when the upstream can
 * least afford it.
 */
import { checkKnownKeys, checkNumber, snapshot } from '../core/validate.js'

export interface RetryBudgetOptions {
  /** Bucket size. Default 10 (gRPC's example value). */
  readonly maxTokens?: number
  /** Tokens a success gives back. Default 0.1: sustained retries stay near 10 % of calls. */
  readonly tokenRatio?: number
}

export interface RetryBudget {
  /** Records a failed attempt. */
  onFailure(): void
  /** Records a successful attempt. */
  onSuccess(): void
  /** Whether a retry may be made now. */
  canRetry(): boolean
  /** Current tokens, for metrics and tests. */
  readonly tokens: number
}

export function retryBudget(options?: RetryBudgetOptions): RetryBudget {
  const where = 'retryBudget()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, ['maxTokens', 'tokenRatio'])
  const maxTokens = opts.maxTokens === undefined ? 10 : checkNumber(where, 'maxTokens', opts.maxTokens, { min: 1, max: 1000 })
  const tokenRatio = opts.tokenRatio === undefined ? 0.1 : checkNumber(where, 'tokenRatio', opts.tokenRatio, { min: 0.001, max: 1 })
  let tokens = maxTokens
  return {
    onFailure() {
      tokens = Math.max(0, tokens - 1)
    },
    onSuccess() {
      tokens = Math.min(maxTokens, tokens + tokenRatio)
    },
    canRetry() {
      return tokens > maxTokens / 2
    },
    get tokens() {
      return tokens
    },
  }
}

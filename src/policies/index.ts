/**
 * `fanout/policies`: the parts fanout's policies are made of, for writing a policy or a store of
 * your own. The policies themselves (`retry`, `limit`, …) are exported by `fanout`.
 *
 * - how fanout reads a failure: `statusOf`, `codeOf`, `isRetryableError`, `isOverloadError`,
 *   `isRetriedError`, and the `Retry-After` / `RateLimit` header parsers;
 * - backoff arithmetic: `backoffDelay`, `exponentialCeiling`;
 * - the in-memory stores behind `limit({ store })` and `rateLimit({ store })`, and their contracts;
 * - time and tracing for a policy running outside a flow: `systemClock`, `sleep`, `noopRecorder`.
 */
export {
  isRetryableError,
  statusOf,
  codeOf,
  RETRYABLE_STATUSES,
  TRANSIENT_ERROR_CODES,
} from './classify.js'
export { isRetriedError } from './retry.js'
export { isOverloadError } from './adaptive.js'
export {
  parseRetryAfter,
  retryAfterOf,
  parseRateLimitHeader,
  type RateLimitHeader,
} from './retry-after.js'
export {
  backoffDelay,
  exponentialCeiling,
  BACKOFF_STRATEGIES,
  type BackoffStrategy,
  type BackoffParams,
} from './backoff.js'
export {
  memoryConcurrencyStore,
  type ConcurrencyAcquireRequest,
  type ConcurrencyGrant,
  type ConcurrencyPermit,
  type ConcurrencyStore,
  type MemoryConcurrencyStore,
  type MemoryConcurrencyStoreOptions,
} from './concurrency-store.js'
export {
  memoryRateLimitStore,
  type RateLimitStore,
  type MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
  type RateLimitParams,
  type RateLimitReserveRequest,
  type RateLimitReservation,
} from './rate-limit-store.js'
export { RATE_LIMIT_ALGORITHMS } from './rate-limit.js'
export { systemClock, sleep } from '../core/clock.js'
export { noopRecorder } from '../core/trace.js'

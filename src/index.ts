/**
 * fanout: make many outbound calls fast and safe. The public surface, curated: what a route
 * handler calls (flows, policies, batching, caching, errors). Lower-level parts live in subpaths,
 * each name in exactly one entry: `fanout/policies` (classification, backoff, stores, clock),
 * `fanout/cache` (stores, keys, single-flight), `fanout/rest` (batch endpoints, pagination, field
 * selection, Link headers), `fanout/http`, `fanout/eslint`, `fanout/compat/*`.
 */
export { flow, Flow, type FlowOptions } from './flow/define.js'
export {
  FlowExit,
  isExit,
  type Deps,
  type TaskContext,
  type TaskFn,
  type TaskOptions,
  type OptionalTaskOptions,
  type RunOptions,
  type RunResult,
  type RunArgs,
  type Outcome,
  type Outcomes,
  type SettleResult,
  type FlowDescription,
  type TaskDescription,
} from './flow/types.js'
export {
  FlowError,
  CycleError,
  UnknownTaskError,
  DependencyError,
  SkippedError,
  type TaskFailure,
} from './flow/errors.js'
export {
  criticalPath,
  type FlowTrace,
  type TaskTrace,
  type TaskWait,
  type TaskStatus,
  type WaitKind,
} from './flow/trace.js'
export { renderWaterfall, type WaterfallOptions } from './render/waterfall.js'
export { renderWaterfallHtml, type WaterfallHtmlOptions } from './render/waterfall-html.js'
export {
  prometheusText,
  type PrometheusTextOptions,
  type StatsSnapshot,
  type StatsSource,
} from './render/prometheus.js'
export { traceToJSON, traceFromJSON, type TraceError } from './render/trace-json.js'
export { pipe, type Call, type CallContext, type Policy, type Pipeline } from './core/call.js'
export type { Clock, TimerHandle } from './core/clock.js'
export {
  FanoutError,
  isFanoutError,
  InvalidOptionError,
  InvalidArgumentError,
  TimeoutError,
  DeadlineError,
  AbortedError,
  RateLimitedError,
  RetryBudgetError,
  CircuitOpenError,
  QueueFullError,
  NotFoundError,
  RateLimitExceededError,
  StoreUnavailableError,
  StoreError,
  LeaseLostError,
  ClientClosedError,
  NoUserError,
  type StoreFailure,
  MissingPeerError,
  type RateLimitRejection,
  type FanoutErrorCode,
} from './core/errors.js'
export {
  type Recorder,
  type TraceEvent,
  type TimeoutFiredEvent,
  type AttemptStartedEvent,
  type RetryScheduledEvent,
  type RetryBudgetExhaustedEvent,
  type CircuitChangedEvent,
  type CircuitState,
  type HedgeFiredEvent,
  type HedgeWonEvent,
  type LimitAdjustedEvent,
  type StoreFailedEvent,
  type StoreRecoveredEvent,
  type StoreSkippedEvent,
  type RateWaitedEvent,
  type SlotWaitedEvent,
  type RateAdjustedEvent,
  type EventListener,
  type TaskStartedEvent,
  type TaskSettledEvent,
  type CacheHitEvent,
  type CacheMissedEvent,
  type CacheStaleServedEvent,
  type CacheStoredEvent,
  type BatchDispatchedEvent,
  type BatchSettledEvent,
  type RequestStartedEvent,
  type RequestFinishedEvent,
} from './core/trace.js'
export { timeout } from './policies/timeout.js'
export { retry, type RetryOptions, type RetryInfo } from './policies/retry.js'
export { retryBudget, type RetryBudget, type RetryBudgetOptions } from './policies/budget.js'
export { withFallback, type FallbackOptions } from './policies/fallback.js'
export { hedge, type HedgeOptions, type PercentileDelay } from './policies/hedge.js'
export {
  limit,
  type Limiter,
  type LimiterStats,
  type LimitOptions,
  type LimitRunOptions,
} from './policies/limit.js'
export { mapLimit, type MapLimitOptions } from './policies/map-limit.js'
export {
  Loader,
  loader,
  type BatchAnswer,
  type BatchContext,
  type BatchFunction,
  type LoaderBatchEvent,
  type LoaderOptions,
  type LoaderStats,
  type LoadOptions,
} from './batch/loader.js'
export { requestScoped } from './batch/request-scoped.js'
export {
  cached,
  CachedError,
  type Cached,
  type CachedOptions,
  type CachedCallOptions,
  type CachedContext,
  type CachedResult,
  type CachedStats,
  type CacheStatus,
  type NegativeCacheOptions,
} from './cache/cached.js'
export {
  rateLimit,
  type RateLimiter,
  type RateLimitOptions,
  type GcraRateLimitOptions,
  type SlidingWindowRateLimitOptions,
  type RateLimitAdaptiveOptions,
  type RateLimiterStats,
  type RateLimitAlgorithm,
} from './policies/rate-limit.js'
export {
  adaptiveConcurrency,
  type AdaptiveConcurrency,
  type AdaptiveConcurrencyOptions,
  type AdaptiveConcurrencyStats,
  type AimdOptions,
  type GradientOptions,
} from './policies/adaptive.js'
export {
  circuitBreaker,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type ConsecutiveBreakerOptions,
  type RatioBreakerOptions,
  type CircuitBreakerStats,
} from './policies/circuit-breaker.js'
export { execute, type ExecuteOptions } from './core/execute.js'
export {
  requestContexts,
  RequestContexts,
  RequestContext,
  currentRequest,
  type RequestContextOptions,
  type RequestSource,
  type RequestRunOptions,
} from './core/request-context.js'
export {
  parseGrpcTimeout,
  formatGrpcTimeout,
  deadlineHeaders,
  type HeaderSource,
} from './core/request-deadline.js'

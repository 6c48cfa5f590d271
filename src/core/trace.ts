/**
 * Events that policies report while a call runs. They are cheap to skip: emitters check
 * `recorder.enabled` first, so tracing costs nothing when nobody listens. Events never carry
 * request data, headers or error messages (which may hold credentials): only names, numbers
 * and error codes or statuses.
 */

interface EventBase {
  /** The task (or call) name from the context. */
  readonly task: string
  /** Time on the context's clock. */
  readonly at: number
}

/** A per-task or per-attempt time limit fired and aborted the call. */
export interface TimeoutFiredEvent extends EventBase {
  readonly type: 'timeout.fired'
  readonly timeoutMs: number
}

/** An attempt is about to start (1 = the first try). */
export interface AttemptStartedEvent extends EventBase {
  readonly type: 'attempt.started'
  readonly attempt: number
}

/** An attempt failed and another was scheduled after `delayMs`. */
export interface RetryScheduledEvent extends EventBase {
  readonly type: 'retry.scheduled'
  /** The attempt that failed. */
  readonly attempt: number
  readonly delayMs: number
  /** `retry-after`: the upstream asked for the wait; `backoff`: the backoff strategy chose it. */
  readonly reason: 'backoff' | 'retry-after'
  /** What failed: an HTTP status, an error code, or the error's name. */
  readonly cause: string
}

/** A retry was wanted but the retry budget refused it; the call fails with `RetryBudgetError`. */
export interface RetryBudgetExhaustedEvent extends EventBase {
  readonly type: 'retry.budgetExhausted'
  readonly attempt: number
}

/** A circuit breaker changed state. */
export interface CircuitChangedEvent extends EventBase {
  readonly type: 'circuit.changed'
  readonly breaker: string
  readonly from: CircuitState
  readonly to: CircuitState
}

export type CircuitState = 'closed' | 'open' | 'halfOpen'

/** A hedged request started extra attempt number `hedge` (1 = the first hedge). */
export interface HedgeFiredEvent extends EventBase {
  readonly type: 'hedge.fired'
  readonly hedge: number
  readonly afterMs: number
}

/** Attempt `winner` of a hedged call delivered the result (0 = the primary). */
export interface HedgeWonEvent extends EventBase {
  readonly type: 'hedge.won'
  readonly winner: number
}

/** Union of every event fanout emits. Events are named `noun.pastTense`. */
export type TraceEvent =
  | TimeoutFiredEvent
  | AttemptStartedEvent
  | RetryScheduledEvent
  | RetryBudgetExhaustedEvent
  | CircuitChangedEvent
  | HedgeFiredEvent
  | HedgeWonEvent
  | RateWaitedEvent
  | RateAdjustedEvent
  | LimitAdjustedEvent

export interface Recorder {
  /** False when nobody listens: emitters skip building the event. */
  readonly enabled: boolean
  emit(event: TraceEvent): void
}

export const noopRecorder: Recorder = Object.freeze({ enabled: false, emit() {} })

/** A rate limiter made a call wait `waitMs` before letting it through. */
export interface RateWaitedEvent extends EventBase {
  readonly type: 'rate.waited'
  /** The limiter's name (never the key: keys may be derived from credentials). */
  readonly limiter: string
  readonly waitMs: number
  /** The call's weight (1 unless the limiter's `weight` says otherwise). */
  readonly weight: number
}

/** An adaptive rate limiter slowed down, or paused, because the upstream pushed back. */
export interface RateAdjustedEvent extends EventBase {
  readonly type: 'rate.adjusted'
  readonly limiter: string
  /** Share of the configured rate now allowed, in (0, 1]. */
  readonly factor: number
  /** For how long from `at` no call will be let through; 0 when the upstream named no time. */
  readonly pauseMs: number
  /** What the upstream said: `429`, `retry-after` or `ratelimit-remaining`. */
  readonly cause: string
}

/** An adaptive concurrency policy moved its limiter's concurrency from `from` to `to`. */
export interface LimitAdjustedEvent extends EventBase {
  readonly type: 'limit.adjusted'
  /** The `name` given to `adaptiveConcurrency()` (default "adaptive"). */
  readonly limiter: string
  readonly from: number
  readonly to: number
  /**
   * `error`: an overload error (timeout, 408, 429, 5xx, network error) cut it; `latency`: a
   * window of calls was slower than the threshold (gradient: than the long-term latency);
   * `growth`: a window of fast, healthy calls that used the limit raised it.
   */
  readonly reason: 'error' | 'latency' | 'growth'
}

/**
 * Events that policies report while a call runs. They are cheap to skip: emitters check
 * `recorder.enabled` first, so tracing costs nothing when nobody listens. Events never carry
 * request data, headers or error messages (which may hold credentials): only names, numbers
 * and error codes or statuses.
 */
import { eventChannel } from './diagnostics.js'

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

/** A flow task's function was called (after its slot, if the flow has a limit). */
export interface TaskStartedEvent extends EventBase {
  readonly type: 'task.started'
}

/** A flow task settled: its own value, a fallback in place of a failure, a failure, or cut off by the run's end. */
export interface TaskSettledEvent extends EventBase {
  readonly type: 'task.settled'
  readonly outcome: 'fulfilled' | 'fallback' | 'rejected' | 'aborted'
  readonly durationMs: number
}

/** A cache served a fresh entry. `cache` is the cache's name, never the key (keys may name a user). */
export interface CacheHitEvent extends EventBase {
  readonly type: 'cache.hit'
  readonly cache: string
  /** The HTTP client's cache: the entry was stale and a 304 from the upstream confirmed it. */
  readonly revalidated?: boolean
}

/** `cached()` had no usable entry: the caller waits for the function (or joins a call in progress). */
export interface CacheMissedEvent extends EventBase {
  readonly type: 'cache.missed'
  readonly cache: string
}

/**
 * `cached()` served a stale entry: `revalidating` while one background refresh runs, `error`
 * because the refresh failed transiently (stale-if-error).
 */
export interface CacheStaleServedEvent extends EventBase {
  readonly type: 'cache.staleServed'
  readonly cache: string
  readonly reason: 'revalidating' | 'error'
}

/** `cached()` wrote a fetched value (`value`) or a remembered failure (`error`) for `ttlMs`. */
export interface CacheStoredEvent extends EventBase {
  readonly type: 'cache.stored'
  readonly cache: string
  readonly kind: 'value' | 'error'
  readonly ttlMs: number
}

/** A `Loader` called its batch function with `size` distinct keys. */
export interface BatchDispatchedEvent extends EventBase {
  readonly type: 'batch.dispatched'
  readonly loader: string
  readonly size: number
  /** Whether its loads carried a scope (never the scope itself: it may name a user). */
  readonly scoped: boolean
}

/** A `Loader`'s batch call settled. */
export interface BatchSettledEvent extends EventBase {
  readonly type: 'batch.settled'
  readonly loader: string
  readonly size: number
  readonly scoped: boolean
  readonly outcome: 'fulfilled' | 'rejected' | 'aborted'
  readonly durationMs: number
}

/**
 * The HTTP client sent one hop of an attempt. `origin` and `path` only: no query (it may hold a
 * key), no userinfo, no headers.
 */
export interface RequestStartedEvent extends EventBase {
  readonly type: 'request.started'
  readonly method: string
  readonly origin: string
  readonly path: string
  readonly attempt: number
  /** Redirects followed before this hop. */
  readonly redirects: number
  /** Ms left before the request's deadline (the caller's context's, or its own); Infinity when none. */
  readonly budgetMs: number
}

/** One hop ended: a response (`status`), or a failure in `phase` (`errorCode`: a code or an error name). */
export interface RequestFinishedEvent extends EventBase {
  readonly type: 'request.finished'
  readonly method: string
  readonly origin: string
  readonly path: string
  readonly attempt: number
  readonly redirects: number
  readonly outcome: 'response' | 'failed' | 'aborted'
  /** The response status; 0 when there was none. */
  readonly status: number
  /** The phase the exchange was in when it ended (`body` after a response). */
  readonly phase: 'connect' | 'headers' | 'body'
  readonly errorCode: string | null
  /** Ms waiting for a connection (to the hand-over to a socket), for the headers, for the body. */
  readonly connectMs: number
  readonly headersMs: number
  readonly bodyMs: number
}

/** Union of every event fanout emits. Events are named `noun.pastTense`. */
export type TraceEvent =
  | TaskStartedEvent
  | TaskSettledEvent
  | CacheHitEvent
  | CacheMissedEvent
  | CacheStaleServedEvent
  | CacheStoredEvent
  | BatchDispatchedEvent
  | BatchSettledEvent
  | RequestStartedEvent
  | RequestFinishedEvent
  | TimeoutFiredEvent
  | AttemptStartedEvent
  | RetryScheduledEvent
  | RetryBudgetExhaustedEvent
  | CircuitChangedEvent
  | HedgeFiredEvent
  | HedgeWonEvent
  | RateWaitedEvent
  | SlotWaitedEvent
  | RateAdjustedEvent
  | LimitAdjustedEvent
  | StoreFailedEvent
  | StoreRecoveredEvent
  | StoreSkippedEvent

export interface Recorder {
  /** False when nobody listens: emitters skip building the event. */
  readonly enabled: boolean
  emit(event: TraceEvent): void
}

/** The event last put on `fanout:event`: a tee or a shared call hands one event to several recorders. */
let last: TraceEvent | undefined
/** Shared work's events re-tagged for one of its callers: the original is published instead. */
const copies = new WeakSet<TraceEvent>()

/**
 * Puts `event` on the `fanout:event` diagnostics channel, once, while anyone subscribes. A tee
 * hands one event to its recorders one after the other, so the last one published is the only
 * one that can come again.
 */
function publish(event: TraceEvent): void {
  if (event === last || !eventChannel.hasSubscribers || copies.has(event)) return
  last = event
  eventChannel.publish(event)
}

/**
 * The recorder of a call nobody listens to in-process. It is enabled only while someone
 * subscribes to the `fanout:event` diagnostics channel, so emitters skip building events at the
 * cost of one property read.
 */
export const noopRecorder: Recorder = Object.freeze({
  get enabled(): boolean {
    return eventChannel.hasSubscribers
  },
  emit: publish,
})

/** A recorder that is off for good (a run nobody listened to when it started). */
export const disabledRecorder: Recorder = Object.freeze({ enabled: false, emit() {} })

/**
 * `event` under another task's name, for a listener of shared work (a batch, a cached fetch)
 * that asked as that task. The copy counts as published: the original was, or will be.
 */
export function retagged(event: TraceEvent, task: string): TraceEvent {
  const copy = { ...event, task }
  copies.add(copy)
  return copy
}

/** The observation hook every entry point takes: `onEvent` receives each event as it happens. */
export type EventListener = (event: TraceEvent) => void

/**
 * The recorder for an `onEvent` hook. A listener that throws is ignored: an observer's bug must
 * never fail, or change the outcome of, the call it observes.
 */
export function recorderFor(onEvent: EventListener | undefined): Recorder {
  if (onEvent === undefined) return noopRecorder
  return {
    enabled: true,
    emit(event) {
      publish(event)
      try {
        onEvent(event)
      } catch {
        // See above.
      }
    },
  }
}

/** Events go to both recorders (either may be off). */
export function teeRecorder(a: Recorder, b: Recorder): Recorder {
  if (!b.enabled) return a
  if (!a.enabled) return b
  return {
    enabled: true,
    emit(event) {
      a.emit(event)
      b.emit(event)
    },
  }
}

/** A rate limiter made a call wait `waitMs` before letting it through. */
export interface RateWaitedEvent extends EventBase {
  readonly type: 'rate.waited'
  /** The limiter's name (never the key: keys may be derived from credentials). */
  readonly limiter: string
  readonly waitMs: number
  /** The call's weight (1 unless the limiter's `weight` says otherwise). */
  readonly weight: number
}

/**
 * A concurrency limiter (`limit()`) made a call wait `waitMs` in its queue before it got a slot.
 * Emitted only when the call did wait, so an uncontended limiter adds no events.
 */
export interface SlotWaitedEvent extends EventBase {
  readonly type: 'slot.waited'
  /** The limiter's name (never a key: keys may be derived from credentials). */
  readonly limiter: string
  readonly waitMs: number
  /** Calls still queued behind it when it got its slot. */
  readonly queued: number
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

/**
 * A shared store could not answer (timeout, error, or its breaker is open) and the store followed
 * its `onStoreError` policy. `task` is the store's name.
 */
export interface StoreFailedEvent extends EventBase {
  readonly type: 'store.failed'
  readonly store: string
  readonly operation: string
  readonly reason: 'timeout' | 'error' | 'circuit-open'
  /** What was done instead: `local` (a per-process share), `fail-open` (let through), `fail-closed` (refused), or `miss` (a cache read as a miss). */
  readonly policy: 'local' | 'fail-open' | 'fail-closed' | 'miss'
  /** The client error's code or name (never its message), when there was one. */
  readonly code?: string
}

/** A shared store answered again after failing; fallbacks stop. `task` is the store's name. */
export interface StoreRecoveredEvent extends EventBase {
  readonly type: 'store.recovered'
  readonly store: string
}

/**
 * A shared store left a write undone on purpose: the value cannot be kept by it (`not-json`: a
 * Map, a Date, a class instance, NaN… would come back changed) or is larger than its bound
 * (`too-large`). `task` is the store's name; the key is never included.
 */
export interface StoreSkippedEvent extends EventBase {
  readonly type: 'store.skipped'
  readonly store: string
  readonly operation: string
  readonly reason: 'not-json' | 'too-large'
  /** The serialised size in bytes (`too-large` only). */
  readonly bytes?: number
}

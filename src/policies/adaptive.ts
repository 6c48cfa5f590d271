/**
 * `adaptiveConcurrency(limiter, options)`: finds how many calls at once an upstream can take, the
 * way TCP finds a link's capacity (after Netflix's concurrency-limits: AIMD and Gradient2). It
 * sits inside a `limit()` limiter, so it measures service time and not the wait for a slot;
 * it watches each call's latency and outcome, and moves the limiter's `concurrency` up while
 * calls are fast and healthy, and down when latency rises or the upstream signals overload.
 *
 * Invariants:
 * - the limiter's concurrency is always an integer within [min, max]: it is clamped into that
 *   range at construction and on every adjustment, and a value set on the limiter from outside
 *   is clamped the next time a call passes;
 * - only calls admitted under the current limit move it: a call that started before the last
 *   change and settles after it is not counted, so a burst of failures cuts the limit once per
 *   change (one decrease per congestion event, as in TCP), not once per failure;
 * - an abort by the caller (which includes a deadline or a timeout outside this policy), a 4xx
 *   other than 408 and 429, and any error `isOverload` rejects count neither as a latency sample
 *   nor as an overload;
 * - the limit never grows while the limiter is less than half used (the app-limited case: fast
 *   calls at low load say nothing about what a higher limit would do);
 * - memory is constant and no timer is set: adjustments happen when a call settles, on the time
 *   of that call's `ctx.clock`.
 */
import { invoke, type Call, type CallContext, type Policy } from '../core/call.js'
import { isFanoutError } from '../core/errors.js'
import { field } from '../core/own.js'
import {
  parseAdaptiveOptions,
  type AdaptiveConcurrencyOptions,
  type AdaptiveSettings,
} from './adaptive-options.js'
import { codeOf, isOwnDecision, statusOf, TRANSIENT_ERROR_CODES } from './classify.js'
import type { Limiter } from './limit.js'

export type {
  AdaptiveConcurrencyOptions,
  AimdOptions,
  GradientOptions,
} from './adaptive-options.js'

export interface AdaptiveConcurrencyStats {
  readonly kind: 'adaptiveConcurrency'
  /** The `name` option (default "adaptive"). */
  readonly name: string
  readonly algorithm: 'aimd' | 'gradient'
  /** The limit now: an integer within [min, max]. */
  readonly limit: number
  /** Times the limit went up, and down, since creation. */
  readonly increases: number
  readonly decreases: number
  /** Windows judged so far. */
  readonly windows: number
  /** Average latency of the last window judged, in ms; undefined before the first. */
  readonly windowLatencyMs: number | undefined
  /**
   * A window slower than this (ms) lowers the limit: `aimd`, `latencyThreshold` or `tolerance` ×
   * the lowest window latency; `gradient`, `tolerance` × the long-term latency (above it the
   * gradient falls below 1). Undefined until the first window, unless `latencyThreshold` is set.
   */
  readonly thresholdMs: number | undefined
}

export interface AdaptiveConcurrency extends Policy {
  /** The limit now: an integer within [min, max] (the same as `limiter.concurrency`). */
  readonly limit: number
  /** A snapshot for a health endpoint or `prometheusText()`. */
  stats(): AdaptiveConcurrencyStats
}

/** AIMD, relative threshold: while every window is slower, the minimum creeps up by this factor per window. */
const BASELINE_DRIFT = 1.01
/** Gradient: the long-term latency is a plain average over the first WARMUP windows, then an EWMA over LONG_WINDOWS. */
const WARMUP = 10
const LONG_WINDOWS = 100
/** Gradient: the share of the way to the new limit taken per window. */
const SMOOTHING = 0.2
/** Latencies are compared at no finer grain than this (ms): it keeps ratios finite when a clock reads 0. */
const LATENCY_FLOOR = 0.001

/**
 * Adjusts `limiter.concurrency` to what the upstream can take. Put it right inside the limiter it
 * adjusts, `pipe(limiter, adaptiveConcurrency(limiter))`, so that it times the calls and not
 * their wait for a slot; keep `retry()` outside the limiter and `timeout()` inside this policy
 * (a timeout inside counts as overload; one outside is the caller giving up and is not counted).
 * One adaptive policy per limiter: it owns the limiter's concurrency.
 *
 * At construction the limiter's concurrency is clamped into [min, max]; from then on every
 * window of `windowSize` calls admitted under the current limit is judged, and every overload
 * error from such a call cuts the limit at once by `backoffRatio`. Each change emits a
 * `limit.adjusted` event on the trace of the call that caused it.
 *
 * @example
 * const search = limit({ concurrency: 50, maxQueue: 500 })
 * const getResults = pipe(retry(), search, adaptiveConcurrency(search, { min: 5 }), timeout(2_000))
 *   .wrap(({ signal }) => fetch(url, { signal }).then((r) => r.json()))
 * // Latency doubles: the limit falls by 10% per window (never below 5); it climbs back by 1 per
 * // window once calls are fast again, never above 50.
 *
 * @example
 * const api = limit({ concurrency: 20 })
 * const tuned = pipe(api, adaptiveConcurrency(api, { algorithm: 'gradient', max: 200, name: 'api' }))
 */
export function adaptiveConcurrency(
  limiter: Limiter,
  options?: AdaptiveConcurrencyOptions,
): AdaptiveConcurrency {
  const settings = parseAdaptiveOptions(limiter, options)
  const { algorithm, min, max } = settings
  const state = new AdaptiveLimit(limiter, settings)
  return {
    name: `adaptiveConcurrency(${algorithm}, ${min}–${max})`,
    get limit() {
      return state.published
    },
    stats: () => state.stats(),
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return (ctx) => state.run(next, ctx)
    },
  }
}

/** The state machine behind one `adaptiveConcurrency()`: the limit, the window filling, what past windows taught. */
class AdaptiveLimit {
  readonly #limiter: Limiter
  readonly #settings: AdaptiveSettings
  readonly #isOverload: (error: unknown) => boolean
  /** The limit before rounding (the gradient moves in fractions); `published` = floor(estimate). */
  #estimate: number
  published: number
  /** Incremented whenever the published limit changes; a call remembers the one it started under. */
  #generation = 0
  // The current window: calls of this generation that settled successfully.
  #samples = 0
  #totalMs = 0
  /** The most calls holding a slot at once while this window filled. */
  #peak = 0
  // What the windows have taught.
  #windows = 0
  #windowLatency: number | undefined
  /** aimd: the lowest window latency (drifting up); gradient: the long-term latency. */
  #baseline: number | undefined
  #increases = 0
  #decreases = 0

  constructor(limiter: Limiter, settings: AdaptiveSettings) {
    this.#limiter = limiter
    this.#settings = settings
    this.#isOverload = settings.isOverload ?? isOverloadError
    this.#estimate = this.#clamp(settings.initial)
    this.published = Math.floor(this.#estimate)
    if (limiter.concurrency !== this.published) limiter.concurrency = this.published
  }

  stats(): AdaptiveConcurrencyStats {
    const { algorithm, latencyThreshold, tolerance, name } = this.#settings
    const baseline = this.#baseline
    return Object.freeze({
      kind: 'adaptiveConcurrency' as const,
      name,
      algorithm,
      limit: this.published,
      increases: this.#increases,
      decreases: this.#decreases,
      windows: this.#windows,
      windowLatencyMs: this.#windowLatency,
      thresholdMs: latencyThreshold ?? (baseline === undefined ? undefined : tolerance * baseline),
    })
  }

  /** Times a call through the policy and learns from how it settled. */
  run<T, C extends CallContext>(next: Call<T, C>, ctx: C): Promise<T> {
    this.#sync()
    const startedUnder = this.#generation
    const startedAt = ctx.clock.now()
    const active = this.#limiter.activeCount
    if (active > this.#peak) this.#peak = active
    const settle = (outcome: Outcome): void => this.#settle(ctx, startedUnder, startedAt, outcome)
    return invoke(() => next(ctx)).then(
      (value) => {
        settle('success')
        return value
      },
      (error: unknown) => {
        if (ctx.signal.aborted) {
          settle('ignored')
          throw error
        }
        let overload: boolean
        try {
          overload = Boolean(this.#isOverload(error))
        } catch (bug) {
          // A broken predicate is the caller's bug: surface it, and do not move the limit.
          settle('ignored')
          throw bug
        }
        settle(overload ? 'overload' : 'ignored')
        throw error
      },
    )
  }

  #clamp(value: number): number {
    return Math.min(this.#settings.max, Math.max(this.#settings.min, value))
  }

  #resetWindow(): void {
    this.#samples = 0
    this.#totalMs = 0
    this.#peak = this.#limiter.activeCount
  }

  /** Moves the estimate, and the limiter when the whole number changes. */
  #adjust(ctx: CallContext, next: number, reason: 'error' | 'latency' | 'growth'): void {
    this.#estimate = this.#clamp(next)
    const to = Math.floor(this.#estimate)
    if (to === this.published) return
    const from = this.published
    this.published = to
    if (to > from) this.#increases++
    else this.#decreases++
    this.#limiter.concurrency = to
    this.#generation++
    this.#resetWindow()
    if (ctx.trace.enabled)
      ctx.trace.emit({
        type: 'limit.adjusted',
        task: ctx.task,
        at: ctx.clock.now(),
        limiter: this.#settings.name,
        from,
        to,
        reason,
      })
  }

  /** Adopts (clamped) a concurrency set on the limiter from outside. */
  #sync(): void {
    const current = this.#limiter.concurrency
    if (current === this.published) return
    this.#estimate = this.#clamp(current)
    this.published = Math.floor(this.#estimate)
    if (current !== this.published) this.#limiter.concurrency = this.published
    this.#generation++
    this.#resetWindow()
  }

  #cut(ctx: CallContext, reason: 'error' | 'latency'): void {
    const next = this.#estimate * this.#settings.backoffRatio
    this.#adjust(ctx, this.#settings.algorithm === 'aimd' ? Math.floor(next) : next, reason)
  }

  #settle(ctx: CallContext, startedUnder: number, startedAt: number, outcome: Outcome): void {
    this.#sync()
    if (outcome === 'ignored' || startedUnder !== this.#generation) return
    if (outcome === 'overload') return this.#cut(ctx, 'error')
    this.#samples++
    this.#totalMs += Math.max(0, ctx.clock.now() - startedAt)
    if (this.#samples >= this.#settings.windowSize) this.#judge(ctx)
  }

  /** Judges a full window. */
  #judge(ctx: CallContext): void {
    const latency = Math.max(LATENCY_FLOOR, this.#totalMs / this.#samples)
    // Busy: the window used at least half the limit, so a higher limit could matter.
    const busy = this.#peak * 2 >= this.published
    this.#windows++
    this.#windowLatency = latency
    this.#resetWindow()
    if (this.#settings.algorithm === 'aimd') this.#judgeAimd(ctx, latency, busy)
    else this.#judgeGradient(ctx, latency, busy)
  }

  #judgeAimd(ctx: CallContext, latency: number, busy: boolean): void {
    const { latencyThreshold, tolerance } = this.#settings
    let threshold: number
    if (latencyThreshold !== undefined) threshold = latencyThreshold
    else {
      const baseline = this.#baseline
      this.#baseline =
        baseline === undefined ? latency : Math.min(baseline * BASELINE_DRIFT, latency)
      threshold = tolerance * this.#baseline
    }
    if (latency > threshold) this.#cut(ctx, 'latency')
    else if (busy) this.#adjust(ctx, this.#estimate + 1, 'growth')
  }

  #judgeGradient(ctx: CallContext, latency: number, busy: boolean): void {
    let baseline = this.#baseline
    if (baseline === undefined) baseline = latency
    else if (this.#windows <= WARMUP) baseline += (latency - baseline) / this.#windows
    else baseline += (latency - baseline) / LONG_WINDOWS
    // Latency back to normal after a long slow spell: let the long-term latency catch up faster.
    if (baseline / latency > 2) baseline *= 0.95
    this.#baseline = baseline
    const estimate = this.#estimate
    const gradient = Math.max(0.5, Math.min(1, (this.#settings.tolerance * baseline) / latency))
    let next = estimate * gradient + Math.sqrt(estimate)
    next = estimate * (1 - SMOOTHING) + next * SMOOTHING
    if (!busy) next = Math.min(next, estimate)
    this.#adjust(ctx, next, next < estimate ? 'latency' : 'growth')
  }
}

type Outcome = 'success' | 'overload' | 'ignored'

/**
 * The default `isOverload`: errors that say the upstream has more work than it can do. A timeout
 * (fanout's `TimeoutError`, or any error named `TimeoutError`, such as the DOMException fetch
 * throws when a timeout signal fires), statuses 408, 429 and 5xx, fanout's `RateLimitedError`,
 * and transient network errors (ECONNRESET, ECONNREFUSED, ETIMEDOUT…). Not a 4xx otherwise (the request was wrong), not a `DeadlineError` (the caller's
 * time ran out), not an open circuit or a full queue (no request was made).
 */
export function isOverloadError(error: unknown): boolean {
  // retry() stopped by its budget: judge the upstream's own last error.
  if (isFanoutError(error, 'FANOUT_RETRY_BUDGET')) return isOverloadError(error.cause)
  if (isOwnDecision(error))
    return error.code === 'FANOUT_TIMEOUT' || error.code === 'FANOUT_RATE_LIMITED'
  const status = statusOf(error)
  if (status !== undefined) return status === 408 || status === 429 || status >= 500
  const code = codeOf(error)
  if (code !== undefined && TRANSIENT_ERROR_CODES.has(code)) return true
  return typeof error === 'object' && error !== null && field(error, 'name') === 'TimeoutError'
}

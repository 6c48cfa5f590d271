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
import { InvalidOptionError, isFanoutError } from '../core/errors.js'
import { field } from '../core/own.js'
import {
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  closest,
  show,
  snapshot,
  checkName,
} from '../core/validate.js'
import { codeOf, isOwnDecision, statusOf, TRANSIENT_ERROR_CODES } from './classify.js'
import type { Limiter } from './limit.js'

interface CommonOptions {
  /** The lowest limit. An integer from 1 to 1 000 000, default 1. */
  readonly min?: number
  /**
   * The highest limit. An integer from `min` to 1 000 000. Default: the limiter's concurrency
   * when the policy is created (so the limit never rises above what you configured), or 1 000
   * when that is Infinity.
   */
  readonly max?: number
  /** Calls per window: the limit is judged (and moved by at most one step) once per window. An integer from 1 to 10 000, default 10. */
  readonly windowSize?: number
  /**
   * How much slower than usual a window may be before it counts as congested: 1.5 (the default)
   * lets it be 50% slower. `aimd` compares with the lowest window latency seen (which creeps up
   * by 1% per window while every window is slower, so a lasting change of latency becomes the
   * new normal); `gradient` with the long-term latency. A number from 1 to 10.
   */
  readonly tolerance?: number
  /** Share of the limit kept after an overload error (and, for `aimd`, a slow window). At least 0.5 and below 1, default 0.9. */
  readonly backoffRatio?: number
  /**
   * Whether an error means the upstream is overloaded. Default {@link isOverloadError}: timeouts,
   * 408, 429, 5xx and network errors. Errors it rejects are not counted at all. An error raised
   * after the caller aborted is never counted, whatever this says.
   */
  readonly isOverload?: (error: unknown) => boolean
  /** Shown in `limit.adjusted` events. Default "adaptive". */
  readonly name?: string
}

/**
 * Additive increase, multiplicative decrease: +1 after a window of fast calls that used at least
 * half the limit; × `backoffRatio` after an overload error or a slow window.
 */
export interface AimdOptions extends CommonOptions {
  readonly algorithm?: 'aimd'
  /**
   * A window whose average latency is above this many ms is slow. 1–3 600 000. Default: relative
   * to the observed minimum, see `tolerance` (pass one or the other).
   */
  readonly latencyThreshold?: number
}

/**
 * Gradient2: each window, limit ← limit × gradient + √limit, smoothed (20% of the way), where
 * gradient = clamp(tolerance × long-term latency / window latency, 0.5, 1). Overload errors cut
 * the limit by `backoffRatio` too.
 */
export interface GradientOptions extends CommonOptions {
  readonly algorithm: 'gradient'
  readonly latencyThreshold?: never
}

export type AdaptiveConcurrencyOptions = AimdOptions | GradientOptions

export interface AdaptiveConcurrencyStats {
  readonly algorithm: 'aimd' | 'gradient'
  /** The limit now: an integer within [min, max]. */
  readonly limit: number
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
  stats(): AdaptiveConcurrencyStats
}

const WHERE = 'adaptiveConcurrency()'
const KNOWN = [
  'algorithm',
  'min',
  'max',
  'windowSize',
  'latencyThreshold',
  'tolerance',
  'backoffRatio',
  'isOverload',
  'name',
] as const
type Known = (typeof KNOWN)[number]
const ALGORITHMS = ['aimd', 'gradient'] as const
type Algorithm = (typeof ALGORITHMS)[number]

/** The limiter's own bound on `concurrency`. */
const LIMIT_MAX = 1_000_000
/** Default `max` when the limiter's concurrency is Infinity. */
const DEFAULT_MAX = 1_000
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
  checkLimiter(limiter)
  const opts = snapshot(WHERE, options) as Partial<Record<Known, unknown>>
  checkKnownKeys(WHERE, opts, KNOWN)
  const algorithm: Algorithm =
    opts.algorithm === undefined ? 'aimd' : checkAlgorithm(opts.algorithm)
  const min =
    opts.min === undefined
      ? 1
      : checkNumber(WHERE, 'min', opts.min, { min: 1, max: LIMIT_MAX, integer: true })
  const initial = limiter.concurrency
  const max =
    opts.max === undefined
      ? Math.max(min, Number.isFinite(initial) ? initial : DEFAULT_MAX)
      : checkNumber(WHERE, 'max', opts.max, { min: 1, max: LIMIT_MAX, integer: true })
  if (max < min)
    throw new InvalidOptionError(
      `${WHERE}: \`max\` must be at least \`min\`, got min: ${min}, max: ${max}.`,
    )
  const windowSize =
    opts.windowSize === undefined
      ? 10
      : checkNumber(WHERE, 'windowSize', opts.windowSize, { min: 1, max: 10_000, integer: true })
  if (opts.latencyThreshold !== undefined && algorithm === 'gradient') {
    throw new InvalidOptionError(
      `${WHERE}: \`latencyThreshold\` only applies to algorithm "aimd": "gradient" compares each window with the long-term latency (tune it with \`tolerance\`).`,
    )
  }
  if (opts.latencyThreshold !== undefined && opts.tolerance !== undefined) {
    throw new InvalidOptionError(
      `${WHERE}: \`latencyThreshold\` and \`tolerance\` are two ways to say what is slow (a fixed number of ms, or relative to the fastest window seen): pass one or the other, not both (got latencyThreshold: ${show(opts.latencyThreshold)}, tolerance: ${show(opts.tolerance)}).`,
    )
  }
  const latencyThreshold =
    opts.latencyThreshold === undefined
      ? undefined
      : checkDuration(WHERE, 'latencyThreshold', opts.latencyThreshold, { max: 3_600_000 })
  const tolerance = opts.tolerance === undefined ? 1.5 : checkTolerance(opts.tolerance)
  const backoffRatio = opts.backoffRatio === undefined ? 0.9 : checkBackoffRatio(opts.backoffRatio)
  const isOverload =
    opts.isOverload === undefined
      ? isOverloadError
      : checkFunction<(error: unknown) => boolean>(
          WHERE,
          'isOverload',
          opts.isOverload,
          '(error) => boolean',
        )
  const name = opts.name === undefined ? 'adaptive' : checkName(WHERE, opts.name)

  const clamp = (value: number): number => Math.min(max, Math.max(min, value))
  /** The limit before rounding (the gradient moves in fractions); `published` = floor(estimate). */
  let estimate = clamp(initial)
  let published = Math.floor(estimate)
  if (limiter.concurrency !== published) limiter.concurrency = published
  /** Incremented whenever the published limit changes; a call remembers the one it started under. */
  let generation = 0
  // The current window: calls of this generation that settled successfully.
  let samples = 0
  let totalMs = 0
  /** The most calls holding a slot at once while this window filled. */
  let peak = 0
  // What the windows have taught.
  let windows = 0
  let windowLatency: number | undefined
  /** aimd: the lowest window latency (drifting up); gradient: the long-term latency. */
  let baseline: number | undefined

  const resetWindow = (): void => {
    samples = 0
    totalMs = 0
    peak = limiter.activeCount
  }

  /** Moves the estimate, and the limiter when the whole number changes. */
  const adjust = (ctx: CallContext, next: number, reason: 'error' | 'latency' | 'growth'): void => {
    estimate = clamp(next)
    const to = Math.floor(estimate)
    if (to === published) return
    const from = published
    published = to
    limiter.concurrency = to
    generation++
    resetWindow()
    if (ctx.trace.enabled)
      ctx.trace.emit({
        type: 'limit.adjusted',
        task: ctx.task,
        at: ctx.clock.now(),
        limiter: name,
        from,
        to,
        reason,
      })
  }

  /** Adopts (clamped) a concurrency set on the limiter from outside. */
  const sync = (): void => {
    const current = limiter.concurrency
    if (current === published) return
    estimate = clamp(current)
    published = Math.floor(estimate)
    if (current !== published) limiter.concurrency = published
    generation++
    resetWindow()
  }

  const cut = (ctx: CallContext, reason: 'error' | 'latency'): void => {
    const next = estimate * backoffRatio
    adjust(ctx, algorithm === 'aimd' ? Math.floor(next) : next, reason)
  }

  /** Judges a full window. */
  const judge = (ctx: CallContext): void => {
    const latency = Math.max(LATENCY_FLOOR, totalMs / samples)
    // Busy: the window used at least half the limit, so a higher limit could matter.
    const busy = peak * 2 >= published
    windows++
    windowLatency = latency
    resetWindow()
    if (algorithm === 'aimd') {
      let threshold: number
      if (latencyThreshold !== undefined) threshold = latencyThreshold
      else {
        baseline = baseline === undefined ? latency : Math.min(baseline * BASELINE_DRIFT, latency)
        threshold = tolerance * baseline
      }
      if (latency > threshold) cut(ctx, 'latency')
      else if (busy) adjust(ctx, estimate + 1, 'growth')
      return
    }
    if (baseline === undefined) baseline = latency
    else if (windows <= WARMUP) baseline += (latency - baseline) / windows
    else baseline += (latency - baseline) / LONG_WINDOWS
    // Latency back to normal after a long slow spell: let the long-term latency catch up faster.
    if (baseline / latency > 2) baseline *= 0.95
    const gradient = Math.max(0.5, Math.min(1, (tolerance * baseline) / latency))
    let next = estimate * gradient + Math.sqrt(estimate)
    next = estimate * (1 - SMOOTHING) + next * SMOOTHING
    if (!busy) next = Math.min(next, estimate)
    adjust(ctx, next, next < estimate ? 'latency' : 'growth')
  }

  const settle = (
    ctx: CallContext,
    startedUnder: number,
    startedAt: number,
    outcome: 'success' | 'overload' | 'ignored',
  ): void => {
    sync()
    if (outcome === 'ignored' || startedUnder !== generation) return
    if (outcome === 'overload') return cut(ctx, 'error')
    samples++
    totalMs += Math.max(0, ctx.clock.now() - startedAt)
    if (samples >= windowSize) judge(ctx)
  }

  return {
    name: `adaptiveConcurrency(${algorithm}, ${min}–${max})`,
    get limit() {
      return published
    },
    stats(): AdaptiveConcurrencyStats {
      return {
        algorithm,
        limit: published,
        windows,
        windowLatencyMs: windowLatency,
        thresholdMs:
          latencyThreshold ?? (baseline === undefined ? undefined : tolerance * baseline),
      }
    },
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return (ctx) => {
        sync()
        const startedUnder = generation
        const startedAt = ctx.clock.now()
        const active = limiter.activeCount
        if (active > peak) peak = active
        const pending = invoke(() => next(ctx))
        return pending.then(
          (value) => {
            settle(ctx, startedUnder, startedAt, 'success')
            return value
          },
          (error: unknown) => {
            if (ctx.signal.aborted) {
              settle(ctx, startedUnder, startedAt, 'ignored')
              throw error
            }
            let overload: boolean
            try {
              overload = Boolean(isOverload(error))
            } catch (bug) {
              // A broken predicate is the caller's bug: surface it, and do not move the limit.
              settle(ctx, startedUnder, startedAt, 'ignored')
              throw bug
            }
            settle(ctx, startedUnder, startedAt, overload ? 'overload' : 'ignored')
            throw error
          },
        )
      }
    },
  }
}

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

function checkLimiter(limiter: unknown): void {
  const l = limiter as Partial<Limiter> | null
  if (
    typeof l !== 'object' ||
    l === null ||
    typeof l.wrap !== 'function' ||
    typeof l.concurrency !== 'number' ||
    typeof l.activeCount !== 'number'
  ) {
    throw new InvalidOptionError(
      `${WHERE}: the first argument must be the limiter from limit() that the policy sits inside, as in pipe(limiter, adaptiveConcurrency(limiter)), got ${show(limiter)}.`,
    )
  }
}

function checkAlgorithm(value: unknown): Algorithm {
  if (typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value))
    return value as Algorithm
  const guess = typeof value === 'string' ? closest(value, ALGORITHMS) : undefined
  throw new InvalidOptionError(
    `${WHERE}: \`algorithm\` must be "aimd" or "gradient", got ${show(value)}.` +
      (guess !== undefined ? ` Did you mean "${guess}"?` : ''),
  )
}

function checkTolerance(value: unknown): number {
  const range =
    'a number from 1 to 10 (how much slower than usual a window may be: 1.5 = 50% slower)'
  if (typeof value !== 'number' || Number.isNaN(value) || !(value >= 1 && value <= 10)) {
    const hint =
      typeof value === 'string'
        ? ' Pass a number, not a string.'
        : typeof value === 'number' && value >= 0 && value < 1
          ? ` Below 1 even a window at the usual latency would count as slow; for "${Math.round(value * 100)}% slower" pass ${1 + value}.`
          : ''
    throw new InvalidOptionError(
      `${WHERE}: \`tolerance\` must be ${range}, got ${show(value)}.${hint}`,
    )
  }
  return value
}

function checkBackoffRatio(value: unknown): number {
  const range =
    'a number from 0.5 to below 1 (the share of the limit kept after an overload: 0.9 keeps 90%)'
  if (typeof value !== 'number' || Number.isNaN(value) || !(value >= 0.5 && value < 1)) {
    const hint =
      typeof value === 'string'
        ? ' Pass a number, not a string.'
        : value === 1
          ? ' 1 would never lower the limit.'
          : typeof value === 'number' && value > 1 && value < 100
            ? ` For ${value}% pass ${value / 100}.`
            : typeof value === 'number' && value > 0 && value < 0.5
              ? ' Below 0.5 a single error would more than halve the limit.'
              : ''
    throw new InvalidOptionError(
      `${WHERE}: \`backoffRatio\` must be ${range}, got ${show(value)}.${hint}`,
    )
  }
  return value
}

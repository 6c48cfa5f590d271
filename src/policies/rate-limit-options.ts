/**
 * The options of `rateLimit()`: their types, and their checking into the settings a limiter runs on.
 * Every mistake is an `InvalidOptionError` at creation, naming the option and what it takes.
 */
import type { CallContext } from '../core/call.js'
import { InvalidOptionError } from '../core/errors.js'
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
import {
  memoryRateLimitStore,
  type RateLimitParams,
  type RateLimitStore,
} from './rate-limit-store.js'

export const RATE_LIMIT_ALGORITHMS = ['gcra', 'sliding-window'] as const
export type RateLimitAlgorithm = (typeof RATE_LIMIT_ALGORITHMS)[number]

/** How the limiter slows down when the upstream pushes back, and how it recovers. */
export interface RateLimitAdaptiveOptions {
  /** Multiplies the rate on each 429 (multiplicative decrease). More than 0, less than 1; default 0.7. */
  readonly decrease?: number
  /** The rate never falls below this share of the configured rate. 0.01–1, default 0.1. */
  readonly floor?: number
  /**
   * Ms over which the rate climbs back by the full configured rate (additive increase, linear in
   * time): after one 429 at the full rate, `0.3 × recovery` ms to be back. 1–86 400 000, default 30 000.
   */
  readonly recovery?: number
}

interface CommonOptions {
  /** Shown in the policy name, in errors and in events. Default: the limit, e.g. `10/1000ms`. */
  readonly name?: string
  /** What a call costs, ≥ 0 (0 passes without using the limit). Default 1 for every call. */
  readonly weight?: (ctx: CallContext) => number
  /**
   * One limiter per key (a tenant, a host, an API token's id…). Keys are never put in events or
   * messages. Default: one limiter for every call, keyed by the limiter's name in the store.
   */
  readonly key?: (ctx: CallContext) => string
  /**
   * Longest a call may wait for its turn, in ms, counted from its arrival. A call whose wait is
   * longer fails at once with `RateLimitExceededError` (`reason: 'maxWait'`, `retryAfterMs`: the
   * wait). 0–2 147 483 647, default 30 000.
   */
  readonly maxWait?: number
  /**
   * Most callers of one key waiting at once (in this process); one more that would have to wait
   * fails at once with `QueueFullError`. 0: never wait. Integer 0–1 000 000, default 1 000.
   */
  readonly maxQueue?: number
  /**
   * Most keys tracked at once (the default store's keys and the adaptive state). Integer
   * 1–10 000 000, default 10 000. With a `store` of your own, it bounds only the adaptive state.
   */
  readonly maxKeys?: number
  /**
   * Slow down when the upstream pushes back. Default `true`: on a 429 the rate is multiplied by
   * `decrease` (once per round of calls: a 429 to a call let through before the last decrease
   * does not decrease again), then climbs back linearly over `recovery`; a `Retry-After` on an
   * error or a 429/503 response, or `RateLimit-Remaining: 0` / `X-RateLimit-Remaining: 0` with
   * a `RateLimit-Reset` / `X-RateLimit-Reset`, pauses the key until then (at most a day).
   * These slow-downs delay first attempts too, and callers already waiting follow them at once
   * (with the default store). Read from a rejected error (`status`,
   * `statusCode`, `response.status`; `headers` or `response.headers`) and from a resolved value
   * with `status` / `headers` (a fetch `Response`); feed anything else with `limiter.observe()`.
   * `false` ignores the upstream entirely.
   */
  readonly adaptive?: boolean | RateLimitAdaptiveOptions
  /** Where the state lives. Default: `memoryRateLimitStore({ maxKeys })`, private to this limiter. */
  readonly store?: RateLimitStore
}

/** Token-bucket semantics via GCRA: `rate` calls per `per` ms, up to `burst` at once. */
export interface GcraRateLimitOptions extends CommonOptions {
  readonly algorithm?: 'gcra'
  /** Calls (units of weight) per `per` ms. More than 0, at most 1 000 000 000. */
  readonly rate: number
  /** Ms the rate is counted over. 1–2 147 483 647, default 1 000. */
  readonly per?: number
  /** Most weight let through at once after a quiet spell. 1–1 000 000 000, default `max(1, rate)`. */
  readonly burst?: number
  readonly limit?: never
  readonly window?: never
}

/**
 * At most `limit` in any window of `window` ms (a sliding log: exact at the boundary, memory per
 * key proportional to the calls in one window).
 */
export interface SlidingWindowRateLimitOptions extends CommonOptions {
  readonly algorithm: 'sliding-window'
  /** Weight allowed per window. Integer 1–1 000 000. */
  readonly limit: number
  /** Window length in ms. 1–2 147 483 647, default 1 000. */
  readonly window?: number
  readonly rate?: never
  readonly per?: never
  readonly burst?: never
}

export type RateLimitOptions = GcraRateLimitOptions | SlidingWindowRateLimitOptions

const WHERE = 'rateLimit()'
const KNOWN = [
  'algorithm',
  'rate',
  'per',
  'burst',
  'limit',
  'window',
  'name',
  'weight',
  'key',
  'maxWait',
  'maxQueue',
  'maxKeys',
  'adaptive',
  'store',
] as const
const ADAPTIVE_KNOWN = ['decrease', 'floor', 'recovery'] as const
const GCRA_ONLY = ['rate', 'per', 'burst'] as const
const WINDOW_ONLY = ['limit', 'window'] as const
const MAX_TIMER = 2_147_483_647

/** The adaptive options, checked and with their defaults. */
export interface Adaptive {
  readonly decrease: number
  readonly floor: number
  readonly recovery: number
}

/** What a limiter runs on, checked once at creation. */
export interface RateLimitSettings {
  readonly algorithm: RateLimitAlgorithm
  /** The most weight one call may have: the burst, or the limit per window. */
  readonly capacity: number
  /** The store's parameters when the rate is slowed to `factor` of the configured one. */
  readonly paramsAt: (factor: number) => RateLimitParams
  readonly name: string
  readonly weightOf: ((ctx: CallContext) => number) | undefined
  readonly keyOf: ((ctx: CallContext) => string) | undefined
  readonly maxWait: number
  readonly maxQueue: number
  readonly maxKeys: number
  readonly adaptive: Adaptive | undefined
  readonly store: RateLimitStore
}

/** Checks `rateLimit()`'s options, throwing `InvalidOptionError` on the first mistake. */
export function parseRateLimitOptions(options: RateLimitOptions): RateLimitSettings {
  const opts = snapshot(WHERE, options) as Partial<Record<(typeof KNOWN)[number], unknown>>
  checkKnownKeys(WHERE, opts, KNOWN)
  const algorithm = checkAlgorithm(opts.algorithm)
  const foreign = algorithm === 'gcra' ? WINDOW_ONLY : GCRA_ONLY
  for (const key of foreign) {
    if (opts[key] === undefined) continue
    throw new InvalidOptionError(
      algorithm === 'gcra'
        ? `${WHERE}: \`${key}\` belongs to the sliding window: add algorithm: 'sliding-window' (with \`limit\` and \`window\`), or use \`rate\`, \`per\` and \`burst\` for the default 'gcra'.`
        : `${WHERE}: \`${key}\` belongs to algorithm 'gcra': with 'sliding-window' use \`limit\` and \`window\`.`,
    )
  }

  let capacity: number
  let base: { interval: number; tolerance: number } | { limit: number; window: number }
  let label: string
  if (algorithm === 'gcra') {
    if (opts.rate === undefined)
      throw new InvalidOptionError(
        `${WHERE}: \`rate\` is required: how many calls per \`per\` ms (e.g. rate: 10, per: 1_000).`,
      )
    const rate = checkPositive(
      'rate',
      opts.rate,
      1_000_000_000,
      ' calls per `per` ms',
      'A rate of 0 would never let a call through.',
    )
    const per =
      opts.per === undefined ? 1_000 : checkDuration(WHERE, 'per', opts.per, { max: MAX_TIMER })
    capacity =
      opts.burst === undefined
        ? Math.max(1, rate)
        : checkNumber(WHERE, 'burst', opts.burst, { min: 1, max: 1_000_000_000 })
    const interval = per / rate
    base = { interval, tolerance: capacity * interval }
    label = `${rate}/${per}ms`
  } else {
    if (opts.limit === undefined)
      throw new InvalidOptionError(
        `${WHERE}: \`limit\` is required with 'sliding-window': how many calls per \`window\` ms (e.g. limit: 100, window: 60_000).`,
      )
    capacity = checkWholePositive('limit', opts.limit)
    const window =
      opts.window === undefined
        ? 1_000
        : checkDuration(WHERE, 'window', opts.window, { max: MAX_TIMER })
    base = { limit: capacity, window }
    label = `${capacity}/${window}ms sliding`
  }
  const name = opts.name === undefined ? label : checkName(WHERE, opts.name)
  const weightOf =
    opts.weight === undefined
      ? undefined
      : checkFunction<(ctx: CallContext) => number>(WHERE, 'weight', opts.weight, '(ctx) => number')
  const keyOf =
    opts.key === undefined
      ? undefined
      : checkFunction<(ctx: CallContext) => string>(WHERE, 'key', opts.key, '(ctx) => string')
  const maxWait =
    opts.maxWait === undefined
      ? 30_000
      : checkDuration(WHERE, 'maxWait', opts.maxWait, { min: 0, max: MAX_TIMER })
  const maxQueue =
    opts.maxQueue === undefined
      ? 1_000
      : checkNumber(WHERE, 'maxQueue', opts.maxQueue, { min: 0, max: 1_000_000, integer: true })
  const maxKeys =
    opts.maxKeys === undefined
      ? 10_000
      : checkNumber(WHERE, 'maxKeys', opts.maxKeys, { min: 1, max: 10_000_000, integer: true })
  const adaptive = checkAdaptive(opts.adaptive)
  const store =
    opts.store === undefined ? memoryRateLimitStore({ maxKeys }) : checkStore(opts.store)

  // Own properties only: an `interval` on a polluted Object.prototype must not turn a window into gcra (I10).
  const isGcra = (b: typeof base): b is { interval: number; tolerance: number } =>
    Object.hasOwn(b, 'interval')
  const paramsAt = (factor: number): RateLimitParams =>
    isGcra(base)
      ? { algorithm: 'gcra', interval: base.interval / factor, tolerance: base.tolerance }
      : { algorithm: 'sliding-window', limit: base.limit, window: base.window / factor }

  return {
    algorithm,
    capacity,
    paramsAt,
    name,
    weightOf,
    keyOf,
    maxWait,
    maxQueue,
    maxKeys,
    adaptive,
    store,
  }
}

function checkAlgorithm(value: unknown): RateLimitAlgorithm {
  if (value === undefined) return 'gcra'
  if ((RATE_LIMIT_ALGORITHMS as readonly unknown[]).includes(value))
    return value as RateLimitAlgorithm
  const guess = typeof value === 'string' ? closest(value, RATE_LIMIT_ALGORITHMS) : undefined
  throw new InvalidOptionError(
    `${WHERE}: \`algorithm\` must be ${RATE_LIMIT_ALGORITHMS.map((a) => `"${a}"`).join(' or ')}, got ${show(value)}.` +
      (guess !== undefined ? ` Did you mean "${guess}"?` : ''),
  )
}

function checkPositive(
  name: string,
  value: unknown,
  max: number,
  unit: string,
  zeroHint: string,
): number {
  if (typeof value !== 'number' || Number.isNaN(value) || !(value > 0) || value > max) {
    const hint =
      value === 0
        ? ` ${zeroHint}`
        : typeof value === 'string'
          ? ' Pass a number, not a string.'
          : ''
    throw new InvalidOptionError(
      `${WHERE}: \`${name}\` must be a number greater than 0 and at most ${max}${unit}, got ${show(value)}.${hint}`,
    )
  }
  return value
}

function checkWholePositive(name: string, value: unknown): number {
  if (value === 0) {
    throw new InvalidOptionError(
      `${WHERE}: \`${name}\` must be an integer from 1 to 1000000, got 0. A limit of 0 would never let a call through.`,
    )
  }
  return checkNumber(WHERE, name, value, { min: 1, max: 1_000_000, integer: true })
}

function checkAdaptive(value: unknown): Adaptive | undefined {
  if (value === undefined || value === true) return { decrease: 0.7, floor: 0.1, recovery: 30_000 }
  if (value === false) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      `${WHERE}: \`adaptive\` must be true, false or an object { decrease, floor, recovery }, got ${show(value)}.`,
    )
  }
  const where = `${WHERE}: \`adaptive\``
  const opts = snapshot(where, value as RateLimitAdaptiveOptions)
  checkKnownKeys(where, opts, ADAPTIVE_KNOWN)
  return {
    decrease:
      opts.decrease === undefined
        ? 0.7
        : checkNumber(where, 'decrease', opts.decrease, { min: 0.01, max: 0.99 }),
    floor:
      opts.floor === undefined
        ? 0.1
        : checkNumber(where, 'floor', opts.floor, { min: 0.01, max: 1 }),
    recovery:
      opts.recovery === undefined
        ? 30_000
        : checkDuration(where, 'recovery', opts.recovery, { max: 86_400_000 }),
  }
}

function checkStore(value: unknown): RateLimitStore {
  const s = value as Partial<RateLimitStore> | null
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.reserve !== 'function' ||
    typeof s.cancel !== 'function'
  ) {
    throw new InvalidOptionError(
      `${WHERE}: \`store\` must have reserve() and cancel() (a RateLimitStore such as memoryRateLimitStore()), got ${show(value)}.`,
    )
  }
  return s as RateLimitStore
}

/**
 * `rateLimit()`: a client-side rate limiter, shared by every call to one upstream (or, with
 * `key`, one limiter per key). Calls over the limit wait their turn, first come first served,
 * instead of failing, but only as long as allowed.
 *
 * Invariants:
 * - the calls let through conform to the configured limit on the times of `ctx.clock`:
 *   `gcra`: in any span of `t` ms they weigh at most `burst + rate × t / per`;
 *   `sliding-window`: in any half-open window `[x, x + window)` at most `limit`.
 *   Adaptive slow-downs and pauses only lower these bounds; a caller leaving never raises them;
 * - a call waits only when its wait is known to fit `maxWait`, to end before `ctx.deadlineAt`
 *   and to find fewer than `maxQueue` callers of its key waiting; otherwise it fails at once
 *   (`RateLimitExceededError` with the wait it needed, or `QueueFullError`) and reserves nothing;
 * - a caller that aborts while waiting leaves at once, with its timer and listener released, and
 *   its turn is given back: with the (synchronous) default store the callers behind it move up;
 * - all time comes from `ctx.clock`: a clock that steps back counts the step as 0 ms, one that
 *   leaps ahead refills to the full burst and never beyond;
 * - memory is bounded: the default store and the adaptive state hold at most `maxKeys` keys, and
 *   per-key queues exist only while callers wait in them (at most `maxQueue` each).
 */
import type { Call, CallContext, Policy } from '../core/call.js'
import {
  InvalidOptionError,
  QueueFullError,
  RateLimitExceededError,
  isFanoutError,
  type RateLimitRejection,
} from '../core/errors.js'
import { show } from '../core/validate.js'
import { isOwnDecision } from './classify.js'
import type { RateLimitReserveRequest, RateLimitStore } from './rate-limit-store.js'
import {
  parseRateLimitOptions,
  type RateLimitAlgorithm,
  type RateLimitOptions,
  type RateLimitSettings,
} from './rate-limit-options.js'
import { slowdowns as slowdownsOf, type Slowdowns } from './rate-limit-adaptive.js'
import { lanes as lanesOf, type Lanes, type RefusalBounds } from './rate-limit-lanes.js'

export {
  RATE_LIMIT_ALGORITHMS,
  type RateLimitAlgorithm,
  type RateLimitAdaptiveOptions,
  type GcraRateLimitOptions,
  type SlidingWindowRateLimitOptions,
  type RateLimitOptions,
} from './rate-limit-options.js'

/**
 * A rate limiter's snapshot: `waiting`, `rateFactor` and `pausedUntil` are the asked key's (by
 * default the unkeyed limiter's); the rest is the whole limiter's, in this process.
 */
export interface RateLimiterStats {
  readonly kind: 'rateLimiter'
  /** The `name` option (default: the limit, e.g. `10/1000ms`). */
  readonly name: string
  /** Callers of the key waiting for their turn now (in this process). */
  readonly waiting: number
  /** Share of the configured rate the adaptive limiter allows the key, in (0, 1]. */
  readonly rateFactor: number
  /** Time on the clock until which the key is paused, when it is. */
  readonly pausedUntil?: number
  /** Whether calls are limited per key (`key`), and whether the limiter adapts (`adaptive`). */
  readonly keyed: boolean
  readonly adaptive: boolean
  /** Callers of every key waiting for their turn now. */
  readonly queued: number
  /** Calls let through since creation, and how many of them waited for their turn first. */
  readonly admitted: number
  readonly delayed: number
  /** Calls refused (`RateLimitExceededError`, `QueueFullError`) since creation. */
  readonly rejected: number
}

export interface RateLimiter extends Policy {
  readonly algorithm: RateLimitAlgorithm
  readonly store: RateLimitStore
  /**
   * Feeds what a response said to the adaptive limiter, for calls that do not resolve with the
   * response itself (e.g. they return parsed JSON): `source` is a response or error (`status`,
   * `headers`) or a headers object (`Headers` or a plain record). Pass the `ctx` the call
   * received; with the limiter innermost it also tells which round of calls the response belongs
   * to. A no-op with `adaptive: false`.
   */
  observe(source: unknown, ctx: CallContext): void
  /**
   * A snapshot for a health endpoint or `prometheusText()`: the key's state (default: the
   * unkeyed limiter) as of `at` (default: the last time the key was seen), and the whole
   * limiter's counts.
   */
  stats(key?: string, at?: number): RateLimiterStats
}

const WHERE = 'rateLimit()'

/**
 * A rate limiter: a stateful policy to create once and share by every call it should count
 * (in as many pipelines and flows as you like).
 *
 * Put it inside `retry()` so every attempt takes its turn, and outside `timeout()` so waiting
 * does not eat into the attempt's time: `pipe(retry(), limiter, timeout(2_000))`.
 *
 * @example
 * const github = rateLimit({ name: 'github', rate: 10, per: 1_000, burst: 20, maxWait: 5_000 })
 * const getRepo = pipe(retry(), github, timeout(2_000)).wrap(({ signal }) => fetch(url, { signal }))
 * try {
 *   await execute(getRepo, { deadline: 10_000 })
 * } catch (error) {
 *   if (error instanceof RateLimitExceededError) console.log(`over the limit: ${error.reason}, needed ${error.retryAfterMs} ms`)
 *   throw error
 * }
 *
 * @example
 * // 100 calls per minute per tenant, exactly, each export costing 10:
 * const perTenant = rateLimit({
 *   algorithm: 'sliding-window',
 *   limit: 100,
 *   window: 60_000,
 *   key: (ctx) => tenantOf(ctx),
 *   weight: (ctx) => (ctx.task === 'export' ? 10 : 1),
 * })
 */
export function rateLimit(options: RateLimitOptions): RateLimiter {
  const settings = parseRateLimitOptions(options)
  const { algorithm, name, adaptive, store, maxKeys, maxWait, maxQueue } = settings
  // Waiters follow a slow-down at once: the adaptive state tells the lanes (created below) of each change.
  const slowdowns = slowdownsOf(adaptive, maxKeys, name, (key) => lanes.reschedule(key))
  const lanes = lanesOf({
    store,
    name,
    maxWait,
    maxQueue,
    request: (key, weight, now, maxWaitMs) =>
      reserveRequest(settings, slowdowns, key, weight, now, maxWaitMs),
    refusal: (ctx, result, bounds) => {
      counts.rejected++
      return refusal(settings, ctx, result, bounds)
    },
  })
  const counts = { admitted: 0, rejected: 0 }
  const limiter: Limiter = { settings, slowdowns, lanes, counts, admittedUnder: new WeakMap() }
  return {
    name: `rateLimit(${name})`,
    algorithm,
    store,
    observe(source, ctx) {
      if (adaptive === undefined) return
      const key = keyFor(settings, ctx)
      const generation = limiter.admittedUnder.get(ctx) ?? slowdowns.get(key)?.generation ?? 0
      slowdowns.learn(ctx, key, generation, source, 'observed')
    },
    stats: (key, at) => statsOf(limiter, key ?? name, at),
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return (ctx) => limitedCall(limiter, next, ctx)
    },
  }
}

/** One limiter's parts. */
interface Limiter {
  readonly settings: RateLimitSettings
  readonly slowdowns: Slowdowns
  readonly lanes: Lanes
  /** Calls let through, and refused, since creation (the lanes count those that waited). */
  readonly counts: { admitted: number; rejected: number }
  /** The slowdown generation each call was let through under, for `observe()`. */
  readonly admittedUnder: WeakMap<CallContext, number>
}

/** A call through the limiter: its turn, then the call, then what the upstream said. */
async function limitedCall<T, C extends CallContext>(
  { settings, slowdowns, lanes, counts, admittedUnder }: Limiter,
  next: Call<T, C>,
  ctx: C,
): Promise<T> {
  const { adaptive, capacity, algorithm } = settings
  if (ctx.signal.aborted) throw ctx.signal.reason
  const key = keyFor(settings, ctx)
  const weight = weightFor(settings, ctx)
  if (weight > capacity) {
    counts.rejected++
    throw rejection(
      settings,
      ctx,
      'weight',
      Infinity,
      `weighs ${weight}, more than the ${algorithm === 'gcra' ? `burst (${capacity})` : `limit per window (${capacity})`}: it could never be let through.`,
    )
  }
  if (weight > 0) {
    const waiting = lanes.admit(ctx, key, weight)
    if (waiting !== undefined) await waiting
  }
  counts.admitted++
  const generation = adaptive === undefined ? 0 : (slowdowns.get(key)?.generation ?? 0)
  if (adaptive !== undefined) admittedUnder.set(ctx, generation)
  let value: T
  try {
    value = await next(ctx)
  } catch (error) {
    // The caller leaving says nothing about the upstream; neither do fanout's own decisions
    // (an HttpError's 429 is the upstream's answer, and is learnt from). A retry() stopped by
    // its budget carries the upstream's last error, which does tell.
    const upstream = isFanoutError(error, 'FANOUT_RETRY_BUDGET') ? error.cause : error
    if (!ctx.signal.aborted && !isOwnDecision(upstream))
      slowdowns.learn(ctx, key, generation, upstream, 'error')
    throw error
  }
  slowdowns.learn(ctx, key, generation, value, 'value')
  return value
}

function statsOf(limiter: Limiter, key: string, at?: number): RateLimiterStats {
  const { slowdowns, lanes, settings, counts } = limiter
  const whole = {
    keyed: settings.keyOf !== undefined,
    adaptive: settings.adaptive !== undefined,
    queued: lanes.queued(),
    admitted: counts.admitted,
    delayed: lanes.delayed,
    rejected: counts.rejected,
  }
  const head = { kind: 'rateLimiter' as const, name: settings.name, waiting: lanes.waiting(key) }
  const s = slowdowns.get(key)
  if (s === undefined) return Object.freeze({ ...head, rateFactor: 1, ...whole })
  const now = at ?? s.last
  // Read on `now`'s timeline without moving the state.
  const step = Math.min(0, now - s.last)
  const pausedUntil = s.pausedUntil + step
  const rateFactor = slowdowns.factorOf({ ...s, at: s.at + step }, now)
  return Object.freeze({
    ...head,
    rateFactor,
    ...(pausedUntil > now ? { pausedUntil } : {}),
    ...whole,
  })
}

function keyFor({ keyOf, name }: RateLimitSettings, ctx: CallContext): string {
  if (keyOf === undefined) return name
  const key = keyOf(ctx)
  if (typeof key !== 'string')
    throw new InvalidOptionError(`${WHERE}: \`key\` must return a string, got ${show(key)}.`)
  return key
}

function weightFor({ weightOf }: RateLimitSettings, ctx: CallContext): number {
  if (weightOf === undefined) return 1
  const weight = weightOf(ctx)
  if (typeof weight !== 'number' || !(weight >= 0) || !Number.isFinite(weight)) {
    throw new InvalidOptionError(
      `${WHERE}: \`weight\` must return a finite number ≥ 0, got ${show(weight)}.`,
    )
  }
  return weight
}

/** What the store is asked for a call of `weight` on `key` at `now`, allowed to wait `maxWaitMs`. */
function reserveRequest(
  { adaptive, paramsAt }: RateLimitSettings,
  slowdowns: Slowdowns,
  key: string,
  weight: number,
  now: number,
  maxWaitMs: number,
): RateLimitReserveRequest {
  const slowdown = adaptive === undefined ? undefined : slowdowns.slowdownAt(key, now, true)
  const notBefore =
    slowdown !== undefined && slowdown.pausedUntil > now ? slowdown.pausedUntil : -Infinity
  return {
    cost: weight,
    now,
    maxWaitMs,
    notBefore,
    params: paramsAt(slowdowns.factorOf(slowdown, now)),
  }
}

function rejection(
  { name }: RateLimitSettings,
  ctx: CallContext,
  reason: RateLimitRejection,
  waitMs: number,
  detail: string,
): RateLimitExceededError {
  return new RateLimitExceededError(
    name,
    reason,
    `Rate limit "${name}": "${ctx.task}" ${detail}`,
    waitMs,
  )
}

/** The error for a refused reservation, naming the bound that made the difference. */
function refusal(
  settings: RateLimitSettings,
  ctx: CallContext,
  result: { waitMs: number; reason: 'wait' | 'full' },
  bounds: RefusalBounds,
): Error {
  const { name, maxKeys, maxQueue, maxWait } = settings
  const wait = result.waitMs
  const ms = Math.ceil(wait)
  if (result.reason === 'full') {
    return rejection(
      settings,
      ctx,
      'maxKeys',
      wait,
      `cannot be counted: the limiter already tracks maxKeys (${maxKeys}) keys and the least recently used one is still within its limit for ${ms} ms. Raise maxKeys.`,
    )
  }
  if (bounds.queueFull && wait <= Math.min(bounds.waitLeft, bounds.byDeadline)) {
    return new QueueFullError(
      `Rate limit "${name}": "${ctx.task}" would have to wait ${ms} ms, but maxQueue (${maxQueue}) callers are already waiting; the call was rejected, not buffered.`,
      maxQueue,
    )
  }
  if (bounds.byDeadline < bounds.waitLeft && wait > bounds.byDeadline) {
    return rejection(
      settings,
      ctx,
      'deadline',
      wait,
      `would have to wait ${ms} ms, but only ${Math.max(0, Math.floor(bounds.byDeadline + 1))} ms are left before the deadline.`,
    )
  }
  return rejection(
    settings,
    ctx,
    'maxWait',
    wait,
    `would have to wait ${ms} ms, more than maxWait (${maxWait} ms)${bounds.waitLeft < maxWait ? ` (${Math.floor(bounds.waitLeft)} ms of it left after waiting already)` : ''}.`,
  )
}

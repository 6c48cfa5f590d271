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
import type { TimerHandle } from '../core/clock.js'
import { onAbort } from '../core/signals.js'
import { InvalidOptionError, QueueFullError, RateLimitExceededError, isFanoutError, type RateLimitRejection } from '../core/errors.js'
import { field, hasField } from '../core/own.js'
import { checkDuration, checkFunction, checkKnownKeys, checkNumber, closest, show, snapshot, checkName } from '../core/validate.js'
import { isOwnDecision, statusOf } from './classify.js'
import { parseRateLimitHeader, parseRetryAfter, retryAfterOf } from './retry-after.js'
import { memoryRateLimitStore, type RateLimitParams, type RateLimitReservation, type RateLimitStore } from './rate-limit-store.js'

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

export interface RateLimiterStats {
  /** Callers of the key waiting for their turn now (in this process). */
  readonly waiting: number
  /** Share of the configured rate the adaptive limiter allows, in (0, 1]. */
  readonly rateFactor: number
  /** Time on the clock until which the key is paused, when it is. */
  readonly pausedUntil?: number
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
  /** The key's state (default: the unkeyed limiter), as of `at` (default: the last time the key was seen). */
  stats(key?: string, at?: number): RateLimiterStats
}

const WHERE = 'rateLimit()'
const KNOWN = ['algorithm', 'rate', 'per', 'burst', 'limit', 'window', 'name', 'weight', 'key', 'maxWait', 'maxQueue', 'maxKeys', 'adaptive', 'store'] as const
const ADAPTIVE_KNOWN = ['decrease', 'floor', 'recovery'] as const
const GCRA_ONLY = ['rate', 'per', 'burst'] as const
const WINDOW_ONLY = ['limit', 'window'] as const
/** The longest pause an upstream can ask for. */
const MAX_PAUSE = 86_400_000
const MAX_TIMER = 2_147_483_647

interface Waiter {
  readonly ctx: CallContext
  readonly key: string
  readonly weight: number
  /** Clock reading when the call arrived: `maxWait` counts from here, across reschedules. */
  readonly start: number
  ticket: unknown
  timer: TimerHandle | undefined
  unsubscribe: () => void
  resolve: () => void
  reject: (reason: unknown) => void
}

interface Lane {
  /** In the order of their reservations. */
  readonly waiters: Waiter[]
  /** Callers whose (asynchronous) reservation has not been answered yet. */
  reserving: number
}

interface Adaptive {
  readonly decrease: number
  readonly floor: number
  readonly recovery: number
}

/** A key's adaptive state, on its own clock timeline like the store's. */
interface Slowdown {
  /** Rate factor right after the last decrease, and when that was. */
  factor: number
  at: number
  /** Changes on every decrease: calls remember the one they were let through under. */
  generation: number
  pausedUntil: number
  last: number
}

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
    if (opts.rate === undefined) throw new InvalidOptionError(`${WHERE}: \`rate\` is required: how many calls per \`per\` ms (e.g. rate: 10, per: 1_000).`)
    const rate = checkPositive('rate', opts.rate, 1_000_000_000, ' calls per `per` ms', 'A rate of 0 would never let a call through.')
    const per = opts.per === undefined ? 1_000 : checkDuration(WHERE, 'per', opts.per, { max: MAX_TIMER })
    capacity = opts.burst === undefined ? Math.max(1, rate) : checkNumber(WHERE, 'burst', opts.burst, { min: 1, max: 1_000_000_000 })
    const interval = per / rate
    base = { interval, tolerance: capacity * interval }
    label = `${rate}/${per}ms`
  } else {
    if (opts.limit === undefined) throw new InvalidOptionError(`${WHERE}: \`limit\` is required with 'sliding-window': how many calls per \`window\` ms (e.g. limit: 100, window: 60_000).`)
    capacity = checkWholePositive('limit', opts.limit)
    const window = opts.window === undefined ? 1_000 : checkDuration(WHERE, 'window', opts.window, { max: MAX_TIMER })
    base = { limit: capacity, window }
    label = `${capacity}/${window}ms sliding`
  }
  const name = opts.name === undefined ? label : checkName(WHERE, opts.name)
  const weightOf = opts.weight === undefined ? undefined : checkFunction<(ctx: CallContext) => number>(WHERE, 'weight', opts.weight, '(ctx) => number')
  const keyOf = opts.key === undefined ? undefined : checkFunction<(ctx: CallContext) => string>(WHERE, 'key', opts.key, '(ctx) => string')
  const maxWait = opts.maxWait === undefined ? 30_000 : checkDuration(WHERE, 'maxWait', opts.maxWait, { min: 0, max: MAX_TIMER })
  const maxQueue = opts.maxQueue === undefined ? 1_000 : checkNumber(WHERE, 'maxQueue', opts.maxQueue, { min: 0, max: 1_000_000, integer: true })
  const maxKeys = opts.maxKeys === undefined ? 10_000 : checkNumber(WHERE, 'maxKeys', opts.maxKeys, { min: 1, max: 10_000_000, integer: true })
  const adaptive = checkAdaptive(opts.adaptive)
  const store = opts.store === undefined ? memoryRateLimitStore({ maxKeys }) : checkStore(opts.store)

  // Own properties only: an `interval` on a polluted Object.prototype must not turn a window into gcra (I10).
  const isGcra = (b: typeof base): b is { interval: number; tolerance: number } => Object.hasOwn(b, 'interval')
  const paramsAt = (factor: number): RateLimitParams =>
    isGcra(base)
      ? { algorithm: 'gcra', interval: base.interval / factor, tolerance: base.tolerance }
      : { algorithm: 'sliding-window', limit: base.limit, window: base.window / factor }

  /** Per key: callers waiting for their turn (FIFO), and callers whose reservation is in flight. Empty lanes are deleted. */
  const lanes = new Map<string, Lane>()
  /** Adaptive state per key, least recently used first. */
  const slowdowns = new Map<string, Slowdown>()
  let generations = 0
  /** The slowdown generation each call was let through under, for `observe()`. */
  const admittedUnder = new WeakMap<CallContext, number>()
  /** A store that answers at once lets queued callers move when one leaves or the upstream pushes back. */
  const synchronous = field(store, 'synchronous') === true

  const keyFor = (ctx: CallContext): string => {
    if (keyOf === undefined) return name
    const key = keyOf(ctx)
    if (typeof key !== 'string') throw new InvalidOptionError(`${WHERE}: \`key\` must return a string, got ${show(key)}.`)
    return key
  }

  const weightFor = (ctx: CallContext): number => {
    if (weightOf === undefined) return 1
    const weight = weightOf(ctx)
    if (typeof weight !== 'number' || !(weight >= 0) || !Number.isFinite(weight)) {
      throw new InvalidOptionError(`${WHERE}: \`weight\` must return a finite number ≥ 0, got ${show(weight)}.`)
    }
    return weight
  }

  /** The key's slow-down on `now`'s timeline, or undefined. */
  const slowdownAt = (key: string, now: number, touch: boolean): Slowdown | undefined => {
    const s = slowdowns.get(key)
    if (s === undefined) return undefined
    if (touch) {
      slowdowns.delete(key)
      slowdowns.set(key, s)
    }
    // A clock that stepped back moves the state back with it: the step counts as 0 ms.
    if (now < s.last) {
      s.at += now - s.last
      s.pausedUntil += now - s.last
    }
    s.last = now
    return s
  }

  const factorOf = (s: Slowdown | undefined, now: number): number =>
    s === undefined || adaptive === undefined ? 1 : Math.min(1, s.factor + Math.max(0, now - s.at) / adaptive.recovery)

  /** What the store is asked for a call of `weight` on `key` at `now`, allowed to wait `maxWaitMs`. */
  const request = (key: string, weight: number, now: number, maxWaitMs: number) => {
    const slowdown = adaptive === undefined ? undefined : slowdownAt(key, now, true)
    const notBefore = slowdown !== undefined && slowdown.pausedUntil > now ? slowdown.pausedUntil : -Infinity
    return { cost: weight, now, maxWaitMs, notBefore, params: paramsAt(factorOf(slowdown, now)) }
  }

  const lane = (key: string): Lane => {
    let l = lanes.get(key)
    if (l === undefined) {
      l = { waiters: [], reserving: 0 }
      lanes.set(key, l)
    }
    return l
  }

  const tidy = (key: string, l: Lane): void => {
    if (l.waiters.length === 0 && l.reserving === 0 && lanes.get(key) === l) lanes.delete(key)
  }

  const cancel = (key: string, ticket: unknown, now: number): void => {
    const undone = store.cancel(key, ticket, now)
    // Nobody is left to tell if a remote store fails to take the reservation back.
    if (isThenable(undone)) undone.then(undefined, () => {})
  }

  const rejection = (ctx: CallContext, reason: RateLimitRejection, waitMs: number, detail: string): RateLimitExceededError =>
    new RateLimitExceededError(name, reason, `Rate limit "${name}": "${ctx.task}" ${detail}`, waitMs)

  /** The error for a refused reservation, naming the bound that made the difference. */
  const refusal = (ctx: CallContext, result: { waitMs: number; reason: 'wait' | 'full' }, bounds: { queueFull: boolean; waitLeft: number; byDeadline: number }): Error => {
    const wait = result.waitMs
    const ms = Math.ceil(wait)
    if (result.reason === 'full') {
      return rejection(ctx, 'maxKeys', wait, `cannot be counted: the limiter already tracks maxKeys (${maxKeys}) keys and the least recently used one is still within its limit for ${ms} ms. Raise maxKeys.`)
    }
    if (bounds.queueFull && wait <= Math.min(bounds.waitLeft, bounds.byDeadline)) {
      return new QueueFullError(`Rate limit "${name}": "${ctx.task}" would have to wait ${ms} ms, but maxQueue (${maxQueue}) callers are already waiting; the call was rejected, not buffered.`, maxQueue)
    }
    if (bounds.byDeadline < bounds.waitLeft && wait > bounds.byDeadline) {
      return rejection(ctx, 'deadline', wait, `would have to wait ${ms} ms, but only ${Math.max(0, Math.floor(bounds.byDeadline + 1))} ms are left before the deadline.`)
    }
    return rejection(ctx, 'maxWait', wait, `would have to wait ${ms} ms, more than maxWait (${maxWait} ms)${bounds.waitLeft < maxWait ? ` (${Math.floor(bounds.waitLeft)} ms of it left after waiting already)` : ''}.`)
  }

  /** Starts (or restarts) a waiter's timer for `waitMs`. */
  const schedule = (w: Waiter, waitMs: number, now: number): void => {
    const { ctx } = w
    if (ctx.trace.enabled) ctx.trace.emit({ type: 'rate.waited', task: ctx.task, at: now, limiter: name, waitMs, weight: w.weight })
    w.timer = ctx.clock.setTimeout(() => go(w), waitMs)
  }

  /** The waiter's turn has come. */
  const go = (w: Waiter): void => {
    const l = lanes.get(w.key)
    if (l !== undefined) {
      const i = l.waiters.indexOf(w)
      if (i >= 0) l.waiters.splice(i, 1)
      tidy(w.key, l)
    }
    w.unsubscribe()
    w.resolve()
  }

  /**
   * Takes back the reservations of every waiter of the key (the last first, so each is given back
   * in full) and reserves again in the same order at the current rate: waiters follow a slow-down
   * or a pause at once. Only with a synchronous store.
   */
  const reschedule = (key: string): void => {
    const l = lanes.get(key)
    if (l === undefined || !synchronous || l.waiters.length === 0) return
    const moving = l.waiters.slice()
    stepBack(key, moving)
    reserveAgain(key, l, moving)
    tidy(key, l)
  }

  /** Stops the waiters' timers and gives back their reservations, the last first. */
  const stepBack = (key: string, waiters: readonly Waiter[]): void => {
    for (const w of waiters) stopTimer(w)
    for (let i = waiters.length - 1; i >= 0; i--) cancel(key, waiters[i]!.ticket, waiters[i]!.ctx.clock.now())
  }

  const stopTimer = (w: Waiter): void => {
    if (w.timer !== undefined) w.ctx.clock.clearTimeout(w.timer)
    w.timer = undefined
  }

  /** A waiter's caller aborted: it leaves at once and gives its turn back. */
  const leave = (w: Waiter): void => {
    const l = lanes.get(w.key)
    stopTimer(w)
    const i = l === undefined ? -1 : l.waiters.indexOf(w)
    if (l !== undefined && i >= 0) {
      if (synchronous) {
        // Those behind step back first, so the leaver's reservation is the last and returns in full;
        // then they reserve again and move up.
        const behind = l.waiters.slice(i + 1)
        stepBack(w.key, behind)
        cancel(w.key, w.ticket, w.ctx.clock.now())
        l.waiters.splice(i, 1)
        reserveAgain(w.key, l, behind)
      } else {
        cancel(w.key, w.ticket, w.ctx.clock.now())
        l.waiters.splice(i, 1)
      }
      tidy(w.key, l)
    }
    w.reject(w.ctx.signal.reason)
  }

  /** Reserves again, in order, for waiters whose reservations were just taken back. */
  const reserveAgain = (key: string, l: Lane, waiters: readonly Waiter[]): void => {
    for (const w of waiters) {
      const now = w.ctx.clock.now()
      const waitLeft = maxWait - Math.max(0, now - w.start)
      const byDeadline = w.ctx.deadlineAt - now - 1
      const result = store.reserve(key, request(key, w.weight, now, Math.max(0, Math.min(waitLeft, byDeadline)))) as RateLimitReservation
      if (!result.ok) {
        l.waiters.splice(l.waiters.indexOf(w), 1)
        w.unsubscribe()
        w.reject(refusal(w.ctx, result, { queueFull: false, waitLeft, byDeadline }))
        continue
      }
      w.ticket = result.ticket
      if (result.waitMs <= 0) go(w)
      else schedule(w, result.waitMs, now)
    }
  }

  /** Takes the call's turn: undefined when it may go now, a promise for the end of its wait otherwise. */
  const admit = (ctx: CallContext, key: string, weight: number): Promise<void> | undefined => {
    const now = ctx.clock.now()
    const l = lane(key)
    const queueFull = l.waiters.length + l.reserving >= maxQueue
    // A wait must end at least 1 ms before the deadline, or the call would start with no time.
    const byDeadline = ctx.deadlineAt - now - 1
    const bounds = { queueFull, waitLeft: maxWait, byDeadline }
    const settle = (result: RateLimitReservation): Promise<void> | undefined => {
      if (!result.ok) throw refusal(ctx, result, bounds)
      if (ctx.signal.aborted) {
        cancel(key, result.ticket, ctx.clock.now())
        throw ctx.signal.reason
      }
      if (result.waitMs <= 0) return undefined
      return new Promise<void>((resolve, reject) => {
        const w: Waiter = { ctx, key, weight, start: now, ticket: result.ticket, timer: undefined, unsubscribe: () => {}, resolve, reject }
        const current = lane(key)
        current.waiters.push(w)
        w.unsubscribe = onAbort(ctx.signal, () => leave(w))
        schedule(w, result.waitMs, now)
      })
    }
    l.reserving++
    let reserved: RateLimitReservation | PromiseLike<RateLimitReservation>
    try {
      reserved = store.reserve(key, request(key, weight, now, Math.max(0, Math.min(queueFull ? 0 : Infinity, maxWait, byDeadline))))
    } catch (error) {
      l.reserving--
      tidy(key, l)
      throw error
    }
    const done = (): void => {
      l.reserving--
      tidy(key, l)
    }
    if (!isThenable(reserved)) {
      done()
      return settle(reserved)
    }
    return Promise.resolve(reserved).then(
      (result) => (done(), settle(result)),
      (error: unknown) => {
        done()
        throw error
      },
    )
  }

  /** Applies what the upstream said about a call let through under `generation`. */
  const learn = (ctx: CallContext, key: string, generation: number, source: unknown, kind: SourceKind): void => {
    if (adaptive === undefined) return
    const signal = readSignal(source, kind)
    if (signal === undefined) return
    const now = ctx.clock.now()
    let s = slowdownAt(key, now, true)
    let changed = false
    if (signal.throttled && generation === (s?.generation ?? 0)) {
      const factor = Math.max(adaptive.floor, factorOf(s, now) * adaptive.decrease)
      s ??= track(key, now)
      changed = factor !== factorOf(s, now)
      s.factor = factor
      s.at = now
      s.generation = ++generations
    }
    if (signal.pauseMs > 0) {
      const until = now + Math.min(signal.pauseMs, MAX_PAUSE)
      s ??= track(key, now)
      if (until > s.pausedUntil) {
        s.pausedUntil = until
        changed = true
      }
    }
    // Callers already waiting follow the new rate (or the pause) at once.
    if (changed) reschedule(key)
    if (changed && s !== undefined && ctx.trace.enabled) {
      ctx.trace.emit({
        type: 'rate.adjusted',
        task: ctx.task,
        at: now,
        limiter: name,
        factor: factorOf(s, now),
        pauseMs: Math.max(0, s.pausedUntil - now),
        cause: signal.cause,
      })
    }
  }

  const track = (key: string, now: number): Slowdown => {
    if (slowdowns.size >= maxKeys) {
      // Forgetting a slow-down only lets that key go back to the configured rate.
      const oldest = slowdowns.keys().next().value as string
      slowdowns.delete(oldest)
    }
    const s: Slowdown = { factor: 1, at: now, generation: 0, pausedUntil: -Infinity, last: now }
    slowdowns.set(key, s)
    return s
  }

  return {
    name: `rateLimit(${name})`,
    algorithm,
    store,
    observe(source, ctx) {
      if (adaptive === undefined) return
      const key = keyFor(ctx)
      const generation = admittedUnder.get(ctx) ?? slowdowns.get(key)?.generation ?? 0
      learn(ctx, key, generation, source, 'observed')
    },
    stats(key, at) {
      const k = key ?? name
      const s = slowdowns.get(k)
      const l = lanes.get(k)
      const waiting = l === undefined ? 0 : l.waiters.length + l.reserving
      if (s === undefined) return { waiting, rateFactor: 1 }
      const now = at ?? s.last
      // Read on `now`'s timeline without moving the state.
      const step = Math.min(0, now - s.last)
      const pausedUntil = s.pausedUntil + step
      const rateFactor = factorOf({ ...s, at: s.at + step }, now)
      return { waiting, rateFactor, ...(pausedUntil > now ? { pausedUntil } : {}) }
    },
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return async (ctx) => {
        if (ctx.signal.aborted) throw ctx.signal.reason
        const key = keyFor(ctx)
        const weight = weightFor(ctx)
        if (weight > capacity) {
          throw rejection(
            ctx,
            'weight',
            Infinity,
            `weighs ${weight}, more than the ${algorithm === 'gcra' ? `burst (${capacity})` : `limit per window (${capacity})`}: it could never be let through.`,
          )
        }
        if (weight > 0) {
          const waiting = admit(ctx, key, weight)
          if (waiting !== undefined) await waiting
        }
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
          if (!ctx.signal.aborted && !isOwnDecision(upstream)) learn(ctx, key, generation, upstream, 'error')
          throw error
        }
        learn(ctx, key, generation, value, 'value')
        return value
      }
    },
  }
}

/** A rejected call's error, a resolved call's value, or whatever was passed to `observe()`. */
type SourceKind = 'error' | 'value' | 'observed'

interface UpstreamSignal {
  /** The upstream said 429. */
  readonly throttled: boolean
  /** How long it asked for no calls at all, in ms (0: it named no time). */
  readonly pauseMs: number
  readonly cause: string
}

/**
 * What an error, a response, or a bare headers object says about the rate: a 429, a
 * `Retry-After` (on an error, or on a 429/503 response), or rate-limit headers saying nothing
 * remains until a reset. A resolved value says something only if it has `status` or `headers`
 * (a `Response`); a plain result is never searched. Never throws: an odd shape says nothing.
 */
function readSignal(source: unknown, kind: SourceKind): UpstreamSignal | undefined {
  try {
    if (typeof source !== 'object' || source === null) return undefined
    const isResponse = kind === 'error' || hasField(source, 'headers') || hasField(source, 'status')
    if (!isResponse && kind === 'value') return undefined
    const isError = kind === 'error'
    const status = isResponse ? statusOf(source) : undefined
    const response = field(source, 'response')
    const headers = !isResponse ? source : field(source, 'headers') ?? (typeof response === 'object' && response !== null ? field(response, 'headers') : undefined)
    const throttled = status === 429
    let pauseMs = 0
    let cause = throttled ? '429' : ''
    const retryAfter = isError ? retryAfterOf(source) : status === 429 || status === 503 ? parseRetryAfter(headerValue(headers, 'retry-after')) : undefined
    if (retryAfter !== undefined && retryAfter > 0) {
      pauseMs = retryAfter
      cause ||= 'retry-after'
    } else {
      const reset = exhaustedUntil(headers)
      if (reset !== undefined && reset > 0) {
        pauseMs = reset
        cause ||= 'ratelimit-remaining'
      }
    }
    return throttled || pauseMs > 0 ? { throttled, pauseMs, cause } : undefined
  } catch {
    return undefined
  }
}

/**
 * Ms until the quota resets, when the headers say none remains: `RateLimit-Remaining` and
 * `-Reset`, their `X-` forms, or the drafts' combined `RateLimit` header.
 */
function exhaustedUntil(headers: unknown): number | undefined {
  const combined = parseRateLimitHeader(headerValue(headers, 'ratelimit'))
  if (combined?.remaining !== undefined) {
    return combined.remaining <= 0 && combined.resetSeconds !== undefined ? combined.resetSeconds * 1000 : undefined
  }
  for (const prefix of ['ratelimit-', 'x-ratelimit-']) {
    const remaining = headerValue(headers, `${prefix}remaining`)
    if (remaining === undefined) continue
    const left = Number(remaining.trim())
    if (remaining.trim() === '' || !(left <= 0)) return undefined
    const reset = headerValue(headers, `${prefix}reset`)?.trim()
    if (reset === undefined || reset === '' || !/^\d+(\.\d+)?$/.test(reset)) return undefined
    const n = Number(reset)
    // Delta-seconds per the IETF draft; some APIs (GitHub) send an epoch time in seconds instead.
    return n > 1_000_000_000 ? Math.max(0, n * 1000 - Date.now()) : n * 1000
  }
  return undefined
}

/** A header from a `Headers`-like object (`get`) or a plain record (any case; first of an array). */
function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined
  const get = field(headers, 'get')
  if (typeof get === 'function') {
    const v: unknown = (get as (name: string) => unknown).call(headers, name)
    return typeof v === 'string' ? v : undefined
  }
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue
    const v = (headers as Record<string, unknown>)[key]
    if (typeof v === 'string') return v
    if (typeof v === 'number') return String(v)
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0]
  }
  return undefined
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

function checkAlgorithm(value: unknown): RateLimitAlgorithm {
  if (value === undefined) return 'gcra'
  if ((RATE_LIMIT_ALGORITHMS as readonly unknown[]).includes(value)) return value as RateLimitAlgorithm
  const guess = typeof value === 'string' ? closest(value, RATE_LIMIT_ALGORITHMS) : undefined
  throw new InvalidOptionError(
    `${WHERE}: \`algorithm\` must be ${RATE_LIMIT_ALGORITHMS.map((a) => `"${a}"`).join(' or ')}, got ${show(value)}.` + (guess !== undefined ? ` Did you mean "${guess}"?` : ''),
  )
}

function checkPositive(name: string, value: unknown, max: number, unit: string, zeroHint: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || !(value > 0) || value > max) {
    const hint = value === 0 ? ` ${zeroHint}` : typeof value === 'string' ? ' Pass a number, not a string.' : ''
    throw new InvalidOptionError(`${WHERE}: \`${name}\` must be a number greater than 0 and at most ${max}${unit}, got ${show(value)}.${hint}`)
  }
  return value
}

function checkWholePositive(name: string, value: unknown): number {
  if (value === 0) {
    throw new InvalidOptionError(`${WHERE}: \`${name}\` must be an integer from 1 to 1000000, got 0. A limit of 0 would never let a call through.`)
  }
  return checkNumber(WHERE, name, value, { min: 1, max: 1_000_000, integer: true })
}


function checkAdaptive(value: unknown): Adaptive | undefined {
  if (value === undefined || value === true) return { decrease: 0.7, floor: 0.1, recovery: 30_000 }
  if (value === false) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`${WHERE}: \`adaptive\` must be true, false or an object { decrease, floor, recovery }, got ${show(value)}.`)
  }
  const where = `${WHERE}: \`adaptive\``
  const opts = snapshot(where, value as RateLimitAdaptiveOptions)
  checkKnownKeys(where, opts, ADAPTIVE_KNOWN)
  return {
    decrease: opts.decrease === undefined ? 0.7 : checkNumber(where, 'decrease', opts.decrease, { min: 0.01, max: 0.99 }),
    floor: opts.floor === undefined ? 0.1 : checkNumber(where, 'floor', opts.floor, { min: 0.01, max: 1 }),
    recovery: opts.recovery === undefined ? 30_000 : checkDuration(where, 'recovery', opts.recovery, { max: 86_400_000 }),
  }
}

function checkStore(value: unknown): RateLimitStore {
  const s = value as Partial<RateLimitStore> | null
  if (typeof s !== 'object' || s === null || typeof s.reserve !== 'function' || typeof s.cancel !== 'function') {
    throw new InvalidOptionError(`${WHERE}: \`store\` must have reserve() and cancel() (a RateLimitStore such as memoryRateLimitStore()), got ${show(value)}.`)
  }
  return s as RateLimitStore
}

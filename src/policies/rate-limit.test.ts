import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { pipe, type CallContext } from '../core/call.js'
import { sleep, type Clock } from '../core/clock.js'
import {
  InvalidOptionError,
  QueueFullError,
  RateLimitExceededError,
  RateLimitedError,
  isFanoutError,
} from '../core/errors.js'
import { execute } from '../core/execute.js'
import { noopRecorder, type Recorder, type TraceEvent } from '../core/trace.js'
import { memoryRateLimitStore, type RateLimitStore } from './rate-limit-store.js'
import { rateLimit, type RateLimiterStats, type RateLimitOptions } from './rate-limit.js'
import { retry } from './retry.js'
import { timeout } from './timeout.js'
import { after, now, settle, useFakeTime } from '../../test/helpers/time.js'

/** The per-key part of a snapshot (the rest counts the whole limiter). */
function keyState(stats: RateLimiterStats): Partial<RateLimiterStats> {
  const { waiting, rateFactor, pausedUntil } = stats
  return { waiting, rateFactor, ...(pausedUntil !== undefined ? { pausedUntil } : {}) }
}

/**
 * A clock driven by hand, with timers. `jump` moves what `now()` reads without moving the timers
 * (a wall clock stepping under a monotonic timer source), to model broken clocks (K1/K2).
 */
function manualClock(start = 0) {
  let real = start
  let offset = 0
  let seq = 0
  const timers = new Map<number, { at: number; fn: () => void }>()
  const clock: Clock = {
    now: () => real + offset,
    setTimeout(fn, ms) {
      const id = ++seq
      timers.set(id, { at: real + Math.max(0, ms), fn })
      return { id }
    },
    clearTimeout(handle) {
      timers.delete((handle as { id: number }).id)
    },
  }
  /** Lets every pending promise callback run. */
  const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
  return {
    clock,
    flush,
    /** Moves time forward by `ms`, firing due timers in order and letting their callbacks run. */
    async advance(ms: number): Promise<void> {
      if (!(ms >= 0)) throw new Error(`advance(${ms}): time only moves forward here (use jump)`)
      const end = real + ms
      for (;;) {
        await flush()
        let due: [number, { at: number; fn: () => void }] | undefined
        for (const entry of timers)
          if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry
        if (due === undefined) break
        real = due[1].at
        timers.delete(due[0])
        due[1].fn()
      }
      real = end
      await flush()
    },
    jump(ms: number): void {
      offset += ms
    },
    get now(): number {
      return real + offset
    },
    get timers(): number {
      return timers.size
    },
  }
}

function recorder(): Recorder & { events: TraceEvent[] } {
  const events: TraceEvent[] = []
  return { enabled: true, events, emit: (e) => void events.push(e) }
}

type Upstream = (ctx: CallContext) => Promise<unknown>
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }
interface Ctx extends CallContext {
  readonly id: number
  readonly weight: number
  readonly key: string
  readonly upstream: Upstream
}

/** Options that read the weight and key each launched call carries. */
const byWeight = (ctx: CallContext): number => (ctx as Ctx).weight
const byKey = (ctx: CallContext): string => (ctx as Ctx).key

const httpError = (status: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error(`HTTP ${status}`), { status, headers })

/** A limiter on a manual clock; `launch` starts a call and records when it reached the upstream. */
function rig(options: RateLimitOptions, start = 0) {
  const time = manualClock(start)
  const trace = recorder()
  const limiter = rateLimit(options)
  const admissions: { id: number; at: number; weight: number; key: string }[] = []
  let seq = 0
  const call = limiter.wrap<unknown, CallContext>((ctx) => {
    const c = ctx as Ctx
    admissions.push({ id: c.id, at: ctx.clock.now(), weight: c.weight, key: c.key })
    return c.upstream(ctx)
  })
  const launch = (
    o: {
      upstream?: Upstream
      weight?: number
      key?: string
      deadlineAt?: number
      signal?: AbortSignal
    } = {},
  ) => {
    const controller = new AbortController()
    const id = ++seq
    const handle = {
      id,
      controller,
      outcome: undefined as Outcome | undefined,
      get admittedAt(): number | undefined {
        return admissions.find((a) => a.id === id)?.at
      },
      get error(): unknown {
        return handle.outcome?.ok === false ? handle.outcome.error : undefined
      },
    }
    const ctx: Ctx = {
      signal: o.signal ?? controller.signal,
      deadlineAt: o.deadlineAt ?? Infinity,
      attempt: 1,
      task: `c${id}`,
      clock: time.clock,
      trace,
      id,
      weight: o.weight ?? 1,
      key: o.key ?? 'k',
      upstream: o.upstream ?? (() => Promise.resolve('ok')),
    }
    call(ctx).then(
      (value) => void (handle.outcome = { ok: true, value }),
      (error: unknown) => void (handle.outcome = { ok: false, error }),
    )
    return handle
  }
  const waits = () =>
    trace.events
      .filter((e) => e.type === 'rate.waited')
      .map((e) => (e as { waitMs: number }).waitMs)
  return { time, trace, limiter, launch, admissions, waits }
}

/** The most weight admitted within any closed span [a, a + t], against burst + t / interval. */
function checkTokenBucket(
  admitted: { at: number; weight: number }[],
  burst: number,
  interval: number,
): void {
  const sorted = [...admitted].sort((x, y) => x.at - y.at)
  for (let i = 0; i < sorted.length; i++) {
    let weight = 0
    for (let j = i; j < sorted.length; j++) {
      weight += sorted[j]!.weight
      const span = sorted[j]!.at - sorted[i]!.at
      expect(weight, `${weight} admitted within ${span} ms`).toBeLessThanOrEqual(
        burst + span / interval + 1e-6,
      )
    }
  }
}

/** The most weight admitted within any half-open window [a, a + window), against limit. */
function checkWindow(
  admitted: { at: number; weight: number }[],
  limit: number,
  window: number,
): void {
  for (const first of admitted) {
    const inside = admitted
      .filter((a) => a.at >= first.at && a.at < first.at + window - 1e-9)
      .reduce((sum, a) => sum + a.weight, 0)
    expect(inside, `admitted in [${first.at}, ${first.at + window})`).toBeLessThanOrEqual(
      limit + 1e-9,
    )
  }
}

/** Reference model: a FIFO token bucket, full at the start, refilled continuously. */
function tokenBucketModel(
  arrivals: { at: number; weight: number }[],
  burst: number,
  interval: number,
): number[] {
  let tokens = burst
  let clock = -Infinity
  let previous = -Infinity
  return arrivals.map(({ at, weight }) => {
    let t = Math.max(at, previous)
    tokens = clock === -Infinity ? burst : Math.min(burst, tokens + (t - clock) / interval)
    if (tokens < weight) {
      t += (weight - tokens) * interval
      tokens = weight
    }
    tokens -= weight
    clock = t
    previous = t
    return t
  })
}

/** Reference model: a FIFO sliding log. */
function slidingLogModel(
  arrivals: { at: number; weight: number }[],
  limit: number,
  window: number,
): number[] {
  const log: { at: number; weight: number }[] = []
  let previous = -Infinity
  return arrivals.map(({ at, weight }) => {
    let t = Math.max(at, previous)
    for (;;) {
      const live = log.filter((e) => e.at > t - window)
      if (live.reduce((sum, e) => sum + e.weight, 0) + weight <= limit) break
      t = Math.min(...live.map((e) => e.at)) + window
    }
    log.push({ at: t, weight })
    previous = t
    return t
  })
}

const arrivalsArb = (maxWeight: number) =>
  fc.array(
    fc.record({
      gap: fc.integer({ min: 0, max: 400 }),
      weight: fc.integer({ min: 1, max: maxWeight }),
    }),
    { minLength: 1, maxLength: 40 },
  )

describe('rateLimit(): gcra (token bucket)', () => {
  it('lets `burst` through at once, then one per `per / rate` ms, each waiting exactly its turn', async () => {
    const r = rig({ rate: 2, per: 1_000, burst: 2 })
    const calls = Array.from({ length: 5 }, () => r.launch())
    await r.time.flush()
    expect(calls.map((c) => c.admittedAt)).toEqual([0, 0, undefined, undefined, undefined])
    expect(r.waits()).toEqual([500, 1_000, 1_500])
    expect(keyState(r.limiter.stats())).toEqual({ waiting: 3, rateFactor: 1 })
    await r.time.advance(499)
    expect(calls[2]!.admittedAt).toBeUndefined()
    await r.time.advance(1)
    expect(calls[2]!.admittedAt).toBe(500)
    await r.time.advance(1_000)
    expect(calls.map((c) => c.admittedAt)).toEqual([0, 0, 500, 1_000, 1_500])
    expect(calls.every((c) => c.outcome?.ok === true)).toBe(true)
    expect(keyState(r.limiter.stats())).toEqual({ waiting: 0, rateFactor: 1 })
    expect(r.time.timers).toBe(0)
  })

  it('refills at `rate` up to `burst` after a quiet spell, and the default burst is max(1, rate)', async () => {
    const r = rig({ rate: 4, per: 1_000 })
    for (let i = 0; i < 4; i++) r.launch()
    await r.time.advance(500) // two tokens back
    const later = Array.from({ length: 3 }, () => r.launch())
    await r.time.flush()
    expect(later.map((c) => c.admittedAt)).toEqual([500, 500, undefined])
    await r.time.advance(250)
    expect(later[2]!.admittedAt).toBe(750)
    const slow = rig({ rate: 0.5, per: 1_000 }) // one call per 2 s, burst 1
    const a = slow.launch()
    const b = slow.launch()
    await slow.time.advance(2_000)
    expect([a.admittedAt, b.admittedAt]).toEqual([0, 2_000])
  })

  it('matches a reference token-bucket model, and never admits more than burst + rate·t in any span t (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(100, 250, 1_000),
        fc.integer({ min: 1, max: 4 }),
        arrivalsArb(4),
        async (rate, per, burst, script) => {
          const r = rig({
            rate,
            per,
            burst,
            weight: byWeight,
            maxWait: 2_147_483_647,
            maxQueue: 1_000_000,
            adaptive: false,
          })
          const arrivals: { at: number; weight: number }[] = []
          for (const { gap, weight } of script) {
            await r.time.advance(gap)
            const w = Math.min(weight, burst)
            arrivals.push({ at: r.time.now, weight: w })
            r.launch({ weight: w })
          }
          await r.time.advance(1_000_000)
          const expected = tokenBucketModel(arrivals, burst, per / rate)
          const got = [...r.admissions].sort((x, y) => x.id - y.id).map((a) => a.at)
          expect(got).toHaveLength(expected.length)
          got.forEach((at, i) => expect(at).toBeCloseTo(expected[i]!, 6))
          checkTokenBucket(r.admissions, burst, per / rate)
          expect(r.time.timers).toBe(0)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('A3/D8: callers leaving while they wait and an upstream pushing back never let calls through faster than the configured limit (property)', async () => {
    const step = fc.record({
      gap: fc.integer({ min: 0, max: 300 }),
      weight: fc.integer({ min: 1, max: 3 }),
      leaveAfter: fc.option(fc.integer({ min: 0, max: 1_500 }), { nil: undefined }),
      answer: fc.constantFrom('ok', 'ok', 'ok', '429', 'retry-after'),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('gcra', 'sliding-window'),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        async (algorithm, rate, burst, adaptive, script) => {
          const common = {
            weight: byWeight,
            maxWait: 2_147_483_647,
            maxQueue: 1_000_000,
            adaptive: adaptive && { recovery: 2_000 },
          }
          const r = rig(
            algorithm === 'gcra'
              ? { rate, per: 1_000, burst, ...common }
              : { algorithm, limit: burst, window: 1_000 / rate, ...common },
          )
          const leaving: { at: number; controller: AbortController }[] = []
          const leaveUntil = async (t: number): Promise<void> => {
            leaving.sort((x, y) => x.at - y.at)
            while (leaving.length > 0 && leaving[0]!.at <= t) {
              const next = leaving.shift()!
              await r.time.advance(next.at - r.time.now)
              next.controller.abort(new Error('left'))
            }
            await r.time.advance(t - r.time.now)
          }
          const calls = []
          for (const { gap, weight, leaveAfter, answer } of script) {
            await leaveUntil(r.time.now + gap)
            const upstream: Upstream =
              answer === 'ok'
                ? () => Promise.resolve('ok')
                : () =>
                    Promise.reject(
                      httpError(429, answer === 'retry-after' ? { 'retry-after': '1' } : {}),
                    )
            const call = r.launch({ weight: Math.min(weight, burst), upstream })
            calls.push(call)
            if (leaveAfter !== undefined)
              leaving.push({ at: r.time.now + leaveAfter, controller: call.controller })
          }
          await leaveUntil(r.time.now + 1_000_000)
          if (algorithm === 'gcra') checkTokenBucket(r.admissions, burst, 1_000 / rate)
          else checkWindow(r.admissions, burst, 1_000 / rate)
          expect(calls.every((c) => c.outcome !== undefined)).toBe(true) // nobody is left waiting forever
          expect(r.time.timers).toBe(0)
          expect(r.limiter.stats().waiting).toBe(0)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('rateLimit(): sliding window', () => {
  it('D9: the boundary is exact — a call counts in [t, t + window) and its slot returns at t + window, not before', async () => {
    const r = rig({ algorithm: 'sliding-window', limit: 3, window: 1_000 })
    await r.time.advance(900)
    const first = Array.from({ length: 3 }, () => r.launch())
    await r.time.advance(100) // t = 1000: a fixed window would start afresh here and let 3 more through
    const second = Array.from({ length: 3 }, () => r.launch())
    await r.time.flush()
    expect(first.map((c) => c.admittedAt)).toEqual([900, 900, 900])
    expect(second.map((c) => c.admittedAt)).toEqual([undefined, undefined, undefined])
    expect(r.waits()).toEqual([900, 900, 900])
    await r.time.advance(899) // t = 1899: [900, 1900) still holds 3
    expect(second[0]!.admittedAt).toBeUndefined()
    await r.time.advance(1)
    expect(second.map((c) => c.admittedAt)).toEqual([1_900, 1_900, 1_900])
    checkWindow(r.admissions, 3, 1_000)
  })

  it('D9: frees each slot exactly one window after it was used (a log, not buckets)', async () => {
    const r = rig({ algorithm: 'sliding-window', limit: 2, window: 1_000 })
    r.launch()
    await r.time.advance(300)
    r.launch()
    await r.time.advance(100)
    const third = r.launch()
    const fourth = r.launch()
    await r.time.advance(2_000)
    expect(r.admissions.map((a) => a.at)).toEqual([0, 300, 1_000, 1_300])
    expect([third.admittedAt, fourth.admittedAt]).toEqual([1_000, 1_300])
  })

  it('matches a reference sliding-log model, and never admits more than limit in any window (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(100, 500, 1_000),
        arrivalsArb(3),
        async (limit, window, script) => {
          const r = rig({
            algorithm: 'sliding-window',
            limit,
            window,
            weight: byWeight,
            maxWait: 2_147_483_647,
            maxQueue: 1_000_000,
            adaptive: false,
          })
          const arrivals: { at: number; weight: number }[] = []
          for (const { gap, weight } of script) {
            await r.time.advance(gap)
            const w = Math.min(weight, limit)
            arrivals.push({ at: r.time.now, weight: w })
            r.launch({ weight: w })
          }
          await r.time.advance(1_000_000)
          const expected = slidingLogModel(arrivals, limit, window)
          expect([...r.admissions].sort((x, y) => x.id - y.id).map((a) => a.at)).toEqual(expected)
          checkWindow(r.admissions, limit, window)
          expect(r.time.timers).toBe(0)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('A3: a caller leaving from the middle of the queue lets those behind it move up', async () => {
    const r = rig({ algorithm: 'sliding-window', limit: 2, window: 1_000 })
    r.launch()
    r.launch()
    const b = r.launch() // 1000
    const c = r.launch() // 1000
    const d = r.launch() // 2000
    await r.time.advance(100)
    expect(r.waits()).toEqual([1_000, 1_000, 2_000])
    b.controller.abort(new Error('left'))
    await r.time.flush()
    expect(r.waits().slice(3)).toEqual([900, 900]) // c keeps 1000, d moves up to 1000
    const e = r.launch()
    await r.time.advance(3_000)
    expect([c.admittedAt, d.admittedAt, e.admittedAt]).toEqual([1_000, 1_000, 2_000])
    checkWindow(r.admissions, 2, 1_000)
    expect(r.time.timers).toBe(0)
    expect(b.error).toMatchObject({ message: 'left' })
  })
})

describe('rateLimit(): bounded waiting', () => {
  it('D6: a call weighing more than the burst fails at once — it could never go — and reserves nothing', async () => {
    const r = rig({ rate: 10, per: 1_000, burst: 5, weight: byWeight })
    const heavy = r.launch({ weight: 6 })
    await r.time.flush()
    expect(heavy.error).toBeInstanceOf(RateLimitExceededError)
    expect(heavy.error).toBeInstanceOf(RateLimitedError)
    expect(heavy.error).toMatchObject({
      code: 'FANOUT_RATE_LIMITED',
      reason: 'weight',
      retryAfterMs: Infinity,
      limiter: '10/1000ms',
    })
    expect((heavy.error as Error).message).toBe(
      'Rate limit "10/1000ms": "c1" weighs 6, more than the burst (5): it could never be let through.',
    )
    const fits = Array.from({ length: 5 }, () => r.launch())
    await r.time.flush()
    expect(fits.map((c) => c.admittedAt)).toEqual([0, 0, 0, 0, 0])
    const window = rig({ algorithm: 'sliding-window', limit: 3, weight: byWeight })
    const tooHeavy = window.launch({ weight: 4 })
    await window.time.flush()
    expect(tooHeavy.error).toMatchObject({
      reason: 'weight',
      message: expect.stringContaining('more than the limit per window (3)'),
    })
    expect(r.time.timers + window.time.timers).toBe(0)
  })

  it('a weight of 0 passes without using the limit; a bad weight or key is a clear error', async () => {
    const r = rig({ rate: 1, per: 1_000, weight: byWeight, key: byKey })
    const free = Array.from({ length: 3 }, () => r.launch({ weight: 0 }))
    const paid = r.launch()
    const bad = r.launch({ weight: Number.NaN })
    const negative = r.launch({ weight: -1 })
    const badKey = r.launch({ key: 42 as unknown as string })
    await r.time.flush()
    expect([...free, paid].map((c) => c.admittedAt)).toEqual([0, 0, 0, 0])
    expect(bad.error).toBeInstanceOf(InvalidOptionError)
    expect((bad.error as Error).message).toBe(
      'rateLimit(): `weight` must return a finite number ≥ 0, got NaN.',
    )
    expect((negative.error as Error).message).toBe(
      'rateLimit(): `weight` must return a finite number ≥ 0, got -1.',
    )
    expect((badKey.error as Error).message).toBe('rateLimit(): `key` must return a string, got 42.')
  })

  it('maxWait: a call that would wait longer fails at once with the wait it needed, and reserves nothing', async () => {
    const r = rig({ rate: 1, per: 1_000, burst: 1, maxWait: 1_500 })
    const a = r.launch()
    const b = r.launch() // waits 1000
    const c = r.launch() // would wait 2000
    await r.time.flush()
    expect(c.error).toBeInstanceOf(RateLimitExceededError)
    expect(c.error).toMatchObject({ reason: 'maxWait', retryAfterMs: 2_000 })
    expect((c.error as Error).message).toBe(
      'Rate limit "1/1000ms": "c3" would have to wait 2000 ms, more than maxWait (1500 ms).',
    )
    await r.time.advance(600)
    const d = r.launch() // c took nothing: d waits 2000 - 600
    await r.time.flush()
    expect(d.outcome).toBeUndefined()
    await r.time.advance(1_400)
    expect([a.admittedAt, b.admittedAt, d.admittedAt]).toEqual([0, 1_000, 2_000])
    const never = rig({ rate: 1, per: 1_000, maxWait: 0 })
    never.launch()
    const second = never.launch()
    await never.time.flush()
    expect(second.error).toMatchObject({ reason: 'maxWait', retryAfterMs: 1_000 })
  })

  it('a wait must end before ctx.deadlineAt: otherwise the call fails at once with the wait and the time left', async () => {
    const r = rig({ rate: 1, per: 1_000, burst: 1 })
    r.launch()
    const fits = r.launch({ deadlineAt: 1_500 })
    const late = r.launch({ deadlineAt: 1_500 })
    await r.time.flush()
    expect(fits.outcome).toBeUndefined()
    expect(late.error).toMatchObject({ reason: 'deadline', retryAfterMs: 2_000 })
    expect((late.error as Error).message).toBe(
      'Rate limit "1/1000ms": "c3" would have to wait 2000 ms, but only 1500 ms are left before the deadline.',
    )
    await r.time.advance(1_000)
    expect(fits.admittedAt).toBe(1_000)
  })

  it('through execute(): the deadline bounds the wait, and an over-limit call fails before its deadline would', async () => {
    const time = manualClock(10_000)
    const limiter = rateLimit({ rate: 1, per: 1_000 })
    const starts: number[] = []
    const call = limiter.wrap((ctx) => (starts.push(ctx.clock.now()), Promise.resolve('ok')))
    const results = [
      execute(call, { clock: time.clock }),
      execute(call, { clock: time.clock, deadline: 1_200 }),
      execute(call, { clock: time.clock, deadline: 1_200 }),
    ].map((p) =>
      p.then(
        (value) => ({ ok: true, value }),
        (error: unknown) => ({ ok: false, error }),
      ),
    )
    await time.flush()
    await expect(results[2]).resolves.toMatchObject({
      ok: false,
      error: { reason: 'deadline', retryAfterMs: 2_000 },
    })
    await time.advance(1_000)
    await expect(Promise.all(results.slice(0, 2))).resolves.toEqual([
      { ok: true, value: 'ok' },
      { ok: true, value: 'ok' },
    ])
    expect(starts).toEqual([10_000, 11_000])
    expect(time.timers).toBe(0)
  })

  it('maxQueue: with the queue full a caller that would wait fails at once with QueueFullError; one that can go now still goes', async () => {
    const r = rig({ rate: 1, per: 1_000, burst: 1, maxQueue: 2 })
    r.launch()
    const queued = [r.launch(), r.launch()]
    const third = r.launch()
    await r.time.flush()
    expect(r.limiter.stats()).toMatchObject({ waiting: 2 })
    expect(third.error).toBeInstanceOf(QueueFullError)
    expect(third.error).toMatchObject({ code: 'FANOUT_QUEUE_FULL', maxQueue: 2 })
    expect((third.error as Error).message).toBe(
      'Rate limit "1/1000ms": "c4" would have to wait 3000 ms, but maxQueue (2) callers are already waiting; the call was rejected, not buffered.',
    )
    await r.time.advance(1_000) // one leaves the queue
    const fourth = r.launch()
    await r.time.flush()
    expect(fourth.outcome).toBeUndefined()
    await r.time.advance(2_000)
    expect([...queued, fourth].map((c) => c.admittedAt)).toEqual([1_000, 2_000, 3_000])
    expect(r.limiter.stats()).toMatchObject({ waiting: 0 })
    const idle = rig({ rate: 1, per: 1_000, maxQueue: 0 })
    const first = idle.launch()
    const refused = idle.launch()
    await idle.time.flush()
    expect(first.admittedAt).toBe(0)
    expect(refused.error).toMatchObject({ code: 'FANOUT_QUEUE_FULL', maxQueue: 0 })
  })

  it('A3: aborting while waiting rejects at once, leaves no timer or listener, and gives the turn back to later callers', async () => {
    const r = rig({ rate: 1, per: 1_000, burst: 1 })
    r.launch()
    // One long-lived signal shared by a caller that waits its turn: its listener goes when the turn comes.
    const shared = new AbortController()
    let listeners = 0
    const add = shared.signal.addEventListener.bind(shared.signal)
    const remove = shared.signal.removeEventListener.bind(shared.signal)
    shared.signal.addEventListener = ((...args: Parameters<typeof add>) => (
      listeners++,
      add(...args)
    )) as typeof add
    shared.signal.removeEventListener = ((...args: Parameters<typeof remove>) => (
      listeners--,
      remove(...args)
    )) as typeof remove
    const b = r.launch({ signal: shared.signal }) // 1000
    const leaver = r.launch() // 2000
    await r.time.advance(100)
    expect(r.time.timers).toBe(2)
    expect(listeners).toBe(1)
    expect(r.limiter.stats()).toMatchObject({ waiting: 2 })
    const reason = new Error('client went away')
    leaver.controller.abort(reason)
    await r.time.flush()
    expect(leaver.error).toBe(reason) // at once, not at its turn
    expect(r.time.timers).toBe(1)
    expect(r.limiter.stats()).toMatchObject({ waiting: 1 })
    const later = r.launch() // takes the leaver's turn: 2000, not 3000
    await r.time.advance(5_000)
    expect([b.admittedAt, leaver.admittedAt, later.admittedAt]).toEqual([1_000, undefined, 2_000])
    expect(listeners).toBe(0)
    expect(r.time.timers).toBe(0)
  })

  it('A3: a caller leaving from the middle of a gcra queue lets those behind it move up, within the limit', async () => {
    const r = rig({ rate: 1, per: 1_000, burst: 1 })
    r.launch()
    const b = r.launch() // 1000
    const c = r.launch() // 2000
    const d = r.launch() // 3000
    await r.time.advance(300)
    b.controller.abort(new Error('left'))
    await r.time.flush()
    const e = r.launch()
    await r.time.advance(5_000)
    expect([c.admittedAt, d.admittedAt, e.admittedAt]).toEqual([1_000, 2_000, 3_000])
    checkTokenBucket(r.admissions, 1, 1_000)
    expect(r.time.timers).toBe(0)
  })

  it('A3: with an asynchronous store a leaver’s reservation is cancelled and the others keep their turns', async () => {
    const inner = memoryRateLimitStore()
    const asyncStore: RateLimitStore = {
      reserve: (key, request) => Promise.resolve(inner.reserve(key, request)),
      cancel: (key, ticket, at) => Promise.resolve(inner.cancel(key, ticket, at)),
    }
    const r = rig({ rate: 1, per: 1_000, burst: 1, store: asyncStore })
    r.launch()
    const b = r.launch() // 1000
    const c = r.launch() // 2000
    await r.time.advance(300)
    b.controller.abort(new Error('left'))
    await r.time.advance(5_000)
    expect([b.admittedAt, c.admittedAt]).toEqual([undefined, 2_000])
    checkTokenBucket(r.admissions, 1, 1_000)
  })

  it('A3: under fake time through execute(), an abort while waiting leaves no timer', async () => {
    useFakeTime()
    const limiter = rateLimit({ rate: 1, per: 1_000 })
    const call = limiter.wrap(() => Promise.resolve('ok'))
    await expect(execute(call)).resolves.toBe('ok')
    const controller = new AbortController()
    const waiting = execute(call, { signal: controller.signal }).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(10)
    expect(vi.getTimerCount()).toBe(1)
    controller.abort(new Error('bye'))
    expect(await waiting).toMatchObject({ message: 'bye' })
    expect(vi.getTimerCount()).toBe(0)
    const t = now()
    await expect(settle(execute(call))).resolves.toEqual({ ok: true, value: 'ok' })
    expect(now() - t).toBe(990) // the turn the leaver gave back: 1000 ms after the first call
  })
})

describe('rateLimit(): keys', () => {
  it('keys are isolated: key A saturated does not delay key B', async () => {
    const r = rig({ rate: 1, per: 1_000, key: byKey })
    const a = Array.from({ length: 3 }, () => r.launch({ key: 'A' }))
    const b = Array.from({ length: 1 }, () => r.launch({ key: 'B' }))
    await r.time.flush()
    expect([...a, ...b].map((c) => c.admittedAt)).toEqual([0, undefined, undefined, 0])
    expect(r.limiter.stats('A')).toMatchObject({ waiting: 2 })
    expect(r.limiter.stats('B')).toMatchObject({ waiting: 0 })
    await r.time.advance(2_000)
    expect(a.map((c) => c.admittedAt)).toEqual([0, 1_000, 2_000])
  })

  it('maxKeys bounds the store: idle keys are forgotten, a busy least-recently-used key refuses a new one', async () => {
    const store = memoryRateLimitStore({ maxKeys: 2 })
    const r = rig({ rate: 1, per: 1_000, key: byKey, store, maxKeys: 2 })
    r.launch({ key: 'a' })
    await r.time.advance(100)
    r.launch({ key: 'b' })
    const c = r.launch({ key: 'c' })
    await r.time.flush()
    expect(store.size).toBe(2)
    expect(c.error).toMatchObject({ reason: 'maxKeys', retryAfterMs: 900 })
    expect((c.error as Error).message).toContain('the limiter already tracks maxKeys (2) keys')
    await r.time.advance(900) // a is back to a full bucket: forgetting it loses nothing
    const c2 = r.launch({ key: 'c' })
    await r.time.flush()
    expect(c2.admittedAt).toBe(1_000)
    expect(store.size).toBe(2)
    for (let i = 0; i < 100; i++) {
      await r.time.advance(1_000)
      r.launch({ key: `k${i}` })
    }
    await r.time.flush()
    expect(store.size).toBe(2)
    expect(r.admissions).toHaveLength(103)
  })

  it('the default store is bounded by maxKeys too', async () => {
    const r = rig({ algorithm: 'sliding-window', limit: 1, window: 10, key: byKey, maxKeys: 3 })
    for (let i = 0; i < 50; i++) {
      r.launch({ key: `k${i}` })
      await r.time.advance(10)
    }
    expect((r.limiter.store as unknown as { size: number }).size).toBe(3)
    expect(r.admissions).toHaveLength(50)
  })
})

describe('rateLimit(): clock jumps', () => {
  it.each([
    ['gcra', { rate: 2, per: 1_000, burst: 2 }],
    ['sliding-window', { algorithm: 'sliding-window', limit: 2, window: 1_000 }],
  ] as const)(
    'K1: %s — a clock stepping back counts as no time passing: no refill, no extra wait, no burst',
    async (_, options) => {
      const r = rig(options as RateLimitOptions, 1_000_000)
      r.launch()
      r.launch()
      await r.time.advance(100)
      r.time.jump(-3_600_000)
      const after = Array.from({ length: 3 }, () => r.launch())
      await r.time.flush()
      expect(after.map((c) => c.outcome)).toEqual([undefined, undefined, undefined]) // all wait, none failed
      // The limiter last read the clock at the two calls: from there to the reading after the step
      // counts as 0 ms, so the waits are exactly those right after the two calls.
      const expected = 'rate' in options ? [500, 1_000, 1_500] : [1_000, 1_000, 2_000]
      expect(r.waits()).toEqual(expected)
      await r.time.advance(5_000)
      expect(after.every((c) => c.outcome?.ok === true)).toBe(true)
    },
  )

  it.each([
    ['gcra', { rate: 2, per: 1_000, burst: 2 }],
    ['sliding-window', { algorithm: 'sliding-window', limit: 2, window: 1_000 }],
  ] as const)(
    'K2: %s — a clock leaping ahead refills to the burst and never beyond',
    async (_, options) => {
      const r = rig(options as RateLimitOptions, 1_000)
      r.launch()
      r.launch()
      await r.time.advance(10)
      r.time.jump(1e12)
      const burst = Array.from({ length: 3 }, () => r.launch())
      await r.time.flush()
      expect(burst.map((c) => c.admittedAt)).toEqual([1e12 + 1_010, 1e12 + 1_010, undefined])
      expect(r.waits()).toEqual(['rate' in options ? 500 : 1_000])
      await r.time.advance(1_000)
      expect(burst[2]!.outcome?.ok).toBe(true)
    },
  )

  it('K1: a clock stepping back while callers wait keeps their order and spacing', async () => {
    const r = rig({ rate: 1, per: 1_000, burst: 1 })
    const calls = [r.launch(), r.launch(), r.launch()]
    await r.time.advance(500)
    r.time.jump(-10_000)
    const last = r.launch()
    await r.time.flush()
    // Measured from the step: a turn after the two already waiting, as if no time had passed.
    expect(r.waits()).toEqual([1_000, 2_000, 3_000])
    await r.time.advance(3_000)
    expect([...calls, last].every((c) => c.outcome?.ok === true)).toBe(true)
  })
})

describe('rateLimit(): adaptive (D8)', () => {
  const throttled =
    (headers: Record<string, string> = {}): Upstream =>
    () =>
      Promise.reject(httpError(429, headers))

  it('D8: after a 429 the admitted rate falls by `decrease`, then climbs back linearly over `recovery`', async () => {
    const r = rig({ rate: 10, per: 1_000, burst: 1, adaptive: { recovery: 10_000 } })
    const failing = r.launch({ upstream: throttled() })
    await r.time.flush()
    expect(failing.error).toMatchObject({ status: 429 })
    expect(r.limiter.stats()).toMatchObject({ rateFactor: 0.7 })
    const slowed = Array.from({ length: 3 }, () => r.launch())
    await r.time.advance(1_000)
    // Interval 100 ms / 0.7 ≈ 142.9 ms; the 429's own turn is spent.
    const spacing = (slowed[2]!.admittedAt! - slowed[0]!.admittedAt!) / 2
    expect(spacing).toBeGreaterThan(142)
    expect(spacing).toBeLessThan(143)
    await r.time.advance(1_500) // factor 0.7 + 2.5 s / 10 s
    expect(r.limiter.stats(undefined, r.time.now).rateFactor).toBeCloseTo(0.95, 6)
    await r.time.advance(1_000)
    expect(keyState(r.limiter.stats(undefined, r.time.now))).toEqual({ waiting: 0, rateFactor: 1 })
    const t = r.time.now
    const recovered = Array.from({ length: 3 }, () => r.launch())
    await r.time.advance(1_000)
    expect(recovered.map((c) => c.admittedAt! - t)).toEqual([0, 100, 200])
    expect(r.trace.events.filter((e) => e.type === 'rate.adjusted')).toEqual([
      {
        type: 'rate.adjusted',
        task: 'c1',
        at: 0,
        limiter: '10/1000ms',
        factor: 0.7,
        pauseMs: 0,
        cause: '429',
      },
    ])
  })

  it('D8: a round of concurrent 429s lowers the rate once, not once per call; the next round lowers it again', async () => {
    const r = rig({ rate: 100, per: 1_000, burst: 10 })
    const round = Array.from({ length: 5 }, () => r.launch({ upstream: throttled() }))
    await r.time.flush()
    expect(round.every((c) => (c.error as { status?: number }).status === 429)).toBe(true)
    expect(r.limiter.stats().rateFactor).toBeCloseTo(0.7, 6)
    const next = r.launch({ upstream: throttled() }) // let through after the decrease
    await r.time.advance(100)
    expect(next.error).toMatchObject({ status: 429 })
    expect(r.limiter.stats().rateFactor).toBeCloseTo(0.7 * 0.7, 6) // its 429 came at once, at t = 0
    for (let i = 0; i < 20; i++) {
      r.launch({ upstream: throttled() })
      await r.time.advance(100)
    }
    expect(r.limiter.stats().rateFactor).toBeGreaterThanOrEqual(0.1) // the floor
  })

  it('D8: under repeated 429s the admitted rate falls (property: and never exceeds the configured bound)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 20, maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        async (script, burst) => {
          const r = rig({
            rate: 10,
            per: 1_000,
            burst,
            maxWait: 2_147_483_647,
            adaptive: { recovery: 5_000 },
          })
          for (const fails of script) {
            r.launch(fails ? { upstream: throttled() } : {})
            await r.time.advance(50)
          }
          await r.time.advance(1_000_000)
          checkTokenBucket(r.admissions, burst, 100)
          expect(r.time.timers).toBe(0)
        },
      ),
      { numRuns: 60 },
    )
    // And the rate really falls: 40 calls against a constant 429 take far longer than at 10/s.
    const r = rig({ rate: 10, per: 1_000, burst: 1, maxWait: 2_147_483_647 })
    for (let i = 0; i < 40; i++) r.launch({ upstream: throttled() })
    await r.time.advance(1_000_000)
    const span = r.admissions.at(-1)!.at - r.admissions[0]!.at
    expect(span).toBeGreaterThan(3_900 * 3)
  })

  it('D8: Retry-After pauses the key until then, and the pause ends without a burst', async () => {
    const r = rig({ rate: 10, per: 1_000, burst: 5 })
    const first = r.launch({ upstream: throttled({ 'Retry-After': '2' }) })
    await r.time.flush()
    expect(first.error).toMatchObject({ status: 429 })
    expect(keyState(r.limiter.stats())).toEqual({ waiting: 0, rateFactor: 0.7, pausedUntil: 2_000 })
    const after = Array.from({ length: 3 }, () => r.launch())
    await r.time.advance(3_000)
    const interval = 100 / 0.7
    expect(after[0]!.admittedAt).toBe(2_000)
    expect(after[1]!.admittedAt).toBeCloseTo(2_000 + interval, 6)
    expect(after[2]!.admittedAt).toBeCloseTo(2_000 + 2 * interval, 6)
    expect(r.trace.events.find((e) => e.type === 'rate.adjusted')).toEqual({
      type: 'rate.adjusted',
      task: 'c1',
      at: 0,
      limiter: '10/1000ms',
      factor: 0.7,
      pauseMs: 2_000,
      cause: '429',
    })
  })

  it('D8: callers already waiting follow a slow-down or pause at once; one whose new turn no longer fits maxWait fails', async () => {
    const r = rig({ rate: 10, per: 1_000, burst: 1, maxWait: 2_100 })
    r.launch({
      upstream: (ctx) =>
        sleep(ctx.clock, 50).then(() => Promise.reject(httpError(429, { 'retry-after': '2' }))),
    })
    const b = r.launch() // 100
    const c = r.launch() // 200
    await r.time.advance(50) // the 429 arrives: factor 0.7, paused until 2050
    expect(r.waits()).toEqual([100, 200, 2_000])
    expect(c.error).toBeInstanceOf(RateLimitExceededError)
    expect(c.error).toMatchObject({ reason: 'maxWait' })
    expect((c.error as RateLimitExceededError).retryAfterMs).toBeCloseTo(2_000 + 100 / 0.7, 6)
    expect((c.error as Error).message).toBe(
      'Rate limit "10/1000ms": "c3" would have to wait 2143 ms, more than maxWait (2100 ms) (2050 ms of it left after waiting already).',
    )
    await r.time.advance(1_999)
    expect(b.admittedAt).toBeUndefined()
    await r.time.advance(1)
    expect(b.admittedAt).toBe(2_050)
    expect(r.time.timers).toBe(0)
  })

  it('D8: a pause longer than maxWait fails callers at once with the time left, not after waiting', async () => {
    const r = rig({ rate: 10, per: 1_000, maxWait: 1_000 })
    r.launch({
      upstream: () =>
        Promise.reject(
          Object.assign(new Error('busy'), {
            status: 503,
            response: { headers: new Headers({ 'retry-after': '60' }) },
          }),
        ),
    })
    await r.time.advance(10_000)
    const refused = r.launch()
    await r.time.flush()
    expect(refused.error).toMatchObject({ reason: 'maxWait', retryAfterMs: 50_000 })
  })

  it('D8: RateLimit-Remaining: 0 on a successful response pauses until RateLimit-Reset; X-RateLimit-Reset may be an epoch time', async () => {
    const r = rig({ rate: 10, per: 1_000 })
    const response = {
      status: 200,
      headers: new Headers({ 'RateLimit-Remaining': '0', 'RateLimit-Reset': '3' }),
    }
    r.launch({ upstream: () => Promise.resolve(response) })
    await r.time.flush()
    expect(keyState(r.limiter.stats())).toEqual({ waiting: 0, rateFactor: 1, pausedUntil: 3_000 })
    expect(r.trace.events.at(-1)).toMatchObject({
      type: 'rate.adjusted',
      pauseMs: 3_000,
      cause: 'ratelimit-remaining',
      factor: 1,
    })
    r.launch({
      upstream: () =>
        Promise.resolve({
          status: 200,
          headers: { 'ratelimit-remaining': '5', 'ratelimit-reset': '30' },
        }),
    })
    await r.time.flush()
    expect(r.limiter.stats()).toMatchObject({ pausedUntil: 3_000 })

    useFakeTime()
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'))
    const github = rig({ rate: 10, per: 1_000 })
    const epoch = Date.now() / 1000 + 5
    github.launch({
      upstream: () =>
        Promise.resolve({
          status: 200,
          headers: { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(epoch) },
        }),
    })
    await github.time.flush()
    expect(github.limiter.stats()).toMatchObject({ pausedUntil: 5_000 })
  })

  it('D8: the combined RateLimit header of the IETF drafts pauses too, in either form', async () => {
    const older = rig({ rate: 10, per: 1_000 })
    older.launch({
      upstream: () =>
        Promise.resolve({ status: 200, headers: { RateLimit: 'limit=100, remaining=0, reset=4' } }),
    })
    await older.time.flush()
    expect(older.limiter.stats()).toMatchObject({ pausedUntil: 4_000 })
    const newer = rig({ rate: 10, per: 1_000 })
    newer.launch({
      upstream: () =>
        Promise.resolve({
          status: 200,
          headers: new Headers({
            ratelimit: '"default";r=0;t=6',
            'ratelimit-policy': '"default";q=100;w=60',
          }),
        }),
    })
    await newer.time.flush()
    expect(newer.limiter.stats()).toMatchObject({ pausedUntil: 6_000 })
    const left = rig({ rate: 10, per: 1_000 })
    left.launch({
      upstream: () => Promise.resolve({ status: 200, headers: { ratelimit: '"default";r=3;t=6' } }),
    })
    await left.time.flush()
    expect(keyState(left.limiter.stats())).toEqual({ waiting: 0, rateFactor: 1 })
  })

  it('D8: a resolved 429 (fetch does not throw) counts; a plain result is never searched for headers', async () => {
    const r = rig({ rate: 10, per: 1_000 })
    r.launch({
      upstream: () =>
        Promise.resolve({ status: 429, headers: new Headers({ 'retry-after': '1' }) }),
    })
    await r.time.flush()
    expect(keyState(r.limiter.stats())).toEqual({ waiting: 0, rateFactor: 0.7, pausedUntil: 1_000 })
    const plain = rig({ rate: 10, per: 1_000 })
    plain.launch({
      upstream: () => Promise.resolve({ 'ratelimit-remaining': '0', 'ratelimit-reset': '9' }),
    })
    plain.launch({
      upstream: () => Promise.resolve({ status: 200, headers: { 'retry-after': '9' } }),
    }) // Retry-After only counts on 429/503
    await plain.time.flush()
    expect(keyState(plain.limiter.stats())).toEqual({ waiting: 0, rateFactor: 1 })
  })

  it('D8: observe() feeds what a call saw when it does not resolve with the response', async () => {
    const r = rig({ rate: 10, per: 1_000 })
    r.launch({
      upstream: async (ctx) => {
        const headers = new Headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2' })
        r.limiter.observe(headers, ctx)
        return { items: [] }
      },
    })
    await r.time.flush()
    expect(r.limiter.stats()).toMatchObject({ pausedUntil: 2_000 })
    r.launch({ upstream: async (ctx) => (r.limiter.observe({ status: 429 }, ctx), { items: [] }) })
    await r.time.advance(2_000)
    expect(r.limiter.stats().rateFactor).toBeCloseTo(0.7, 6)
  })

  it('D8: the caller aborting, and fanout’s own errors, teach the limiter nothing; adaptive: false ignores the upstream', async () => {
    const r = rig({ rate: 10, per: 1_000, burst: 10 })
    const c = r.launch({
      upstream: (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () =>
            reject(Object.assign(new Error('x'), { status: 429 })),
          ),
        ),
    })
    await r.time.flush()
    c.controller.abort(new Error('bye'))
    r.launch({
      upstream: () =>
        Promise.reject(new RateLimitExceededError('inner', 'maxWait', 'inner limiter', 5_000)),
    })
    await r.time.flush()
    expect(keyState(r.limiter.stats())).toEqual({ waiting: 0, rateFactor: 1 })
    const off = rig({ rate: 10, per: 1_000, adaptive: false })
    off.launch({ upstream: throttled({ 'retry-after': '5' }) })
    await off.time.flush()
    off.limiter.observe(
      { status: 429 },
      {
        signal: new AbortController().signal,
        deadlineAt: Infinity,
        attempt: 1,
        task: 't',
        clock: off.time.clock,
        trace: noopRecorder,
      },
    )
    expect(keyState(off.limiter.stats())).toEqual({ waiting: 0, rateFactor: 1 })
    expect(off.trace.events).toEqual([])
  })

  it('D8: the sliding window slows down by lengthening its window', async () => {
    const r = rig({ algorithm: 'sliding-window', limit: 2, window: 700 })
    r.launch({ upstream: throttled() })
    await r.time.flush()
    r.launch()
    const third = r.launch()
    await r.time.advance(2_000)
    expect(third.admittedAt).toBeCloseTo(1_000, 0) // window 700 / 0.7, counted from the 429's own turn
  })
})

describe('rateLimit(): stores, events, integration', () => {
  it('works the same with an async store (the shape a Redis store will have)', async () => {
    const inner = memoryRateLimitStore()
    const cancels: unknown[] = []
    const asyncStore: RateLimitStore = {
      reserve: (key, request) => Promise.resolve().then(() => inner.reserve(key, request)),
      cancel: (key, ticket, at) =>
        Promise.resolve().then(() => (cancels.push(ticket), inner.cancel(key, ticket, at))),
    }
    const r = rig({ rate: 1, per: 1_000, store: asyncStore })
    const calls = [r.launch(), r.launch(), r.launch()]
    await r.time.flush()
    calls[2]!.controller.abort(new Error('left'))
    await r.time.advance(5_000)
    expect(calls.map((c) => c.admittedAt)).toEqual([0, 1_000, undefined])
    expect(cancels).toHaveLength(1)
    const late = r.launch()
    await r.time.flush()
    expect(late.admittedAt).toBe(5_000)
    const gone = r.launch() // leaves while its reservation is being made: the reservation is cancelled
    gone.controller.abort(new Error('gone'))
    await r.time.flush()
    expect(gone.error).toMatchObject({ message: 'gone' })
    expect(cancels).toHaveLength(2)
    expect(r.limiter.stats().waiting).toBe(0)
  })

  it('emits rate.waited with the wait and the weight, never the key; builds no event when tracing is off', async () => {
    const r = rig({ rate: 1, per: 1_000, key: byKey, weight: byWeight, burst: 3 })
    r.launch({ key: 'secret-token-123', weight: 3 })
    r.launch({ key: 'secret-token-123', weight: 2 })
    await r.time.flush()
    expect(r.trace.events).toEqual([
      { type: 'rate.waited', task: 'c2', at: 0, limiter: '1/1000ms', waitMs: 2_000, weight: 2 },
    ])
    expect(JSON.stringify(r.trace.events)).not.toContain('secret')
    await r.time.advance(2_000)
    const quiet = rateLimit({ rate: 1, per: 1_000 })
    const emit = vi.fn()
    const time = manualClock()
    const call = quiet.wrap(() => Promise.resolve(1))
    const ctx: CallContext = {
      signal: new AbortController().signal,
      deadlineAt: Infinity,
      attempt: 1,
      task: 't',
      clock: time.clock,
      trace: { enabled: false, emit },
    }
    void call(ctx)
    const second = call(ctx)
    await time.advance(1_000)
    await expect(second).resolves.toBe(1)
    expect(emit).not.toHaveBeenCalled()
  })

  it('one limiter shared by two pipelines counts both; with retry() outside, each attempt takes a turn; no timer is left', async () => {
    useFakeTime()
    const shared = rateLimit({ name: 'api', rate: 2, per: 1_000, burst: 1 })
    const starts: number[] = []
    let n = 0
    const upstream = () => (
      starts.push(now()),
      n++ === 0 ? Promise.reject(httpError(503)) : after(1, 'ok')
    )
    const viaRetry = pipe(retry({ baseDelay: 1, random: () => 0 }), shared, timeout(1_000)).wrap(
      upstream,
    )
    const direct = shared.wrap(upstream)
    const t0 = now()
    const results = await Promise.all([settle(execute(viaRetry)), settle(execute(direct))])
    expect(results).toEqual([
      { ok: true, value: 'ok' },
      { ok: true, value: 'ok' },
    ])
    expect(starts.map((s) => s - t0)).toEqual([0, 500, 1_000])
    expect(shared.name).toBe('rateLimit(api)')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('is named after its limit or its name', () => {
    expect(rateLimit({ rate: 10, per: 1_000 }).name).toBe('rateLimit(10/1000ms)')
    expect(rateLimit({ algorithm: 'sliding-window', limit: 100, window: 60_000 }).name).toBe(
      'rateLimit(100/60000ms sliding)',
    )
    expect(rateLimit({ rate: 5, name: 'github' }).name).toBe('rateLimit(github)')
    expect(rateLimit({ rate: 5 }).algorithm).toBe('gcra')
  })
})

describe('rateLimit(): validation', () => {
  const cases: [string, unknown, string][] = [
    [
      'L6: rate 0',
      { rate: 0 },
      '`rate` must be a number greater than 0 and at most 1000000000 calls per `per` ms, got 0. A rate of 0 would never let a call through.',
    ],
    [
      'L6: rate negative',
      { rate: -1 },
      '`rate` must be a number greater than 0 and at most 1000000000 calls per `per` ms, got -1.',
    ],
    [
      'L6: rate NaN',
      { rate: Number.NaN },
      '`rate` must be a number greater than 0 and at most 1000000000 calls per `per` ms, got NaN.',
    ],
    [
      'L6: rate Infinity',
      { rate: Infinity },
      '`rate` must be a number greater than 0 and at most 1000000000 calls per `per` ms, got Infinity.',
    ],
    [
      'L6: rate "10"',
      { rate: '10' },
      '`rate` must be a number greater than 0 and at most 1000000000 calls per `per` ms, got "10". Pass a number, not a string.',
    ],
    [
      'L6: rate missing',
      {},
      '`rate` is required: how many calls per `per` ms (e.g. rate: 10, per: 1_000).',
    ],
    ['L6: per under 1 ms', { rate: 1, per: 0.5 }, '`per` must be within 1–2147483647 ms, got 0.5.'],
    [
      'L6: per 0',
      { rate: 1, per: 0 },
      '`per` must be within 1–2147483647 ms, got 0. 0 does not mean "no limit": omit the option instead.',
    ],
    ['L6: burst 0', { rate: 1, burst: 0 }, '`burst` must be a number from 1 to 1000000000, got 0.'],
    [
      'L6: limit 0',
      { algorithm: 'sliding-window', limit: 0 },
      '`limit` must be an integer from 1 to 1000000, got 0. A limit of 0 would never let a call through.',
    ],
    [
      'L6: limit 2.5',
      { algorithm: 'sliding-window', limit: 2.5 },
      '`limit` must be an integer from 1 to 1000000, got 2.5.',
    ],
    [
      'L6: limit missing',
      { algorithm: 'sliding-window', window: 1_000 },
      "`limit` is required with 'sliding-window': how many calls per `window` ms (e.g. limit: 100, window: 60_000).",
    ],
    [
      'L6: window under 1 ms',
      { algorithm: 'sliding-window', limit: 5, window: 0.5 },
      '`window` must be within 1–2147483647 ms, got 0.5.',
    ],
    [
      'L6: window "1m"',
      { algorithm: 'sliding-window', limit: 5, window: '1m' },
      '`window` must be a number of milliseconds (1–2147483647 ms), got "1m". Pass a number, e.g. 500, not a string.',
    ],
    [
      'L6: window with gcra',
      { rate: 5, window: 1_000 },
      "`window` belongs to the sliding window: add algorithm: 'sliding-window' (with `limit` and `window`), or use `rate`, `per` and `burst` for the default 'gcra'.",
    ],
    [
      'L6: limit without algorithm',
      { limit: 5 },
      "`limit` belongs to the sliding window: add algorithm: 'sliding-window' (with `limit` and `window`), or use `rate`, `per` and `burst` for the default 'gcra'.",
    ],
    [
      'L6: burst with sliding-window',
      { algorithm: 'sliding-window', limit: 5, burst: 2 },
      "`burst` belongs to algorithm 'gcra': with 'sliding-window' use `limit` and `window`.",
    ],
    [
      'L4: algorithm misspelt',
      { algorithm: 'sliding', limit: 5 },
      '`algorithm` must be "gcra" or "sliding-window", got "sliding".',
    ],
    [
      'L4: algorithm near miss',
      { algorithm: 'gcar', rate: 5 },
      '`algorithm` must be "gcra" or "sliding-window", got "gcar". Did you mean "gcra"?',
    ],
    [
      'L4: algorithm not a string',
      { algorithm: 1, rate: 5 },
      '`algorithm` must be "gcra" or "sliding-window", got 1.',
    ],
    [
      'L4: misspelt option',
      { rate: 5, maxWiat: 10 },
      'unknown option `maxWiat`. Did you mean `maxWait`?',
    ],
    [
      'L4: wrong case',
      { rate: 5, maxqueue: 10 },
      'unknown option `maxqueue`. Did you mean `maxQueue`?',
    ],
    [
      'L4: unknown option, full message',
      { rate: 5, burts: 2 },
      'unknown option `burts`. Did you mean `burst`? Known options: `algorithm`, `rate`, `per`, `burst`, `limit`, `window`, `name`, `weight`, `key`, `maxWait`, `maxQueue`, `maxKeys`, `adaptive`, `store`.',
    ],
    [
      'L4: weight not a function',
      { rate: 5, weight: 2 },
      '`weight` must be a function (ctx) => number, got 2.',
    ],
    [
      'L4: key not a function',
      { rate: 5, key: 'tenant' },
      '`key` must be a function (ctx) => string, got "tenant".',
    ],
    [
      'L4: maxWait Infinity',
      { rate: 5, maxWait: Infinity },
      '`maxWait` must be within 0–2147483647 ms, got Infinity.',
    ],
    [
      'L4: maxWait negative',
      { rate: 5, maxWait: -1 },
      '`maxWait` must be within 0–2147483647 ms, got -1.',
    ],
    [
      'L4: maxQueue 1.5',
      { rate: 5, maxQueue: 1.5 },
      '`maxQueue` must be an integer from 0 to 1000000, got 1.5.',
    ],
    [
      'L4: maxQueue Infinity',
      { rate: 5, maxQueue: Infinity },
      '`maxQueue` must be an integer from 0 to 1000000, got Infinity.',
    ],
    [
      'L4: maxKeys 0',
      { rate: 5, maxKeys: 0 },
      '`maxKeys` must be an integer from 1 to 10000000, got 0.',
    ],
    [
      'L4: adaptive not a boolean',
      { rate: 5, adaptive: 'yes' },
      '`adaptive` must be true, false or an object { decrease, floor, recovery }, got "yes".',
    ],
    [
      'L4: adaptive decrease 1',
      { rate: 5, adaptive: { decrease: 1 } },
      '`adaptive`: `decrease` must be a number from 0.01 to 0.99, got 1.',
    ],
    [
      'L4: adaptive misspelt',
      { rate: 5, adaptive: { recovry: 5 } },
      '`adaptive`: unknown option `recovry`. Did you mean `recovery`?',
    ],
    [
      'L4: adaptive recovery 0',
      { rate: 5, adaptive: { recovery: 0 } },
      '`adaptive`: `recovery` must be within 1–86400000 ms, got 0.',
    ],
    [
      'L4: store without reserve',
      { rate: 5, store: {} },
      '`store` must have reserve() and cancel() (a RateLimitStore such as memoryRateLimitStore()), got an object (Object).',
    ],
    ['L4: empty name', { rate: 5, name: ' ' }, '`name` must be a non-empty string, got " ".'],
    ['L4: options not an object', 5, 'options must be a plain object, got 5.'],
  ]

  it.each(cases)('%s', (_, options, message) => {
    expect(() => rateLimit(options as RateLimitOptions)).toThrow(InvalidOptionError)
    expect(() => rateLimit(options as RateLimitOptions)).toThrow(`rateLimit(): ${message}`)
  })

  it('L4: the store validates its own options', () => {
    expect(() => memoryRateLimitStore({ maxKeys: 0 })).toThrow(
      'memoryRateLimitStore(): `maxKeys` must be an integer from 1 to 10000000, got 0.',
    )
    expect(() => memoryRateLimitStore({ maxkeys: 5 } as never)).toThrow(
      'memoryRateLimitStore(): unknown option `maxkeys`. Did you mean `maxKeys`?',
    )
  })

  it('L7: options are snapshotted at construction', async () => {
    const options = { rate: 1, per: 1_000 }
    const r = rig(options)
    options.rate = 1_000
    r.launch()
    const second = r.launch()
    await r.time.flush()
    expect(second.outcome).toBeUndefined()
    await r.time.advance(1_000)
    expect(second.admittedAt).toBe(1_000)
  })

  it('the algorithms are exclusive in the types too', () => {
    // @ts-expect-error limit belongs to the sliding window
    expect(() => rateLimit({ rate: 5, limit: 3 })).toThrow(InvalidOptionError)
    // @ts-expect-error sliding-window needs limit, not rate
    expect(() => rateLimit({ algorithm: 'sliding-window', rate: 3 })).toThrow(InvalidOptionError)
    expect(
      isFanoutError(new RateLimitExceededError('x', 'maxWait', 'm', 1), 'FANOUT_RATE_LIMITED'),
    ).toBe(true)
  })
})

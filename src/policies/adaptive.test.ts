import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { pipe, type Call, type CallContext } from '../core/call.js'
import {
  AbortedError,
  CircuitOpenError,
  DeadlineError,
  InvalidOptionError,
  QueueFullError,
  RateLimitedError,
  TimeoutError,
} from '../core/errors.js'
import { execute } from '../core/execute.js'
import type { LimitAdjustedEvent, TraceEvent } from '../core/trace.js'
import {
  adaptiveConcurrency,
  isOverloadError,
  type AdaptiveConcurrencyOptions,
} from './adaptive.js'
import { limit } from './limit.js'
import { timeout } from './timeout.js'
import { after, settle, useFakeTime } from '../../test/helpers/time.js'

const withStatus = (status: number): Error =>
  Object.assign(new Error(`upstream said ${status}`), { status })
const withCode = (code: string): Error => Object.assign(new Error(`socket: ${code}`), { code })

type Adjustment = LimitAdjustedEvent & { readonly window: number }

/**
 * A limiter starting at `concurrency`, the adaptive policy inside it, and an upstream whose
 * latency (and failure) the test sets. Fake time throughout.
 */
function rig(options: AdaptiveConcurrencyOptions | undefined, concurrency: number) {
  useFakeTime()
  const limiter = limit({ concurrency, maxQueue: 100_000 })
  const adaptive = adaptiveConcurrency(limiter, options)
  const adjustments: Adjustment[] = []
  const events: TraceEvent[] = []
  const onEvent = (e: TraceEvent): void => {
    events.push(e)
    if (e.type === 'limit.adjusted') adjustments.push({ ...e, window: adaptive.stats().windows })
  }
  const upstream: { latency: number; fail: (() => unknown) | undefined } = {
    latency: 100,
    fail: undefined,
  }
  const service: Call<string> = async ({ signal }) => {
    const { latency, fail } = upstream
    await after(latency, undefined, signal)
    if (fail !== undefined) throw fail()
    return 'ok'
  }
  const call = pipe(limiter, adaptive).wrap(service)
  /** Keeps `clients` calls outstanding (each client starts its next call when the last ends) for `ms`. */
  async function load(ms: number, clients: number): Promise<void> {
    let stop = false
    const loops = Array.from({ length: clients }, async () => {
      while (!stop) await execute(call, { onEvent }).catch(() => undefined)
    })
    await vi.advanceTimersByTimeAsync(ms)
    stop = true
    await settle(Promise.all(loops))
  }
  /** One call with the upstream failing with `error` (or succeeding), run to completion. */
  async function once(error?: () => unknown, through: Call<string> = call): Promise<void> {
    upstream.fail = error
    await settle(execute(through, { onEvent }))
    upstream.fail = undefined
  }
  return { limiter, adaptive, adjustments, events, onEvent, upstream, service, call, load, once }
}

/** The limits a run of multiplicative decreases passes through, from `from` down to `min`. */
function decreases(from: number, min: number, ratio = 0.9): number[] {
  const out: number[] = []
  for (let l = from; l > min;) out.push((l = Math.max(min, Math.floor(l * ratio))))
  return out
}

describe('adaptiveConcurrency(): AIMD (the default)', () => {
  it('D7: upstream latency doubles → the limit falls within 2 windows, by 0.9 a window, never below min; it recovers once latency returns', async () => {
    const r = rig({ min: 5, max: 20 }, 10)
    await r.load(3_000, 50)
    expect(r.limiter.concurrency).toBe(20) // busy and fast: +1 a window, up to max and no further
    expect(r.adjustments.map((e) => e.to)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20])

    const before = r.adaptive.stats().windows
    const grown = r.adjustments.length
    r.upstream.latency = 200
    await r.load(6_000, 50)
    const cuts = r.adjustments.slice(grown)
    expect(cuts[0]!.window - before).toBeLessThanOrEqual(2)
    expect(cuts.map((e) => e.to)).toEqual(decreases(20, 5)) // 18, 16, 14, 12, 10, 9, 8, 7, 6, 5
    expect(cuts.every((e) => e.reason === 'latency')).toBe(true)
    expect(r.limiter.concurrency).toBe(5) // still slow, still at the floor

    const trough = r.adjustments.length
    r.upstream.latency = 100
    await r.load(5_000, 50)
    const recovery = r.adjustments.slice(trough)
    expect(recovery.map((e) => e.to)).toEqual([
      6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ])
    expect(recovery.every((e) => e.reason === 'growth')).toBe(true)
    expect(r.adjustments.every((e) => e.to >= 5 && e.to <= 20 && Number.isInteger(e.to))).toBe(true)
  })

  it('D7: an overload error cuts the limit by 0.9 at once: 503, 429, 500, 408, network errors and timeouts', async () => {
    const r = rig({ max: 20 }, 20)
    const timedOut = pipe(r.limiter, r.adaptive, timeout(50)).wrap(r.service)
    const overloads: (() => unknown)[] = [
      () => withStatus(503),
      () => withStatus(429),
      () => withStatus(500),
      () => ({ statusCode: 408 }),
      () => ({ response: { status: 502 } }),
      () => withCode('ECONNRESET'),
      () => new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') }),
      () => new DOMException('The operation timed out.', 'TimeoutError'),
    ]
    for (const error of overloads) await r.once(error)
    await r.once(undefined, timedOut) // timeout() inside the policy: its TimeoutError is an overload
    expect(r.adjustments.map((e) => e.to)).toEqual([18, 16, 14, 12, 10, 9, 8, 7, 6]) // ⌊limit × 0.9⌋ each time
    expect(r.adjustments.every((e) => e.reason === 'error')).toBe(true)
  })

  it('D7: backoffRatio sets the cut, and repeated errors never take the limit below min', async () => {
    const r = rig({ backoffRatio: 0.5, min: 2 }, 20)
    for (let i = 0; i < 8; i++) await r.once(() => withStatus(503))
    expect(r.adjustments.map((e) => e.to)).toEqual([10, 5, 2])
    expect(r.limiter.concurrency).toBe(2)
  })

  it('D7: a burst of failures cuts once per congestion event: calls started before a cut do not cut again', async () => {
    const r = rig({ max: 20 }, 20)
    r.upstream.fail = () => withStatus(503)
    await settle(
      Promise.allSettled(Array.from({ length: 10 }, () => execute(r.call, { onEvent: r.onEvent }))),
    )
    expect(r.adjustments.map((e) => e.to)).toEqual([18])
    await r.once(() => withStatus(503)) // started after the cut: a new event
    expect(r.adjustments.map((e) => e.to)).toEqual([18, 16])
  })

  it('a fixed latencyThreshold: windows slower than it cut the limit for as long as they last; faster ones let it grow', async () => {
    const r = rig({ latencyThreshold: 150, min: 3, max: 12 }, 8)
    await r.load(2_000, 30)
    expect(r.limiter.concurrency).toBe(12)
    r.upstream.latency = 160
    await r.load(20_000, 30) // no relative baseline to re-learn: it stays at the floor
    expect(r.limiter.concurrency).toBe(3)
    expect(r.adaptive.stats()).toMatchObject({ thresholdMs: 150, windowLatencyMs: 160 })
    r.upstream.latency = 140
    await r.load(5_000, 30)
    expect(r.limiter.concurrency).toBe(12)
  })

  it('no growth while in-flight < limit/2: fast calls at low load say nothing about a higher limit', async () => {
    const r = rig({ max: 100 }, 20)
    await r.load(5_000, 9)
    expect(r.adaptive.stats().windows).toBeGreaterThan(40)
    expect(r.adjustments).toEqual([])
    await r.load(5_000, 10) // half the limit in flight: it may grow, until 10 is less than half
    expect(r.limiter.concurrency).toBe(21)
  })
})

describe('adaptiveConcurrency(): what counts', () => {
  it('D7: 4xx responses neither cut the limit nor count as latency samples', async () => {
    const r = rig({ max: 20, windowSize: 5 }, 20)
    for (const status of [400, 401, 403, 404, 409, 422]) await r.once(() => withStatus(status))
    expect(r.adjustments).toEqual([])
    expect(r.adaptive.stats().windows).toBe(0)
  })

  it("D7: the caller's abort is not counted, whatever the upstream then throws: an abort signal, a timeout or deadline outside the policy", async () => {
    const r = rig({ max: 20 }, 20)
    // The upstream ignores its signal and fails with a 503 after the caller has gone.
    const stubborn = async (): Promise<string> => {
      await after(100, undefined)
      throw withStatus(503)
    }
    const controller = new AbortController()
    const aborted = execute(pipe(r.limiter, r.adaptive).wrap(stubborn), {
      signal: controller.signal,
      onEvent: r.onEvent,
    })
    controller.abort(new AbortedError('caller left'))
    expect(await settle(aborted)).toMatchObject({ ok: false, error: { code: 'FANOUT_ABORTED' } })
    expect(
      await settle(
        execute(pipe(timeout(50), r.limiter, r.adaptive).wrap(stubborn), { onEvent: r.onEvent }),
      ),
    ).toMatchObject({ ok: false, error: { code: 'FANOUT_TIMEOUT' } })
    expect(
      await settle(
        execute(pipe(r.limiter, r.adaptive).wrap(stubborn), { deadline: 50, onEvent: r.onEvent }),
      ),
    ).toMatchObject({ ok: false, error: { code: 'FANOUT_DEADLINE' } })
    await vi.advanceTimersByTimeAsync(200) // the stubborn calls fail now, after their callers left
    expect(r.adjustments).toEqual([])
    expect(r.limiter.activeCount).toBe(0)
  })

  it('isOverloadError: timeouts, 408, 429, 5xx and network errors; not 4xx, deadlines, open circuits, full queues or bugs', () => {
    for (const yes of [
      withStatus(503),
      withStatus(500),
      withStatus(429),
      withStatus(408),
      withStatus(599),
      withCode('ETIMEDOUT'),
      withCode('UND_ERR_SOCKET'),
      new TimeoutError('t', 10),
      new RateLimitedError('r', 60_000),
      new DOMException('timed out', 'TimeoutError'),
    ]) {
      expect(isOverloadError(yes), String(yes)).toBe(true)
    }
    for (const no of [
      withStatus(400),
      withStatus(404),
      withStatus(499),
      new DeadlineError('d', 10),
      new CircuitOpenError('c', 0, 0),
      new QueueFullError('q', 1),
      new AbortedError('a'),
      new TypeError('x is not a function'),
      withCode('ERR_INVALID_ARG_TYPE'),
      'a string',
      undefined,
    ]) {
      expect(isOverloadError(no), String(no)).toBe(false)
    }
  })

  it('isOverload decides what counts; a throwing predicate surfaces as the error and moves nothing', async () => {
    const busy = () => Object.assign(new Error('busy'), { code: 'BUSY' })
    const r = rig({ max: 20, isOverload: (e) => (e as { code?: unknown }).code === 'BUSY' }, 20)
    await r.once(() => withStatus(503))
    expect(r.adjustments).toEqual([])
    await r.once(busy)
    expect(r.adjustments.map((e) => e.to)).toEqual([18])
    const bug = new Error('predicate bug')
    const broken = rig(
      {
        isOverload: () => {
          throw bug
        },
      },
      20,
    )
    broken.upstream.fail = () => withStatus(503)
    expect(await settle(execute(broken.call))).toEqual({ ok: false, error: bug })
    expect(broken.limiter.concurrency).toBe(20)
  })
})

describe('adaptiveConcurrency(): gradient (Gradient2)', () => {
  it('D7: Gradient2: upstream latency doubles → the limit falls within 2 windows, by a fifth while it lasts; it recovers once latency returns', async () => {
    const r = rig({ algorithm: 'gradient', min: 5, max: 100 }, 100)
    await r.load(3_000, 300)
    expect(r.adjustments).toEqual([]) // at max, with steady latency: nothing to do
    const before = r.adaptive.stats().windows
    r.upstream.latency = 200
    await r.load(3_000, 300)
    const cuts = r.adjustments.filter((e) => e.to < e.from)
    expect(cuts[0]!.window - before).toBeLessThanOrEqual(2)
    expect(cuts.every((e) => e.reason === 'latency')).toBe(true)
    expect(Math.min(...cuts.map((e) => e.to))).toBeLessThanOrEqual(80)
    // A lasting change becomes the new normal as the long-term latency catches up (Gradient2's
    // design); once latency returns, the limit climbs back to max.
    const trough = r.adjustments.length
    r.upstream.latency = 100
    await r.load(6_000, 300)
    expect(r.limiter.concurrency).toBe(100)
    expect(r.adjustments.slice(trough).every((e) => e.reason === 'growth' && e.to > e.from)).toBe(
      true,
    )
    expect(r.adjustments.every((e) => e.to >= 5 && e.to <= 100 && Number.isInteger(e.to))).toBe(
      true,
    )
  })

  it('D7: Gradient2: no growth while in-flight < limit/2', async () => {
    const r = rig({ algorithm: 'gradient', max: 100 }, 20)
    await r.load(5_000, 9)
    expect(r.adaptive.stats().windows).toBeGreaterThan(40)
    expect(r.adjustments).toEqual([])
    expect(r.limiter.concurrency).toBe(20)
    await r.load(5_000, 40) // busy: the headroom (√limit) lets it grow
    expect(r.limiter.concurrency).toBeGreaterThan(30)
    expect(r.adjustments.every((e) => e.reason === 'growth')).toBe(true)
  })

  it('D7: Gradient2: overload errors cut the limit by backoffRatio too', async () => {
    const r = rig({ algorithm: 'gradient', max: 40 }, 40)
    await r.once(() => withStatus(503))
    await r.once(() => withCode('ECONNRESET'))
    expect(r.adjustments.map((e) => [e.to, e.reason])).toEqual([
      [36, 'error'],
      [32, 'error'],
    ])
  })
})

describe('adaptiveConcurrency(): bounds and ownership of the limit', () => {
  it('clamps the limiter into [min, max] at construction; max defaults to the limiter’s concurrency (1,000 for Infinity)', () => {
    const high = limit({ concurrency: 50 })
    expect(adaptiveConcurrency(high, { max: 20 }).limit).toBe(20)
    expect(high.concurrency).toBe(20)
    const low = limit({ concurrency: 2 })
    adaptiveConcurrency(low, { min: 4, max: 8 })
    expect(low.concurrency).toBe(4)
    const unbounded = limit({ concurrency: Infinity })
    const a = adaptiveConcurrency(unbounded)
    expect([a.limit, unbounded.concurrency]).toEqual([1_000, 1_000])
    const configured = limit({ concurrency: 30 })
    expect(adaptiveConcurrency(configured).name).toBe('adaptiveConcurrency(aimd, 1–30)')
    expect(adaptiveConcurrency(limit({ concurrency: 3 }), { min: 10 }).name).toBe(
      'adaptiveConcurrency(aimd, 10–10)',
    )
  })

  it('never above max: long fast, busy load holds the limit at max', async () => {
    const r = rig({ max: 15, windowSize: 1 }, 10)
    await r.load(10_000, 100)
    expect(r.limiter.concurrency).toBe(15)
    expect(Math.max(...r.adjustments.map((e) => e.to))).toBe(15)
    expect(r.adaptive.stats().windows).toBeGreaterThan(1_000)
  })

  it('a concurrency set on the limiter from outside is adopted, clamped into [min, max]', async () => {
    const r = rig({ min: 2, max: 20 }, 10)
    r.limiter.concurrency = 500
    await r.once()
    expect(r.limiter.concurrency).toBe(20)
    r.limiter.concurrency = 7
    await r.once(() => withStatus(503))
    expect(r.limiter.concurrency).toBe(6) // the cut starts from the adopted 7
    r.limiter.concurrency = 1
    await r.once()
    expect(r.limiter.concurrency).toBe(2)
  })

  it('limit.adjusted events carry names and numbers only, never the error or its credentials', async () => {
    const r = rig({ name: 'search', max: 10 }, 10)
    await r.once(() =>
      Object.assign(new Error('503 for Bearer s3cr3t-token'), {
        status: 503,
        headers: { authorization: 'Bearer s3cr3t-token' },
      }),
    )
    expect(r.adjustments).toHaveLength(1)
    const event = r.events.find((e) => e.type === 'limit.adjusted')!
    expect(Object.keys(event).sort()).toEqual([
      'at',
      'from',
      'limiter',
      'reason',
      'task',
      'to',
      'type',
    ])
    expect(event).toMatchObject({
      type: 'limit.adjusted',
      task: 'call',
      limiter: 'search',
      from: 10,
      to: 9,
      reason: 'error',
    })
    expect(JSON.stringify(r.events)).not.toContain('s3cr3t')
  })

  it('the limit stays an integer within [min, max] whatever the traffic, and no timer is left behind (property)', async () => {
    useFakeTime()
    const step = fc.record({
      calls: fc.integer({ min: 0, max: 25 }),
      latency: fc.integer({ min: 1, max: 400 }),
      outcome: fc.constantFrom('ok', 'ok', 'ok', '503', '404', 'abort'),
      gap: fc.integer({ min: 1, max: 500 }),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('aimd' as const, 'gradient' as const),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0.5, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(step, { minLength: 1, maxLength: 30 }),
        async (algorithm, min, span, windowSize, backoffRatio, start, steps) => {
          const max = min + span
          const limiter = limit({ concurrency: start, maxQueue: 1_000 })
          const adaptive = adaptiveConcurrency(limiter, {
            algorithm,
            min,
            max,
            windowSize,
            backoffRatio,
          } as AdaptiveConcurrencyOptions)
          const seen: number[] = [limiter.concurrency]
          const onEvent = (e: TraceEvent): void =>
            void (e.type === 'limit.adjusted' && seen.push(e.from, e.to))
          const all: Promise<unknown>[] = []
          for (const s of steps) {
            for (let i = 0; i < s.calls; i++) {
              const controller = new AbortController()
              const call = pipe(limiter, adaptive).wrap(async ({ signal }: CallContext) => {
                await after(s.latency, undefined, signal)
                if (s.outcome === '503' || s.outcome === '404') throw withStatus(Number(s.outcome))
                return 1
              })
              all.push(execute(call, { signal: controller.signal, onEvent }).catch(() => undefined))
              if (s.outcome === 'abort')
                setTimeout(() => controller.abort(new AbortedError('left')), s.latency / 2)
            }
            await vi.advanceTimersByTimeAsync(s.gap)
            seen.push(limiter.concurrency, adaptive.limit)
          }
          await settle(Promise.all(all))
          await vi.runAllTimersAsync()
          seen.push(limiter.concurrency)
          for (const l of seen)
            expect(
              Number.isInteger(l) && l >= min && l <= max,
              `limit ${l} outside [${min}, ${max}]`,
            ).toBe(true)
          expect(limiter.activeCount + limiter.pendingCount).toBe(0)
          expect(vi.getTimerCount()).toBe(0)
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('adaptiveConcurrency(): validation', () => {
  const cases: [string, unknown, string][] = [
    ['L1: min 0', { min: 0 }, '`min` must be an integer from 1 to 1000000, got 0.'],
    ['L1: min 2.5', { min: 2.5 }, '`min` must be an integer from 1 to 1000000, got 2.5.'],
    [
      'L1: max "10"',
      { max: '10' },
      '`max` must be an integer from 1 to 1000000, got "10". Pass a number, not a string.',
    ],
    [
      'L1: max Infinity',
      { max: Infinity },
      '`max` must be an integer from 1 to 1000000, got Infinity.',
    ],
    [
      'L1: max below min',
      { min: 10, max: 5 },
      '`max` must be at least `min`, got min: 10, max: 5.',
    ],
    [
      'L1: windowSize 0',
      { windowSize: 0 },
      '`windowSize` must be an integer from 1 to 10000, got 0.',
    ],
    [
      'L1: windowSize 10001',
      { windowSize: 10_001 },
      '`windowSize` must be an integer from 1 to 10000, got 10001.',
    ],
    [
      'L1: latencyThreshold 0',
      { latencyThreshold: 0 },
      '`latencyThreshold` must be within 1–3600000 ms, got 0. 0 does not mean "no limit": omit the option instead.',
    ],
    [
      'L1: latencyThreshold "200ms"',
      { latencyThreshold: '200ms' },
      '`latencyThreshold` must be a number of milliseconds (1–3600000 ms), got "200ms". Pass a number, e.g. 500, not a string.',
    ],
    [
      'L1: tolerance 0.5',
      { tolerance: 0.5 },
      '`tolerance` must be a number from 1 to 10 (how much slower than usual a window may be: 1.5 = 50% slower), got 0.5. Below 1 even a window at the usual latency would count as slow; for "50% slower" pass 1.5.',
    ],
    [
      'L1: tolerance 11',
      { tolerance: 11 },
      '`tolerance` must be a number from 1 to 10 (how much slower than usual a window may be: 1.5 = 50% slower), got 11.',
    ],
    [
      'L1: tolerance NaN',
      { tolerance: Number.NaN },
      '`tolerance` must be a number from 1 to 10 (how much slower than usual a window may be: 1.5 = 50% slower), got NaN.',
    ],
    [
      'L1: backoffRatio 1',
      { backoffRatio: 1 },
      '`backoffRatio` must be a number from 0.5 to below 1 (the share of the limit kept after an overload: 0.9 keeps 90%), got 1. 1 would never lower the limit.',
    ],
    [
      'L1: backoffRatio 90 (a percentage)',
      { backoffRatio: 90 },
      '`backoffRatio` must be a number from 0.5 to below 1 (the share of the limit kept after an overload: 0.9 keeps 90%), got 90. For 90% pass 0.9.',
    ],
    [
      'L1: backoffRatio 0.1',
      { backoffRatio: 0.1 },
      '`backoffRatio` must be a number from 0.5 to below 1 (the share of the limit kept after an overload: 0.9 keeps 90%), got 0.1. Below 0.5 a single error would more than halve the limit.',
    ],
    [
      'L1: backoffRatio "0.9"',
      { backoffRatio: '0.9' },
      '`backoffRatio` must be a number from 0.5 to below 1 (the share of the limit kept after an overload: 0.9 keeps 90%), got "0.9". Pass a number, not a string.',
    ],
    [
      'L1: latencyThreshold with gradient',
      { algorithm: 'gradient', latencyThreshold: 200 },
      '`latencyThreshold` only applies to algorithm "aimd": "gradient" compares each window with the long-term latency (tune it with `tolerance`).',
    ],
    [
      'L1: latencyThreshold and tolerance',
      { latencyThreshold: 200, tolerance: 2 },
      '`latencyThreshold` and `tolerance` are two ways to say what is slow (a fixed number of ms, or relative to the fastest window seen): pass one or the other, not both (got latencyThreshold: 200, tolerance: 2).',
    ],
    [
      'L4: algorithm misspelt',
      { algorithm: 'gradient2' },
      '`algorithm` must be "aimd" or "gradient", got "gradient2". Did you mean "gradient"?',
    ],
    [
      'L4: algorithm wrong case',
      { algorithm: 'AIMD' },
      '`algorithm` must be "aimd" or "gradient", got "AIMD". Did you mean "aimd"?',
    ],
    [
      'L4: algorithm unknown',
      { algorithm: 'vegas' },
      '`algorithm` must be "aimd" or "gradient", got "vegas".',
    ],
    [
      'L4: misspelt option',
      { backofRatio: 0.8 },
      'unknown option `backofRatio`. Did you mean `backoffRatio`?',
    ],
    [
      'L4: wrong case',
      { windowsize: 20 },
      'unknown option `windowsize`. Did you mean `windowSize`?',
    ],
    ['L4: Netflix name', { maxLimit: 200 }, 'unknown option `maxLimit`.'],
    [
      'L4: unknown option, full message',
      { latencyTreshold: 100 },
      'unknown option `latencyTreshold`. Did you mean `latencyThreshold`? Known options: `algorithm`, `min`, `max`, `windowSize`, `latencyThreshold`, `tolerance`, `backoffRatio`, `isOverload`, `name`.',
    ],
    ['L4: empty name', { name: ' ' }, '`name` must be a non-empty string, got " ".'],
    [
      'L4: isOverload not a function',
      { isOverload: 503 },
      '`isOverload` must be a function (error) => boolean, got 503.',
    ],
    ['L4: options not an object', 'gradient', 'options must be a plain object, got "gradient".'],
  ]

  it.each(cases)('%s', (_, options, message) => {
    const limiter = limit({ concurrency: 10 })
    expect(() => adaptiveConcurrency(limiter, options as AdaptiveConcurrencyOptions)).toThrow(
      InvalidOptionError,
    )
    expect(() => adaptiveConcurrency(limiter, options as AdaptiveConcurrencyOptions)).toThrow(
      `adaptiveConcurrency(): ${message}`,
    )
    expect(limiter.concurrency).toBe(10) // a rejected policy leaves the limiter alone
  })

  it.each([
    ['nothing', undefined],
    ['a number', 10],
    ['a plain policy', timeout(100)],
  ])('L4: the first argument must be a limiter (got %s)', (_, value) => {
    expect(() => adaptiveConcurrency(value as never)).toThrow(
      'adaptiveConcurrency(): the first argument must be the limiter from limit() that the policy sits inside, as in pipe(limiter, adaptiveConcurrency(limiter)), got ',
    )
  })

  it('L7: options are snapshotted at construction', async () => {
    const options = { backoffRatio: 0.5, max: 20 }
    const r = rig(options, 20)
    options.backoffRatio = 0.9
    options.max = 100
    await r.once(() => withStatus(503))
    expect(r.limiter.concurrency).toBe(10)
  })

  it('misuse is a type error too', () => {
    const limiter = limit({ concurrency: 10 })
    expect(() =>
      // @ts-expect-error latencyThreshold is for aimd only
      adaptiveConcurrency(limiter, { algorithm: 'gradient', latencyThreshold: 100 }),
    ).toThrow(InvalidOptionError)
    // @ts-expect-error not an algorithm
    expect(() => adaptiveConcurrency(limiter, { algorithm: 'vegas' })).toThrow(InvalidOptionError)
    expect(
      adaptiveConcurrency(limiter, {
        algorithm: 'aimd',
        latencyThreshold: 100,
        min: 2,
        max: 10,
        windowSize: 5,
        backoffRatio: 0.8,
        isOverload: () => true,
        name: 'x',
      }).limit,
    ).toBe(10)
  })
})

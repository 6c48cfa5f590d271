import { describe, expect, it, vi } from 'vitest'
import { AbortedError, InvalidOptionError, type CallContext, type TraceEvent } from '../index.js'
import { systemClock, noopRecorder } from './index.js'
import { hedge, type HedgeOptions } from './hedge.js'
import { after, failAfter, now, settle, useFakeTime } from '../../test/helpers/time.js'

function context(overrides: Partial<CallContext> = {}): CallContext {
  return {
    signal: new AbortController().signal,
    deadlineAt: Infinity,
    attempt: 1,
    task: 'call',
    clock: systemClock,
    trace: noopRecorder,
    ...overrides,
  }
}

function recorder(): { events: TraceEvent[]; trace: CallContext['trace'] } {
  const events: TraceEvent[] = []
  return { events, trace: { enabled: true, emit: (e) => events.push(e) } }
}

/** Records every attempt's context; attempt n (0 = primary) runs `plan[n]`. */
function attempts<T>(plan: ((signal: AbortSignal) => Promise<T>)[]): {
  seen: CallContext[]
  call: (ctx: CallContext) => Promise<T>
} {
  const seen: CallContext[] = []
  return {
    seen,
    call: (ctx) => {
      const step = plan[seen.length] ?? plan[plan.length - 1]!
      seen.push(ctx)
      return step(ctx.signal)
    },
  }
}

const opts = (extra: Partial<HedgeOptions> = {}): HedgeOptions => ({
  idempotent: true,
  delay: 50,
  ...extra,
})

describe('hedge()', () => {
  it('sends no hedge when the primary is fast, and leaves no timer', async () => {
    useFakeTime()
    const { events, trace } = recorder()
    const { seen, call } = attempts([(s) => after(10, 'fast', s)])
    const t0 = now()
    const result = await settle(hedge(opts()).wrap(call)(context({ trace })))
    expect(result).toEqual({ ok: true, value: 'fast' })
    expect(now() - t0).toBe(10)
    expect(seen).toHaveLength(1)
    expect(events).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('C17: hedges at the delay; the hedge wins, the primary is aborted and exactly one result is delivered', async () => {
    useFakeTime()
    const { events, trace } = recorder()
    let resolved = 0
    // The primary ignores its signal and still resolves late: that result must be dropped.
    const { seen, call } = attempts([() => after(1_000, 'primary'), (s) => after(10, 'hedge', s)])
    const t0 = now()
    const pending = hedge(opts()).wrap(call)(context({ trace, task: 'search', attempt: 1 }))
    void pending.then(() => resolved++)
    const result = await settle(pending)
    expect(result).toEqual({ ok: true, value: 'hedge' })
    expect(now() - t0).toBe(60)
    expect(seen.map((c) => c.attempt)).toEqual([1, 2])
    expect(seen[0]!.signal.aborted).toBe(true)
    expect(seen[0]!.signal.reason).toBeInstanceOf(AbortedError)
    expect(seen[1]!.signal.aborted).toBe(false)
    expect(events).toEqual([
      { type: 'hedge.fired', task: 'search', at: t0 + 50, hedge: 1, afterMs: 50 },
      { type: 'hedge.won', task: 'search', at: t0 + 60, winner: 1 },
    ])
    await vi.advanceTimersByTimeAsync(2_000)
    expect(resolved).toBe(1)
    expect(await pending).toBe('hedge')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('aborts the hedge when the primary wins after the hedge started', async () => {
    useFakeTime()
    const { events, trace } = recorder()
    const { seen, call } = attempts([(s) => after(80, 'primary', s), (s) => after(100, 'hedge', s)])
    const t0 = now()
    const result = await settle(hedge(opts()).wrap(call)(context({ trace })))
    expect(result).toEqual({ ok: true, value: 'primary' })
    expect(now() - t0).toBe(80)
    expect(seen).toHaveLength(2)
    expect(seen[1]!.signal.reason).toBeInstanceOf(AbortedError)
    expect(seen[0]!.signal.aborted).toBe(false)
    expect(events.map((e) => e.type === 'hedge.won' && e.winner)).toEqual([false, 0])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('waits for the others when one attempt fails, and rejects with the primary error when all fail', async () => {
    useFakeTime()
    const primaryError = new Error('primary')
    const hedgeError = new Error('hedge')
    const recovered = attempts([
      (s) => failAfter(70, primaryError, s),
      (s) => after(40, 'hedge', s),
    ])
    expect(await settle(hedge(opts()).wrap(recovered.call)(context()))).toEqual({
      ok: true,
      value: 'hedge',
    })

    // The hedge fails first (at 60), the primary last (at 100): the primary's error wins.
    const failing = attempts([
      (s) => failAfter(100, primaryError, s),
      (s) => failAfter(10, hedgeError, s),
    ])
    const t0 = now()
    const result = await settle(hedge(opts()).wrap(failing.call)(context()))
    expect(result).toEqual({ ok: false, error: primaryError })
    expect(now() - t0).toBe(100)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('fails at once without hedging when the primary fails before the delay, or throws synchronously', async () => {
    useFakeTime()
    const boom = new Error('boom')
    const { seen, call } = attempts([(s) => failAfter(10, boom, s)])
    const t0 = now()
    expect(await settle(hedge(opts()).wrap(call)(context()))).toEqual({ ok: false, error: boom })
    expect(now() - t0).toBe(10)
    expect(seen).toHaveLength(1)
    const throwing = hedge(opts()).wrap((): Promise<never> => {
      throw boom
    })
    await expect(throwing(context())).rejects.toBe(boom)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('learns the percentile delay from observed latencies once minSamples exist', async () => {
    useFakeTime()
    const { events, trace } = recorder()
    const policy = hedge({
      idempotent: true,
      delay: { percentile: 0.5, initial: 100, minSamples: 5 },
      maxExtraRatio: 1,
    })
    const fast = policy.wrap((ctx) => after(20, 'fast', ctx.signal))
    const slowPrimary = policy.wrap((ctx) =>
      after(ctx.attempt === 1 ? 1_000 : 20, 'slow', ctx.signal),
    )
    for (let i = 0; i < 4; i++) await settle(fast(context({ trace })))
    expect(events).toEqual([])
    // Fourth sample only: still the initial delay. The primary is cut short at 120 ms, a lower
    // bound that counts as the fifth sample: p50 of [20, 20, 20, 20, 120] is 20.
    await settle(slowPrimary(context({ trace })))
    await settle(slowPrimary(context({ trace })))
    expect(
      events
        .filter((e) => e.type === 'hedge.fired')
        .map((e) => e.type === 'hedge.fired' && e.afterMs),
    ).toEqual([100, 20])
    expect(policy.name).toBe('hedge(p50)')
  })

  it('starts at most maxHedges extra attempts, one delay apart', async () => {
    useFakeTime()
    const { events, trace } = recorder()
    const { seen, call } = attempts([(s) => after(1_000, 'a', s)])
    const t0 = now()
    const result = await settle(
      hedge(opts({ maxHedges: 2, maxExtraRatio: 4 })).wrap(call)(context({ trace })),
    )
    expect(result).toEqual({ ok: true, value: 'a' })
    expect(now() - t0).toBe(1_000)
    expect(seen.map((c) => c.attempt)).toEqual([1, 2, 3])
    expect(seen.slice(1).map((c) => c.signal.aborted)).toEqual([true, true])
    expect(events.flatMap((e) => (e.type === 'hedge.fired' ? [[e.hedge, e.afterMs]] : []))).toEqual(
      [
        [1, 50],
        [2, 100],
      ],
    )
    expect(vi.getTimerCount()).toBe(0)
  })

  it('bounds extra load by maxExtraRatio: hedges over calls, overshooting by at most one', async () => {
    useFakeTime()
    const policy = hedge(opts({ maxExtraRatio: 0.1 }))
    const hedgedCalls: number[] = []
    for (let i = 1; i <= 20; i++) {
      const { seen, call } = attempts([(s) => after(200, 'p', s), (s) => after(10, 'h', s)])
      await settle(policy.wrap(call)(context()))
      if (seen.length > 1) hedgedCalls.push(i)
    }
    expect(hedgedCalls).toEqual([1, 10, 20])
  })

  it('counts load over a sliding window of 1,000 calls: a healthy stretch banks no extra credit', async () => {
    useFakeTime()
    const policy = hedge(opts({ maxExtraRatio: 0.1 }))
    const healthy = policy.wrap(() => Promise.resolve('ok'))
    for (let i = 0; i < 2_000; i++) await healthy(context())
    let started = 0
    const slow = policy.wrap(
      (ctx) => (started++, after(ctx.attempt === 1 ? 200 : 10, 'v', ctx.signal)),
    )
    const all = Promise.all(Array.from({ length: 200 }, () => slow(context())))
    await vi.advanceTimersByTimeAsync(300)
    expect(await all).toHaveLength(200)
    // A lifetime count would allow 0.1 × 2,200 = 220 hedges, enough to hedge all 200 slow calls;
    // the last 1,000 calls allow 100 (+1).
    expect(started - 200).toBe(101)
  })

  it('aborts every attempt when the caller aborts, and leaves no timer', async () => {
    useFakeTime()
    const caller = new AbortController()
    const { seen, call } = attempts([(s) => after(1_000, 'v', s)])
    const pending = hedge(opts({ maxHedges: 3, maxExtraRatio: 4 })).wrap(call)(
      context({ signal: caller.signal }),
    )
    await vi.advanceTimersByTimeAsync(70)
    const reason = new Error('left')
    caller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(seen).toHaveLength(2)
    expect(seen.map((c) => c.signal.reason)).toEqual([reason, reason])
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(seen).toHaveLength(2)

    let calls = 0
    await expect(
      hedge(opts()).wrap(() => (calls++, Promise.resolve(1)))(context({ signal: caller.signal })),
    ).rejects.toBe(reason)
    expect(calls).toBe(0)
  })

  it('never starts a hedge at or past the deadline', async () => {
    useFakeTime()
    const t0 = now()
    const early = attempts([(s) => after(100, 'p', s)])
    expect(await settle(hedge(opts()).wrap(early.call)(context({ deadlineAt: t0 + 40 })))).toEqual({
      ok: true,
      value: 'p',
    })
    expect(early.seen).toHaveLength(1)

    const t1 = now()
    const later = attempts([(s) => after(500, 'p', s)])
    const policy = hedge(opts({ maxHedges: 4, maxExtraRatio: 4 }))
    await settle(policy.wrap(later.call)(context({ deadlineAt: t1 + 120 })))
    expect(later.seen).toHaveLength(3)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('C16: refuses a call not declared idempotent, as a type error and at construction', () => {
    const message =
      'hedge(): `idempotent` must be true, got undefined. Hedging sends the same request more than once: use it only for calls that are safe to repeat (reads, or writes with an idempotency key), and say so with `idempotent: true`.'
    // @ts-expect-error idempotent: true is required
    expect(() => hedge({ delay: 50 })).toThrow(message)
    // @ts-expect-error false is not accepted either
    expect(() => hedge({ idempotent: false })).toThrow(
      'hedge(): `idempotent` must be true, got false.',
    )
    // @ts-expect-error options are required
    expect(() => hedge()).toThrow(InvalidOptionError)
  })

  it.each<[string, unknown, string]>([
    [
      'unknown key',
      { idempotent: true, delya: 50 },
      'hedge(): unknown option `delya`. Did you mean `delay`? Known options: `idempotent`, `delay`, `maxHedges`, `maxExtraRatio`.',
    ],
    ['non-object options', 'fast', 'hedge(): options must be a plain object, got "fast".'],
    [
      'delay 0',
      { idempotent: true, delay: 0 },
      'hedge(): `delay` must be within 1–Number.MAX_SAFE_INTEGER ms, got 0. 0 does not mean "no limit": omit the option instead.',
    ],
    [
      'delay string',
      { idempotent: true, delay: '50ms' },
      'hedge(): `delay` must be a number of milliseconds or { percentile, initial?, minSamples? }, got "50ms". Pass a number, e.g. 50, or { percentile: 0.95 }.',
    ],
    [
      'percentile as a percentage',
      { idempotent: true, delay: { percentile: 95 } },
      'hedge(): `delay.percentile` must be a number from 0.5 to 0.999, got 95. It is a fraction: pass 0.95 for p95.',
    ],
    [
      'percentile missing',
      { idempotent: true, delay: {} },
      'hedge(): `delay.percentile` must be a number from 0.5 to 0.999, got undefined.',
    ],
    [
      'percentile 1',
      { idempotent: true, delay: { percentile: 1 } },
      'hedge(): `delay.percentile` must be a number from 0.5 to 0.999, got 1.',
    ],
    [
      'delay typo',
      { idempotent: true, delay: { percentile: 0.9, minSample: 5 } },
      'hedge() `delay`: unknown option `minSample`. Did you mean `minSamples`? Known options: `percentile`, `initial`, `minSamples`.',
    ],
    [
      'initial 0',
      { idempotent: true, delay: { percentile: 0.9, initial: 0 } },
      'hedge(): `delay.initial` must be within 1–Number.MAX_SAFE_INTEGER ms, got 0.',
    ],
    [
      'minSamples too many',
      { idempotent: true, delay: { percentile: 0.9, minSamples: 1_000 } },
      'hedge(): `delay.minSamples` must be an integer from 1 to 512, got 1000.',
    ],
    [
      'maxHedges 5',
      { idempotent: true, maxHedges: 5 },
      'hedge(): `maxHedges` must be an integer from 1 to 4, got 5.',
    ],
    [
      'maxHedges 1.5',
      { idempotent: true, maxHedges: 1.5 },
      'hedge(): `maxHedges` must be an integer from 1 to 4, got 1.5.',
    ],
    [
      'maxExtraRatio 0',
      { idempotent: true, maxExtraRatio: 0 },
      'hedge(): `maxExtraRatio` must be a number from 0.001 to 4, got 0.',
    ],
    [
      'maxExtraRatio string',
      { idempotent: true, maxExtraRatio: '10%' },
      'hedge(): `maxExtraRatio` must be a number from 0.001 to 4, got "10%". Pass a number, not a string.',
    ],
  ])('L3: rejects %s at construction', (_, options, message) => {
    expect(() => hedge(options as HedgeOptions)).toThrow(InvalidOptionError)
    expect(() => hedge(options as HedgeOptions)).toThrow(message)
  })

  it('snapshots its options and names itself after its delay', () => {
    const options = { idempotent: true as const, delay: { percentile: 0.999 } }
    const policy = hedge(options)
    options.delay.percentile = 2
    expect(policy.name).toBe('hedge(p99.9)')
    expect(hedge(opts()).name).toBe('hedge(50)')
    expect(hedge({ idempotent: true }).name).toBe('hedge(p95)')
  })
})

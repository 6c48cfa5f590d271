/**
 * The snapshots policies give for health endpoints (`stats()`), and the `slot.waited` event of
 * `limit()`. Time is a hand-driven clock: every wait below is exact.
 */
import { describe, expect, it, vi } from 'vitest'
import { pipe, type CallContext } from '../core/call.js'
import { execute } from '../core/execute.js'
import { QueueFullError, TimeoutError, DeadlineError } from '../core/errors.js'
import type { Recorder, SlotWaitedEvent, TraceEvent } from '../core/trace.js'
import { flow } from '../flow/define.js'
import { adaptiveConcurrency } from './adaptive.js'
import { circuitBreaker } from './circuit-breaker.js'
import { memoryConcurrencyStore } from './concurrency-store.js'
import { limit } from './limit.js'
import { rateLimit } from './rate-limit.js'
import { manualClock } from '../../test/helpers/clocks.js'
import { expectSnapshot } from '../../test/helpers/stats.js'

/** A promise settled by hand. */
function gate<T = string>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => (open = resolve))
  return { promise, open }
}

/** Lets pending promise callbacks run. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

/** Settles without throwing, for calls expected to fail. */
const outcome = <T>(p: Promise<T>): Promise<{ ok: boolean; error?: unknown }> =>
  p.then(
    () => ({ ok: true }),
    (error: unknown) => ({ ok: false, error }),
  )

describe('limit(): stats()', () => {
  it('starts at zero, named, frozen, and a new object each time', () => {
    const limiter = limit({ concurrency: 4 })
    const first = expectSnapshot(() => limiter.stats(), {
      kind: 'limiter',
      name: 'limit',
      inFlight: 0,
      queued: 0,
      limit: 4,
      waited: 0,
      rejected: 0,
      queueFull: 0,
      timedOut: 0,
    })
    limiter.concurrency = 6
    expect(limiter.stats().limit).toBe(6)
    expect(first.limit).toBe(4) // a snapshot, not a view
    expect(limit({ concurrency: Infinity, name: 'all' }).stats()).toMatchObject({
      name: 'all',
      limit: Infinity,
    })
  })

  it('counts calls in flight, queued, waited, and refused by a full queue', async () => {
    const limiter = limit({ concurrency: 2, maxQueue: 1, name: 'api' })
    const held = [gate(), gate(), gate()]
    const running = held.map((g) => limiter.run(() => g.promise))
    const refused = await outcome(limiter.run(() => 'never'))
    expect(refused.error).toBeInstanceOf(QueueFullError)
    expect(limiter.stats()).toMatchObject({
      name: 'api',
      inFlight: 2,
      queued: 1,
      waited: 1,
      rejected: 1,
      queueFull: 1,
      timedOut: 0,
    })
    for (const g of held) g.open('done')
    await Promise.all(running)
    expect(limiter.stats()).toMatchObject({ inFlight: 0, queued: 0, waited: 1, rejected: 1 })
  })

  it('counts waits that ran out of time: maxWait and the deadline of run()', async () => {
    const time = manualClock()
    const limiter = limit({ concurrency: 1, maxWait: 100 })
    const held = gate()
    const call = limiter.wrap(() => held.promise)
    const holder = execute(call, { clock: time })
    const byMaxWait = outcome(execute(call, { clock: time }))
    // (A deadline of execute() or a flow aborts the call's signal: the caller left, not refused.)
    const byDeadline = outcome(limiter.run(() => 'late', { clock: time, deadline: 50 }))
    await flush()
    expect(limiter.stats()).toMatchObject({ inFlight: 1, queued: 2, waited: 2 })
    time.advance(50)
    expect((await byDeadline).error).toBeInstanceOf(DeadlineError)
    time.advance(50)
    expect((await byMaxWait).error).toBeInstanceOf(TimeoutError)
    expect(limiter.stats()).toMatchObject({ queued: 0, rejected: 2, timedOut: 2, queueFull: 0 })
    held.open('ok')
    await holder
  })

  it('counts flows scheduled through the limiter, which share its slots', async () => {
    const limiter = limit({ concurrency: 1, name: 'shared' })
    const held = gate()
    const page = flow({ name: 'page', limit: limiter })
      .task('a', () => held.promise)
      .task('b', () => 'b')
    const run = page.run(undefined)
    await flush()
    expect(limiter.stats()).toMatchObject({ inFlight: 1, queued: 1 })
    held.open('a')
    await run
    expect(limiter.stats()).toMatchObject({ inFlight: 0, queued: 0 })
    expect(limiter.stats().waited).toBeGreaterThan(0)
  })

  it('with a store: counts a call that ran out of time waiting for a permit', async () => {
    const time = manualClock()
    const store = memoryConcurrencyStore()
    const a = limit({ concurrency: 1, store, name: 'payments', storePollMs: 10 })
    const b = limit({ concurrency: 1, store, name: 'payments', maxWait: 30, storePollMs: 10 })
    const held = gate()
    const holder = a.run(() => held.promise, { clock: time })
    await flush()
    const late = outcome(b.run(() => 'late', { clock: time }))
    await flush()
    expect(b.stats()).toMatchObject({ inFlight: 1, queued: 0, timedOut: 0 }) // its slot, no permit
    for (let i = 0; i < 4; i++) {
      time.advance(10)
      await flush()
    }
    expect((await late).error).toBeInstanceOf(TimeoutError)
    expect(b.stats()).toMatchObject({ inFlight: 0, rejected: 1, timedOut: 1 })
    held.open('ok')
    await holder
  })
})

describe('limit(): the slot.waited event', () => {
  /** Calls through `limiter` on the clock, each with a task name, collecting events. */
  function rig(concurrency: number, name?: string) {
    const time = manualClock()
    const events: TraceEvent[] = []
    const limiter = limit({ concurrency, ...(name !== undefined ? { name } : {}) })
    const held: ReturnType<typeof gate>[] = []
    const call = limiter.wrap(() => {
      const g = gate()
      held.push(g)
      return g.promise
    })
    const start = (task: string): Promise<string> =>
      execute(call, { clock: time, name: task, onEvent: (e) => events.push(e) })
    const waited = (): SlotWaitedEvent[] =>
      events.filter((e): e is SlotWaitedEvent => e.type === 'slot.waited')
    return { time, limiter, held, start, waited }
  }

  it('is emitted when a call waited, with the wait and the calls still queued; never for a call let in at once', async () => {
    const r = rig(1, 'search')
    const calls = [r.start('first'), r.start('second'), r.start('third')]
    await flush()
    expect(r.waited()).toEqual([])
    r.time.advance(120)
    r.held[0]!.open('1')
    await flush()
    expect(r.waited()).toEqual([
      { type: 'slot.waited', task: 'second', at: 120, limiter: 'search', waitMs: 120, queued: 1 },
    ])
    r.time.advance(30)
    r.held[1]!.open('2')
    await flush()
    expect(r.waited()[1]).toEqual({
      type: 'slot.waited',
      task: 'third',
      at: 150,
      limiter: 'search',
      waitMs: 150,
      queued: 0,
    })
    r.held[2]!.open('3')
    await Promise.all(calls)
    expect(r.waited()).toHaveLength(2)
  })

  it('builds no event when the trace does not record, and run() (no context) emits none', async () => {
    const limiter = limit({ concurrency: 1 })
    const emit = vi.fn()
    const off: Recorder = { enabled: false, emit }
    const time = manualClock()
    const ctx = (task: string): CallContext => ({
      signal: new AbortController().signal,
      deadlineAt: Infinity,
      attempt: 1,
      task,
      clock: time,
      trace: off,
    })
    const held = gate()
    const call = pipe(limiter).wrap(() => held.promise)
    const first = call(ctx('a'))
    const second = call(ctx('b'))
    const third = limiter.run(() => 'run')
    time.advance(10)
    held.open('x')
    await Promise.all([first, second, third])
    expect(emit).not.toHaveBeenCalled()
  })

  it('a recorder that throws fails the waiting call, and its slot still goes back', async () => {
    const limiter = limit({ concurrency: 1 })
    const broken: Recorder = {
      enabled: true,
      emit() {
        throw new Error('recorder bug')
      },
    }
    const ctx: CallContext = {
      signal: new AbortController().signal,
      deadlineAt: Infinity,
      attempt: 1,
      task: 't',
      clock: manualClock(),
      trace: broken,
    }
    const held = gate()
    const call = limiter.wrap(() => held.promise)
    const first = call(ctx)
    const second = outcome(call(ctx))
    held.open('x')
    await first
    expect((await second).error).toMatchObject({ message: 'recorder bug' })
    expect(limiter.stats()).toMatchObject({ inFlight: 0, queued: 0 })
    expect(await limiter.run(() => 'free')).toBe('free')
  })

  it("reaches a flow's trace when a task's policy made it wait", async () => {
    const limiter = limit({ concurrency: 1, name: 'db' })
    const events: TraceEvent[] = []
    const held = gate()
    const page = flow('page')
      .task('a', () => held.promise, { policies: [limiter] })
      .task('b', () => 'b', { policies: [limiter] })
    const run = page.run(undefined, { onTrace: (trace) => events.push(...trace.events) })
    await flush()
    held.open('a')
    await run
    const waited = events.filter((e) => e.type === 'slot.waited')
    expect(waited).toEqual([
      expect.objectContaining({ type: 'slot.waited', task: 'b', limiter: 'db', queued: 0 }),
    ])
  })

  it('with a store: a call that waited for a permit reports it, one granted at once does not', async () => {
    const time = manualClock()
    const store = memoryConcurrencyStore()
    const events: TraceEvent[] = []
    const a = limit({ concurrency: 1, store, name: 'payments', storePollMs: 10 })
    const b = limit({ concurrency: 1, store, name: 'payments', storePollMs: 10 })
    const held = gate()
    const onEvent = (e: TraceEvent): number => events.push(e)
    const holder = execute(
      a.wrap(() => held.promise),
      { clock: time, name: 'holder', onEvent },
    )
    await flush()
    const late = execute(
      b.wrap(() => Promise.resolve('late')),
      { clock: time, name: 'late', onEvent },
    )
    await flush()
    time.advance(25)
    held.open('ok')
    await holder
    for (let i = 0; i < 3 && events.length === 0; i++) {
      time.advance(10)
      await flush()
    }
    await late
    const waited = events.filter((e) => e.type === 'slot.waited')
    expect(waited).toHaveLength(1)
    expect(waited[0]).toMatchObject({ task: 'late', limiter: 'payments', queued: 0 })
    expect((waited[0] as SlotWaitedEvent).waitMs).toBeGreaterThanOrEqual(25)
  })
})

describe('rateLimit(): stats()', () => {
  it('counts calls let through, delayed, refused, and the callers waiting over every key', async () => {
    const time = manualClock()
    const limiter = rateLimit({ name: 'github', rate: 1, per: 1_000, burst: 1, maxWait: 1_500 })
    const call = limiter.wrap(() => Promise.resolve('ok'))
    const run = (): Promise<string> => execute(call, { clock: time })
    expect(limiter.stats()).toEqual({
      kind: 'rateLimiter',
      name: 'github',
      waiting: 0,
      rateFactor: 1,
      keyed: false,
      adaptive: true,
      queued: 0,
      admitted: 0,
      delayed: 0,
      rejected: 0,
    })
    await run()
    const second = run()
    const third = outcome(run()) // would wait 2 s, more than maxWait
    await flush()
    expect(limiter.stats()).toMatchObject({ waiting: 1, queued: 1, admitted: 1, rejected: 1 })
    time.advance(1_000)
    await second
    expect((await third).ok).toBe(false)
    const stats = limiter.stats()
    expect(stats).toMatchObject({ waiting: 0, queued: 0, admitted: 2, delayed: 1, rejected: 1 })
    expect(Object.isFrozen(stats)).toBe(true)
  })

  it('with keys: `waiting` is the asked key’s, `queued` every key’s', async () => {
    const time = manualClock()
    const limiter = rateLimit({
      rate: 1,
      per: 1_000,
      burst: 1,
      key: (ctx) => ctx.task,
      adaptive: false,
    })
    const call = limiter.wrap(() => Promise.resolve('ok'))
    const run = (task: string): Promise<string> => execute(call, { clock: time, name: task })
    await Promise.all([run('a'), run('b')])
    const waiting = [run('a'), run('a'), run('b')]
    await flush()
    expect(limiter.stats('a')).toMatchObject({
      waiting: 2,
      queued: 3,
      keyed: true,
      adaptive: false,
    })
    expect(limiter.stats('b')).toMatchObject({ waiting: 1, queued: 3 })
    time.advance(2_000)
    await Promise.all(waiting)
    expect(limiter.stats()).toMatchObject({ queued: 0, admitted: 5, delayed: 3, rejected: 0 })
  })

  it('counts a call too heavy to ever pass as refused', async () => {
    const limiter = rateLimit({ rate: 1, per: 1_000, burst: 2, weight: () => 3 })
    const result = await outcome(execute(limiter.wrap(() => Promise.resolve('x'))))
    expect(result.ok).toBe(false)
    expect(limiter.stats()).toMatchObject({ admitted: 0, rejected: 1 })
  })
})

describe('circuitBreaker() and adaptiveConcurrency(): stats()', () => {
  it('the breaker counts openings, transitions and calls failed fast', async () => {
    const time = manualClock()
    const breaker = circuitBreaker({ name: 'payments', consecutive: 2, halfOpenAfter: 1_000 })
    const fail = breaker.wrap(() =>
      Promise.reject(Object.assign(new Error('down'), { status: 503 })),
    )
    const attempt = (): Promise<unknown> => outcome(execute(fail, { clock: time }))
    await attempt()
    await attempt() // opens
    await attempt() // fails fast
    await attempt() // fails fast
    time.advance(1_000)
    await attempt() // the probe fails: open again
    const stats = breaker.stats()
    expect(stats).toMatchObject({
      kind: 'circuitBreaker',
      name: 'payments',
      state: 'open',
      opened: 2,
      transitions: 3,
      rejected: 2,
    })
    expect(Object.isFrozen(stats)).toBe(true)
  })

  it('adaptive concurrency counts its increases and decreases, and names itself', async () => {
    const time = manualClock()
    const limiter = limit({ concurrency: 8 })
    const adaptive = adaptiveConcurrency(limiter, { name: 'search', min: 1, max: 8 })
    const overload = pipe(limiter, adaptive).wrap(() =>
      Promise.reject(Object.assign(new Error('busy'), { status: 503 })),
    )
    for (let i = 0; i < 3; i++) await outcome(execute(overload, { clock: time }))
    const stats = adaptive.stats()
    expect(stats).toMatchObject({ kind: 'adaptiveConcurrency', name: 'search', increases: 0 })
    expect(stats.decreases).toBe(3)
    expect(stats.limit).toBe(limiter.concurrency)
    expect(limiter.stats().limit).toBe(stats.limit)
    expect(Object.isFrozen(stats)).toBe(true)
  })
})

import { describe, expect, it, vi } from 'vitest'
import { pipe, type CallContext } from '../core/call.js'
import { systemClock, type Clock } from '../core/clock.js'
import {
  CircuitOpenError,
  DeadlineError,
  InvalidOptionError,
  TimeoutError,
  isFanoutError,
} from '../core/errors.js'
import { execute } from '../core/execute.js'
import {
  noopRecorder,
  type CircuitChangedEvent,
  type Recorder,
  type TraceEvent,
} from '../core/trace.js'
import { circuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js'
import { timeout } from './timeout.js'
import { after, now, settle, useFakeTime } from '../../test/helpers/time.js'

/** A clock moved by hand. It refuses timers: the breaker must not need any. */
function manualClock(start = 1_000_000): {
  clock: Clock
  advance(ms: number): void
  readonly t: number
} {
  let t = start
  const clock: Clock = {
    now: () => t,
    setTimeout: () => {
      throw new Error('the circuit breaker must not set timers')
    },
    clearTimeout: () => {},
  }
  return {
    clock,
    advance: (ms) => void (t += ms),
    get t() {
      return t
    },
  }
}

function recorder(): Recorder & { events: TraceEvent[] } {
  const events: TraceEvent[] = []
  return { enabled: true, events, emit: (e) => void events.push(e) }
}

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

/** A promise settled by hand, for calls that must stay in flight. */
function deferred<T>(): {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
} {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

const boom = (): Error => Object.assign(new Error('upstream down'), { status: 503 })

/** A breaker on a manual clock with an upstream whose next outcomes are chosen per call. */
function rig(options?: CircuitBreakerOptions) {
  const time = manualClock()
  const trace = recorder()
  const breaker = circuitBreaker(options)
  let upstreamCalls = 0
  const call = breaker.wrap<string, CallContext>((ctx) => {
    upstreamCalls++
    return (ctx as CallContext & { outcome: () => Promise<string> }).outcome()
  })
  const run = (
    outcome: 'ok' | 'fail' | (() => Promise<string>),
    overrides: Partial<CallContext> = {},
  ): Promise<string> => {
    const fn =
      outcome === 'ok'
        ? () => Promise.resolve('ok')
        : outcome === 'fail'
          ? () => Promise.reject(boom())
          : outcome
    return call({
      ...context({ clock: time.clock, trace, ...overrides }),
      outcome: fn,
    } as CallContext)
  }
  /** Runs and swallows the outcome, returning it for inspection. */
  const attempt = async (outcome: Parameters<typeof run>[0], overrides?: Partial<CallContext>) => {
    try {
      return { ok: true as const, value: await run(outcome, overrides) }
    } catch (error) {
      return { ok: false as const, error }
    }
  }
  const changes = () =>
    trace.events
      .filter((e): e is CircuitChangedEvent => e.type === 'circuit.changed')
      .map((e) => `${e.from}→${e.to}`)
  return { time, trace, breaker, run, attempt, changes, calls: () => upstreamCalls }
}

describe('circuitBreaker(): consecutive rule', () => {
  it('opens after N failures in a row (default 5); a success resets the count', async () => {
    const r = rig()
    for (let i = 0; i < 4; i++) await r.attempt('fail')
    await r.attempt('ok')
    expect(r.breaker.stats()).toEqual({
      kind: 'circuitBreaker',
      name: 'circuit',
      state: 'closed',
      opened: 0,
      transitions: 0,
      rejected: 0,
      strategy: 'consecutive',
      consecutiveFailures: 0,
    })
    for (let i = 0; i < 4; i++) await r.attempt('fail')
    expect(r.breaker.state).toBe('closed')
    expect(r.breaker.stats()).toMatchObject({ consecutiveFailures: 4 })
    await r.attempt('fail')
    expect(r.breaker.state).toBe('open')
    expect(r.calls()).toBe(10)
  })

  it('opens after `consecutive` failures', async () => {
    const r = rig({ consecutive: 2 })
    await r.attempt('fail')
    expect(r.breaker.state).toBe('closed')
    await r.attempt('fail')
    expect(r.breaker.state).toBe('open')
  })
})

describe('circuitBreaker(): ratio rule', () => {
  it('never opens below minThroughput, then opens once the window holds enough calls at the ratio', async () => {
    const r = rig({ ratio: 0.5, minThroughput: 10, window: 10_000 })
    for (let i = 0; i < 9; i++) {
      await r.attempt('fail')
      r.time.advance(100)
    }
    expect(r.breaker.state).toBe('closed') // 9 of 9 failed, but only 9 calls
    expect(r.breaker.stats()).toEqual({
      kind: 'circuitBreaker',
      name: 'circuit',
      state: 'closed',
      opened: 0,
      transitions: 0,
      rejected: 0,
      strategy: 'ratio',
      calls: 9,
      failures: 9,
    })
    await r.attempt('fail')
    expect(r.breaker.state).toBe('open')
  })

  it('stays closed while the failure ratio is below the threshold, opens when it reaches it', async () => {
    const r = rig({ ratio: 0.3, minThroughput: 10 })
    for (let i = 0; i < 8; i++) await r.attempt('ok')
    await r.attempt('fail')
    await r.attempt('fail') // 2 of 10 = 0.2
    expect(r.breaker.state).toBe('closed')
    await r.attempt('ok')
    await r.attempt('ok')
    await r.attempt('fail') // 3 of 13 ≈ 0.23
    expect(r.breaker.state).toBe('closed')
    await r.attempt('fail') // 4 of 14 ≈ 0.29
    expect(r.breaker.state).toBe('closed')
    await r.attempt('fail') // 5 of 15 ≈ 0.33
    expect(r.breaker.state).toBe('open')
  })

  it('judges the ratio exactly at the threshold (7 of 25 is 0.28: no float drift, 0.28 × 25 > 7)', async () => {
    const r = rig({ ratio: 0.28, minThroughput: 25 })
    for (let i = 0; i < 18; i++) await r.attempt('ok')
    for (let i = 0; i < 6; i++) await r.attempt('fail')
    expect(r.breaker.state).toBe('closed')
    await r.attempt('fail')
    expect(r.breaker.state).toBe('open')
  })

  it('the sliding window forgets old outcomes (bounded by 10 buckets of window/10)', async () => {
    const r = rig({ ratio: 0.5, minThroughput: 4, window: 10_000 })
    for (let i = 0; i < 3; i++) await r.attempt('fail') // at t0
    r.time.advance(9_000) // still inside the window: the oldest bucket is the 10th
    expect(r.breaker.stats()).toMatchObject({ calls: 3, failures: 3 }) // as of the last call seen
    await r.attempt('ok') // 3 of 4 failed, but a success never trips
    expect(r.breaker.state).toBe('closed')
    r.time.advance(1_000) // t0 + 10 s: the first three have left the window
    await r.attempt('fail')
    expect(r.breaker.stats()).toMatchObject({ state: 'closed', calls: 2, failures: 1 })
    for (let i = 0; i < 2; i++) await r.attempt('fail')
    expect(r.breaker.stats()).toMatchObject({ state: 'open', calls: 4, failures: 3 })
  })

  it('failures spread over more than a window never add up', async () => {
    const r = rig({ ratio: 1, minThroughput: 5, window: 1_000 })
    for (let i = 0; i < 50; i++) {
      await r.attempt('fail')
      r.time.advance(250) // at most 4 in any window
    }
    expect(r.breaker.state).toBe('closed')
    expect(r.calls()).toBe(50)
  })
})

describe('circuitBreaker(): open and half-open', () => {
  it('while open, fails fast without calling next; the error says when it retries', async () => {
    const r = rig({ name: 'payments', consecutive: 1, halfOpenAfter: 5_000 })
    const openedAt = r.time.t
    await r.attempt('fail')
    r.time.advance(1_234)
    const result = await r.attempt('ok')
    expect(r.calls()).toBe(1)
    expect(result.ok).toBe(false)
    const error = (result as { error: CircuitOpenError }).error
    expect(error).toBeInstanceOf(CircuitOpenError)
    expect(isFanoutError(error, 'FANOUT_CIRCUIT_OPEN')).toBe(true)
    expect(error).toMatchObject({
      breaker: 'payments',
      retryAt: openedAt + 5_000,
      retryAfterMs: 3_766,
    })
    expect(error.message).toBe(
      'Circuit "payments" is open: calls are failing fast; it will let a trial call through in 3766 ms',
    )
    expect(r.breaker.stats()).toEqual({
      kind: 'circuitBreaker',
      name: 'payments',
      state: 'open',
      retryAt: openedAt + 5_000,
      opened: 1,
      transitions: 1,
      rejected: 1,
      strategy: 'consecutive',
      consecutiveFailures: 1,
    })
    r.time.advance(3_765)
    await expect(r.run('ok')).rejects.toMatchObject({ retryAfterMs: 1 })
    expect(r.calls()).toBe(1)
  })

  it('after halfOpenAfter lets exactly one probe through; concurrent calls fail fast', async () => {
    const r = rig({ consecutive: 1, halfOpenAfter: 1_000 })
    await r.attempt('fail')
    r.time.advance(1_000)
    expect(r.breaker.state).toBe('open') // no timer: the next call makes the move
    const probe = deferred<string>()
    const probing = r.run(() => probe.promise)
    expect(r.breaker.state).toBe('halfOpen')
    const others = await Promise.all([r.attempt('ok'), r.attempt('ok'), r.attempt('ok')])
    for (const o of others)
      expect((o as { error: unknown }).error).toMatchObject({
        code: 'FANOUT_CIRCUIT_OPEN',
        retryAfterMs: 0,
      })
    expect(r.calls()).toBe(2) // the trip and the probe
    probe.resolve('back')
    await expect(probing).resolves.toBe('back')
    expect(r.breaker.state).toBe('closed')
  })

  it('a successful probe closes the circuit and resets the counters', async () => {
    const r = rig({ consecutive: 3, halfOpenAfter: 1_000 })
    for (let i = 0; i < 3; i++) await r.attempt('fail')
    r.time.advance(1_000)
    await r.attempt('ok')
    expect(r.breaker.stats()).toEqual({
      kind: 'circuitBreaker',
      name: 'circuit',
      state: 'closed',
      opened: 1,
      transitions: 3, // closed → open → halfOpen → closed
      rejected: 0,
      strategy: 'consecutive',
      consecutiveFailures: 0,
    })
    await r.attempt('fail')
    await r.attempt('fail')
    expect(r.breaker.state).toBe('closed') // counting started again from 0
    const ratio = rig({ ratio: 0.5, minThroughput: 2, halfOpenAfter: 1_000 })
    await ratio.attempt('fail')
    await ratio.attempt('fail')
    ratio.time.advance(1_000)
    await ratio.attempt('ok')
    expect(ratio.breaker.stats()).toEqual({
      kind: 'circuitBreaker',
      name: 'circuit',
      state: 'closed',
      opened: 1,
      transitions: 3,
      rejected: 0,
      strategy: 'ratio',
      calls: 0,
      failures: 0,
    })
  })

  it('a failed probe opens the circuit for another halfOpenAfter, counted from the failure', async () => {
    const r = rig({ consecutive: 1, halfOpenAfter: 1_000 })
    await r.attempt('fail')
    r.time.advance(1_500)
    const probe = deferred<string>()
    const probing = r.attempt(() => probe.promise)
    r.time.advance(200)
    probe.reject(boom())
    expect((await probing).ok).toBe(false)
    expect(r.breaker.state).toBe('open')
    await expect(r.run('ok')).rejects.toMatchObject({
      retryAt: r.time.t + 1_000,
      retryAfterMs: 1_000,
    })
    r.time.advance(1_000)
    await expect(r.run('ok')).resolves.toBe('ok')
    expect(r.changes()).toEqual([
      'closed→open',
      'open→halfOpen',
      'halfOpen→open',
      'open→halfOpen',
      'halfOpen→closed',
    ])
  })

  it('a probe that throws synchronously still frees the probe slot', async () => {
    const r = rig({ consecutive: 1, halfOpenAfter: 1_000 })
    await r.attempt('fail')
    r.time.advance(1_000)
    const result = await r.attempt(() => {
      throw boom()
    })
    expect(result.ok).toBe(false)
    expect(r.breaker.state).toBe('open')
    r.time.advance(1_000)
    await expect(r.run('ok')).resolves.toBe('ok')
  })

  it('outcomes of calls admitted before a transition change nothing', async () => {
    const r = rig({ consecutive: 1, halfOpenAfter: 1_000 })
    const slowFailure = deferred<string>()
    const slowSuccess = deferred<string>()
    const a = r.attempt(() => slowFailure.promise)
    const b = r.attempt(() => slowSuccess.promise)
    await r.attempt('fail') // opens
    slowSuccess.resolve('late') // admitted while closed: does not close the open circuit
    await b
    expect(r.breaker.state).toBe('open')
    r.time.advance(1_000)
    await r.attempt('ok') // probe closes it
    slowFailure.reject(boom()) // admitted two generations ago: does not reopen it
    await a
    expect(r.breaker.state).toBe('closed')
    expect(r.changes()).toEqual(['closed→open', 'open→halfOpen', 'halfOpen→closed'])
  })
})

describe('circuitBreaker(): what counts as a failure', () => {
  it('an abort by the caller is not counted, even during a probe', async () => {
    const r = rig({ consecutive: 1, halfOpenAfter: 1_000 })
    for (let i = 0; i < 3; i++) {
      const caller = new AbortController()
      const pending = r.attempt(
        () =>
          new Promise<string>((_, reject) =>
            caller.signal.addEventListener('abort', () => reject(caller.signal.reason)),
          ),
        { signal: caller.signal },
      )
      caller.abort(new Error('client went away'))
      expect((await pending).ok).toBe(false)
    }
    expect(r.breaker.state).toBe('closed')
    await r.attempt('fail')
    r.time.advance(1_000)
    const caller = new AbortController()
    const probe = r.attempt(() => (caller.abort(), Promise.reject(boom())), {
      signal: caller.signal,
    })
    expect((await probe).ok).toBe(false)
    expect(r.breaker.state).toBe('halfOpen') // nothing learned: the next call is the probe
    await expect(r.run('ok')).resolves.toBe('ok')
    expect(r.breaker.state).toBe('closed')
  })

  it.each([
    [{ status: 400 }, false],
    [{ status: 404 }, false],
    [{ statusCode: 422 }, false],
    [{ status: 408 }, true],
    [{ status: 429 }, true],
    [{ statusCode: 429 }, true],
    [{ status: 500 }, true],
    [{ status: '404' }, true],
    [{}, true],
  ])('by default an error with %o counts: %s', async (fields, counts) => {
    const r = rig({ consecutive: 1 })
    await r.attempt(() => Promise.reject(Object.assign(new Error('x'), fields)))
    expect(r.breaker.state).toBe(counts ? 'open' : 'closed')
  })

  it('a DeadlineError (the caller’s time budget ran out) does not count by default', async () => {
    const r = rig({ consecutive: 1 })
    await r.attempt(() =>
      Promise.reject(new DeadlineError('"call" ran out of time: the deadline passed', 5)),
    )
    expect(r.breaker.state).toBe('closed')
    await r.attempt(() => Promise.reject(new TimeoutError('"call" timed out after 5 ms', 5)))
    expect(r.breaker.state).toBe('open')
  })

  it('4xx errors are neither failures nor successes', async () => {
    const r = rig({ consecutive: 2 })
    const notFound = () => Promise.reject(Object.assign(new Error('nope'), { status: 404 }))
    await r.attempt('fail')
    await r.attempt(notFound)
    await r.attempt('fail')
    expect(r.breaker.state).toBe('open')
    await expect(r.attempt(notFound)).resolves.toMatchObject({
      error: { code: 'FANOUT_CIRCUIT_OPEN' },
    })
  })

  it('isFailure decides, but never sees an abort by the caller; a throwing isFailure counts as a failure', async () => {
    const seen: unknown[] = []
    const r = rig({
      consecutive: 1,
      isFailure: (e) => (seen.push(e), (e as Error).message === 'real'),
    })
    await r.attempt(() => Promise.reject(boom()))
    expect(r.breaker.state).toBe('closed')
    const caller = new AbortController()
    await r.attempt(() => (caller.abort(), Promise.reject(new Error('real'))), {
      signal: caller.signal,
    })
    expect(r.breaker.state).toBe('closed')
    expect(seen).toHaveLength(1)
    await r.attempt(() => Promise.reject(new Error('real')))
    expect(r.breaker.state).toBe('open')

    const bug = new TypeError('predicate bug')
    const broken = rig({
      consecutive: 1,
      isFailure: () => {
        throw bug
      },
    })
    await expect(broken.run('fail')).rejects.toBe(bug)
    expect(broken.breaker.state).toBe('open')
  })
})

describe('circuitBreaker(): events, sharing, integration', () => {
  it('emits circuit.changed on every transition, in order, with the call’s task and time', async () => {
    const r = rig({ name: 'inventory', consecutive: 1, halfOpenAfter: 1_000 })
    const t0 = r.time.t
    await r.attempt('fail', { task: 'stock' })
    r.time.advance(1_000)
    await r.attempt('fail', { task: 'probe-1' })
    r.time.advance(1_000)
    await r.attempt('ok', { task: 'probe-2' })
    expect(r.trace.events).toEqual([
      {
        type: 'circuit.changed',
        task: 'stock',
        at: t0,
        breaker: 'inventory',
        from: 'closed',
        to: 'open',
      },
      {
        type: 'circuit.changed',
        task: 'probe-1',
        at: t0 + 1_000,
        breaker: 'inventory',
        from: 'open',
        to: 'halfOpen',
      },
      {
        type: 'circuit.changed',
        task: 'probe-1',
        at: t0 + 1_000,
        breaker: 'inventory',
        from: 'halfOpen',
        to: 'open',
      },
      {
        type: 'circuit.changed',
        task: 'probe-2',
        at: t0 + 2_000,
        breaker: 'inventory',
        from: 'open',
        to: 'halfOpen',
      },
      {
        type: 'circuit.changed',
        task: 'probe-2',
        at: t0 + 2_000,
        breaker: 'inventory',
        from: 'halfOpen',
        to: 'closed',
      },
    ])
  })

  it('builds no event when tracing is off', async () => {
    const r = rig({ consecutive: 1 })
    const emit = vi.fn()
    await r.attempt('fail', { trace: { enabled: false, emit } })
    expect(r.breaker.state).toBe('open')
    expect(emit).not.toHaveBeenCalled()
  })

  it('one breaker shared by two pipelines counts the calls of both', async () => {
    useFakeTime()
    const shared = circuitBreaker({ name: 'search', consecutive: 4 })
    let upstream = 0
    const failing = () => (upstream++, Promise.reject(boom()))
    const viaTimeout = pipe(shared, timeout(1_000)).wrap(failing)
    const direct = pipe(shared).wrap(failing)
    for (const call of [viaTimeout, direct, viaTimeout])
      await expect(execute(call)).rejects.toThrow('upstream down')
    expect(shared.state).toBe('closed')
    await expect(execute(direct)).rejects.toThrow('upstream down')
    expect(shared.state).toBe('open')
    await expect(execute(viaTimeout)).rejects.toBeInstanceOf(CircuitOpenError)
    expect(upstream).toBe(4)
  })

  it('with execute() and timeout() inside: timeouts count, the caller’s deadline does not, and no timer is left', async () => {
    useFakeTime()
    const events: TraceEvent[] = []
    const breaker = circuitBreaker({ name: 'slow', consecutive: 2, halfOpenAfter: 10_000 })
    const call = pipe(breaker, timeout(100)).wrap((ctx) => after(1_000, 'late', ctx.signal))
    const deadlineOnly = await settle(
      execute(call, { deadline: 50, onEvent: (e) => events.push(e) }),
    )
    expect((deadlineOnly as { error: unknown }).error).toMatchObject({ code: 'FANOUT_DEADLINE' })
    expect(breaker.state).toBe('closed')
    for (let i = 0; i < 2; i++) {
      const result = await settle(execute(call, { onEvent: (e) => events.push(e) }))
      expect((result as { error: unknown }).error).toBeInstanceOf(TimeoutError)
    }
    expect(breaker.state).toBe('open')
    const t = now()
    const fast = await settle(execute(call, { onEvent: (e) => events.push(e) }))
    expect(now()).toBe(t)
    expect((fast as { error: unknown }).error).toMatchObject({
      code: 'FANOUT_CIRCUIT_OPEN',
      retryAfterMs: 10_000,
    })
    expect(events.filter((e) => e.type === 'circuit.changed')).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('is named after its name', () => {
    expect(circuitBreaker().name).toBe('circuitBreaker(circuit)')
    expect(circuitBreaker({ name: 'payments', ratio: 0.5 }).name).toBe('circuitBreaker(payments)')
    expect(pipe(circuitBreaker({ name: 'p' }), timeout(10)).name).toBe(
      'circuitBreaker(p) → timeout(10)',
    )
  })
})

describe('circuitBreaker(): validation', () => {
  const cases: [string, unknown, string][] = [
    [
      'L1: consecutive 0',
      { consecutive: 0 },
      '`consecutive` must be an integer from 1 to 1000, got 0.',
    ],
    [
      'L1: consecutive 2.5',
      { consecutive: 2.5 },
      '`consecutive` must be an integer from 1 to 1000, got 2.5.',
    ],
    [
      'L1: consecutive 1001',
      { consecutive: 1001 },
      '`consecutive` must be an integer from 1 to 1000, got 1001.',
    ],
    [
      'L1: consecutive "5"',
      { consecutive: '5' },
      '`consecutive` must be an integer from 1 to 1000, got "5". Pass a number, not a string.',
    ],
    [
      'L1: ratio 0',
      { ratio: 0 },
      '`ratio` must be a number greater than 0 and at most 1 (the share of calls that failed: 0.5 = half), got 0. A ratio of 0 would trip on no failure at all.',
    ],
    [
      'L1: ratio 50 (a percentage)',
      { ratio: 50 },
      '`ratio` must be a number greater than 0 and at most 1 (the share of calls that failed: 0.5 = half), got 50. For 50% pass 0.5.',
    ],
    [
      'L1: ratio NaN',
      { ratio: Number.NaN },
      '`ratio` must be a number greater than 0 and at most 1 (the share of calls that failed: 0.5 = half), got NaN.',
    ],
    [
      'L1: ratio -0.5',
      { ratio: -0.5 },
      '`ratio` must be a number greater than 0 and at most 1 (the share of calls that failed: 0.5 = half), got -0.5.',
    ],
    [
      'L1: minThroughput 0',
      { ratio: 0.5, minThroughput: 0 },
      '`minThroughput` must be an integer from 1 to 1000000, got 0.',
    ],
    [
      'L1: minThroughput 1.5',
      { ratio: 0.5, minThroughput: 1.5 },
      '`minThroughput` must be an integer from 1 to 1000000, got 1.5.',
    ],
    [
      'L1: window 999',
      { ratio: 0.5, window: 999 },
      '`window` must be within 1000–3600000 ms, got 999.',
    ],
    [
      'L1: window 1 h + 1',
      { ratio: 0.5, window: 3_600_001 },
      '`window` must be within 1000–3600000 ms, got 3600001.',
    ],
    [
      'L1: halfOpenAfter 0',
      { halfOpenAfter: 0 },
      '`halfOpenAfter` must be within 1–86400000 ms, got 0. 0 does not mean "no limit": omit the option instead.',
    ],
    [
      'L1: halfOpenAfter Infinity',
      { halfOpenAfter: Infinity },
      '`halfOpenAfter` must be within 1–86400000 ms, got Infinity.',
    ],
    [
      'L1: halfOpenAfter "30s"',
      { halfOpenAfter: '30s' },
      '`halfOpenAfter` must be a number of milliseconds (1–86400000 ms), got "30s". Pass a number, e.g. 500, not a string.',
    ],
    [
      'L1: consecutive and ratio together',
      { consecutive: 3, ratio: 0.5 },
      '`consecutive` and `ratio` are two different trip rules: pass one or the other, not both (got consecutive: 3, ratio: 0.5).',
    ],
    [
      'L1: minThroughput without ratio',
      { consecutive: 3, minThroughput: 10 },
      '`minThroughput` only applies to the ratio rule: add `ratio` (e.g. ratio: 0.5) or remove `minThroughput`.',
    ],
    [
      'L1: window without ratio',
      { window: 5_000 },
      '`window` only applies to the ratio rule: add `ratio` (e.g. ratio: 0.5) or remove `window`.',
    ],
    [
      'L4: misspelt option',
      { consequtive: 3 },
      'unknown option `consequtive`. Did you mean `consecutive`?',
    ],
    [
      'L4: wrong case',
      { minthroughput: 3 },
      'unknown option `minthroughput`. Did you mean `minThroughput`?',
    ],
    [
      'L4: unknown option, nothing close',
      { threshold: 0.5 },
      'unknown option `threshold`. Known options: `name`, `consecutive`, `ratio`, `minThroughput`, `window`, `halfOpenAfter`, `isFailure`.',
    ],
    [
      'L4: misspelt option, full message',
      { halfOpenAfer: 1_000 },
      'unknown option `halfOpenAfer`. Did you mean `halfOpenAfter`? Known options: `name`, `consecutive`, `ratio`, `minThroughput`, `window`, `halfOpenAfter`, `isFailure`.',
    ],
    ['L4: empty name', { name: '' }, '`name` must be a non-empty string, got "".'],
    ['L4: name not a string', { name: 42 }, '`name` must be a non-empty string, got 42.'],
    [
      'L4: isFailure not a function',
      { isFailure: true },
      '`isFailure` must be a function (error) => boolean, got true.',
    ],
    ['L4: options not an object', 5, 'options must be a plain object, got 5.'],
  ]

  it.each(cases)('%s', (_, options, message) => {
    expect(() => circuitBreaker(options as CircuitBreakerOptions)).toThrow(InvalidOptionError)
    expect(() => circuitBreaker(options as CircuitBreakerOptions)).toThrow(
      `circuitBreaker(): ${message}`,
    )
  })

  it('L7: options are snapshotted at construction', async () => {
    const options = { consecutive: 2 }
    const r = manualClock()
    const breaker = circuitBreaker(options)
    options.consecutive = 100
    const call = breaker.wrap(() => Promise.reject(boom()))
    for (let i = 0; i < 2; i++)
      await expect(call(context({ clock: r.clock }))).rejects.toThrow('upstream down')
    expect(breaker.state).toBe('open')
  })

  it('the trip rules are exclusive in the types too', () => {
    // @ts-expect-error consecutive and ratio together
    expect(() => circuitBreaker({ consecutive: 3, ratio: 0.5 })).toThrow(InvalidOptionError)
    // @ts-expect-error window without ratio
    expect(() => circuitBreaker({ window: 5_000 })).toThrow(InvalidOptionError)
    expect(
      circuitBreaker({
        ratio: 1,
        minThroughput: 1,
        window: 1_000,
        halfOpenAfter: 1,
        name: 'x',
        isFailure: () => true,
      }).state,
    ).toBe('closed')
  })
})

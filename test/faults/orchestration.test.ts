/**
 * Fault catalogue, section A (orchestration, dependencies, cancellation) and the flow-related
 * cases of J, K and L. Test names start with the case id.
 */
import { describe, expect, it, vi } from 'vitest'
import {
  flow,
  FlowError,
  isFanoutError,
  InvalidOptionError,
  systemClock,
  MAX_DELAY_FOR_TESTS,
  type Flow,
} from './imports.js'
import { after, failAfter, now, settle, useFakeTime } from '../helpers/time.js'

/** A fake upstream that counts the requests it receives per endpoint. */
function upstream() {
  const requests: Record<string, number> = {}
  return {
    requests,
    call<T>(endpoint: string, ms: number, value: T, signal?: AbortSignal): Promise<T> {
      requests[endpoint] = (requests[endpoint] ?? 0) + 1
      return after(ms, value, signal)
    },
  }
}

describe('A. orchestration', () => {
  it('A1: a failed required auth starts no dependent data call, aborts running siblings and names auth with its cause', async () => {
    useFakeTime()
    const api = upstream()
    const cause = Object.assign(new Error('invalid token'), { status: 401 })
    const startedAt: Record<string, number> = {}
    const signals: AbortSignal[] = []
    const t0 = now()
    const f = flow<{ token: string }>('route')
      .gate('auth', (_, { signal }) =>
        api.call('auth', 40, null, signal).then(() => Promise.reject(cause)),
      )
      .task(
        'headers',
        (_, { signal }) => (signals.push(signal), api.call('headers', 10, {}, signal)),
        { after: [] },
      )
      .task(
        'user',
        (_, { signal }) => ((startedAt.user = now() - t0), api.call('user', 30, 'u', signal)),
      )
      .task(
        'settings',
        (_, { signal }) => (
          (startedAt.settings = now() - t0),
          api.call('settings', 30, 's', signal)
        ),
      )
      .task(
        'balance',
        (_, { signal }) => ((startedAt.balance = now() - t0), api.call('balance', 30, 1, signal)),
      )
    const result = await settle(f.run({ token: 'bad' }))
    expect(result.ok).toBe(false)
    const error = (result as { error: FlowError }).error
    expect(error).toBeInstanceOf(FlowError)
    expect(error.task).toBe('auth')
    expect(error.cause).toBe(cause)
    expect(error.message).toContain('gate "auth" failed')
    // Not one data call reached the upstream, and no task function was even called.
    expect(api.requests).toEqual({ auth: 1 })
    expect(startedAt).toEqual({})
    expect(signals).toEqual([])
  })

  it('A1: a required task failing aborts its running siblings through their signals', async () => {
    useFakeTime()
    const fired: string[] = []
    const sibling =
      (name: string) =>
      (_: unknown, { signal }: { signal: AbortSignal }) => {
        signal.addEventListener('abort', () => fired.push(name))
        return after(100, name, signal)
      }
    const f = flow()
      .task('a', sibling('a'))
      .task('b', sibling('b'))
      .task('auth', () => failAfter(10, new Error('403')))
      .task('c', sibling('c'))
    const result = await settle(f.run())
    expect(result.ok).toBe(false)
    expect(fired.sort()).toEqual(['a', 'b', 'c'])
  })

  it('A2: an optional node that rejects or times out yields its fallback and a recorded error; others are unaffected', async () => {
    useFakeTime()
    let errors: unknown[] = []
    const f = flow()
      .task('reviews', () => failAfter(5, new Error('503')), { fallback: [] as string[] })
      .task('recs', (_, { signal }) => after(1_000, ['r'], signal), { timeout: 50, fallback: null })
      .task('product', () => after(60, { id: 1 }))
    const result = await settle(
      f.run(undefined, {
        onTrace: (t) =>
          (errors = t.tasks.filter((x) => x.status === 'fallback').map((x) => x.error)),
      }),
    )
    expect(result).toEqual({ ok: true, value: { reviews: [], recs: null, product: { id: 1 } } })
    expect(errors).toHaveLength(2)
    expect(errors[0]).toMatchObject({ message: '503' })
    expect(errors[1]).toMatchObject({ code: 'FANOUT_TIMEOUT' })
  })

  it('A6: a signal aborted before run() rejects with its reason, calls nothing and creates no timer', async () => {
    useFakeTime()
    let called = false
    const reason = new Error('already gone')
    const f = flow().task('a', () => ((called = true), 1))
    const run = f.run(undefined, { signal: AbortSignal.abort(reason), deadline: 1_000 })
    expect(vi.getTimerCount()).toBe(0)
    await expect(run).rejects.toBe(reason)
    expect(called).toBe(false)
  })

  it('A7: a duplicate task name throws at construction', () => {
    expect(() =>
      flow('f')
        .task('a', () => 1)
        .task('a' as never, () => 2),
    ).toThrow(
      new InvalidOptionError(
        'flow "f": task "a": a task with this name is already defined; task names must be unique.',
      ),
    )
    expect(() =>
      flow('f')
        .tasks({ a: () => 1, b: () => 2 })
        .tasks({ b: () => 3 } as never),
    ).toThrow('task "b": a task with this name is already defined')
  })

  it('A7: an unknown `after` name (or a forward or self reference) throws at construction, naming it', () => {
    const base = flow('f').task('user', () => 1)
    expect(() => base.task('b', () => 2, { after: ['usr' as 'user'] })).toThrow(
      'flow "f": task "b": `after` names "usr", which is not an earlier task of this flow. Did you mean "user"?',
    )
    expect(() => base.task('b', () => 2, { after: ['b' as 'user'] })).toThrow(
      '(a task cannot wait for itself)',
    )
    expect(() => base.task('b', () => 2, { after: 'user' as never })).toThrow(
      '`after` must be an array of task names, got "user".',
    )
  })

  it('A7: a dependency cycle discovered at run time rejects naming the cycle (never hangs)', async () => {
    const f = flow('cyc')
      .task('a', async ($) => (await ($ as unknown as Record<string, Promise<number>>).b!) + 1)
      .task('b', async ($) => (await $.a) + 1)
    await expect(f.run()).rejects.toMatchObject({ code: 'FANOUT_CYCLE', cycle: ['b', 'a', 'b'] })
    const settled = await f.settle()
    expect(settled.b).toMatchObject({ status: 'rejected', reason: { code: 'FANOUT_CYCLE' } })
  })

  it('A8: a task function that throws synchronously is treated exactly like a rejection', async () => {
    const boom = new Error('sync boom')
    const f = flow().task('a', (): number => {
      throw boom
    })
    const error = (await f.run().catch((e: unknown) => e)) as FlowError
    expect(error.task).toBe('a')
    expect(error.cause).toBe(boom)
    const optional = flow().task(
      'a',
      (): number => {
        throw boom
      },
      { fallback: 0 },
    )
    await expect(optional.run()).resolves.toEqual({ a: 0 })
  })

  it('A9: a task that settles after the run ended is ignored: no unhandled rejection, no state change', async () => {
    useFakeTime()
    let trace: string[] = []
    const f = flow()
      .task('fails', () => failAfter(5, new Error('x')))
      // Ignores its signal and rejects long after the run ended.
      .task('stubborn', () => failAfter(50, new Error('late')))
      .task('late', () => after(60, 'late value'))
    const result = await settle(
      f.run(undefined, { onTrace: (t) => (trace = t.tasks.map((x) => x.status)) }),
    )
    expect(result.ok).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    expect(trace).toEqual(['rejected', 'aborted', 'aborted'])
    // test/setup.ts fails the test on any unhandled rejection.
  })

  it('A9: a task awaiting a dependency when the run ends is released, not left hanging', async () => {
    useFakeTime()
    let readerOutcome: unknown
    const f = flow()
      .task('slow', () => after(100, 1))
      .task('reader', async ($) => {
        try {
          return await $.slow
        } catch (e) {
          readerOutcome = e
          throw e
        }
      })
      .task('fails', () => failAfter(5, new Error('x')))
    await settle(f.run())
    await vi.advanceTimersByTimeAsync(0)
    expect(isFanoutError(readerOutcome, 'FANOUT_ABORTED')).toBe(true)
    await vi.advanceTimersByTimeAsync(100)
  })

  it('A10: 10,000 independent tasks and a 10,000-deep chain run without stack overflow', async () => {
    let wide = flow('wide') as unknown as Flow<Record<string, number>>
    for (let i = 0; i < 10_000; i++)
      wide = wide.task(`t${i}` as never, () => i) as unknown as Flow<Record<string, number>>
    const w = (await wide.run()) as Record<string, number>
    expect(Object.keys(w)).toHaveLength(10_000)
    expect(w.t9999).toBe(9_999)

    let chain = flow('chain').task('t0', () => 0) as unknown as Flow<Record<string, number>>
    for (let i = 1; i < 10_000; i++) {
      const prev = `t${i - 1}`
      chain = chain.task(
        `t${i}` as never,
        async ($: Record<string, Promise<number>>) => (await $[prev]!) + 1,
      ) as unknown as Flow<Record<string, number>>
    }
    const c = (await chain.run()) as Record<string, number>
    expect(c.t9999).toBe(9_999)

    let ordered = flow('after-chain').task('t0', () => 0) as unknown as Flow<Record<string, number>>
    for (let i = 1; i < 10_000; i++)
      ordered = ordered.task(`t${i}` as never, () => i, {
        after: [`t${i - 1}`],
      }) as unknown as Flow<Record<string, number>>
    expect(((await ordered.run()) as Record<string, number>).t9999).toBe(9_999)
  })

  it('A12: a result read by two dependants is computed exactly once', async () => {
    let calls = 0
    const f = flow()
      .task('user', () => (calls++, Promise.resolve({ id: 7 })))
      .task('a', async ($) => (await $.user).id + 1)
      .task('b', async ($) => (await $.user).id + 2)
      .task('c', async ($) => (await $.user).id + (await $.user).id)
    await expect(f.run()).resolves.toMatchObject({ a: 8, b: 9, c: 14 })
    expect(calls).toBe(1)
  })
})

describe('J, K, L: leaks, clocks and options', () => {
  it('J2: one long-lived signal reused across 10,000 runs keeps no listener', async () => {
    const controller = new AbortController()
    let added = 0
    let removed = 0
    const signal = controller.signal
    const add = signal.addEventListener.bind(signal)
    const remove = signal.removeEventListener.bind(signal)
    signal.addEventListener = ((...args: Parameters<typeof add>) => (
      added++,
      add(...args)
    )) as typeof add
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => (
      removed++,
      remove(...args)
    )) as typeof remove
    const f = flow()
      .task('a', () => 1)
      .task('b', async ($) => (await $.a) + 1, { timeout: 1_000 })
    for (let i = 0; i < 10_000; i++) await f.run(undefined, { signal })
    expect(added).toBe(10_000)
    expect(removed).toBe(added)
  })

  it('J1: a finished run leaves no timer behind (deadline, task timeouts)', async () => {
    useFakeTime()
    const f = flow()
      .task('a', () => after(10, 1), { timeout: 500 })
      .task('b', () => failAfter(20, new Error('x')), { timeout: 500, fallback: 0 })
    await settle(f.run(undefined, { deadline: 10_000 }))
    expect(vi.getTimerCount()).toBe(0)
    const failing = flow()
      .task('a', (_, { signal }) => after(100, 1, signal), { timeout: 500 })
      .task('b', () => failAfter(20, new Error('x')))
    await settle(failing.run(undefined, { deadline: 10_000 }))
    expect(vi.getTimerCount()).toBe(0)
  })

  it('K3: the system clock uses the global timers at call time, so fake timers drive it', async () => {
    useFakeTime()
    let fired = false
    systemClock.setTimeout(() => (fired = true), 1_000)
    await vi.advanceTimersByTimeAsync(999)
    expect(fired).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(fired).toBe(true)
  })

  it('K4: delays above 2^31-1 ms neither fire early nor overflow', async () => {
    useFakeTime()
    let fired = false
    const handle = systemClock.setTimeout(() => (fired = true), MAX_DELAY_FOR_TESTS * 2 + 5)
    await vi.advanceTimersByTimeAsync(MAX_DELAY_FOR_TESTS)
    expect(fired).toBe(false)
    await vi.advanceTimersByTimeAsync(MAX_DELAY_FOR_TESTS)
    expect(fired).toBe(false)
    await vi.advanceTimersByTimeAsync(5)
    expect(fired).toBe(true)
    systemClock.clearTimeout(handle)
    let never = false
    const nan = systemClock.setTimeout(() => (never = true), Number.NaN)
    await vi.advanceTimersByTimeAsync(0)
    expect(never).toBe(true)
    systemClock.clearTimeout(nan)
  })

  it.each([
    [-1, '`timeout` must be within 1–Number.MAX_SAFE_INTEGER ms, got -1.'],
    [
      0,
      '`timeout` must be within 1–Number.MAX_SAFE_INTEGER ms, got 0. 0 does not mean "no limit": omit the option instead.',
    ],
    [
      Number.NaN,
      '`timeout` must be a number of milliseconds (1–Number.MAX_SAFE_INTEGER ms), got NaN.',
    ],
    [
      '500',
      '`timeout` must be a number of milliseconds (1–Number.MAX_SAFE_INTEGER ms), got "500". Pass a number, e.g. 500, not a string.',
    ],
    [Infinity, '`timeout` must be within 1–Number.MAX_SAFE_INTEGER ms, got Infinity.'],
  ])('L3: timeout %s is rejected at construction', (value, message) => {
    expect(() => flow('f').task('a', () => 1, { timeout: value as number })).toThrow(
      `flow "f": task "a": ${message}`,
    )
  })

  it('L4: an unknown option gets a "did you mean"', () => {
    expect(() => flow('f').task('a', () => 1, { timout: 5 } as never)).toThrow(
      'flow "f": task "a": unknown option `timout`. Did you mean `timeout`? Known options: `after`, `timeout`, `retry`, `circuitBreaker`, `hedge`, `policies`, `fallback`.',
    )
    expect(() => flow('f').gate('a', () => 1, { fallback: 5 } as never)).toThrow(
      'flow "f": gate "a": unknown option `fallback`.',
    )
    expect(() => flow({ nme: 'x' } as never)).toThrow(
      'flow(): unknown option `nme`. Did you mean `name`?',
    )
  })

  it('L4: bad task functions, names and policies are rejected with what was received', () => {
    expect(() => flow('f').task('a', 'nope' as never)).toThrow(
      'flow "f": task "a": expected a function ($, ctx) => value, got "nope".',
    )
    expect(() => flow('f').task('' as never, () => 1)).toThrow(
      'the name must be a non-empty string',
    )
    expect(() => flow('f').task('a', () => 1, { policies: [{}] as never })).toThrow(
      'each entry of `policies` must be a policy (an object with wrap()), got an object (Object).',
    )
  })

  it('L5: a deadline already past rejects at once with no upstream call', async () => {
    useFakeTime()
    let called = false
    const f = flow().task('a', () => ((called = true), 1))
    await expect(f.run(undefined, { deadlineAt: now() - 1 })).rejects.toMatchObject({
      code: 'FANOUT_DEADLINE',
    })
    expect(called).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('L7: task options are snapshotted at construction; later mutation has no effect', async () => {
    useFakeTime()
    const options = { timeout: 50, after: [] as 'a'[] }
    const f = flow()
      .task('a', () => 1)
      .task('b', (_, { signal }) => after(100, 2, signal), options)
    options.timeout = 10_000
    options.after.push('a')
    expect(f.describe().tasks[1]).toMatchObject({ timeout: 50, after: [] })
    const result = await settle(f.run())
    expect((result as { error: unknown }).error).toMatchObject({
      cause: { code: 'FANOUT_TIMEOUT', timeoutMs: 50 },
    })
  })
})

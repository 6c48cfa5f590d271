import { describe, expect, it, vi } from 'vitest'
import {
  flow,
  FlowExit,
  isExit,
  FlowError,
  CycleError,
  UnknownTaskError,
  DependencyError,
  SkippedError,
  isFanoutError,
  type FlowTrace,
} from '../index.js'
import { after, failAfter, now, settle, useFakeTime } from '../../test/helpers/time.js'
import type { Clock } from '../core/clock.js'
import { warningsDuring } from '../../test/helpers/warnings.js'

describe('flows: parallelism and dependencies', () => {
  it('starts independent tasks together and each dependant the moment its inputs are ready', async () => {
    useFakeTime()
    const started: Record<string, number> = {}
    const mark = (name: string): void => {
      started[name] = now()
    }
    const t0 = now()
    const f = flow('route')
      .task('user', () => (mark('user'), after(30, { id: 'u1' })))
      .task('settings', () => (mark('settings'), after(10, { theme: 'dark' })))
      .task('balance', () => (mark('balance'), after(80, 42)))
      .task('access', async ($) => {
        const user = await $.user
        mark('access')
        return after(20, user.id === 'u1')
      })
    const result = await settle(f.run())
    expect(result).toEqual({
      ok: true,
      value: { user: { id: 'u1' }, settings: { theme: 'dark' }, balance: 42, access: true },
    })
    expect(started.user! - t0).toBe(0)
    expect(started.settings! - t0).toBe(0)
    expect(started.balance! - t0).toBe(0)
    // Hand-grouped Promise.all would start access at 80 (after balance); the flow starts it at 30.
    expect(started.access! - t0).toBe(30)
    expect(now() - t0).toBe(80)
  })

  it('accepts synchronous results and thenables', async () => {
    const f = flow()
      .task('a', () => 1)
      .task('b', async ($) => (await $.a) + 1)
      .task(
        'c',
        ($) =>
          ({
            then: (resolve: (v: number) => void) => void $.b.then((b) => resolve(b * 10)),
          }) as unknown as PromiseLike<number>,
      )
    await expect(f.run()).resolves.toEqual({ a: 1, b: 2, c: 20 })
  })

  it('passes the run input and a context to every task', async () => {
    const seen: unknown[] = []
    const f = flow<{ id: string }>('ctx').task('a', (_, ctx) => {
      seen.push(ctx.input, ctx.task, ctx.attempt, ctx.deadlineAt, ctx.signal.aborted)
      return ctx.input.id
    })
    await expect(f.run({ id: 'x' })).resolves.toEqual({ a: 'x' })
    expect(seen).toEqual([{ id: 'x' }, 'a', 1, Infinity, false])
  })

  it('runs a flow with no tasks', async () => {
    await expect(flow().run()).resolves.toEqual({})
    await expect(flow().settle()).resolves.toEqual({})
  })

  it('can be run many times, concurrently, from one definition', async () => {
    useFakeTime()
    let calls = 0
    const f = flow<number>().task('double', (_, { input }) => (calls++, after(5, input * 2)))
    const runs = Promise.all([f.run(1), f.run(2), f.run(3)])
    const result = await settle(runs)
    expect(result).toEqual({ ok: true, value: [{ double: 2 }, { double: 4 }, { double: 6 }] })
    expect(calls).toBe(3)
  })

  it('keeps builders persistent: extending a base flow twice gives two independent flows', async () => {
    const base = flow('base').task('a', () => 1)
    const left = base.task('b', async ($) => (await $.a) + 1)
    const right = base.task('b', async ($) => `${await $.a}!`)
    await expect(left.run()).resolves.toEqual({ a: 1, b: 2 })
    await expect(right.run()).resolves.toEqual({ a: 1, b: '1!' })
    await expect(base.run()).resolves.toEqual({ a: 1 })
    expect(() => left.task('b' as never, () => 0)).toThrow(/already defined/)
  })

  it('a task named __proto__ is an ordinary result key', async () => {
    const result = await flow()
      .task('__proto__', () => 'x')
      .run()
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
    expect(Object.keys(result)).toEqual(['__proto__'])
  })
})

describe('flows: ordering without data, and gates', () => {
  it('after: runs a task only once the named tasks have finished, without reading them', async () => {
    useFakeTime()
    const log: string[] = []
    const f = flow()
      .task('write', () => after(20, undefined).then(() => log.push('write')))
      .task('audit', () => (log.push('audit'), 'ok'), { after: ['write'] })
    await settle(f.run())
    expect(log).toEqual(['write', 'audit'])
  })

  it('gate: no task starts before every gate has succeeded', async () => {
    useFakeTime()
    const t0 = now()
    const starts: Record<string, number> = {}
    const f = flow<{ token: string }>('gated')
      .gate('auth', (_, { input }) => after(40, { userId: input.token }))
      .gate('validate', () => after(10, true))
      .task('user', () => ((starts.user = now() - t0), after(10, 'u')))
      .task('settings', () => ((starts.settings = now() - t0), after(10, 's')))
    const result = await settle(f.run({ token: 't' }))
    expect(result.ok).toBe(true)
    expect(starts).toEqual({ user: 40, settings: 40 })
  })

  it('describe() shows the static shape without running anything', () => {
    let ran = false
    const f = flow('shape')
      .gate('auth', () => ((ran = true), 1))
      .task('a', () => 1, { timeout: 100 })
      .task('b', () => 2, { after: ['a'], fallback: 0 })
    expect(f.describe()).toEqual({
      name: 'shape',
      tasks: [
        { name: 'auth', gate: true, optional: false, after: [], timeout: undefined, policies: [] },
        {
          name: 'a',
          gate: false,
          optional: false,
          after: [],
          timeout: 100,
          policies: ['timeout(100)'],
        },
        { name: 'b', gate: false, optional: true, after: ['a'], timeout: undefined, policies: [] },
      ],
    })
    expect(ran).toBe(false)
  })

  it('rejects a gate added after an ordinary task', () => {
    expect(() =>
      flow('f')
        .task('a', () => 1)
        .gate('auth', () => 1),
    ).toThrow('flow "f": gate "auth": gates must be added before other tasks')
  })
})

describe('flows: failure semantics', () => {
  it('a required failure aborts every running sibling and names the task, its cause and other failures', async () => {
    useFakeTime()
    const signals: Record<string, AbortSignal> = {}
    const boom = new Error('balance service down')
    const f = flow('page')
      .task('recs', () => failAfter(5, new Error('recs down')), { fallback: [] as string[] })
      .task('user', (_, { signal }) => ((signals.user = signal), after(100, 'u', signal)))
      .task('settings', (_, { signal }) => ((signals.settings = signal), after(100, 's', signal)))
      .task('balance', () => failAfter(20, boom))
    const result = await settle(f.run())
    expect(result.ok).toBe(false)
    const error = (result as { error: FlowError }).error
    expect(error).toBeInstanceOf(FlowError)
    expect(error.task).toBe('balance')
    expect(error.cause).toBe(boom)
    expect(error.failures.map((f) => f.task)).toEqual(['recs', 'balance'])
    expect(error.message).toBe(
      'Flow "page": task "balance" failed: Error: balance service down; other failures: "recs" (Error: recs down)',
    )
    expect(signals.user!.aborted).toBe(true)
    expect(signals.settings!.aborted).toBe(true)
    expect(isFanoutError(signals.user!.reason, 'FANOUT_ABORTED')).toBe(true)
  })

  it('no new task starts after a required failure', async () => {
    useFakeTime()
    let started = false
    const f = flow()
      .task('a', () => failAfter(10, new Error('a')))
      .task('slow', () => after(50, 1))
      .task('late', () => ((started = true), 1), { after: ['slow'] })
    const result = await settle(f.run())
    expect(result.ok).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    expect(started).toBe(false)
  })

  it('an optional task falls back, its dependants receive the fallback and the error is recorded', async () => {
    let trace: FlowTrace | undefined
    const cause = new Error('reviews down')
    const f = flow()
      .task('reviews', (): Promise<string[]> => Promise.reject(cause), {
        fallback: () => ['(reviews unavailable)'],
      })
      .task('count', async ($) => (await $.reviews).length)
    const result = await f.run(undefined, { onTrace: (t) => (trace = t) })
    expect(result).toEqual({ reviews: ['(reviews unavailable)'], count: 1 })
    expect(trace!.tasks[0]).toMatchObject({ name: 'reviews', status: 'fallback', error: cause })
  })

  it('a fallback function that throws fails the task like a required one', async () => {
    const f = flow().task('a', () => Promise.reject(new Error('x')), {
      fallback: () => {
        throw new Error('fallback broke')
      },
    })
    await expect(f.run()).rejects.toThrow('task "a" failed: Error: fallback broke')
  })

  it('settle(): every outcome, like Promise.allSettled, with dependants of a failure failing too', async () => {
    const f = flow()
      .task('ok', () => 1)
      .task('bad', (): number => {
        throw new Error('bad')
      })
      .task('reader', async ($) => (await $.bad) + 1)
      .task('ordered', () => 'never', { after: ['bad'] })
    const outcomes = await f.settle()
    expect(outcomes.ok).toEqual({ status: 'fulfilled', value: 1 })
    expect(outcomes.bad).toMatchObject({ status: 'rejected', reason: { message: 'bad' } })
    expect(outcomes.reader.status).toBe('rejected')
    expect((outcomes.reader as { reason: unknown }).reason).toBeInstanceOf(DependencyError)
    expect((outcomes.ordered as { reason: unknown }).reason).toBeInstanceOf(SkippedError)
  })

  it('settle(): a failed gate skips every gated task without calling it', async () => {
    let called = 0
    const f = flow()
      .gate('auth', () => Promise.reject(new Error('401')))
      .task('a', () => called++)
      .task('b', () => called++)
    const outcomes = await f.settle()
    expect(called).toBe(0)
    expect(outcomes.a).toMatchObject({
      status: 'rejected',
      reason: { code: 'FANOUT_SKIPPED', blockedBy: 'auth' },
    })
  })

  it('early exit: a task ends the flow with a value and the others are aborted', async () => {
    useFakeTime()
    let sibling: AbortSignal | undefined
    let ranAfterExit = false
    const f = flow<{ cached?: string }, string>('exit')
      .task('cache', async (_, { input, exit }) => {
        await after(5, null)
        if (input.cached !== undefined) exit(input.cached)
        ranAfterExit = true
        return undefined
      })
      .task('slow', (_, { signal }) => ((sibling = signal), after(100, 'fresh', signal)))
    const result = await settle(f.run({ cached: 'hit' }))
    expect(result.ok).toBe(true)
    const value = (result as { value: unknown }).value
    expect(isExit(value)).toBe(true)
    expect(value).toEqual(new FlowExit('cache', 'hit'))
    expect(ranAfterExit).toBe(false)
    expect(sibling!.aborted).toBe(true)
    const normal = await settle(f.run({}))
    expect(normal).toEqual({ ok: true, value: { cache: undefined, slow: 'fresh' } })
  })
})

describe('flows: cycles and unknown names', () => {
  it('a cycle discovered at run time rejects with the cycle instead of hanging', async () => {
    const f = flow('loop')
      .task('a', async ($) => (await ($ as unknown as { b: Promise<number> }).b) + 1)
      .task('b', async ($) => (await $.a) + 1)
    const error = await f.run().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CycleError)
    expect((error as CycleError).cycle).toEqual(['b', 'a', 'b'])
    expect((error as Error).message).toBe(
      'Flow "loop": dependency cycle "b" → "a" → "b": these tasks wait for each other and would never finish',
    )
  })

  it('a longer cycle through a not-yet-started task and an after edge is found', async () => {
    const f = flow('loop3')
      .task('a', async ($) => (await ($ as unknown as { c: Promise<number> }).c) + 1)
      .task('b', async ($) => (await $.a) + 1)
      .task('c', () => 3, { after: ['b'] })
    const error = await f.run().catch((e: unknown) => e)
    expect((error as CycleError).cycle).toEqual(['b', 'a', 'c', 'b'])
  })

  it('a gate that reads a gated task is a cycle', async () => {
    const f = flow('g')
      .gate('auth', async ($) => (await ($ as unknown as { user: Promise<string> }).user).length)
      .task('user', () => 'u')
    const error = await f.run().catch((e: unknown) => e)
    expect((error as CycleError).cycle).toEqual(['auth', 'user', 'auth'])
  })

  it('a task that reads itself is a cycle', async () => {
    const f = flow('self').task(
      'a',
      async ($) => (await ($ as unknown as { a: Promise<number> }).a) + 1,
    )
    const error = await f.run().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CycleError)
    expect((error as Error).message).toBe(
      'Flow "self": dependency cycle "a" → "a": a task cannot read its own result',
    )
  })

  it('reading a task that does not exist fails clearly, with a suggestion', async () => {
    const f = flow('typo')
      .task('user', () => 1)
      .task('b', async ($) => (await ($ as unknown as { usr: Promise<number> }).usr) + 1)
    const error = (await f.run().catch((e: unknown) => e)) as FlowError
    expect(error.cause).toBeInstanceOf(UnknownTaskError)
    expect((error.cause as Error).message).toBe(
      'Flow "typo": task "b" read $.usr, but the flow has no task "usr". Did you mean $.user?',
    )
  })

  it('`await $` and symbol reads behave like a plain object', async () => {
    const f = flow()
      .task('a', () => 1)
      .task('b', async ($) => {
        const same = await $
        return [
          same === $,
          (same as unknown as Record<symbol, unknown>)[Symbol.iterator],
          'a' in $,
          Object.keys($),
        ]
      })
    const { b } = await f.run()
    expect(b).toEqual([true, undefined, true, ['a', 'b']])
  })
})

describe('flows: abort, deadline and timeout', () => {
  it('an external abort cancels the run with signal.reason and aborts running tasks', async () => {
    useFakeTime()
    const controller = new AbortController()
    let taskSignal: AbortSignal | undefined
    const f = flow().task('a', (_, { signal }) => ((taskSignal = signal), after(100, 1, signal)))
    const run = f.run(undefined, { signal: controller.signal })
    await vi.advanceTimersByTimeAsync(10)
    const reason = new Error('client went away')
    controller.abort(reason)
    await expect(run).rejects.toBe(reason)
    expect(taskSignal!.reason).toBe(reason)
  })

  it('the deadline cancels the whole run on time', async () => {
    useFakeTime()
    const t0 = now()
    const f = flow().task('slow', (_, { signal }) => after(1_000, 1, signal))
    const result = await settle(f.run(undefined, { deadline: 250 }))
    expect(result.ok).toBe(false)
    expect((result as { error: Error }).error).toMatchObject({
      name: 'DeadlineError',
      code: 'FANOUT_DEADLINE',
    })
    expect(now() - t0).toBe(250)
  })

  it('a per-task timeout fails that task; optional tasks fall back on timeout', async () => {
    useFakeTime()
    const f = flow()
      .task('recs', (_, { signal }) => after(500, ['x'], signal), {
        timeout: 100,
        fallback: [] as string[],
      })
      .task('user', () => after(150, 'u'))
    const result = await settle(f.run())
    expect(result).toEqual({ ok: true, value: { recs: [], user: 'u' } })
    const required = flow().task('user', (_, { signal }) => after(500, 'u', signal), {
      timeout: 100,
    })
    const failed = await settle(required.run())
    expect((failed as { error: FlowError }).error.message).toBe(
      'Flow "flow": task "user" failed: TimeoutError: "user" timed out after 100 ms',
    )
  })

  it('a task timeout never outlives the run deadline', async () => {
    useFakeTime()
    const t0 = now()
    let reason: unknown
    const f = flow().task(
      'a',
      (_, { signal }) =>
        after(1_000, 1, signal).catch((e: unknown) => ((reason = e), Promise.reject(e))),
      { timeout: 900 },
    )
    await settle(f.run(undefined, { deadline: 200 }))
    expect(now() - t0).toBe(200)
    expect(reason).toMatchObject({ code: 'FANOUT_DEADLINE' })
  })

  it('the run reports its deadline whichever timer fires first (task time limit or run deadline)', async () => {
    useFakeTime()
    // The run's own deadline timer is the first one scheduled; firing it 1 ms late lets the
    // task's time limit (capped by the same deadline) fire first, as a busy event loop can.
    let first = true
    const lateRunTimer: Clock = {
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, first ? ((first = false), ms + 1) : ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    }
    const required = flow().task('a', (_, { signal }) => after(1_000, 1, signal), { timeout: 500 })
    const result = await settle(required.run(undefined, { deadline: 50, clock: lateRunTimer }))
    expect((result as { error: Error }).error).toMatchObject({
      name: 'DeadlineError',
      code: 'FANOUT_DEADLINE',
    })
    first = true
    const optional = flow().task('a', (_, { signal }) => after(1_000, 1, signal), {
      timeout: 500,
      fallback: 0,
    })
    // Only an optional task is left at the deadline: it falls back, whichever timer fired.
    const result2 = await settle(optional.run(undefined, { deadline: 50, clock: lateRunTimer }))
    expect(result2).toMatchObject({ value: { a: 0 } })
  })

  it('at the deadline, unfinished optional tasks fall back and the run returns partial results', async () => {
    useFakeTime()
    const events: string[] = []
    let cutReason: unknown
    const page = flow('page')
      .task('product', () => after(10, { id: 7 }))
      .task(
        'reviews',
        (_, { signal }) => {
          signal.addEventListener('abort', () => (cutReason = signal.reason))
          return after(1_000, ['great'], signal)
        },
        { fallback: [] as string[] },
      )
      .task('related', async ($) => [`near ${(await $.reviews).length}`], {
        fallback: () => ['none'],
      })
    const t0 = now()
    const result = await settle(
      page.run(undefined, {
        deadline: 100,
        onEvent: (e) => e.type === 'task.settled' && events.push(`${e.task}:${e.outcome}`),
      }),
    )
    expect(now() - t0).toBe(100)
    expect(result).toEqual({
      ok: true,
      value: { product: { id: 7 }, reviews: [], related: ['none'] },
    })
    expect(cutReason).toMatchObject({ code: 'FANOUT_DEADLINE' })
    expect(events).toEqual(['product:fulfilled', 'reviews:fallback', 'related:fallback'])
    // A required task still unfinished at the deadline fails the run, as before.
    const strict = flow('strict')
      .task('product', (_, { signal }) => after(1_000, { id: 7 }, signal))
      .task('reviews', (_, { signal }) => after(1_000, ['great'], signal), {
        fallback: [] as string[],
      })
    const failed = await settle(strict.run(undefined, { deadline: 100 }))
    expect((failed as { error: Error }).error).toMatchObject({ code: 'FANOUT_DEADLINE' })
  })

  it('each task has its own signal, so many tasks listening to it trip no MaxListenersExceededWarning', async () => {
    useFakeTime()
    const signals: AbortSignal[] = []
    const warnings = await warningsDuring('MaxListenersExceededWarning', async () => {
      let f = flow('wide') as unknown as {
        task(n: string, fn: (...a: never[]) => unknown): typeof f
        run(): Promise<unknown>
      }
      for (let i = 0; i < 30; i++) {
        f = f.task(`t${i}`, ((_: unknown, { signal }: { signal: AbortSignal }) => {
          signals.push(signal)
          signal.addEventListener('abort', () => {})
          return i === 29 ? failAfter(10, new Error('boom')) : after(100, i, signal)
        }) as never)
      }
      await settle(f.run())
    })
    expect(warnings).toEqual([])
    expect(new Set(signals).size).toBe(30)
    // Every task's signal still follows the run: the failure aborted all of them with its reason.
    expect(signals.every((s) => s.aborted)).toBe(true)
  })

  it('validates run options', () => {
    const f = flow('v').task('a', () => 1)
    expect(() => f.run(undefined, { deadline: -1 })).toThrow(
      'flow "v": run options: `deadline` must be within 1–Number.MAX_SAFE_INTEGER ms or Infinity, got -1.',
    )
    expect(() => f.run(undefined, { deadlin: 5 } as never)).toThrow(
      'unknown option `deadlin`. Did you mean `deadline`?',
    )
    expect(() => f.run(undefined, { signal: 'x' } as never)).toThrow(
      '`signal` must be an AbortSignal, got "x".',
    )
  })
})

describe('flows: trace', () => {
  it('records start, end, waits and the critical path', async () => {
    useFakeTime()
    let trace: FlowTrace | undefined
    const f = flow('t')
      .gate('auth', () => after(10, 'me'))
      .task('user', () => after(30, 'u'))
      .task('balance', () => after(50, 5))
      .task('access', async ($) => (await $.user, after(10, true)))
    await settle(f.run(undefined, { onTrace: (t) => (trace = t) }))
    expect(trace!.status).toBe('fulfilled')
    expect(trace!.duration).toBe(60)
    expect(trace!.criticalPath).toEqual(['auth', 'balance'])
    const access = trace!.tasks.find((t) => t.name === 'access')!
    expect(access).toMatchObject({ startedAt: 10, endedAt: 50, status: 'fulfilled' })
    expect(access.waits).toEqual([
      { on: 'auth', kind: 'gate', from: 0, to: 10 },
      { on: 'user', kind: 'read', from: 10, to: 40 },
    ])
  })

  it('marks running tasks aborted and unstarted ones skipped when the run fails', async () => {
    useFakeTime()
    let trace: FlowTrace | undefined
    const f = flow()
      .task('fails', () => failAfter(5, new Error('x')))
      .task('running', (_, { signal }) => after(100, 1, signal))
      .task('waiting', () => 1, { after: ['running'] })
    await settle(f.run(undefined, { onTrace: (t) => (trace = t) }))
    expect(trace!.status).toBe('rejected')
    expect(trace!.tasks.map((t) => t.status)).toEqual(['rejected', 'aborted', 'skipped'])
  })
})

describe('flows: trace edge cases', () => {
  it('the critical path of a failed run ends at the failure, not at a task cut off by it', async () => {
    useFakeTime()
    let trace: FlowTrace | undefined
    const f = flow()
      .gate('auth', () => after(10, 1))
      .task('user', () => after(30, 'u'))
      .task('balance', () => failAfter(50, new Error('down')))
      .task('access', async ($, { signal }) => (await $.user, after(100, true, signal)))
    await settle(f.run(undefined, { onTrace: (t) => (trace = t) }))
    expect(trace!.criticalPath).toEqual(['auth', 'balance'])
  })

  it('settle(): a read of a task that gets skipped closes when it is skipped', async () => {
    useFakeTime()
    let trace: FlowTrace | undefined
    const f = flow()
      .task('bad', () => failAfter(10, new Error('x')))
      .task('blocked', () => 1, { after: ['bad'] })
      .task('reader', async ($) => $.blocked.catch(() => after(50, 0)))
    await settle(f.settle(undefined, { onTrace: (t) => (trace = t) }))
    expect(trace!.tasks[2]!.waits).toEqual([{ on: 'blocked', kind: 'read', from: 0, to: 10 }])
  })

  it('a gate that ends at time 0 still appears among the waits and on the critical path', async () => {
    useFakeTime()
    let trace: FlowTrace | undefined
    const f = flow()
      .gate('auth', () => 'sync')
      .task('a', () => after(10, 1))
    await settle(f.run(undefined, { onTrace: (t) => (trace = t) }))
    expect(trace!.tasks[1]!.waits).toEqual([{ on: 'auth', kind: 'gate', from: 0, to: 0 }])
    expect(trace!.criticalPath).toEqual(['auth', 'a'])
  })
})

describe('flows: policy options compile to one canonical pipeline', () => {
  it('orders explicit policies, retry, circuit breaker, hedge and timeout outermost first', async () => {
    const { circuitBreaker, timeout } = await import('../index.js')
    const breaker = circuitBreaker({ name: 'users' })
    const f = flow().task('user', () => 1, {
      policies: [timeout(5_000)],
      retry: true,
      circuitBreaker: breaker,
      hedge: { idempotent: true, delay: 50 },
      timeout: 200,
    })
    expect(f.describe().tasks[0]!.policies).toEqual([
      'timeout(5000)',
      'retry(3)',
      'circuitBreaker(users)',
      expect.stringMatching(/^hedge/),
      'timeout(200)',
    ])
    await expect(f.run()).resolves.toEqual({ user: 1 })
    expect(() => flow().task('a', () => 1, { hedge: {} as never })).toThrow(/idempotent/)
    expect(() => flow().task('a', () => 1, { circuitBreaker: {} as never })).toThrow(
      '`circuitBreaker` must be a circuitBreaker()',
    )
  })
})

/** Work of 10 ms (fake time) that records how many pieces of work run at once. */
function probe() {
  let running = 0
  let peak = 0
  return {
    work: <T>(value: T) => {
      running++
      peak = Math.max(peak, running)
      return after(10, value).finally(() => running--)
    },
    peak: () => peak,
  }
}

describe('flows under a concurrency limit', () => {
  const chainAndFillers = () =>
    flow({ name: 'limited', limit: 2 })
      .task('x', () => after(10, 'x'))
      .task('y', () => after(10, 'y'))
      .task('z', () => after(10, 'z'))
      .task('a', () => after(10, 1))
      .task('b', async ($) => (await $.a, after(10, 2)))
      .task('c', async ($) => (await $.b, after(10, 3)))

  it('never runs more than the limit at once, and a task waiting for a dependency holds no slot', async () => {
    useFakeTime()
    const { work, peak: peakOf } = probe()
    // limit 1, and the readers are declared before what they read: holding the slot while
    // waiting would deadlock.
    const f = flow({ limit: 1 })
      .task('root', () => work(1))
      .task('mid', async ($) => work((await $.root) + 1))
      .task('leaf', async ($) => work((await $.mid) + 1))
    const t0 = now()
    expect(await settle(f.run())).toEqual({ ok: true, value: { root: 1, mid: 2, leaf: 3 } })
    expect(peakOf()).toBe(1)
    expect(now() - t0).toBe(30)
  })

  it('orders waiting tasks by their remaining critical path, learned from earlier runs', async () => {
    useFakeTime()
    const f = chainAndFillers()
    let t0 = now()
    await settle(f.run())
    // Cold: FIFO by declaration (x, y, z, then the chain a → b → c): 40 ms.
    expect(now() - t0).toBe(40)
    t0 = now()
    await settle(f.run())
    // Learned: a (30 ms of path left) goes first, so the chain overlaps the fillers: 30 ms.
    expect(now() - t0).toBe(30)
  })

  it('shares a limiter with other users of it, and gives slots back when the run fails', async () => {
    useFakeTime()
    const { limit } = await import('../index.js')
    const shared = limit({ concurrency: 2, priority: true })
    const f = flow({ limit: shared })
      .task('ok', () => after(10, 1))
      .task('bad', () => failAfter(5, new Error('x')))
      .task('slow', (_, { signal }) => after(100, 1, signal))
    const result = await settle(f.run())
    expect(result.ok).toBe(false)
    await vi.advanceTimersByTimeAsync(200)
    expect(shared.activeCount).toBe(0)
    expect(shared.pendingCount).toBe(0)
    expect(() => flow({ limit: 0 })).toThrow(
      'flow(): `limit` must be an integer from 1 to 1000000, got 0.',
    )
    expect(() => flow({ limit: {} as never })).toThrow(
      'flow(): `limit` must be a number of tasks or a limit() limiter, got an object (Object).',
    )
  })
})

describe('flows under a concurrency limit: reads of several results', () => {
  it('a task reading several results with Promise.all holds no slot until all are ready (no deadlock)', async () => {
    useFakeTime()
    const { work, peak: peakOf } = probe()
    const f = flow({ limit: 2 })
      .task('a', () => work(1))
      .task('b', async ($) => work((await $.a) + 1))
      .task('c', async ($) => work((await $.b) + 1))
      .task('d', async ($) => {
        const [a, c] = await Promise.all([$.a, $.c])
        return work(a + c)
      })
      .task('e', async ($) => {
        const [a, d] = await Promise.all([$.a, $.d])
        return work(a + d)
      })
    expect(await settle(f.run())).toEqual({ ok: true, value: { a: 1, b: 2, c: 3, d: 4, e: 5 } })
    expect(peakOf()).toBeLessThanOrEqual(2)
  })

  it('a task that reads a result early and awaits it later keeps its slot while it works in between', async () => {
    useFakeTime()
    const { work, peak: peakOf } = probe()
    const f = flow({ limit: 2 })
      .task('slow', () => after(50, 1))
      .task('early', async ($) => {
        const later = $.slow // read now, awaited after some work of its own
        await work(0)
        await work(0)
        return (await later) + 1
      })
      .task('x', () => work(3))
      .task('y', () => work(4))
      .task('z', () => work(5))
    expect(await settle(f.run())).toEqual({
      ok: true,
      value: { slow: 1, early: 2, x: 3, y: 4, z: 5 },
    })
    // `slow` holds one slot for 50 ms; the probe's work must never exceed the other one.
    expect(peakOf()).toBe(1)
  })

  it('a read that is never awaited gives no slot away', async () => {
    useFakeTime()
    const { work, peak: peakOf } = probe()
    const f = flow({ limit: 1 })
      .task('a', () => work(1))
      .task('b', async ($) => {
        void $.a // a read without a wait: still working, still holding the slot
        return work(2)
      })
    expect(await settle(f.run())).toEqual({ ok: true, value: { a: 1, b: 2 } })
    expect(peakOf()).toBe(1)
  })

  it('settle(): a task that catches a failed read goes on with a slot', async () => {
    useFakeTime()
    let running = 0
    let peak = 0
    const f = flow({ limit: 1 })
      .task('bad', () => failAfter(5, new Error('x')))
      .task('tolerant', async ($) => {
        await $.bad.catch(() => 0)
        running++
        peak = Math.max(peak, running)
        return after(10, 'ok').finally(() => running--)
      })
      .task('other', async () => {
        running++
        peak = Math.max(peak, running)
        return after(10, 'other').finally(() => running--)
      })
    const result = await settle(f.settle())
    expect(result.ok).toBe(true)
    expect(peak).toBe(1)
  })
})

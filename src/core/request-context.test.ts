import { afterEach, describe, expect, it, vi } from 'vitest'
import { after, now, settle, useFakeTime } from '../../test/helpers/time.js'
import { manualClock } from '../../test/helpers/clocks.js'
import { memoryCacheStore } from '../cache/memory-store.js'
import { cached } from '../cache/cached.js'
import { Loader } from '../batch/loader.js'
import { requestScoped } from '../batch/request-scoped.js'
import { flow } from '../flow/define.js'
import { retry } from '../policies/retry.js'
import { execute } from './execute.js'
import { isFanoutError } from './errors.js'
import { currentRequest, requestContexts } from './request-context.js'
import {
  budgetFromHeaders,
  deadlineHeaders,
  formatGrpcTimeout,
  parseGrpcTimeout,
} from './request-deadline.js'
import type { TraceEvent } from './trace.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('request deadline headers', () => {
  it('parses grpc-timeout units, case-sensitively (M is minutes, m milliseconds)', () => {
    expect(parseGrpcTimeout('250m')).toBe(250)
    expect(parseGrpcTimeout('100M')).toBe(6_000_000)
    expect(parseGrpcTimeout('1H')).toBe(3_600_000)
    expect(parseGrpcTimeout('5S')).toBe(5_000)
    expect(parseGrpcTimeout('900u')).toBeCloseTo(0.9)
    expect(parseGrpcTimeout('5000000n')).toBeCloseTo(5)
  })

  it('ignores values that do not parse: 9 digits, unknown units, signs, empty', () => {
    for (const bad of ['123456789m', '10x', '-1S', '', 'm', '1.5S', '1 S', '12'])
      expect(parseGrpcTimeout(bad), bad).toBeUndefined()
  })

  it('reads Headers, Node header records and repeated values; the smallest budget wins', () => {
    const names = ['grpc-timeout', 'x-request-timeout-ms']
    expect(budgetFromHeaders(new Headers({ 'grpc-timeout': '2S' }), names)).toBe(2_000)
    expect(budgetFromHeaders({ 'x-request-timeout-ms': '300', 'grpc-timeout': '1S' }, names)).toBe(
      300,
    )
    expect(budgetFromHeaders({ 'x-request-timeout-ms': ['900', '400'] }, names)).toBe(400)
    expect(
      budgetFromHeaders(new Headers({ 'x-request-timeout-ms': 'soon' }), names),
    ).toBeUndefined()
    expect(budgetFromHeaders({}, names)).toBeUndefined()
  })
})

describe('passing the time left on', () => {
  it('formats grpc-timeout in whole ms, or a coarser unit when 8 digits do not hold them', () => {
    expect(formatGrpcTimeout(250.9)).toBe('250m')
    expect(formatGrpcTimeout(-5)).toBe('0m')
    expect(formatGrpcTimeout(99_999_999)).toBe('99999999m')
    expect(formatGrpcTimeout(100_000_000)).toBe('100000S')
    expect(formatGrpcTimeout(Number.MAX_SAFE_INTEGER)).toBe('99999999H')
    for (const ms of [0, 1, 999, 123_456_789, 6e12])
      expect(parseGrpcTimeout(formatGrpcTimeout(ms))!).toBeLessThanOrEqual(ms)
  })

  it("gives a downstream call no more than the caller's remaining budget", () => {
    const clock = manualClock()
    const ctx = requestContexts({ clock }).open({
      request: {},
      headers: { 'grpc-timeout': '250m' },
    })
    clock.advance(40)
    expect(deadlineHeaders(ctx)).toEqual({ 'grpc-timeout': '200m', 'x-request-timeout-ms': '200' })
    expect(deadlineHeaders({ deadlineAt: Infinity, clock })).toEqual({})
  })
})

describe('requestContexts(): the deadline', () => {
  it('takes the smallest of the budget and the header less the margin, capped by maxBudget', () => {
    const clock = manualClock()
    const contexts = requestContexts({ budget: 1_000, clock })
    const at = (headers: Record<string, string>) =>
      contexts.open({ request: {}, headers }).deadlineAt
    expect(at({})).toBe(1_000)
    expect(at({ 'grpc-timeout': '250m' })).toBe(240)
    expect(at({ 'grpc-timeout': '100M' })).toBe(1_000) // 100 minutes: clamped to the server's budget
    expect(at({ 'grpc-timeout': '123456789m' })).toBe(1_000) // ignored
    expect(at({ 'x-request-timeout-ms': '50' })).toBe(40)
    expect(at({ 'x-request-timeout-ms': '5' })).toBe(0) // never negative
    const open = requestContexts({ maxBudget: 5_000, margin: 0, clock })
    expect(open.open({ request: {} }).deadlineAt).toBe(Infinity)
    expect(open.open({ request: {}, headers: { 'grpc-timeout': '1H' } }).deadlineAt).toBe(5_000)
    const deaf = requestContexts({ budget: 800, deadlineHeaders: false, clock })
    expect(deaf.open({ request: {}, headers: { 'grpc-timeout': '1m' } }).deadlineAt).toBe(800)
    // The request's own budget (a framework's handler timeout) may shorten it too.
    expect(contexts.open({ request: {}, budget: 300 }).deadlineAt).toBe(300)
  })

  it('refuses bad options at construction, naming them', () => {
    expect(() => requestContexts({ budget: 0 })).toThrow(/`budget` must be within/)
    expect(() => requestContexts({ budget: '2s' as never })).toThrow(/`budget`/)
    expect(() => requestContexts({ budget: 5_000, maxBudget: 1_000 })).toThrow(
      /longer than `maxBudget`/,
    )
    expect(() => requestContexts({ deadlineHeaders: ['Grpc-Timeout'] })).toThrow(/lower-case/)
    expect(() => requestContexts({ margin: -1 })).toThrow(/`margin`/)
    expect(() => requestContexts({ budjet: 5 } as never)).toThrow(/budget/)
    expect(() => requestContexts({ onError: 'log' as never })).toThrow(
      /`onError` must be a function/,
    )
    const inherited = Object.create({ budget: 5 }) as object
    expect(requestContexts(inherited).open({ request: {} }).deadlineAt).toBe(Infinity)
    expect(() => requestContexts().open(undefined as never)).toThrow(/pass \{ request/)
  })
})

describe('requestContexts(): the signal fires only for a client gone before the response', () => {
  it('aborts with ClientClosedError before end(), never after, and leaves no listener', () => {
    const contexts = requestContexts()
    const client = new AbortController()
    const early = contexts.open({ request: {}, signal: client.signal })
    const late = contexts.open({ request: {}, signal: client.signal })
    void late.end()
    client.abort()
    expect(isFanoutError(early.signal.reason, 'FANOUT_CLIENT_CLOSED')).toBe(true)
    expect(late.signal.aborted).toBe(false)
    const already = contexts.open({ request: {}, signal: AbortSignal.abort() })
    expect(already.signal.aborted).toBe(true)
  })
})

describe('inside ctx.run(), flows and calls inherit the request', () => {
  it('a flow run follows the request signal: no task starts after the client left, no retry', async () => {
    useFakeTime()
    const client = new AbortController()
    const ctx = requestContexts().open({ request: {}, signal: client.signal })
    const calls: string[] = []
    const page = flow('page')
      .task('a', (_, { signal }) => (calls.push('a'), after(100, 1, signal)), {
        policies: [retry({ maxAttempts: 3 })],
      })
      .task('b', async ($) => (calls.push('b'), (await $.a) + 1))
    const running = ctx.run(() => page.run())
    setTimeout(() => client.abort(), 20)
    const outcome = await settle(running)
    expect(outcome.ok).toBe(false)
    expect(isFanoutError((outcome as { error: unknown }).error, 'FANOUT_CLIENT_CLOSED')).toBe(true)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(calls).toEqual(['a', 'b'])
  })

  it("a flow run gets the request's deadline and its events; partial results at the deadline", async () => {
    useFakeTime()
    const events: TraceEvent[] = []
    const contexts = requestContexts({ budget: 5_000, onEvent: (e) => events.push(e) })
    const ctx = contexts.open({ request: {}, headers: { 'grpc-timeout': '110m' } })
    const page = flow('page')
      .task('product', () => after(30, 'kettle'))
      .task('reviews', (_, { signal }) => after(1_000, ['good'], signal), {
        fallback: [] as string[],
      })
    const t0 = now()
    const outcome = await settle(ctx.run(() => page.run()))
    expect(outcome).toEqual({ ok: true, value: { product: 'kettle', reviews: [] } })
    expect(now() - t0).toBe(100)
    expect(events.some((e) => e.type === 'task.settled' && e.task === 'reviews')).toBe(true)
  })

  it("an explicit signal and the request's both apply; the earlier deadline wins", async () => {
    useFakeTime()
    const client = new AbortController()
    const own = new AbortController()
    const ctx = requestContexts({ budget: 1_000 }).open({ request: {}, signal: client.signal })
    const slow = flow('slow').task('a', (_, { signal }) => after(10_000, 1, signal))
    const byOwn = ctx.run(() => slow.run(undefined, { signal: own.signal }))
    own.abort(new Error('mine'))
    expect(String(((await settle(byOwn)) as { error: unknown }).error)).toBe('Error: mine')
    const byDeadline = await settle(ctx.run(() => slow.run(undefined, { deadline: 60_000 })))
    expect((byDeadline as { error: unknown }).error).toMatchObject({ code: 'FANOUT_DEADLINE' })
    const fresh = requestContexts().open({ request: {}, signal: client.signal })
    const call = fresh.run(() => execute(({ signal }) => after(10_000, 1, signal)))
    client.abort()
    expect(((await settle(call)) as { error: unknown }).error).toMatchObject({
      code: 'FANOUT_CLIENT_CLOSED',
    })
  })

  it('outside a request nothing is inherited', async () => {
    expect(currentRequest()).toBeUndefined()
    await expect(
      flow('f')
        .task('a', () => 1)
        .run(),
    ).resolves.toEqual({ a: 1 })
  })
})

describe("requestScoped() and cached({ scope: 'user' }) follow the request's user", () => {
  it('gives each request its own loaders, found without passing the request', async () => {
    const contexts = requestContexts()
    const batches: number[][] = []
    const loadersFor = requestScoped(() => ({
      users: new Loader(
        async (ids: readonly number[]) => (batches.push([...ids]), ids.map((id) => ({ id }))),
        { id: (user) => user.id },
      ),
    }))
    const one = contexts.open({ request: {} })
    const two = contexts.open({ request: {} })
    const a = one.run(() => loadersFor())
    expect(one.run(() => loadersFor())).toBe(a)
    expect(loadersFor(one.request)).toBe(a)
    expect(two.run(() => loadersFor())).not.toBe(a)
    await one.run(() => Promise.all([loadersFor().users.load(1), loadersFor().users.load(1)]))
    expect(batches).toEqual([[1]])
    expect(() => loadersFor()).toThrow(/outside a request context/)
  })

  it("keeps each user's cache entries apart, and refuses to cache without a user", async () => {
    const contexts = requestContexts()
    const fetches: string[] = []
    const inbox = cached(
      async (folder: string) => {
        const user = currentRequest()!.user!
        fetches.push(`${user}:${folder}`)
        return `${user}'s ${folder}`
      },
      { store: memoryCacheStore({ maxEntries: 100 }), ttl: 60_000, scope: 'user', name: 'inbox' },
    )
    const ada = contexts.open({ request: {}, user: 'ada' })
    const bob = contexts.open({ request: {} })
    bob.actAs('bob')
    const [a1, b1] = await Promise.all([ada.run(() => inbox('mail')), bob.run(() => inbox('mail'))])
    expect([a1, b1]).toEqual(["ada's mail", "bob's mail"])
    expect(await ada.run(() => inbox('mail'))).toBe("ada's mail")
    expect(fetches.sort()).toEqual(['ada:mail', 'bob:mail'])
    const anonymous = contexts.open({ request: {} })
    await expect(anonymous.run(() => inbox('mail'))).rejects.toMatchObject({
      code: 'FANOUT_NO_USER',
    })
    await expect(inbox('mail')).rejects.toMatchObject({ code: 'FANOUT_NO_USER' })
    expect(() => ada.actAs('bob')).toThrow(/one request acts for one user/)
    expect(() => ada.actAs('')).toThrow(/non-empty string/)
  })
})

describe('waitUntil(): work after the response', () => {
  it('runs after end(), unaffected by a client leaving, ambient with the user and no deadline', async () => {
    const contexts = requestContexts({ budget: 50 })
    const client = new AbortController()
    const ctx = contexts.open({ request: {}, user: 'ada', signal: client.signal })
    const seen: unknown[] = []
    ctx.waitUntil(() => {
      const inside = currentRequest()!
      seen.push(inside.user, inside.deadlineAt, inside.signal.aborted)
    })
    expect(seen).toEqual([])
    const done = ctx.end()
    client.abort()
    await done
    expect(seen).toEqual(['ada', Infinity, false])
    expect(contexts.pending).toBe(0)
  })

  it('reports failures to onError, tracks promises, and hands work to the platform when asked', async () => {
    const errors: unknown[] = []
    const contexts = requestContexts({ onError: (e) => errors.push(e) })
    const deferred: (() => Promise<void>)[] = []
    const ctx = contexts.open({ request: {}, defer: (work) => deferred.push(work) })
    ctx.waitUntil(() => {
      throw new Error('audit down')
    })
    ctx.waitUntil(Promise.reject(new Error('write failed')))
    expect(() => ctx.waitUntil('later' as never)).toThrow(/function or a promise/)
    await ctx.end()
    expect(deferred).toHaveLength(1)
    await deferred[0]!()
    await contexts.drain()
    expect(errors.map(String).sort()).toEqual(['Error: audit down', 'Error: write failed'])
  })

  it('drain(timeout) waits for pending work, then aborts its signal and stops waiting', async () => {
    const contexts = requestContexts()
    const ctx = contexts.open({ request: {} })
    let reason: unknown
    ctx.waitUntil(
      () =>
        new Promise<void>((resolve) =>
          currentRequest()!.signal.addEventListener('abort', (e) => {
            reason = (e.target as AbortSignal).reason
            resolve()
          }),
        ),
    )
    void ctx.end()
    expect(contexts.pending).toBe(1)
    await contexts.drain(20)
    expect(reason).toMatchObject({ code: 'FANOUT_ABORTED' })
  })
})

import fc from 'fast-check'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { InvalidOptionError, TimeoutError, type Clock } from '../index.js'
import { statusOf } from '../policies/index.js'
import { memoryCacheStore } from './index.js'
import { after, failAfter, now, settle, useFakeTime } from '../../test/helpers/time.js'
import {
  cached,
  CachedError,
  MAX_CACHE_TTL,
  type Cached,
  type CachedContext,
  type CachedResult,
} from './cached.js'
import type { CacheEntry, CacheStore } from './store.js'

/** Counts calls to the upstream and keeps the signal each got. */
function origin<K, V>(impl: (key: K, signal: AbortSignal, call: number) => V | Promise<V>) {
  const calls: K[] = []
  const signals: AbortSignal[] = []
  return {
    calls,
    signals,
    fn: (key: K, { signal }: CachedContext): V | Promise<V> => {
      calls.push(key)
      signals.push(signal)
      return impl(key, signal, calls.length)
    },
  }
}

/** A store over a plain Map, so tests can read and plant raw entries. */
function mapStore() {
  const map = new Map<string, unknown>()
  const deleted: string[] = []
  const store: CacheStore = {
    get: (key) => map.get(key) as CacheEntry | undefined,
    set: (key, entry) => void map.set(key, entry),
    delete: (key) => {
      deleted.push(key)
      map.delete(key)
    },
  }
  return { map, deleted, store, onlyKey: () => [...map.keys()][0]! }
}

/** A clock the test moves by hand, jumps included. Its timers are real ones (none run in these tests). */
function manualClock(start = 0): Clock & { t: number } {
  return {
    t: start,
    now() {
      return this.t
    },
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  }
}

const httpError = (status: number, message = `HTTP ${status} for /users/secret-token`) =>
  Object.assign(new Error(message), { status })
const networkError = (code: string) => Object.assign(new Error(`${code} on connect`), { code })
const memory = () => memoryCacheStore({ maxEntries: 10_000 })

describe('cached()', () => {
  it('serves a miss, then hits until the ttl, then fetches again', async () => {
    useFakeTime()
    const o = origin((id: string, signal) => after(10, { id }, signal))
    const users = cached(o.fn, { store: memory(), ttl: 100, scope: 'shared' })
    expect(await settle(users.entry('u1'))).toEqual({
      ok: true,
      value: { value: { id: 'u1' }, status: 'miss' },
    })
    expect(await users.entry('u1')).toEqual({ value: { id: 'u1' }, status: 'hit' })
    expect(await users('u1')).toEqual({ id: 'u1' })
    await vi.advanceTimersByTimeAsync(100)
    expect((await settle(users.entry('u1'))).ok).toBe(true)
    expect(o.calls).toEqual(['u1', 'u1'])
  })

  describe('F1: scopes', () => {
    it('F1: one scope never gets another scope’s entry or shares its in-flight call', async () => {
      useFakeTime()
      const o = origin((k: { user: string; id: string }, signal) =>
        after(10, `${k.user}/${k.id}`, signal),
      )
      const profile = cached(o.fn, {
        store: memory(),
        ttl: 60_000,
        scope: (k) => k.user,
        key: (k) => [k.id],
      })
      const both = await settle(
        Promise.all([profile({ user: 'alice', id: 'me' }), profile({ user: 'bob', id: 'me' })]),
      )
      expect(both).toEqual({ ok: true, value: ['alice/me', 'bob/me'] })
      expect(o.calls).toHaveLength(2)
      expect(await profile.entry({ user: 'bob', id: 'me' })).toEqual({
        value: 'bob/me',
        status: 'hit',
      })
      expect(await profile.entry({ user: 'alice', id: 'me' })).toEqual({
        value: 'alice/me',
        status: 'hit',
      })

      // The same with the default key (the whole key is the part) and the scope read elsewhere.
      let user = 'alice'
      const o2 = origin((id: string) => `${user}/${id}`)
      const settings = cached(o2.fn, { store: memory(), ttl: 60_000, scope: () => user })
      expect(await settings('theme')).toBe('alice/theme')
      user = 'bob'
      expect(await settings.entry('theme')).toEqual({ value: 'bob/theme', status: 'miss' })
    })

    it('F1: 0 cross-scope hits over generated (scope, key) requests, concurrent and in any completion order (property)', async () => {
      const scopes = fc.constantFrom('alice', 'bob', 'a', 'a:b', 'b:', 's1:a', '1|x')
      const keys = fc.constantFrom('me', 'b', ':b', 'x', '1', 'a:b')
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.array(fc.tuple(scopes, keys), { minLength: 1, maxLength: 30 }),
          async (s, requests) => {
            const o = origin((k: { scope: string; id: string }) =>
              s.schedule(Promise.resolve(`${k.scope}/${k.id}`)),
            )
            const c = cached(o.fn, {
              store: memory(),
              ttl: 60_000,
              scope: (k) => k.scope,
              key: (k) => [k.id],
            })
            const pending = requests.map(([scope, id]) => c({ scope, id }))
            await s.waitAll()
            const values = await Promise.all(pending)
            values.forEach((value, i) =>
              expect(value).toBe(`${requests[i]![0]}/${requests[i]![1]}`),
            )
            expect(o.calls).toHaveLength(
              new Set(requests.map(([a, b]) => JSON.stringify([a, b]))).size,
            )
            // And afterwards, from the cache:
            for (const [scope, id] of requests)
              expect(await c({ scope, id })).toBe(`${scope}/${id}`)
          },
        ),
        { numRuns: 200 },
      )
    })

    it('F1: a scope function that returns no usable scope fails the call instead of sharing', async () => {
      const c = cached((id: string) => id, { store: memory(), ttl: 1_000, scope: () => '' })
      await expect(c('x')).rejects.toThrow(
        /`scope` must return a non-empty string naming whose entry this is.*got "".*scope: 'shared'/,
      )
      const d = cached((id: string) => id, {
        store: memory(),
        ttl: 1_000,
        scope: () => undefined as unknown as string,
      })
      await expect(d('x')).rejects.toThrow(TypeError)
    })
  })

  it('F5: a stampede of 10,000 concurrent misses makes exactly 1 upstream call', async () => {
    useFakeTime()
    const o = origin((id: string, signal) => after(50, { id }, signal))
    const c = cached(o.fn, { store: memory(), ttl: 1_000, scope: 'shared' })
    const result = await settle(Promise.all(Array.from({ length: 10_000 }, () => c.entry('hot'))))
    expect(o.calls).toHaveLength(1)
    if (!result.ok) throw result.error
    expect(
      result.value.every((r) => r.status === 'miss' && r.value === result.value[0]!.value),
    ).toBe(true)
    expect(await c.entry('hot')).toMatchObject({ status: 'hit' })
    expect(o.calls).toHaveLength(1)
  })

  it('F6: the first caller aborting does not fail the others; the upstream call is aborted only when all have left', async () => {
    useFakeTime()
    const o = origin((id: string, signal) => after(50, `value of ${id}`, signal))
    const c = cached(o.fn, { store: memory(), ttl: 1_000, scope: 'shared' })
    const leader = new AbortController()
    const first = c('k', { signal: leader.signal })
    const second = c('k')
    await vi.advanceTimersByTimeAsync(10)
    leader.abort(new Error('client went away'))
    expect(await settle(first)).toEqual({ ok: false, error: new Error('client went away') })
    expect(o.signals[0]!.aborted).toBe(false)
    expect(await settle(second)).toEqual({ ok: true, value: 'value of k' })
    expect(o.calls).toHaveLength(1)

    const a = new AbortController()
    const alone = c('other', { signal: a.signal })
    await vi.advanceTimersByTimeAsync(10)
    a.abort('bye')
    expect(await settle(alone)).toEqual({ ok: false, error: 'bye' })
    expect(o.signals[1]!.aborted).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('F7: a failure reaches every concurrent caller as the same error and is not cached', async () => {
    useFakeTime()
    const boom = httpError(500)
    const o = origin((_: string, signal) => failAfter(20, boom, signal))
    const c = cached(o.fn, { store: memory(), ttl: 1_000, scope: 'shared' })
    const outcomes = await settle(
      Promise.all(
        Array.from({ length: 50 }, () =>
          c('k').then(
            () => undefined,
            (e: unknown) => e,
          ),
        ),
      ),
    )
    expect(outcomes.ok && outcomes.value.every((e) => e === boom)).toBe(true)
    expect(o.calls).toHaveLength(1)
    expect(await settle(c('k'))).toEqual({ ok: false, error: boom })
    expect(o.calls).toHaveLength(2)
  })

  describe('F2: responses that must not be stored', () => {
    type Res = { status: number; headers: Record<string, string | string[]>; body: string }
    const res = (headers: Record<string, string | string[]>, body = 'b'): Res => ({
      status: 200,
      headers,
      body,
    })

    it('F2: a shared cache never stores a response that sets a cookie or says private or no-store, yet its callers get it', async () => {
      useFakeTime()
      for (const headers of [
        { 'set-cookie': 'sid=alice-session' },
        { 'Set-Cookie': ['a=1', 'b=2'] },
        { 'cache-control': 'private, max-age=60' },
        { 'Cache-Control': 'max-age=60, no-store' },
      ]) {
        const s = mapStore()
        const o = origin((_: string, signal) => after(10, res(headers), signal))
        const page = cached(o.fn, { store: s.store, ttl: 60_000, scope: 'shared' })
        // Concurrent callers still share the one call and all get the response.
        const both = await settle(Promise.all([page('/home'), page('/home')]))
        expect(both).toEqual({ ok: true, value: [res(headers), res(headers)] })
        expect(s.map.size).toBe(0)
        await settle(page('/home'))
        expect(o.calls).toEqual(['/home', '/home'])
      }
    })

    it('F2: a scoped (per-user) cache may keep private responses and cookies, never no-store; values without headers are stored', async () => {
      useFakeTime()
      const s = mapStore()
      const o = origin((k: { user: string; path: string }) =>
        k.path === '/nostore'
          ? res({ 'cache-control': 'no-store' })
          : k.path === '/plain'
            ? { ok: true }
            : res({ 'cache-control': 'private', 'set-cookie': 'x=1' }),
      )
      const mine = cached(o.fn, {
        store: s.store,
        ttl: 60_000,
        scope: (k) => k.user,
        key: (k) => [k.path],
      })
      await mine({ user: 'alice', path: '/account' })
      await mine({ user: 'alice', path: '/nostore' })
      await mine({ user: 'alice', path: '/plain' })
      expect(s.map.size).toBe(2)
      expect(await mine.entry({ user: 'alice', path: '/account' })).toMatchObject({ status: 'hit' })
      expect(await mine.entry({ user: 'alice', path: '/nostore' })).toMatchObject({
        status: 'miss',
      })
    })

    it('F2: Headers objects are read too; a refresh that turns no-store deletes the old entry; `storable` overrides the default', async () => {
      useFakeTime()
      const s = mapStore()
      let cacheControl = 'max-age=60'
      const o = origin(() => ({
        headers: new Headers({ 'cache-control': cacheControl }),
        body: 'x',
      }))
      const page = cached(o.fn, {
        store: s.store,
        ttl: 100,
        staleWhileRevalidate: 1_000,
        scope: 'shared',
      })
      await page('/a')
      expect(s.map.size).toBe(1)
      cacheControl = 'no-store'
      await vi.advanceTimersByTimeAsync(150)
      expect((await page.entry('/a')).status).toBe('stale') // served, and the refresh answers no-store…
      await vi.advanceTimersByTimeAsync(0)
      expect(s.map.size).toBe(0) // …so the stale entry is gone, not served again
      expect((await page.entry('/a')).status).toBe('miss')

      const t = mapStore()
      const only = cached((n: number) => ({ n, headers: { 'set-cookie': 'public=1' } }), {
        store: t.store,
        ttl: 100,
        scope: 'shared',
        storable: (v) => v.n > 0,
      })
      await only(1)
      await only(-1)
      expect(t.map.size).toBe(1)
      const broken = cached((n: number) => n, {
        store: t.store,
        name: 'broken',
        ttl: 100,
        scope: 'shared',
        storable: () => {
          throw new Error('bug')
        },
      })
      expect(await broken(5)).toBe(5)
      expect(t.map.size).toBe(1)
      expect(() =>
        cached((n: number) => n, {
          store: t.store,
          ttl: 1,
          scope: 'shared',
          storable: true as never,
        }),
      ).toThrow(/`storable` must be a function/)
      // A value whose headers throw when read is handed over, not stored.
      const hostile = {
        get headers(): never {
          throw new Error('no headers for you')
        },
      }
      const odd = cached(() => hostile, { store: t.store, name: 'odd', ttl: 100, scope: 'shared' })
      expect(await odd('x')).toBe(hostile)
      expect(t.map.size).toBe(1)
    })
  })

  describe('F9: stale-while-revalidate', () => {
    it('F9: serves stale at once and refreshes exactly once under 1,000 concurrent gets', async () => {
      useFakeTime()
      const o = origin((_: string, signal, n) => after(50, `v${n}`, signal))
      const c = cached(o.fn, {
        store: memory(),
        ttl: 100,
        staleWhileRevalidate: 1_000,
        scope: 'shared',
      })
      await settle(c('k'))
      await vi.advanceTimersByTimeAsync(150)
      const t0 = now()
      const results = await Promise.all(Array.from({ length: 1_000 }, () => c.entry('k')))
      expect(now()).toBe(t0) // no waiting at all
      expect(results.every((r) => r.status === 'stale' && r.value === 'v1')).toBe(true)
      expect(o.calls).toHaveLength(2)
      await vi.advanceTimersByTimeAsync(50)
      expect(await c.entry('k')).toEqual({ value: 'v2', status: 'hit' })
      expect(o.calls).toHaveLength(2)
    })

    it('F9: a refresh that fails keeps the stale value', async () => {
      useFakeTime()
      const o = origin((_: string, signal, n) =>
        n === 1 ? after(10, 'v1', signal) : failAfter(10, httpError(500), signal),
      )
      const c = cached(o.fn, {
        store: memory(),
        ttl: 100,
        staleWhileRevalidate: 1_000,
        scope: 'shared',
      })
      await settle(c('k'))
      await vi.advanceTimersByTimeAsync(200)
      expect(await c.entry('k')).toEqual({ value: 'v1', status: 'stale' })
      await vi.advanceTimersByTimeAsync(10) // the refresh fails
      expect(await c.entry('k')).toEqual({ value: 'v1', status: 'stale' })
      await vi.advanceTimersByTimeAsync(10)
      expect(o.calls).toHaveLength(3)
    })

    it('F9: past the window the call waits for a refresh', async () => {
      useFakeTime()
      const o = origin((_: string, signal, n) => after(50, `v${n}`, signal))
      const c = cached(o.fn, {
        store: memory(),
        ttl: 100,
        staleWhileRevalidate: 100,
        scope: 'shared',
      })
      await settle(c('k'))
      await vi.advanceTimersByTimeAsync(300)
      let done: CachedResult<string> | undefined
      void c.entry('k').then((r) => (done = r))
      await vi.advanceTimersByTimeAsync(49)
      expect(done).toBeUndefined()
      await vi.advanceTimersByTimeAsync(1)
      expect(done).toEqual({ value: 'v2', status: 'miss' })
    })
  })

  describe('timeout', () => {
    it('bounds a call to fn: its signal aborts, callers get a TimeoutError, and the key is free again', async () => {
      useFakeTime()
      const o = origin((_: string, signal, n) =>
        n === 1 ? after(10_000, 'never', signal) : after(10, 'v2', signal),
      )
      const c = cached(o.fn, { store: memory(), ttl: 1_000, scope: 'shared', timeout: 100 })
      const outcome = await settle(c('k'))
      expect(outcome.ok).toBe(false)
      expect((outcome as { error: unknown }).error).toBeInstanceOf(TimeoutError)
      expect(o.signals[0]!.aborted).toBe(true)
      expect(await settle(c('k'))).toEqual({ ok: true, value: 'v2' })
    })

    it('with staleIfError, a refresh that times out serves the stale value', async () => {
      useFakeTime()
      const o = origin((_: string, signal, n) => (n === 1 ? 'v1' : after(10_000, 'late', signal)))
      const c = cached(o.fn, {
        store: memory(),
        ttl: 100,
        staleIfError: 10_000,
        scope: 'shared',
        timeout: 50,
      })
      await settle(c('k'))
      await vi.advanceTimersByTimeAsync(200)
      expect(await settle(c.entry('k'))).toEqual({
        ok: true,
        value: { value: 'v1', status: 'stale-if-error' },
      })
    })
  })

  describe('F10: stale-if-error', () => {
    function setup(failures: unknown[]) {
      const o = origin((_: string, signal, n) =>
        n === 1 ? after(10, 'v1', signal) : failAfter(10, failures[n - 2], signal),
      )
      const c = cached(o.fn, { store: memory(), ttl: 100, staleIfError: 10_000, scope: 'shared' })
      return { o, c }
    }

    it('F10: serves stale on a 503, a network error (ECONNRESET, direct or as a fetch cause) and a fanout time limit on the fetch', async () => {
      useFakeTime()
      const fetchFailure = new TypeError('fetch failed', { cause: networkError('ECONNRESET') })
      const timedOut = new TimeoutError('the fetch took longer than 2000 ms', 2_000)
      const { c } = setup([
        httpError(503),
        networkError('ECONNRESET'),
        fetchFailure,
        httpError(502),
        httpError(504),
        httpError(500),
        timedOut,
      ])
      await settle(c('k'))
      await vi.advanceTimersByTimeAsync(200)
      for (let i = 0; i < 7; i++)
        expect(await settle(c.entry('k'))).toEqual({
          ok: true,
          value: { value: 'v1', status: 'stale-if-error' },
        })
    })

    it('F10: never masks a 4xx or any other error', async () => {
      useFakeTime()
      const failures = [
        httpError(404),
        httpError(400),
        httpError(401),
        httpError(403),
        httpError(429),
        new Error('bug in the parser'),
        networkError('ERR_INVALID_URL'),
      ]
      const { c } = setup(failures)
      await settle(c('k'))
      await vi.advanceTimersByTimeAsync(200)
      for (const failure of failures)
        expect(await settle(c.entry('k'))).toEqual({ ok: false, error: failure })
    })

    it('F10: not past its window, not without a stale value, and not over the caller’s own abort', async () => {
      useFakeTime()
      const { c } = setup([httpError(503), httpError(503), httpError(503)])
      expect((await settle(c('other'))).ok).toBe(true) // an unrelated key takes call 1
      expect(await settle(c('k'))).toEqual({ ok: false, error: httpError(503) }) // nothing stale to serve

      const { c: c2 } = setup([httpError(503), httpError(503)])
      await settle(c2('k'))
      const quit = new AbortController()
      await vi.advanceTimersByTimeAsync(200)
      const pending = c2('k', { signal: quit.signal })
      // Even a reason that looks transient (the caller's own upstream failed with a 503) is the caller's, not the cache's.
      const reason = httpError(503, 'the route gave up')
      quit.abort(reason)
      expect(await settle(pending)).toEqual({ ok: false, error: reason })
      await vi.advanceTimersByTimeAsync(10_000)
      expect(await settle(c2('k'))).toEqual({ ok: false, error: httpError(503) })
    })
  })

  describe('F12: versions and malformed entries', () => {
    it('F12: an entry of another version is a miss and is deleted', async () => {
      const { store, deleted, onlyKey } = mapStore()
      const o = origin((id: string, _signal, n) => `${id} v${n}`)
      await cached(o.fn, { store, ttl: 60_000, scope: 'shared', version: 1 })('k')
      const v2 = cached(o.fn, { store, ttl: 60_000, scope: 'shared', version: 2 })
      expect(await v2.entry('k')).toEqual({ value: 'k v2', status: 'miss' })
      expect(deleted).toEqual([onlyKey()])
      expect(await v2.entry('k')).toEqual({ value: 'k v2', status: 'hit' })
      // A cache with no version does not read versioned entries either.
      expect(await cached(o.fn, { store, ttl: 60_000, scope: 'shared' }).entry('k')).toMatchObject({
        status: 'miss',
      })
    })

    it('F12: a malformed entry (wrong shape or format version) is a miss and is deleted', async () => {
      const { map, store, deleted, onlyKey } = mapStore()
      const o = origin((id: string) => id.toUpperCase())
      const c = cached(o.fn, { store, ttl: 60_000, scope: 'shared' })
      await c('k')
      const key = onlyKey()
      const good = map.get(key) as CacheEntry
      const bad: unknown[] = [
        'a string',
        42,
        [good],
        { ...good, format: 2 },
        { ...good, format: undefined },
        { ...good, kind: 'other' },
        { ...good, freshUntil: 'tomorrow' },
        { ...good, storedAt: NaN },
        { ...good, version: { v: 1 } },
        { format: 1, kind: 'value' },
        { ...good, kind: 'error', status: '404', code: null },
      ]
      for (const [i, entry] of bad.entries()) {
        map.set(key, entry)
        expect(await c.entry('k'), `entry ${i}`).toEqual({ value: 'K', status: 'miss' })
        expect(deleted).toHaveLength(i + 1)
        expect(await c.entry('k')).toEqual({ value: 'K', status: 'hit' })
      }
    })
  })

  it('a store answering null for a missing key (as Redis clients do) is a plain miss, not a malformed entry', async () => {
    const { deleted, store } = mapStore()
    const nulls: CacheStore = { ...store, get: () => null as unknown as undefined }
    const c = cached((id: string) => id, { store: nulls, ttl: 60_000, scope: 'shared' })
    expect(await c.entry('k')).toEqual({ value: 'k', status: 'miss' })
    expect(deleted).toEqual([])
  })

  describe('F13: negative caching', () => {
    it('F13: a 404 is remembered for negative.ttl as its status and code, never its message', async () => {
      useFakeTime()
      const notFound = Object.assign(httpError(404), { code: 'E_NO_USER' })
      const { map, store, onlyKey } = mapStore()
      const o = origin((_: string, signal) => failAfter(10, notFound, signal))
      const c = cached(o.fn, { store, ttl: 60_000, negative: { ttl: 1_000 }, scope: 'shared' })
      expect(await settle(c('ghost'))).toEqual({ ok: false, error: notFound }) // the real error, the first time
      expect(JSON.stringify(map.get(onlyKey()))).not.toContain('secret-token')
      const replay = await settle(c('ghost'))
      expect(o.calls).toHaveLength(1)
      const error = replay.ok ? undefined : replay.error
      expect(error).toBeInstanceOf(CachedError)
      expect(statusOf(error)).toBe(404)
      expect((error as CachedError).code).toBe('E_NO_USER')
      expect((error as Error).message).not.toContain('secret-token')
      await vi.advanceTimersByTimeAsync(1_000)
      await settle(c('ghost'))
      expect(o.calls).toHaveLength(2)
    })

    it('F13: 410 too by default; a 500, or any error without `negative`, is never cached', async () => {
      useFakeTime()
      const gone = origin((_: string, signal) => failAfter(10, httpError(410), signal))
      const c1 = cached(gone.fn, {
        store: memory(),
        ttl: 60_000,
        negative: { ttl: 1_000 },
        scope: 'shared',
      })
      await settle(c1('k'))
      expect((await settle(c1('k'))).ok).toBe(false)
      expect(gone.calls).toHaveLength(1)

      const broken = origin((_: string, signal) => failAfter(10, httpError(500), signal))
      const c2 = cached(broken.fn, {
        store: memory(),
        ttl: 60_000,
        negative: { ttl: 1_000 },
        scope: 'shared',
      })
      await settle(c2('k'))
      await settle(c2('k'))
      expect(broken.calls).toHaveLength(2)

      const missing = origin((_: string, signal) => failAfter(10, httpError(404), signal))
      const c3 = cached(missing.fn, { store: memory(), ttl: 60_000, scope: 'shared' })
      await settle(c3('k'))
      await settle(c3('k'))
      expect(missing.calls).toHaveLength(2)
    })

    it('F13: `when` chooses what to remember; a `when` that throws caches nothing and keeps the real error', async () => {
      const boom = networkError('ENOTFOUND')
      const o = origin((): string => {
        throw boom
      })
      const c = cached(o.fn, {
        store: memory(),
        ttl: 60_000,
        negative: { ttl: 1_000, when: (e) => (e as { code?: string }).code === 'ENOTFOUND' },
        scope: 'shared',
      })
      await expect(c('k')).rejects.toBe(boom)
      await expect(c('k')).rejects.toMatchObject({
        name: 'CachedError',
        code: 'ENOTFOUND',
        status: undefined,
      })
      expect(o.calls).toHaveLength(1)

      const d = cached(o.fn, {
        store: memory(),
        ttl: 60_000,
        negative: {
          ttl: 1_000,
          when: () => {
            throw new Error('bad predicate')
          },
        },
        scope: 'shared',
      })
      await expect(d('k')).rejects.toBe(boom)
      await expect(d('k')).rejects.toBe(boom)
    })
  })

  describe('F14: lifetimes', () => {
    it('F14: a ttl of 0, a negative ttl or NaN is a construction error', () => {
      const fn = (id: string) => id
      expect(() => cached(fn, { store: memory(), ttl: 0, scope: 'shared' })).toThrow(
        'cached(): `ttl` must be at least 1 ms, got 0. To not cache, call the function directly.',
      )
      expect(() => cached(fn, { store: memory(), ttl: -5, scope: 'shared' })).toThrow(
        /`ttl` must be within 1–.* ms or Infinity, got -5/,
      )
      expect(() => cached(fn, { store: memory(), ttl: NaN, scope: 'shared' })).toThrow(
        /`ttl` must be a number of milliseconds/,
      )
      expect(() =>
        cached(fn, { store: memory(), ttl: '60s' as unknown as number, scope: 'shared' }),
      ).toThrow(/not a string/)
      expect(() =>
        cached(fn, { store: memory(), ttl: 1, negative: { ttl: 0 }, scope: 'shared' }),
      ).toThrow(/`negative.ttl` must be at least 1 ms/)
      expect(() =>
        cached(fn, { store: memory(), ttl: 1, staleIfError: -1, scope: 'shared' }),
      ).toThrow(/`staleIfError` must be within/)
    })

    it('F14: a huge ttl is capped at 365 days, so nothing is cached for ever', async () => {
      for (const ttl of [Infinity, 10 * MAX_CACHE_TTL, Number.MAX_SAFE_INTEGER]) {
        const clock = manualClock()
        const o = origin((id: string) => id)
        const c = cached(o.fn, {
          store: mapStore().store,
          ttl,
          staleWhileRevalidate: Infinity,
          scope: 'shared',
          clock,
        })
        await c('k')
        clock.t = MAX_CACHE_TTL - 1
        expect(await c.entry('k')).toMatchObject({ status: 'hit' })
        clock.t = 2 * MAX_CACHE_TTL + 1 // past the capped ttl and the capped window
        expect(await c.entry('k')).toMatchObject({ status: 'miss' })
        expect(MAX_CACHE_TTL).toBe(365 * 24 * 3_600_000)
      }
    })
  })

  describe('F11: a failing store never fails a call', () => {
    it('F11: a store whose get and set throw, or reject, is bypassed', async () => {
      const throwing: CacheStore = {
        get: () => {
          throw new Error('store down')
        },
        set: () => {
          throw new Error('store down')
        },
        delete: () => {},
      }
      const rejecting: CacheStore = {
        get: () => Promise.reject(new Error('store down')),
        set: () => Promise.reject(new Error('store down')),
        delete: () => {},
      }
      for (const store of [throwing, rejecting]) {
        const o = origin((id: string) => `fresh ${id}`)
        const c = cached(o.fn, { store, ttl: 1_000, scope: 'shared' })
        expect(await c.entry('k')).toEqual({ value: 'fresh k', status: 'miss' })
        expect(await c.entry('k')).toEqual({ value: 'fresh k', status: 'miss' })
        expect(o.calls).toHaveLength(2)
      }
    })

    it('F11: a store that hangs is bypassed within storeTimeout, leaving no timer', async () => {
      useFakeTime()
      const hanging: CacheStore = {
        get: () => new Promise(() => {}),
        set: () => new Promise(() => {}),
        delete: () => new Promise(() => {}),
      }
      const o = origin((id: string, signal) => after(10, `fresh ${id}`, signal))
      const c = cached(o.fn, { store: hanging, ttl: 1_000, scope: 'shared', storeTimeout: 100 })
      const t0 = now()
      const pending = c.entry('k')
      await vi.advanceTimersByTimeAsync(99)
      expect(o.calls).toHaveLength(0)
      await vi.advanceTimersByTimeAsync(1)
      expect(o.calls).toHaveLength(1) // the read was given up at storeTimeout: a miss
      expect(await settle(pending)).toEqual({
        ok: true,
        value: { value: 'fresh k', status: 'miss' },
      })
      expect(now() - t0).toBe(100 + 10 + 100) // read bypassed, origin, write bypassed
      expect(vi.getTimerCount()).toBe(0)
      // An explicit delete says it could not be done.
      const deletion = await settle(c.delete('k'))
      expect(deletion.ok === false && (deletion.error as Error).message).toMatch(
        /did not finish deleting an entry within `storeTimeout` \(100 ms\)/,
      )
    })

    it('a caller aborting during a slow store read rejects at once with its reason', async () => {
      useFakeTime()
      const slow: CacheStore = {
        get: () => after(1_000, undefined),
        set: () => {},
        delete: () => {},
      }
      const o = origin((id: string) => id)
      const c = cached(o.fn, { store: slow, ttl: 1_000, scope: 'shared', storeTimeout: 5_000 })
      const quit = new AbortController()
      const pending = c('k', { signal: quit.signal })
      await vi.advanceTimersByTimeAsync(10)
      quit.abort('gone')
      expect(await settle(pending)).toEqual({ ok: false, error: 'gone' })
      expect(o.calls).toHaveLength(0)
      await vi.advanceTimersByTimeAsync(1_000)
    })
  })

  describe('K1: clock jumps', () => {
    it('K1: the clock going back does not keep an entry fresh; an entry claiming a far expiry lives only its ttl', async () => {
      const clock = manualClock(1_000_000)
      const { map, store, onlyKey } = mapStore()
      const o = origin((id: string, _signal, n) => `${id} v${n}`)
      const c = cached(o.fn, { store, ttl: 1_000, scope: 'shared', clock })
      await c('k')
      clock.t = 0 // a jump back of ~17 minutes: without care, the entry would be fresh until then
      expect(await c.entry('k')).toEqual({ value: 'k v2', status: 'miss' })
      expect(await c.entry('k')).toEqual({ value: 'k v2', status: 'hit' })

      const entry = map.get(onlyKey()) as CacheEntry
      map.set(onlyKey(), {
        ...entry,
        freshUntil: Number.MAX_VALUE,
        staleUntil: Infinity,
        errorUntil: Infinity,
      })
      clock.t = 999
      expect(await c.entry('k')).toMatchObject({ status: 'hit' })
      clock.t = 1_000
      expect(await c.entry('k')).toEqual({ value: 'k v3', status: 'miss' })
      clock.t = 1e12 // a leap forward only expires entries
      expect(await c.entry('k')).toEqual({ value: 'k v4', status: 'miss' })
    })
  })

  it('delete() removes the entry; the next call fetches again', async () => {
    const o = origin((id: string, _signal, n) => `${id} v${n}`)
    const c = cached(o.fn, { store: memory(), ttl: 60_000, scope: 'shared' })
    await c('k')
    await c.delete('k')
    expect(await c.entry('k')).toEqual({ value: 'k v2', status: 'miss' })
  })

  it('delete() during a fetch of the key: the fetch’s older answer is not stored, and later calls do not join it', async () => {
    useFakeTime()
    let version = 1
    // Each fetch reads the version when it starts, as a read racing a write upstream would.
    const o = origin((id: string, signal) => after(100, `${id} v${version}`, signal))
    const { map, store } = mapStore()
    const c = cached(o.fn, { store, ttl: 60_000, scope: 'shared' })
    const before = c('k')
    await vi.advanceTimersByTimeAsync(10)
    version = 2 // the data changes upstream…
    await c.delete('k') // …and the writer invalidates
    const afterDelete = c.entry('k')
    await vi.advanceTimersByTimeAsync(100)
    expect(await before).toBe('k v1') // asked before the change: gets the answer in flight
    expect(await afterDelete).toEqual({ value: 'k v2', status: 'miss' }) // a fetch of its own
    expect(o.calls).toEqual(['k', 'k'])
    expect([...map.values()].map((e) => (e as { value: unknown }).value)).toEqual(['k v2'])
    expect(await c.entry('k')).toEqual({ value: 'k v2', status: 'hit' })
  })

  it('delete() during a background refresh (stale-while-revalidate) keeps the refresh from writing', async () => {
    useFakeTime()
    let version = 1
    const o = origin((id: string, signal) => after(50, `${id} v${version}`, signal))
    const { map, store } = mapStore()
    const c = cached(o.fn, { store, ttl: 100, staleWhileRevalidate: 10_000, scope: 'shared' })
    await settle(c('k'))
    await vi.advanceTimersByTimeAsync(150)
    expect((await c.entry('k')).status).toBe('stale') // starts a refresh reading v1
    version = 2
    await c.delete('k')
    await vi.advanceTimersByTimeAsync(100)
    expect(map.size).toBe(0)
    expect(await settle(c.entry('k'))).toEqual({
      ok: true,
      value: { value: 'k v2', status: 'miss' },
    })
  })

  it('names prefix store keys, and `key` picks the parts that identify a request', async () => {
    const { map, store } = mapStore()
    const o = origin((req: { id: number; traceId: string }) => req.id * 2)
    const c = cached(o.fn, {
      store,
      ttl: 60_000,
      scope: 'shared',
      name: 'doubles',
      key: (req) => [req.id],
    })
    await c({ id: 2, traceId: 'a' })
    expect(await c.entry({ id: 2, traceId: 'b' })).toEqual({ value: 4, status: 'hit' })
    expect([...map.keys()].every((k) => k.startsWith('doubles:'))).toBe(true)
    const bad = cached((x: string) => x, {
      store,
      ttl: 1,
      scope: 'shared',
      key: () => 'x' as unknown as unknown[],
    })
    await expect(bad('x')).rejects.toThrow(
      'cached("cached"): `key` must return an array of key parts, got "x".',
    )
  })

  describe('validation', () => {
    const fn = (id: string) => id
    it('requires a store, and says how to get one', () => {
      expect(() => cached(fn, { ttl: 1_000, scope: 'shared' } as never)).toThrow(
        "cached(): `store` must be a CacheStore (get, set, delete), got undefined. For an in-process LRU use memoryCacheStore({ maxEntries: 10_000 }) from 'fanout/cache'.",
      )
      expect(() => cached(fn, { store: {} as never, ttl: 1_000, scope: 'shared' })).toThrow(
        InvalidOptionError,
      )
      expect(() => cached(fn, { store: new Map() as never, ttl: 1_000, scope: 'shared' })).toThrow(
        /`store` is a Map, which is never bounded/,
      )
    })

    it('requires a ttl and a scope, saying why', () => {
      expect(() => cached(fn, { store: memory(), scope: 'shared' } as never)).toThrow(
        'cached(): `ttl` is required: the ms an entry stays fresh, e.g. ttl: 60_000.',
      )
      expect(() => cached(fn, { store: memory(), ttl: 1_000 } as never)).toThrow(
        /`scope` is required and must be 'shared', 'user' or a function \(key\) => string, got undefined.*never served to another/,
      )
      expect(() =>
        cached(fn, { store: memory(), ttl: 1_000, scope: 'global' as 'shared' }),
      ).toThrow(/`scope` is required/)
      expect(() => cached(fn, undefined as never)).toThrow(/options are required/)
    })

    it('suggests the option meant by a typo', () => {
      expect(() => cached(fn, { store: memory(), tll: 1_000, scope: 'shared' } as never)).toThrow(
        /unknown option `tll`. Did you mean `ttl`\?/,
      )
      expect(() =>
        cached(fn, { store: memory(), ttl: 1, scope: 'shared', staleWhileRevalidat: 5 } as never),
      ).toThrow(/Did you mean `staleWhileRevalidate`/)
      expect(() =>
        cached(fn, {
          store: memory(),
          ttl: 1,
          scope: 'shared',
          negative: { ttl: 5, wen: () => true },
        } as never),
      ).toThrow(/cached\(\) negative: unknown option `wen`. Did you mean `when`/)
    })

    it('checks every other option', () => {
      const base = { store: memory(), ttl: 1_000, scope: 'shared' as const }
      expect(() => cached('fn' as never, base)).toThrow(
        /the first argument must be the function that fetches a value/,
      )
      expect(() => cached(fn, { ...base, version: NaN })).toThrow(
        'cached(): `version` must be a string or a finite number, got NaN.',
      )
      expect(() => cached(fn, { ...base, storeTimeout: 0 })).toThrow(
        /`storeTimeout` must be within 1–60000 ms, got 0/,
      )
      expect(() => cached(fn, { ...base, name: '' })).toThrow(/`name` must be a non-empty string/)
      expect(() => cached(fn, { ...base, key: 'id' as never })).toThrow(/`key` must be a function/)
      expect(() => cached(fn, { ...base, clock: {} as never })).toThrow(/`clock` must have now\(\)/)
      expect(() => cached(fn, { ...base, negative: 1_000 as never })).toThrow(
        /`negative` must be an object \{ ttl, when\? \}, got 1000/,
      )
    })
  })

  describe('types', () => {
    it('infers K and V from fn', () => {
      const users = cached(async (id: string, { signal }) => ({ id, aborted: signal.aborted }), {
        store: memory(),
        ttl: 1,
        scope: 'shared',
      })
      expectTypeOf(users).toEqualTypeOf<Cached<string, { id: string; aborted: boolean }>>()
      expectTypeOf(users).parameter(0).toEqualTypeOf<string>()
      expectTypeOf(users).returns.toEqualTypeOf<Promise<{ id: string; aborted: boolean }>>()
      expectTypeOf(users.entry).returns.toEqualTypeOf<
        Promise<CachedResult<{ id: string; aborted: boolean }>>
      >()
      expectTypeOf(users.delete).returns.toEqualTypeOf<Promise<void>>()

      const judged = cached(async (id: string) => ({ id, fresh: true }), {
        store: memory(),
        ttl: 1,
        scope: 'shared',
        storable: (value) => {
          expectTypeOf(value).toEqualTypeOf<{ id: string; fresh: boolean }>()
          return value.fresh
        },
      })
      expectTypeOf(judged).toEqualTypeOf<Cached<string, { id: string; fresh: boolean }>>()

      const sync = cached((n: number) => n > 0, { store: memory(), ttl: 1, scope: 'shared' })
      expectTypeOf(sync).toEqualTypeOf<Cached<number, boolean>>()
    })

    it('types the options from the key of fn, not the other way round', () => {
      const profile = cached((req: { tenant: string; id: number }) => req.id, {
        store: memory(),
        ttl: 1,
        scope: (req) => {
          expectTypeOf(req).toEqualTypeOf<{ tenant: string; id: number }>()
          return req.tenant
        },
        key: (req) => [req.id],
      })
      expectTypeOf(profile).toEqualTypeOf<Cached<{ tenant: string; id: number }, number>>()
      const misuse = (): void => {
        // @ts-expect-error the key must be what fn takes
        void profile('x')
        // @ts-expect-error a scope is 'shared' or a function
        cached((id: string) => id, { store: memory(), ttl: 1, scope: 'global' })
        // @ts-expect-error scope is required
        cached((id: string) => id, { store: memory(), ttl: 1 })
        // @ts-expect-error the scope function receives fn's key
        cached((id: string) => id, { store: memory(), ttl: 1, scope: (k: number) => String(k) })
      }
      expect(typeof misuse).toBe('function')
    })
  })
})

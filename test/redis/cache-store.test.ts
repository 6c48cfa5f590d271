/**
 * The shared cache on real Redis: `redisCacheStore()` (JSON entries, compare-by-storedAt writes,
 * TTLs, bounded entries, StoreError), `cached()` across instances and processes (SWR,
 * stale-if-error, scopes), `tieredCacheStore()` with `redisInvalidation()` (eviction, flush on a
 * subscriber reconnect, own messages), and Redis down, partitioned or slow.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/core/clock.js'
import { StoreError } from '../../src/core/errors.js'
import type { TraceEvent } from '../../src/core/trace.js'
import { cached } from '../../src/cache/cached.js'
import { memoryCacheStore, tieredCacheStore } from '../../src/cache/index.js'
import { CACHE_ENTRY_FORMAT, type CacheEntry } from '../../src/cache/store.js'
import { redisCacheStore, redisInvalidation } from '../../src/redis/index.js'
import { forkWorker } from '../helpers/fork.js'
import { startProxy, type FaultProxy } from '../helpers/fault-proxy.js'
import {
  CLIENT_KINDS,
  connect,
  redisRequired,
  redisUp,
  removeKeys,
  testPrefix,
  type TestRedis,
} from '../helpers/redis.js'
import { startRedis, type PrivateRedis } from '../helpers/redis-server.js'

const entry = (storedAt: number, value: unknown, life = 60_000): CacheEntry => ({
  format: CACHE_ENTRY_FORMAT,
  version: null,
  storedAt,
  freshUntil: storedAt + life,
  staleUntil: storedAt + life,
  errorUntil: storedAt + life,
  kind: 'value',
  value,
})

/** A wall clock the test moves: several `cached()` share it, as processes share real time. */
function sharedClock(start = 1_000_000) {
  let t = start
  return {
    clock: { ...systemClock, now: () => t },
    advance: (ms: number) => {
      t += ms
    },
  }
}

/** Every key matching `pattern` (SCAN to the end: one page may hold none). */
async function scanAll(redis: TestRedis, pattern: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = (await redis.command([
      'SCAN',
      cursor,
      'MATCH',
      pattern,
      'COUNT',
      1000,
    ])) as [string, string[]]
    found.push(...keys)
    cursor = String(next)
  } while (cursor !== '0')
  return found
}

it.runIf(redisRequired)('Redis answers (required: FANOUT_REQUIRE_REDIS=1)', () => {
  expect(redisUp).toBe(true)
})

describe.runIf(redisUp).each(CLIENT_KINDS)('redisCacheStore on %s', (kind) => {
  let redis: TestRedis
  let other: TestRedis
  const prefix = testPrefix()
  beforeAll(async () => {
    redis = await connect(kind)
    other = await connect(kind)
  })
  afterAll(async () => {
    await removeKeys(redis, prefix)
    await Promise.all([redis.close(), other.close()])
  })

  it('round trip: get returns what set stored, under the prefix, with a TTL (PTTL > 0)', async () => {
    const store = redisCacheStore({ redis: redis.connection, prefix })
    const e = entry(1000, { a: [1, 'two', null, true, { b: 2.5 }], empty: {} })
    await store.set('k1', e, 5000)
    expect(await store.get('k1')).toEqual(e)
    expect(store.keyOf('k1')).toBe(`${prefix}:cache:cache:{k1}`)
    const pttl = Number(await redis.command(['PTTL', store.keyOf('k1')]))
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(5000)
    // The other client reads the same entry: plain JSON.
    const text = (await other.command(['GET', store.keyOf('k1')])) as string
    expect(JSON.parse(text)).toEqual(e)
    expect(await store.get('absent')).toBeUndefined()
    await store.delete('k1')
    expect(await store.get('k1')).toBeUndefined()
  })

  it('a late writer loses: an entry older (by storedAt) than the one held is not written', async () => {
    const store = redisCacheStore({ redis: redis.connection, prefix })
    expect(await store.setIfNewer('late', entry(2000, 'new'), 5000)).toBe(true)
    expect(await store.setIfNewer('late', entry(1000, 'old'), 5000)).toBe(false)
    await store.set('late', entry(1500, 'old too'), 5000)
    expect((await store.get('late'))?.storedAt).toBe(2000)
    // The same time again (a re-sent write) and a later one are written.
    expect(await store.setIfNewer('late', entry(2000, 'again'), 5000)).toBe(true)
    expect(await store.setIfNewer('late', entry(2000.5, 'newer'), 5000)).toBe(true)
    expect(await store.get('late')).toMatchObject({ value: 'newer' })
    // A value in another layout is replaced.
    await redis.command(['SET', store.keyOf('foreign'), 'not json'])
    expect(await store.get('foreign')).toBeUndefined()
    expect(await store.setIfNewer('foreign', entry(1, 'mine'), 5000)).toBe(true)
  })

  it('E17: refuses values JSON would change (a Map, a Date, NaN, undefined), with an event', async () => {
    const events: TraceEvent[] = []
    const store = redisCacheStore({
      redis: redis.connection,
      prefix,
      onEvent: (e) => events.push(e),
    })
    const cases: [unknown, RegExp][] = [
      [new Map([[1, 2]]), /value is a Map/],
      [{ at: new Date(0) }, /value\.at is a Date/],
      [[1, Number.NaN], /value\[1\] is NaN/],
      [{ a: undefined }, /value\.a is undefined/],
      [{ n: 10n }, /value\.n is a bigint/],
    ]
    await store.set('odd', entry(0, 'plain, older'), 5000)
    for (const [value, message] of cases)
      await expect(store.set('odd', entry(1, value), 5000)).rejects.toThrow(message)
    // Nothing stored, and the older entry is gone: it must not stand in for the newer value.
    expect(await redis.command(['EXISTS', store.keyOf('odd')])).toBe(0)
    expect(events.filter((e) => e.type === 'store.skipped')).toHaveLength(cases.length)
    expect(events[0]).toMatchObject({ type: 'store.skipped', reason: 'not-json' })
  })

  it('an entry over maxEntryBytes is not stored and removes the older one, with an event', async () => {
    const events: TraceEvent[] = []
    const store = redisCacheStore({
      redis: redis.connection,
      prefix,
      maxEntryBytes: 300,
      onEvent: (e) => events.push(e),
    })
    await store.set('big', entry(1, 'small'), 5000)
    expect(await store.setIfNewer('big', entry(2, 'é'.repeat(200)), 5000)).toBe(false)
    expect(await store.get('big')).toBeUndefined()
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'store.skipped',
        reason: 'too-large',
        bytes: expect.any(Number),
      }),
    )
    // ...but never a newer one.
    await store.set('big', entry(10, 'newer'), 5000)
    await store.set('big', entry(5, 'x'.repeat(400)), 5000)
    expect(await store.get('big')).toMatchObject({ value: 'newer' })
  })

  it('E12: a key holding another type rejects with StoreError on get and set', async () => {
    const events: TraceEvent[] = []
    const store = redisCacheStore({
      redis: redis.connection,
      prefix,
      onEvent: (e) => events.push(e),
    })
    await redis.command(['HSET', store.keyOf('hash'), 'f', 'v'])
    await expect(store.get('hash')).rejects.toBeInstanceOf(StoreError)
    await expect(store.set('hash', entry(1, 'v'), 5000)).rejects.toThrow(/WRONGTYPE/)
    expect(events.filter((e) => e.type === 'store.failed')).toEqual([])
    // Through cached() too: a misconfiguration is an error, never a quiet miss on every read.
    let calls = 0
    const cache = cached(() => ++calls, { store, ttl: 60_000, scope: 'shared', name: 'e12' })
    expect(await cache('x')).toBe(1)
    const keys = await scanAll(redis, store.keyOf('e12:*'))
    expect(keys).toHaveLength(1)
    await redis.command(['DEL', keys[0]!])
    await redis.command(['HSET', keys[0]!, 'f', 'v'])
    await expect(cache('x')).rejects.toBeInstanceOf(StoreError)
    expect(calls).toBe(1)
  })

  it('two cached() on one Redis (separate processes in all but name): hit, SWR, stale-if-error', async () => {
    const { clock, advance } = sharedClock()
    const calls = { a: 0, b: 0 }
    const options = {
      ttl: 1000,
      staleWhileRevalidate: 1000,
      staleIfError: 5000,
      scope: 'shared' as const,
      name: 'swr',
      clock,
    }
    let failB = false
    const a = cached(() => `a${++calls.a}`, {
      ...options,
      store: redisCacheStore({ redis: redis.connection, prefix }),
    })
    const b = cached(
      () => {
        calls.b++
        if (failB) throw Object.assign(new Error('upstream down'), { status: 503 })
        return `b${calls.b}`
      },
      { ...options, store: redisCacheStore({ redis: other.connection, prefix }) },
    )
    expect(await a.entry('k')).toEqual({ value: 'a1', status: 'miss' })
    expect(await b.entry('k')).toEqual({ value: 'a1', status: 'hit' })
    advance(1500)
    expect(await b.entry('k')).toEqual({ value: 'a1', status: 'stale' })
    await expect.poll(() => calls.b).toBe(1)
    await expect.poll(() => a.entry('k')).toEqual({ value: 'b1', status: 'hit' })
    // B's refresh settles once its client hears the write's reply: a later miss must not join it.
    await new Promise((resolve) => setTimeout(resolve, 50))
    advance(3000)
    failB = true
    expect(await b.entry('k')).toEqual({ value: 'b1', status: 'stale-if-error' })
    expect(calls).toEqual({ a: 1, b: 2 })
  })

  it('scopes stay apart: an entry of user A is never served to user B', async () => {
    const make = (conn: TestRedis, tag: string) =>
      cached((k: { user: string; id: number }) => `${tag}:${k.user}:${k.id}`, {
        store: redisCacheStore({ redis: conn.connection, prefix }),
        ttl: 60_000,
        name: 'scoped',
        scope: (k) => k.user,
        key: (k) => [k.id],
        clock: { ...systemClock, now: Date.now },
      })
    const one = make(redis, 'one')
    const two = make(other, 'two')
    expect(await one({ user: 'alice', id: 1 })).toBe('one:alice:1')
    expect(await two.entry({ user: 'bob', id: 1 })).toEqual({ value: 'two:bob:1', status: 'miss' })
    expect(await two.entry({ user: 'alice', id: 1 })).toEqual({
      value: 'one:alice:1',
      status: 'hit',
    })
  })

  it('a value cached in one process is a hit in another; scopes stay apart there too', async () => {
    const seed = cached(
      (k: { user: string; id: number }) => ({ from: 'parent', user: k.user, id: k.id }),
      {
        store: redisCacheStore({ redis: redis.connection, prefix }),
        ttl: 60_000,
        name: 'profiles',
        scope: (k) => k.user,
        key: (k) => [k.id],
        clock: { ...systemClock, now: Date.now },
      },
    )
    await seed({ user: 'alice', id: 7 })
    const worker = forkWorker<{ answers: unknown[]; calls: string[] }>(
      new URL('./workers/cache-worker.ts', import.meta.url),
      {
        kind,
        prefix,
        asks: [
          { user: 'alice', id: 7 },
          { user: 'bob', id: 7 },
        ],
      },
    )
    const { answers, calls } = await worker.result
    expect(answers).toEqual([
      { value: { from: 'parent', user: 'alice', id: 7 }, status: 'hit' },
      { value: { from: 'worker', user: 'bob', id: 7 }, status: 'miss' },
    ])
    expect(calls).toEqual(['bob/7'])
  }, 20_000)
})

describe.runIf(redisUp).each(CLIENT_KINDS)(
  'tieredCacheStore with redisInvalidation on %s',
  (kind) => {
    let a: TestRedis
    let b: TestRedis
    const prefix = testPrefix()
    const closers: (() => unknown)[] = []
    beforeAll(async () => {
      ;[a, b] = await Promise.all([connect(kind), connect(kind)])
    })
    afterEach(async () => {
      await Promise.all(closers.splice(0).map((close) => close()))
    })
    afterAll(async () => {
      await removeKeys(a, prefix)
      await Promise.all([a.close(), b.close()])
    })

    async function tier(conn: TestRedis, l1Ttl = 60_000) {
      const l1 = memoryCacheStore({ maxEntries: 100 })
      const bus = redisInvalidation({ redis: conn.connection, prefix })
      const store = tieredCacheStore({
        l1,
        l2: redisCacheStore({ redis: conn.connection, prefix }),
        l1Ttl,
        invalidation: bus,
      })
      closers.push(
        () => store.close(),
        () => bus.close(),
      )
      await expect.poll(() => bus.listening).toBe(true)
      return { l1, bus, store }
    }

    it('reads L1 then L2 (filling L1), writes and deletes both', async () => {
      const { l1, store } = await tier(a)
      const l2 = redisCacheStore({ redis: b.connection, prefix })
      await l2.set('t1', entry(1, 'from l2'), 5000)
      expect(await store.get('t1')).toMatchObject({ value: 'from l2' })
      expect(l1.get('t1')).toMatchObject({ value: 'from l2' })
      await store.set('t2', entry(1, 'both'), 5000)
      expect(l1.get('t2')).toMatchObject({ value: 'both' })
      expect(await l2.get('t2')).toMatchObject({ value: 'both' })
      await store.delete('t2')
      expect(l1.get('t2')).toBeUndefined()
      expect(await l2.get('t2')).toBeUndefined()
    })

    it('a set or delete in A evicts B’s L1 copy within about one delivery', async () => {
      const A = await tier(a)
      const B = await tier(b)
      await A.store.set('k', entry(1, 'v1'), 5000)
      expect(await B.store.get('k')).toMatchObject({ value: 'v1' })
      // A's own announcement of v1 may still be on its way: an L2 read it overtakes is not copied.
      await expect.poll(async () => (await B.store.get('k'), B.l1.get('k'))).toBeDefined()
      await A.store.set('k', entry(2, 'v2'), 5000)
      await expect.poll(() => B.l1.get('k'), { timeout: 1000, interval: 5 }).toBeUndefined()
      expect(await B.store.get('k')).toMatchObject({ value: 'v2' })
      await A.store.delete('k')
      await expect.poll(() => B.l1.get('k'), { timeout: 1000, interval: 5 }).toBeUndefined()
      expect(await B.store.get('k')).toBeUndefined()
    })

    it('own messages are ignored: A keeps its copy, only B hears', async () => {
      const A = await tier(a)
      const B = await tier(b)
      const heard = { a: 0, b: 0 }
      closers.push(
        A.bus.listen({ evict: () => heard.a++, flush: () => heard.a++ }),
        B.bus.listen({ evict: () => heard.b++, flush: () => heard.b++ }),
      )
      await A.store.set('own', entry(1, 'mine'), 5000)
      await expect.poll(() => heard.b).toBe(1)
      expect(heard.a).toBe(0)
      expect(A.l1.get('own')).toMatchObject({ value: 'mine' })
    })

    it('E15: a skipped sequence number (a lost message) flushes L1', async () => {
      const B = await tier(b)
      await B.store.set('s1', entry(1, 'x'), 5000)
      await B.store.get('s1')
      const send = (s: number) =>
        a.command([
          'PUBLISH',
          `${prefix}:cache-inv:cache`,
          JSON.stringify({ o: 'peer', s, k: ['none'] }),
        ])
      await send(1)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(B.l1.get('s1')).toBeDefined()
      await send(3)
      await expect.poll(() => B.l1.size).toBe(0)
    })
  },
)

describe.runIf(redisUp)('on a private server', () => {
  let server: PrivateRedis
  let proxy: FaultProxy
  const opened: TestRedis[] = []
  beforeAll(async () => {
    server = await startRedis()
    proxy = await startProxy(server.port)
  })
  afterEach(async () => {
    proxy.set({ kind: 'pass' })
    await server.restart()
    await Promise.all(opened.splice(0).map((r) => r.close()))
  })
  afterAll(async () => {
    await proxy.close()
    await server.stop()
  })

  async function open(kind: (typeof CLIENT_KINDS)[number], port: number) {
    const r = await connect(kind, { port })
    opened.push(r)
    return r
  }

  it.each(CLIENT_KINDS)(
    '%s: CLIENT KILL TYPE pubsub, a publish in the gap, reconnect: B’s L1 was flushed (never stale)',
    async (kind) => {
      const [ra, rb] = [await open(kind, server.port), await open(kind, server.port)]
      const prefix = testPrefix()
      const mk = (r: TestRedis) => {
        const l1 = memoryCacheStore({ maxEntries: 100 })
        const bus = redisInvalidation({ redis: r.connection, prefix })
        const store = tieredCacheStore({
          l1,
          l2: redisCacheStore({ redis: r.connection, prefix }),
          l1Ttl: 60_000,
          invalidation: bus,
        })
        return { l1, bus, store }
      }
      const A = mk(ra)
      const B = mk(rb)
      let reconnects = 0
      rb.connection.onReconnect(() => reconnects++)
      await expect.poll(() => A.bus.listening && B.bus.listening).toBe(true)
      await A.store.set('k', entry(1, 'v1'), 60_000)
      expect(await B.store.get('k')).toMatchObject({ value: 'v1' })
      // A's own announcement of v1 may still be on its way: an L2 read it overtakes is not copied.
      await expect.poll(async () => (await B.store.get('k'), B.l1.get('k'))).toBeDefined()
      await ra.command(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
      await A.store.set('k', entry(2, 'v2'), 60_000)
      await expect.poll(() => reconnects, { timeout: 5000 }).toBeGreaterThan(0)
      expect(B.l1.get('k')).toBeUndefined()
      expect(await B.store.get('k')).toMatchObject({ value: 'v2' })
      A.store.close()
      B.store.close()
      await Promise.all([A.bus.close(), B.bus.close()])
    },
    10_000,
  )

  const faults = [
    ['E1', 'Redis down (killed)', async () => server.kill()],
    ['E3', 'Redis black-holed', async () => proxy.set({ kind: 'blackhole' })],
    ['E14', 'Redis slow (300 ms a command)', async () => proxy.set({ kind: 'latency', ms: 300 })],
  ] as const
  describe.each(CLIENT_KINDS)('%s', (kind) => {
    it.each(faults)(
      '%s: %s: a read is a miss within the timeout, a write is skipped, with events; cached() still answers',
      async (_id, _what, fault) => {
        const r = await open(kind, proxy.port)
        const events: TraceEvent[] = []
        const store = redisCacheStore({
          redis: r.connection,
          timeout: 100,
          onEvent: (e) => events.push(e),
        })
        await store.set('f', entry(1, 'cached'), 60_000)
        expect(await store.get('f')).toMatchObject({ value: 'cached' })
        await fault()
        const started = performance.now()
        expect(await store.get('f')).toBeUndefined()
        expect(await store.setIfNewer('f', entry(2, 'new'), 60_000)).toBe(false)
        const cache = cached(() => 'fetched', {
          store,
          ttl: 1000,
          scope: 'shared',
          storeTimeout: 1000,
        })
        expect(await cache('x')).toBe('fetched')
        expect(performance.now() - started).toBeLessThan(2000)
        await expect(store.delete('f')).rejects.toMatchObject({ name: 'StoreUnavailableError' })
        expect(events.filter((e) => e.type === 'store.failed').length).toBeGreaterThanOrEqual(3)
        expect(events).toContainEqual(
          expect.objectContaining({ type: 'store.failed', operation: 'get', policy: 'miss' }),
        )
      },
      10_000,
    )
  })
})

/**
 * `redisConcurrencyStore()` against real Redis: the semantics of `memoryConcurrencyStore()` under
 * `time: 'caller'`, all-or-nothing over several keys, idempotent acquire, leases (expiry, renewal,
 * a lost lease reported), `watch` across processes, and the fault cases of the E series.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  LeaseLostError,
  StoreError,
  StoreUnavailableError,
  type TraceEvent,
} from '../../src/index.js'
import { limit } from '../../src/index.js'
import { memoryConcurrencyStore } from '../../src/policies/index.js'
import type { ConcurrencyGrant } from '../../src/policies/index.js'
import {
  redisConcurrencyStore,
  type RedisConcurrencyStore,
  type RedisConcurrencyStoreOptions,
} from '../../src/redis/index.js'
import { startProxy, type FaultProxy } from '../helpers/fault-proxy.js'
import { forkWorker } from '../helpers/fork.js'
import {
  CLIENT_KINDS,
  connect,
  REDIS_PORT,
  redisRequired,
  redisUp,
  removeKeys,
  testPrefix,
  type ClientKind,
  type TestRedis,
} from '../helpers/redis.js'
import { freePort, startRedis, type PrivateRedis } from '../helpers/redis-server.js'
import { serve, type Upstream } from '../helpers/upstream.js'
import type { SemaphoreInput, SemaphoreReply } from './workers/semaphore.js'

const WORKER = new URL('./workers/semaphore.ts', import.meta.url)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

it.runIf(redisRequired)(
  'Redis answers on 127.0.0.1:6379 (required: FANOUT_REQUIRE_REDIS=1)',
  () => {
    expect(redisUp).toBe(true)
  },
)

/** A small deterministic generator (the sequence must be the same on every run). */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0
    return s / 2 ** 32
  }
}

describe.runIf(redisUp).each(CLIENT_KINDS)('%s: redisConcurrencyStore()', (kind) => {
  let redis: TestRedis
  const prefix = testPrefix()
  let n = 0
  const stores: RedisConcurrencyStore[] = []
  const make = (options: Partial<RedisConcurrencyStoreOptions> = {}): RedisConcurrencyStore => {
    const store = redisConcurrencyStore({
      redis: redis.connection,
      prefix,
      name: `s${n++}`,
      // Not under test here, and a busy machine may take longer than the default 250 ms.
      timeout: 2_000,
      ...options,
    })
    stores.push(store)
    return store
  }
  const zcard = async (store: string, key: string): Promise<number> =>
    Number(await redis.command(['ZCARD', `${prefix}:sem:{${store}}:${key}`]))
  beforeAll(async () => {
    redis = await connect(kind)
  })
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()))
  })
  afterAll(async () => {
    await removeKeys(redis, prefix)
    await redis.close()
  })

  it("answers as memoryConcurrencyStore() does, step for step, under time: 'caller'", async () => {
    const remote = make({ time: 'caller' })
    const memory = memoryConcurrencyStore()
    const next = random(kind === 'ioredis' ? 7 : 11)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
    const held: { keys: string[]; holder: string }[] = []
    let now = 1_000
    for (let step = 0; step < 300; step++) {
      const roll = next()
      if (roll < 0.45) {
        const both = next() < 0.5
        const permits = [{ key: 'total', limit: pick([2, 3]) }]
        if (both) permits.push({ key: pick(['a', 'b']), limit: pick([1, 2]) })
        const request = { permits, holder: `h${step}`, now, leaseMs: pick([50, 200, 1_000]) }
        const [want, got] = [memory.acquire(request), await remote.acquire(request)]
        expect(got, `step ${step}: acquire`).toEqual(want)
        if (want.ok) held.push({ keys: permits.map((p) => p.key), holder: request.holder })
      } else if (roll < 0.6 && held.length > 0) {
        const { keys, holder } = held[Math.floor(next() * held.length)]!
        const leaseMs = pick([100, 500])
        const want = memory.renew(keys, holder, now, leaseMs)
        expect(await remote.renew(keys, holder, now, leaseMs), `step ${step}: renew`).toBe(want)
      } else if (roll < 0.8 && held.length > 0) {
        const { keys, holder } = held.splice(Math.floor(next() * held.length), 1)[0]!
        memory.release(keys, holder, now)
        await remote.release(keys, holder, now)
      } else {
        now += pick([1, 10, 60, 250])
      }
    }
  })

  it('E7: is all-or-nothing over a total and a per-key limit', async () => {
    const store = make({ time: 'caller' })
    const name = `s${n - 1}`
    const lease = { now: 0, leaseMs: 60_000 }
    expect(
      await store.acquire({ permits: [{ key: 'b', limit: 1 }], holder: 'x', ...lease }),
    ).toEqual({ ok: true })
    const both = [
      { key: 'total', limit: 5 },
      { key: 'b', limit: 1 },
    ]
    const refused = await store.acquire({ permits: both, holder: 'y', ...lease })
    expect(refused).toEqual({ ok: false, retryAfterMs: 60_000, reason: 'busy' })
    expect(await zcard(name, 'total')).toBe(0)
    await store.release(['b'], 'x', 0)
    expect(await store.acquire({ permits: both, holder: 'y', ...lease })).toEqual({ ok: true })
    expect([await zcard(name, 'total'), await zcard(name, 'b')]).toEqual([1, 1])
  })

  it('an acquire applied twice for one holder (a re-send) holds one permit', async () => {
    const store = make()
    const name = `s${n - 1}`
    const request = { permits: [{ key: 'k', limit: 2 }], holder: 'h', now: 0, leaseMs: 10_000 }
    expect(await store.acquire(request)).toEqual({ ok: true })
    expect(await store.acquire(request)).toEqual({ ok: true })
    expect(await zcard(name, 'k')).toBe(1)
    // At the limit, the holder's own re-sent acquire still succeeds and takes nothing more.
    await store.acquire({ ...request, holder: 'other' })
    expect(await store.acquire(request)).toEqual({ ok: true })
    expect(await zcard(name, 'k')).toBe(2)
  })

  it('keeps every key under one hash tag, with a PX of its last lease end', async () => {
    const store = make()
    const name = `s${n - 1}`
    await store.acquire({
      permits: [
        { key: '["x"]', limit: 1 },
        { key: '["x","{odd}"]', limit: 1 },
      ],
      holder: 'h',
      now: 0,
      leaseMs: 5_000,
    })
    for (const key of ['["x"]', '["x","{odd}"]']) {
      const full = `${prefix}:sem:{${name}}:${key}`
      // The hash tag is the first {…}: the store's name, whatever the permit key contains.
      expect(/\{([^}]*)\}/.exec(full)![1]).toBe(name)
      const ttl = Number(await redis.command(['PTTL', full]))
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(5_000)
    }
  })

  it('renews only a lease still held: an expired one is lost, even before anyone took it', async () => {
    const store = make({ time: 'caller' })
    const permits = [{ key: 'k', limit: 1 }]
    await store.acquire({ permits, holder: 'h', now: 0, leaseMs: 100 })
    expect(await store.renew(['k'], 'h', 50, 100)).toBe(true)
    expect(await store.renew(['k'], 'h', 200, 100)).toBe(false)
    expect(await store.acquire({ permits, holder: 'i', now: 200, leaseMs: 100 })).toEqual({
      ok: true,
    })
    expect(await store.renew(['k'], 'h', 210, 100)).toBe(false)
  })

  it('a long call renews its lease past leaseMs and keeps its permit', async () => {
    const store = make()
    const name = `long-${kind}`
    // Margins for a busy machine: renewals every 150 ms keep a 450 ms lease; the call runs 3 leases.
    const a = limit({ concurrency: 1, store, name, leaseMs: 450, storePollMs: 20 })
    const b = limit({ concurrency: 1, store, name, leaseMs: 450, storePollMs: 20 })
    let signal: AbortSignal | undefined
    const long = a.run(async (s: AbortSignal | undefined) => {
      signal = s
      await sleep(1_350)
      return 'done'
    })
    await sleep(50)
    const error = await b.run(() => 'b', { deadline: 1_000 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'FANOUT_DEADLINE' })
    expect(await long).toBe('done')
    expect(signal?.aborted).toBe(false)
    expect(await b.run(() => 'b', { deadline: 1_000 })).toBe('b')
  })

  it('a stalled holder loses its lease: renew says false and the call is aborted with LeaseLostError', async () => {
    const store = make()
    const lim = limit({ concurrency: 1, store, name: `stall-${kind}`, leaseMs: 120 })
    const result = lim.run(
      (signal: AbortSignal | undefined) =>
        new Promise((_, reject) => {
          // The event loop stalls past the lease (a GC pause, a blocked process).
          const until = performance.now() + 300
          while (performance.now() < until);
          signal!.addEventListener('abort', () => reject(signal!.reason))
        }),
    )
    const error = await result.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LeaseLostError)
    expect(error).toMatchObject({ code: 'FANOUT_LEASE_LOST', limiter: `stall-${kind}` })
  })

  it('E12: a key of another type (WRONGTYPE) raises StoreError whatever onStoreError says', async () => {
    for (const onStoreError of ['fail-closed', 'local', 'fail-open'] as const) {
      const store = make({ onStoreError })
      await redis.command(['SET', `${prefix}:sem:{s${n - 1}}:k`, 'not a set'])
      const error = await store
        .acquire({ permits: [{ key: 'k', limit: 1 }], holder: 'h', now: 0, leaseMs: 1_000 })
        .catch((e: unknown) => e)
      expect(error, onStoreError).toBeInstanceOf(StoreError)
      expect(error).toMatchObject({ code: 'FANOUT_STORE', operation: 'acquire' })
    }
  })
})

/** Runs a limiter call whose permit wait is bounded; resolves with the error or 'ran'. */
const outcome = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'ran',
    (e: unknown) => e,
  )

describe.runIf(redisUp)('across processes', () => {
  const prefix = testPrefix()
  let redis: TestRedis
  let upstream: Upstream
  let active = { total: 0, a: 0, b: 0, c: 0 } as Record<string, number>
  const peak = { total: 0, a: 0 } as Record<string, number>
  beforeAll(async () => {
    redis = await connect('node-redis')
    upstream = await serve((req, res) => {
      const key = req.url!.slice(1)
      active.total!++
      active[key]!++
      peak.total = Math.max(peak.total!, active.total!)
      peak[key] = Math.max(peak[key] ?? 0, active[key]!)
      setTimeout(() => {
        active.total!--
        active[key]!--
        res.end('ok')
      }, 10)
    })
  })
  afterAll(async () => {
    await upstream.close()
    await removeKeys(redis, prefix)
    await redis.close()
  })

  it('E7: 4 processes through limit({ concurrency: 5, perKey: 2, store }) never exceed either limit', async () => {
    active = { total: 0, a: 0, b: 0, c: 0 }
    const input = (kind: ClientKind): SemaphoreInput => ({
      mode: 'load',
      kind,
      port: REDIS_PORT,
      prefix,
      name: 'e7',
      concurrency: 5,
      perKey: 2,
      calls: 30,
      url: upstream.origin,
    })
    const workers = (['node-redis', 'ioredis', 'node-redis', 'ioredis'] as const).map((kind) =>
      forkWorker<SemaphoreReply>(WORKER, input(kind)),
    )
    const replies = await Promise.all(workers.map((w) => w.result))
    expect(replies.map((r) => r.failed)).toEqual([[], [], [], []])
    expect(upstream.seen.length).toBe(120)
    expect(peak.total).toBeLessThanOrEqual(5)
    expect(peak.total).toBeGreaterThanOrEqual(3)
    for (const key of ['a', 'b', 'c']) expect(peak[key], key).toBeLessThanOrEqual(2)
  }, 60_000)

  it("lease recovery: a SIGKILLed holder's permits return within leaseMs and one poll", async () => {
    const holder = forkWorker<string>(WORKER, {
      mode: 'hold',
      kind: 'ioredis',
      port: REDIS_PORT,
      prefix,
      name: 'lease',
      concurrency: 2,
      leaseMs: 1_000,
    } satisfies SemaphoreInput)
    expect(await holder.result).toBe('holding')
    const store = redisConcurrencyStore({ redis: redis.connection, prefix, name: 'sem' })
    const lim = limit({ concurrency: 2, store, name: 'lease', leaseMs: 1_000, storePollMs: 100 })
    // Held (and renewed) while the holder lives.
    expect(await outcome(lim.run(() => 'x', { deadline: 1_200 }))).toMatchObject({
      code: 'FANOUT_DEADLINE',
    })
    holder.kill()
    // Within the lease (1 s) and one poll (100 ms), with room for a busy machine.
    expect(await outcome(lim.run(() => 'x', { deadline: 1_000 + 100 + 500 }))).toBe('ran')
    await store.close()
  }, 30_000)

  it('watch: a release wakes a waiter in another process at once, not after storePollMs', async () => {
    const store = redisConcurrencyStore({ redis: redis.connection, prefix, name: 'sem' })
    const lim = limit({ concurrency: 1, store, name: 'watch', leaseMs: 30_000 })
    let finish!: () => void
    const running = lim.run(() => new Promise<void>((resolve) => (finish = resolve)))
    const waiter = forkWorker<SemaphoreReply>(WORKER, {
      mode: 'wait',
      kind: 'node-redis',
      port: REDIS_PORT,
      prefix,
      name: 'watch',
      concurrency: 1,
      // Neither the poll (5 s) nor the lease end (30 s) comes before the deadline (2 s).
      storePollMs: 5_000,
      deadline: 2_000,
    } satisfies SemaphoreInput)
    const done = new Promise<SemaphoreReply>((resolve) =>
      waiter.child.on('message', (m) => typeof m === 'object' && resolve(m as SemaphoreReply)),
    )
    expect(await waiter.result).toBe('refused')
    finish()
    await running
    expect(await done).toEqual({ ok: 1, failed: [] })
    await store.close()
  }, 30_000)
})

describe.runIf(redisUp)('faults', () => {
  let server: PrivateRedis
  let proxy: FaultProxy
  const opened: TestRedis[] = []
  const stores: RedisConcurrencyStore[] = []
  beforeAll(async () => {
    server = await startRedis()
    proxy = await startProxy(server.port)
  })
  afterAll(async () => {
    await proxy.close()
    await server.stop()
  })
  afterEach(async () => {
    proxy.set({ kind: 'pass' })
    await Promise.all(stores.splice(0).map((s) => s.close()))
    await Promise.all(opened.splice(0).map((r) => r.close()))
  })
  const open = async (kind: ClientKind, port = server.port): Promise<TestRedis> => {
    const redis = await connect(kind, { port })
    opened.push(redis)
    return redis
  }
  const storeOn = (redis: TestRedis, options: Partial<RedisConcurrencyStoreOptions> = {}) => {
    // A generous timeout unless the case is about timeouts (E3, E14 pass their own).
    const store = redisConcurrencyStore({ redis: redis.connection, timeout: 2_000, ...options })
    stores.push(store)
    return store
  }
  const request = (holder: string, limit = 1) => ({
    permits: [{ key: 'k', limit }],
    holder,
    now: 0,
    leaseMs: 10_000,
  })

  it.each(CLIENT_KINDS)(
    'E5: %s reloads the scripts after SCRIPT FLUSH (NOSCRIPT)',
    async (kind) => {
      const redis = await open(kind)
      const store = storeOn(redis, { name: `e5-${kind}` })
      expect(await store.acquire(request('a', 2))).toEqual({ ok: true })
      await redis.command(['SCRIPT', 'FLUSH'])
      expect(await store.acquire(request('b', 2))).toEqual({ ok: true })
      expect(await store.renew(['k'], 'a', 0, 10_000)).toBe(true)
    },
  )

  it.each(CLIENT_KINDS)(
    'with the subscriber killed (CLIENT KILL TYPE pubsub), %s waiters still progress by polling',
    async (kind) => {
      const redis = await open(kind)
      const store = storeOn(redis, { name: `pubsub-${kind}` })
      const options = { concurrency: 1, store, name: 'l', leaseMs: 30_000, storePollMs: 150 }
      // Two limiters (two local queues) sharing the store's permit, as two processes would.
      const [first, second] = [limit(options), limit(options)]
      let finish!: () => void
      const running = first.run(() => new Promise<void>((resolve) => (finish = resolve)))
      await sleep(30)
      const waiting = outcome(second.run(() => 'x', { deadline: 2_000 }))
      await sleep(50)
      await redis.command(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
      finish()
      await running
      expect(await waiting).toBe('ran')
    },
  )

  it.each(CLIENT_KINDS)(
    '%s: a subscriber reconnect wakes every watcher (releases in between were missed)',
    async (kind) => {
      const redis = await open(kind)
      const store = storeOn(redis, { name: `re-${kind}` })
      let woken = 0
      const stop = store.watch('k', () => woken++)
      const channel = `fanout:sem:{re-${kind}}:released`
      const subscribers = async (): Promise<number> =>
        Number(((await redis.command(['PUBSUB', 'NUMSUB', channel])) as unknown[])[1])
      await expect.poll(subscribers, { timeout: 3_000 }).toBe(1)
      expect(woken).toBe(0)
      await redis.command(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
      await expect.poll(() => woken, { timeout: 5_000 }).toBeGreaterThan(0)
      stop()
    },
  )

  it.each(CLIENT_KINDS)(
    'E1: Redis down at startup: %s construction does not hang, calls fail closed within the timeout',
    async (kind) => {
      const port = await freePort()
      const events: TraceEvent[] = []
      const client = await downClient(kind, port)
      const store = redisConcurrencyStore({
        redis: client.connection,
        timeout: 100,
        onEvent: (e) => events.push(e),
      })
      stores.push(store)
      const lim = limit({ concurrency: 2, store, name: 'e1' })
      const error = await outcome(lim.run(() => 'x', { deadline: 1_000 }))
      expect(error).toBeInstanceOf(StoreUnavailableError)
      expect(lim.activeCount).toBe(0)
      await client.close()
    },
  )

  it.each(CLIENT_KINDS)(
    'E3: black-holed Redis: %s calls fail closed after the timeout',
    async (kind) => {
      const redis = await open(kind, proxy.port)
      const store = storeOn(redis, { name: `e3-${kind}`, timeout: 100 })
      proxy.set({ kind: 'blackhole' })
      const error = await store.acquire(request('a')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StoreUnavailableError)
      expect(error).toMatchObject({ reason: 'timeout', operation: 'acquire' })
      proxy.reset()
    },
  )

  it.each(CLIENT_KINDS)(
    'E14: slow Redis (300 ms a reply): %s follows onStoreError',
    async (kind) => {
      const redis = await open(kind, proxy.port)
      proxy.set({ kind: 'latency', ms: 300 })
      const closed = storeOn(redis, { name: `e14-${kind}`, timeout: 100 })
      expect(await closed.acquire(request('a')).catch((e: unknown) => e)).toMatchObject({
        code: 'FANOUT_STORE_UNAVAILABLE',
        reason: 'timeout',
      })
      const events: TraceEvent[] = []
      const local = storeOn(redis, {
        name: `e14l-${kind}`,
        timeout: 100,
        onStoreError: 'local',
        localShare: 0.5,
        breaker: false,
        onEvent: (e) => events.push(e),
      })
      const grants: ConcurrencyGrant[] = []
      for (const holder of ['a', 'b', 'c']) grants.push(await local.acquire(request(holder, 4)))
      expect(grants.map((g) => g.ok)).toEqual([true, true, false])
      expect(events.filter((e) => e.type === 'store.failed')).toHaveLength(3)
      // Admitted locally: renewed and released locally too.
      expect(await local.renew(['k'], 'a', 10, 10_000)).toBe(true)
      await local.release(['k'], 'a', 10)
      expect((await local.acquire(request('c', 4))).ok).toBe(true)
      const failOpen = storeOn(redis, {
        name: `e14o-${kind}`,
        onStoreError: 'fail-open',
        timeout: 100,
      })
      expect(await failOpen.acquire(request('a'))).toEqual({ ok: true })
      expect(await failOpen.renew(['k'], 'a', 10, 10_000)).toBe(true)
      // Let the late replies arrive: none may surface as an unhandled rejection.
      await sleep(400)
    },
  )

  it.each(CLIENT_KINDS)(
    'E2: a dropped reply: %s rejects, and the semaphore is taken once (then given back)',
    async (kind) => {
      const direct = await open(kind)
      const redis = await open(kind, proxy.port)
      const name = `e2-${kind}`
      const store = storeOn(redis, { name, timeout: 1_000 })
      const key = `fanout:sem:{${name}}:k`
      proxy.set({ kind: 'dropReplyOnce' })
      const error = await store.acquire(request('a', 5)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StoreUnavailableError)
      expect(proxy.dropped).toBeGreaterThan(0)
      expect(Number(await direct.command(['ZCARD', key]))).toBeLessThanOrEqual(1)
      // The acquire's outcome was unknown: the store takes back what it may have taken.
      await expect.poll(() => direct.command(['ZCARD', key]), { timeout: 3_000 }).toBe(0)
    },
  )
})

/** A connection to a port where nothing listens (Redis down at startup). */
async function downClient(
  kind: ClientKind,
  port: number,
): Promise<{ connection: TestRedis['connection']; close(): Promise<void> }> {
  if (kind === 'node-redis') {
    const { createClient } = await import('redis')
    const { fromNodeRedis } = await import('../../src/redis/index.js')
    const client = createClient({ socket: { port, reconnectStrategy: () => 100 } })
    client.on('error', () => {})
    const connecting = client.connect().catch(() => {})
    return {
      connection: fromNodeRedis(client),
      async close() {
        client.destroy()
        await connecting
      },
    }
  }
  const { Redis } = await import('ioredis')
  const { fromIoredis } = await import('../../src/redis/index.js')
  const client = new Redis({
    port,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 100,
  })
  client.on('error', () => {})
  return {
    connection: fromIoredis(client),
    async close() {
      client.disconnect()
    },
  }
}

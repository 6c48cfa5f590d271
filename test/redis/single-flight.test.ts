/**
 * Cross-process single-flight (`cached({ flight: redisFlight() })`) against real Redis: forked
 * processes missing one key at once make one loader call; a holder that dies is taken over once
 * its lease ends; a stale entry is served at once while one refresh runs; a lock whose reply was
 * lost is not claimed twice; a Redis that is down or silent degrades to single-flight within each
 * process, without hanging.
 *
 * The store is `redisCacheStore()`: the flight's winner writes through its compare-by-`storedAt` set.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cached } from '../../src/cache/cached.js'
import { systemClock } from '../../src/core/clock.js'
import type { TraceEvent } from '../../src/core/trace.js'
import { redisCacheStore, redisFlight, type RedisFlight } from '../../src/redis/index.js'
import { startProxy, type FaultProxy } from '../helpers/fault-proxy.js'
import { forkWorker, type Worker } from '../helpers/fork.js'
import {
  CLIENT_KINDS,
  connect,
  REDIS_PORT,
  redisRequired,
  redisUp,
  removeKeys,
  testPrefix,
  type TestRedis,
} from '../helpers/redis.js'
import { startRedis, type PrivateRedis } from '../helpers/redis-server.js'
import { CACHE, type WorkerInput, type WorkerResult } from './single-flight-shared.js'

const WORKER = new URL('./single-flight-worker.ts', import.meta.url)
const wallClock = { ...systemClock, now: Date.now }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

it.runIf(redisRequired)('Redis answers (required: FANOUT_REQUIRE_REDIS=1)', () => {
  expect(redisUp).toBe(true)
})

describe.runIf(redisUp).each(CLIENT_KINDS)('across processes, %s', (kind) => {
  let redis: TestRedis
  let prefix: string
  const workers: Worker<WorkerResult>[] = []
  beforeAll(async () => {
    redis = await connect(kind)
  })
  afterEach(async () => {
    for (const w of workers.splice(0)) w.kill()
    await removeKeys(redis, prefix)
  })
  afterAll(async () => {
    await redis.close()
  })

  const start = (input: Partial<WorkerInput>, count = 3): Worker<WorkerResult>[] => {
    prefix ??= testPrefix()
    const full: WorkerInput = {
      kind,
      port: REDIS_PORT,
      prefix,
      workers: count,
      callers: 50,
      lease: 2000,
      loaderMs: 100,
      deadlineMs: 8000,
      mode: 'miss',
      lingerMs: 0,
      ...input,
    }
    const started = Array.from({ length: count }, () => forkWorker<WorkerResult>(WORKER, full))
    workers.push(...started)
    return started
  }
  const loads = async () => Number(await redis.command(['GET', `${prefix}:loads`]))

  it('3 processes × 50 concurrent misses of one key make exactly 1 loader call', async () => {
    prefix = testPrefix()
    const results = await Promise.all(start({}).map((w) => w.result))
    const outcomes = results.flatMap((r) => r.outcomes)
    expect(results.flatMap((r) => r.fallbacks)).toEqual([])
    expect(outcomes).toHaveLength(150)
    expect(outcomes).toEqual(Array(150).fill({ ok: true, value: 'k:v1', status: 'miss' }))
    expect(await loads()).toBe(1)
  })

  it('a loader running past the lease keeps it by renewal: still exactly 1 loader call', async () => {
    prefix = testPrefix()
    const results = await Promise.all(start({ lease: 400, loaderMs: 1500 }).map((w) => w.result))
    expect(results.flatMap((r) => r.fallbacks)).toEqual([])
    expect(results.flatMap((r) => r.outcomes)).toEqual(
      Array(150).fill({ ok: true, value: 'k:v1', status: 'miss' }),
    )
    expect(await loads()).toBe(1)
  })

  it('the loader-holding process SIGKILLed: exactly one other takes over after the lease', async () => {
    prefix = testPrefix()
    const started = start({ mode: 'kill', lease: 300, deadlineMs: 8000 })
    let holder = 0
    await expect
      .poll(async () => (holder = Number(await redis.command(['GET', `${prefix}:holder`]))), {
        timeout: 15_000,
        interval: 20,
      })
      .toBeGreaterThan(0)
    const victim = started.find((w) => w.pid === holder)!
    victim.kill()
    const survivors = started.filter((w) => w !== victim)
    const results = await Promise.all(survivors.map((w) => w.result))
    const outcomes = results.flatMap((r) => r.outcomes)
    expect(outcomes).toEqual(Array(100).fill({ ok: true, value: 'k:v2', status: 'miss' }))
    expect(await loads()).toBe(2)
  })

  it('callers waiting on a dead holder give up at their deadlines', async () => {
    prefix = testPrefix()
    // A lease far beyond the deadlines: nobody may take over in time.
    const started = start({ mode: 'kill', lease: 60_000, deadlineMs: 1500 })
    let holder = 0
    await expect
      .poll(async () => (holder = Number(await redis.command(['GET', `${prefix}:holder`]))), {
        timeout: 15_000,
        interval: 20,
      })
      .toBeGreaterThan(0)
    started.find((w) => w.pid === holder)!.kill()
    const survivors = started.filter((w) => w.pid !== holder)
    const outcomes = (await Promise.all(survivors.map((w) => w.result))).flatMap((r) => r.outcomes)
    expect(outcomes).toEqual(Array(100).fill({ ok: false, error: 'Error: deadline passed' }))
    expect(await loads()).toBe(1)
  })

  it('with a stale entry, every caller gets it at once and one refresh runs', async () => {
    prefix = testPrefix()
    const store = redisCacheStore({ redis: redis.connection, prefix })
    // Written 15 s ago with a 10 s ttl: stale, within staleWhileRevalidate.
    const past = { ...systemClock, now: () => Date.now() - 15_000 }
    await cached(() => 'old', { ...CACHE, scope: 'shared', store, clock: past })('k')
    const results = await Promise.all(
      start({ mode: 'stale', loaderMs: 500, lingerMs: 2000 }).map((w) => w.result),
    )
    expect(results.flatMap((r) => r.outcomes)).toEqual(
      Array(150).fill({ ok: true, value: 'old', status: 'stale' }),
    )
    // The refresh wrote its value (read raw: a cached() here would refresh the stale entry itself).
    const written = async () => {
      const [key] = (await redis.command(['KEYS', `${prefix}:cache:*`])) as string[]
      const raw = await redis.command(['GET', key!])
      return (JSON.parse(String(raw)) as { value: unknown }).value
    }
    await expect.poll(written, { timeout: 5000 }).toBe('k:v1')
    expect(await loads()).toBe(1)
  })
})

describe.runIf(redisUp).each(CLIENT_KINDS)('faults, %s', (kind) => {
  let direct: TestRedis
  const prefix = testPrefix()
  const opened: { close(): Promise<void> }[] = []
  beforeAll(async () => {
    direct = await connect(kind)
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()))
  })
  afterAll(async () => {
    await removeKeys(direct, prefix)
    await direct.close()
  })

  /** One "process": a cached() whose flight goes through `flightRedis`. */
  const proc = (flightRedis: TestRedis, sub: string, onEvent?: (e: TraceEvent) => void) => {
    const flight: RedisFlight = redisFlight({
      redis: flightRedis.connection,
      prefix: `${prefix}:${sub}`,
      name: 'sf',
      timeout: 150,
      ...(onEvent === undefined ? {} : { onEvent }),
    })
    opened.push(flight)
    return flight
  }

  it('a lock SET whose reply was lost (dropReplyOnce) is not claimed twice', async () => {
    const proxy: FaultProxy = await startProxy(REDIS_PORT)
    const viaProxy = await connect(kind, { port: proxy.port })
    opened.push(viaProxy, proxy)
    const store = redisCacheStore({ redis: direct.connection, prefix: `${prefix}:drop` })
    let calls = 0
    const load = async () => {
      calls++
      await sleep(200)
      return 'v'
    }
    const options = { scope: 'shared' as const, ttl: 5000, store, clock: wallClock }
    const a = cached(load, { ...options, flight: proc(viaProxy, 'drop') })
    const b = cached(load, { ...options, flight: proc(direct, 'drop') })
    proxy.set({ kind: 'dropReplyOnce' })
    const first = a('k')
    await sleep(50)
    const both = await Promise.all([first, b('k')])
    expect(proxy.dropped).toBeGreaterThan(0)
    expect(both).toEqual(['v', 'v'])
    expect(calls).toBe(1)
  })

  describe('Redis unavailable', () => {
    let server: PrivateRedis
    beforeAll(async () => {
      server = await startRedis()
    })
    afterAll(async () => {
      await server.stop()
    })

    const stampede = async (flightRedis: TestRedis, events: TraceEvent[]) => {
      let calls = 0
      const c = cached(
        async () => {
          calls++
          await sleep(20)
          return 'v'
        },
        {
          scope: 'shared',
          ttl: 5000,
          store: redisCacheStore({ redis: flightRedis.connection, prefix: `${prefix}:down` }),
          storeTimeout: 150,
          flight: proc(flightRedis, 'down', (e) => events.push(e)),
          clock: wallClock,
        },
      )
      const startedAt = Date.now()
      const values = await Promise.all(Array.from({ length: 50 }, () => c('k')))
      return { values, calls, elapsed: Date.now() - startedAt }
    }

    it('E1: Redis down: single-flight within the process, no hang', async () => {
      const redis = await connect(kind, { port: server.port })
      opened.push(redis)
      await server.kill()
      const events: TraceEvent[] = []
      const { values, calls, elapsed } = await stampede(redis, events)
      expect(values).toEqual(Array(50).fill('v'))
      expect(calls).toBe(1)
      // A store read and a claim, each bounded by its timeout (150 ms), plus the loader.
      expect(elapsed).toBeLessThan(2000)
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'store.failed', operation: 'claim', policy: 'local' }),
      )
      await server.restart()
    })

    it('E3: Redis black-holed: single-flight within the process, no hang', async () => {
      const proxy = await startProxy(server.port)
      const redis = await connect(kind, { port: proxy.port })
      opened.push(redis, proxy)
      proxy.set({ kind: 'blackhole' })
      const events: TraceEvent[] = []
      const { values, calls, elapsed } = await stampede(redis, events)
      expect(values).toEqual(Array(50).fill('v'))
      expect(calls).toBe(1)
      expect(elapsed).toBeLessThan(2000)
      expect(events).toContainEqual(
        expect.objectContaining({
          type: 'store.failed',
          operation: 'claim',
          reason: 'timeout',
          policy: 'local',
        }),
      )
    })
  })
})

describe('redisFlight() construction', () => {
  const redis = { evalScript: () => Promise.resolve(0) } as never

  it('refuses unknown options and a pollInterval out of range, naming them', () => {
    expect(() => redisFlight({ redis, polInterval: 10 } as never)).toThrow(/pollInterval/)
    expect(() => redisFlight({ redis, pollInterval: 2 })).toThrow(
      /`pollInterval` must be within 8–10000 ms, got 2/,
    )
    expect(() => redisFlight({} as never)).toThrow(/`redis` must be a connection/)
  })
})

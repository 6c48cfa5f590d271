/**
 * `redis`: what a shared rate-limit reservation costs against real Redis (127.0.0.1:6379), for
 * fanout's `redisRateLimitStore()` and the libraries people use for the same job, on the same
 * server in the same process.
 *
 * Workload: RESERVATIONS reservations of weight 1 from CALLERS concurrent callers (each awaits
 * its reservation, then asks for the next), on one hot key, and again spread over KEYS keys. The
 * limit is set far above the load so every reservation is granted: this measures the store, not
 * waiting. Metrics: reservations per second (wall time of the whole run) and the p50/p99 latency
 * of one reservation as its caller sees it. Rounds are interleaved; medians are reported.
 *
 * Contenders (each with a client of its own, default settings unless said):
 * - `fanout`: `redisRateLimitStore({ redis: fromNodeRedis(client) })`, GCRA on the server's clock;
 *   `fanout-ioredis`: the same through `fromIoredis`; `fanout-window`: the exact sliding window;
 * - `rlf`: rate-limiter-flexible `RateLimiterRedis` over ioredis (EVALSHA via `defineCommand`),
 *   `rlf-node-redis` over node-redis (`useRedisPackage`: it sends the script with EVAL each time);
 * - `bottleneck`: Bottleneck clustering (`datastore: 'ioredis'`), a job per reservation; it makes
 *   several round trips per job, so it runs BOTTLENECK_RESERVATIONS of them.
 *
 * Skipped, with a note, when Redis is not answering.
 */
import { pingRedis } from '../test/helpers/ping-redis.js'
import { cacheMeasurements } from './redis-cache.js'
import Bottleneck from 'bottleneck'
import { Redis } from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { createClient } from 'redis'
import type * as FanoutRedis from '../src/redis/index.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'
import { median } from './dag-shape.js'

const HOST = '127.0.0.1'
const PORT = Number(process.env.FANOUT_BENCH_REDIS_PORT ?? 6379)
const RESERVATIONS = 20_000
const BOTTLENECK_RESERVATIONS = 2_000
const CALLERS = 64
const KEYS = 10_000
const ROUNDS = 3
const WARMUP = 2_000
/** Script runs per fanout contender, over the whole benchmark. */
const scriptRuns = new Map<string, number>()

interface Contender {
  readonly name: string
  /** One reservation on `key`; resolves when granted (throws if refused: the limit is too low). */
  readonly reserve: (key: string) => Promise<unknown>
  readonly reservations: number
  readonly close: () => Promise<void>
}

interface Run {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
}

/** Runs `n` reservations from CALLERS callers; `keyOf(i)` names the key of the i-th. */
async function drive(c: Contender, n: number, keyOf: (i: number) => string): Promise<Run> {
  const latencies = new Float64Array(n)
  let next = 0
  const started = performance.now()
  const caller = async (): Promise<void> => {
    while (next < n) {
      const i = next++
      const at = performance.now()
      await c.reserve(keyOf(i))
      latencies[i] = performance.now() - at
    }
  }
  await Promise.all(Array.from({ length: CALLERS }, caller))
  const seconds = (performance.now() - started) / 1000
  latencies.sort()
  return {
    perSecond: n / seconds,
    p50: latencies[Math.floor(n * 0.5)]!,
    p99: latencies[Math.floor(n * 0.99)]!,
  }
}

async function nodeRedis() {
  const client = createClient({ socket: { host: HOST, port: PORT } })
  client.on('error', () => {})
  await client.connect()
  return client
}

function ioredis(): Redis {
  const client = new Redis({ host: HOST, port: PORT, autoResendUnfulfilledCommands: false })
  client.on('error', () => {})
  return client
}

async function contenders(prefix: string): Promise<Contender[]> {
  const shared = (await import(
    new URL('../dist/redis/index.js', import.meta.url).href
  )) as typeof FanoutRedis
  const gcra = { algorithm: 'gcra', interval: 1e-6, tolerance: 1e6 * 1e-6 } as const
  const window = { algorithm: 'sliding-window', limit: 1_000_000, window: 1_000 } as const
  const request = { cost: 1, now: 0, maxWaitMs: 0, notBefore: -Infinity }
  const fanout = async (
    name: string,
    inner: FanoutRedis.RedisConnection,
    params: typeof gcra | typeof window,
    close: () => Promise<void>,
  ): Promise<Contender> => {
    // Counts the script runs, to report how many reservations each carried.
    const connection = Object.create(inner) as FanoutRedis.RedisConnection
    connection.evalScript = (script, keys, args) => {
      scriptRuns.set(name, (scriptRuns.get(name) ?? 0) + 1)
      return inner.evalScript(script, keys, args)
    }
    const store = shared.redisRateLimitStore({ redis: connection, prefix, name, timeout: 5_000 })
    return {
      name,
      reservations: RESERVATIONS,
      reserve: async (key) => {
        const r = await store.reserve(key, { ...request, now: performance.now(), params })
        if (!r.ok) throw new Error(`${name}: refused (the limit is meant to be out of reach)`)
      },
      close,
    }
  }
  const nr1 = await nodeRedis()
  const io1 = ioredis()
  const nr2 = await nodeRedis()
  const io2 = ioredis()
  const nr3 = await nodeRedis()
  const rlf = (name: string, storeClient: unknown, extra: object, close: () => Promise<void>) => {
    const limiter = new RateLimiterRedis({
      storeClient,
      keyPrefix: `${prefix}:${name}`,
      points: 1_000_000_000,
      duration: 1,
      ...extra,
    })
    return {
      name,
      reservations: RESERVATIONS,
      reserve: (key: string) => limiter.consume(key, 1),
      close,
    }
  }
  const bottlenecks = new Map<string, Bottleneck>()
  const bottleneckClients = new Bottleneck.IORedisConnection({
    clientOptions: { host: HOST, port: PORT },
  })
  return [
    await fanout('fanout', shared.fromNodeRedis(nr1), gcra, async () => void nr1.destroy()),
    await fanout('fanout-ioredis', shared.fromIoredis(io1), gcra, async () => io1.disconnect()),
    await fanout(
      'fanout-window',
      shared.fromNodeRedis(nr3),
      window,
      async () => void nr3.destroy(),
    ),
    rlf('rlf', io2, {}, async () => io2.disconnect()),
    rlf('rlf-node-redis', nr2, { useRedisPackage: true }, async () => void nr2.destroy()),
    {
      name: 'bottleneck',
      reservations: BOTTLENECK_RESERVATIONS,
      reserve: (key) => {
        let limiter = bottlenecks.get(key)
        if (limiter === undefined) {
          limiter = new Bottleneck({
            id: `${prefix}:${key}`,
            datastore: 'ioredis',
            connection: bottleneckClients,
            clearDatastore: true,
          })
          bottlenecks.set(key, limiter)
        }
        return limiter.schedule(() => Promise.resolve())
      },
      close: async () => {
        await Promise.all([...bottlenecks.values()].map((b) => b.disconnect(false)))
        await bottleneckClients.disconnect(false)
      },
    },
  ]
}

async function removeKeys(prefix: string): Promise<void> {
  const client = ioredis()
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await client.unlink(...keys)
  } while (cursor !== '0')
  client.disconnect()
}

export const redis: Benchmark = {
  name: 'redis',
  description:
    'Redis stores: shared rate-limit reservations (fanout vs rate-limiter-flexible vs Bottleneck), and the shared cache hit path vs a plain GET',
  async run(ctx: BenchContext): Promise<BenchReport> {
    if (!(await pingRedis(PORT, HOST)))
      return {
        measurements: [],
        notes: [
          `skipped: Redis is not answering on ${HOST}:${PORT} (start redis-server to run it).`,
        ],
      }
    const prefix = `fanout-bench:${process.pid}`
    const all = await contenders(prefix)
    const hot = (): string => 'hot'
    let seed = ctx.seed >>> 0
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) >>> 0
      let t = seed
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const spread = Array.from({ length: RESERVATIONS }, () => `k${Math.floor(random() * KEYS)}`)
    const runs = new Map<string, Run[]>()
    try {
      for (const c of all) await drive(c, Math.min(WARMUP, c.reservations), hot)
      for (let round = 0; round < ROUNDS; round++) {
        for (const c of all) {
          for (const [workload, keyOf] of [
            ['hot', hot],
            ['keys', (i: number) => spread[i]!],
          ] as const) {
            // Bottleneck's per-key limiters are set up on first use: only the hot key is fair to it.
            if (c.name === 'bottleneck' && workload === 'keys') continue
            ctx.progress(`round ${round + 1}/${ROUNDS}: ${c.name} ${workload}`)
            const run = await drive(c, c.reservations, keyOf)
            const id = `${c.name}|${workload}`
            runs.set(id, [...(runs.get(id) ?? []), run])
          }
        }
      }
    } finally {
      for (const c of all) await c.close()
      await removeKeys(prefix)
    }
    ctx.progress('shared cache: hit path and L1')
    const cacheRows = await cacheMeasurements({ progress: ctx.progress })
    const measurements: Measurement[] = cacheRows.map((row) => ({
      ...row,
      contender: `cache-${row.contender}`,
    }))
    const perRun = [...scriptRuns].map(([name, n]) => {
      const reservations = WARMUP + ROUNDS * 2 * RESERVATIONS
      return `${name} ${(reservations / n).toFixed(1)}`
    })
    for (const [id, list] of runs) {
      const [contender, workload] = id.split('|') as [string, string]
      measurements.push(
        {
          contender,
          metric: `${workload}_per_s`,
          value: median(list.map((r) => r.perSecond)),
          unit: '/s',
        },
        {
          contender,
          metric: `${workload}_p50_ms`,
          value: median(list.map((r) => r.p50)),
          unit: 'ms',
        },
        {
          contender,
          metric: `${workload}_p99_ms`,
          value: median(list.map((r) => r.p99)),
          unit: 'ms',
        },
      )
    }
    return {
      measurements,
      notes: [
        `${RESERVATIONS} reservations (Bottleneck: ${BOTTLENECK_RESERVATIONS}) from ${CALLERS} concurrent callers, ${ROUNDS} interleaved rounds, medians; Redis on ${HOST}:${PORT}.`,
        `Reservations per script run (fanout batches a key's reservations made in the same tick): ${perRun.join(', ')}.`,
      ],
      tables: [
        {
          title: 'One hot key (higher reservations/s is better; "vs fanout" divides by fanout\'s)',
          metrics: ['hot_per_s', 'hot_p50_ms', 'hot_p99_ms'],
        },
        {
          title: `${KEYS} keys, each reservation on a random one`,
          metrics: ['keys_per_s', 'keys_p50_ms', 'keys_p99_ms'],
        },
        {
          title:
            'Shared cache: cached() on redisCacheStore (cache-fanout), with an L1 in front (cache-fanout-tiered), vs a plain GET + JSON.parse (cache-plain-get)',
          metrics: ['hit_us', 'hit_ops_s', 'miss_us'],
        },
      ],
    }
  },
}

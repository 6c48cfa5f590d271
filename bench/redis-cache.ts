/**
 * The shared cache's hit path on a real Redis (127.0.0.1:6379), to be folded into the `redis`
 * benchmark: what does `cached()` on `redisCacheStore()` cost over a plain client `GET` +
 * `JSON.parse` of the same entry, and what does an L1 (`tieredCacheStore`) buy and cost?
 *
 * Contenders, all on node-redis 6 (one connection each), the value a ~1 KB JSON object written by
 * another `cached()` on another connection (so every read is another writer's entry):
 *
 * - `fanout`: `cached()` on `redisCacheStore()` (L2 only): one EVALSHA round trip per hit;
 * - `plain-get`: the floor, `client.get(key)` + `JSON.parse` of the same text;
 * - `fanout-tiered`: `cached()` on `tieredCacheStore({ l1: memoryCacheStore, l2: redisCacheStore,
 *   invalidation: redisInvalidation })`: a hit is answered from L1, without a round trip;
 * - on misses (`miss_us`: a new key each call, `fn` answers at once): `fanout` is get + set;
 *   `fanout-tiered` also copies into L1 and publishes an invalidation.
 *
 * Metrics (median of ROUNDS rounds, contenders interleaved): `hit_us` (sequential hits, µs per
 * call), `hit_ops_s` (CONCURRENCY callers at once), `miss_us` (sequential misses, µs per call).
 * Every hit's value is checked outside the timed region (its `id`).
 *
 * Part of the `redis` benchmark (`npm run bench -- redis`), as contenders `cache-…`; run it alone
 * with `npm run -s build && npx tsx bench/redis-cache.ts`.
 */
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { createClient } from 'redis'
import type * as FanoutCache from '../src/cache/index.js'
import type * as FanoutRedis from '../src/redis/index.js'
import { median } from './dag-shape.js'
import { fanout, policies } from './fanout.js'
import { formatTable, type Measurement } from './harness.js'

const cacheLib = (await import(
  new URL('../dist/cache/index.js', import.meta.url).href
)) as typeof FanoutCache
const redisLib = (await import(
  new URL('../dist/redis/index.js', import.meta.url).href
)) as typeof FanoutRedis

const HITS = 2000
const MISSES = 500
const CONCURRENCY = 50
const ROUNDS = 5
const KEYS = 100

/** A client made by `open()` (node-redis's own generic type, inferred). */
type Client = Awaited<ReturnType<typeof open>>

const valueOf = (id: number) => ({
  id,
  name: `product ${id}`,
  tags: Array.from({ length: 10 }, (_, i) => `tag-${i}`),
  price: { amount: 1999, currency: 'EUR' },
  description: 'x'.repeat(700),
})
type Value = ReturnType<typeof valueOf>

async function open() {
  const client = createClient({ socket: { host: '127.0.0.1', port: 6379 } })
  client.on('error', () => {})
  await client.connect()
  return client
}

export interface CacheBenchOptions {
  readonly progress?: (line: string) => void
}

/** The measurement rows (harness format), contenders `fanout`, `plain-get`, `fanout-tiered`. */
export async function cacheMeasurements(options: CacheBenchOptions = {}): Promise<Measurement[]> {
  const progress = options.progress ?? (() => {})
  const prefix = `fanout-bench:${randomBytes(4).toString('hex')}`
  const clients = await Promise.all([open(), open(), open(), open()])
  const [writer, l2only, tiered, plain] = clients
  const closers: (() => unknown)[] = []
  try {
    const wall = { ...policies.systemClock, now: Date.now }
    const make = (client: Client, tier: boolean) => {
      const redis = redisLib.fromNodeRedis(client)
      closers.push(() => redis.close())
      const l2 = redisLib.redisCacheStore({ redis, prefix })
      let store: FanoutCache.CacheStore = l2
      if (tier) {
        const bus = redisLib.redisInvalidation({ redis, prefix })
        const t = cacheLib.tieredCacheStore({
          l1: cacheLib.memoryCacheStore({ maxEntries: 10_000 }),
          l2,
          l1Ttl: 60_000,
          invalidation: bus,
        })
        closers.push(
          () => t.close(),
          () => bus.close(),
        )
        store = t
        return { store, bus }
      }
      return { store, bus: undefined }
    }
    const cacheOn = (store: FanoutCache.CacheStore) =>
      fanout.cached((id: number) => valueOf(id), {
        store,
        ttl: 600_000,
        scope: 'shared',
        name: 'bench',
        clock: wall,
      })
    const seed = cacheOn(make(writer, false).store)
    const l2Cache = cacheOn(make(l2only, false).store)
    const t = make(tiered, true)
    const tierCache = cacheOn(t.store)
    for (let i = 0; i < 200 && !(t.bus?.listening ?? true); i++)
      await new Promise((resolve) => setTimeout(resolve, 5))
    for (let id = 0; id < KEYS; id++) await seed(id)
    // The raw key the plain client reads: the entry cached() wrote, found once.
    const keys = await plain.keys(`${prefix}:cache:*`)
    const rawKeys = keys.sort()
    if (rawKeys.length !== KEYS)
      throw new Error(`expected ${KEYS} entries, found ${rawKeys.length}`)
    for (let id = 0; id < KEYS; id++) await tierCache(id) // fill L1

    const contenders: Record<string, (i: number) => Promise<Value>> = {
      fanout: (i) => l2Cache(i % KEYS),
      'plain-get': async (i) =>
        (JSON.parse((await plain.get(rawKeys[i % KEYS]!)) ?? 'null') as { value: Value }).value,
      'fanout-tiered': (i) => tierCache(i % KEYS),
    }
    const samples = new Map<string, { seq: number[]; conc: number[]; miss: number[] }>()
    for (const name of Object.keys(contenders)) samples.set(name, { seq: [], conc: [], miss: [] })
    let missKey = 1_000_000
    const missers: Record<string, ((id: number) => Promise<Value>) | undefined> = {
      fanout: (id) => l2Cache(id),
      'fanout-tiered': (id) => tierCache(id),
    }
    for (let round = 0; round < ROUNDS + 1; round++) {
      progress(`redis-cache: round ${round + 1}/${ROUNDS + 1}`)
      for (const [name, call] of Object.entries(contenders)) {
        const got: Value[] = []
        let start = performance.now()
        for (let i = 0; i < HITS; i++) got.push(await call(i))
        const seqUs = ((performance.now() - start) * 1000) / HITS
        start = performance.now()
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async (_, w) => {
            for (let i = w; i < HITS; i += CONCURRENCY) got.push(await call(i))
          }),
        )
        const opsS = (HITS / (performance.now() - start)) * 1000
        let missUs: number | undefined
        const miss = missers[name]
        if (miss !== undefined) {
          start = performance.now()
          for (let i = 0; i < MISSES; i++) got.push(await miss(missKey++))
          missUs = ((performance.now() - start) * 1000) / MISSES
        }
        for (const v of got.slice(0, HITS))
          if (typeof v?.id !== 'number' || v.description.length !== 700)
            throw new Error(`${name}: wrong value ${JSON.stringify(v)?.slice(0, 80)}`)
        if (round === 0) continue // warm-up
        const s = samples.get(name)!
        s.seq.push(seqUs)
        s.conc.push(opsS)
        if (missUs !== undefined) s.miss.push(missUs)
      }
    }
    const rows: Measurement[] = []
    for (const [contender, s] of samples) {
      rows.push({ contender, metric: 'hit_us', value: median(s.seq), unit: 'µs' })
      rows.push({ contender, metric: 'hit_ops_s', value: median(s.conc), unit: 'ops/s' })
      if (s.miss.length > 0)
        rows.push({ contender, metric: 'miss_us', value: median(s.miss), unit: 'µs' })
    }
    return rows
  } finally {
    for (const close of closers.reverse()) await close()
    const left = await plain.keys(`${prefix}:*`)
    if (left.length > 0) await plain.unlink(left)
    for (const client of clients) client.destroy()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await cacheMeasurements({ progress: (line) => process.stderr.write(`${line}\n`) })
  console.log(
    formatTable(rows, {
      title: 'redis-cache: cached() hit path on Redis, L2 only vs tiered, vs a plain GET',
      metrics: ['hit_us', 'hit_ops_s', 'miss_us'],
    }),
  )
}

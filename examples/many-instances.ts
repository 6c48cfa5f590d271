/**
 * Two processes, one Redis: a service's instances sharing one rate limit, one concurrency limit
 * and one cache, in front of an upstream that counts what reaches it.
 *
 *   npx tsx examples/many-instances.ts        (Redis on 127.0.0.1:6379, or REDIS_URL)
 *
 * The parent starts the upstream on loopback and forks two workers. Each worker makes 20 calls
 * through `rateLimit()` (5 a second, a burst of 5) and `limit()` (2 at once), both kept in Redis,
 * and asks 10 times at once for a price that `cached()` loads with a cross-process flight. The
 * parent prints what the upstream saw: within the limits of ONE instance, although two ran.
 */
import { fork } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { cached, execute, limit, pipe, rateLimit } from '../src/index.js'
import { systemClock } from '../src/policies/index.js'
import {
  fromNodeRedis,
  redisCacheStore,
  redisConcurrencyStore,
  redisFlight,
  redisRateLimitStore,
} from '../src/redis/index.js'

/** What the upstream saw. */
export interface Seen {
  /** Calls to /work. */
  readonly work: number
  /** Most /work calls that arrived within any 1,000 ms. */
  readonly busiestSecond: number
  /** Most /work calls in flight at once. */
  readonly peakInFlight: number
  /** Calls to /price (the cached loader). */
  readonly priceLoads: number
  /** What each worker got for the price, all callers included. */
  readonly pricesServed: number
}

interface WorkerInput {
  readonly base: string
  readonly run: string
  readonly redisUrl: string
}

const RATE = { rate: 5, per: 1_000, burst: 5 } as const
const CONCURRENCY = 2
const CALLS_PER_WORKER = 20
const PRICE_CALLERS = 10

/** One instance of the service. */
async function worker({ base, run, redisUrl }: WorkerInput): Promise<number> {
  const client = await createClient({ url: redisUrl }).connect()
  const redis = fromNodeRedis(client)
  const prefix = 'fanout-example'
  const rate = rateLimit({
    ...RATE,
    maxWait: 30_000,
    store: redisRateLimitStore({ redis, prefix, name: `work-${run}` }),
  })
  const semaphore = redisConcurrencyStore({ redis, prefix, name: `work-${run}` })
  const inFlight = limit({ concurrency: CONCURRENCY, store: semaphore, name: `work-${run}` })
  const call = pipe(rate, inFlight).wrap(async ({ signal }) => {
    const response = await fetch(`${base}/work`, { signal })
    return response.text()
  })
  const price = cached(
    async (sku: string, { signal }) => {
      const response = await fetch(`${base}/price/${sku}`, { signal })
      return (await response.json()) as { sku: string; cents: number }
    },
    {
      store: redisCacheStore({ redis, prefix }),
      flight: redisFlight({ redis, prefix }),
      ttl: 60_000,
      scope: 'shared',
      name: `prices-${run}`,
      // Entries carry their writer's times: processes sharing a store share the wall clock.
      clock: { ...systemClock, now: Date.now },
    },
  )
  const [, prices] = await Promise.all([
    Promise.all(Array.from({ length: CALLS_PER_WORKER }, () => execute(call))),
    Promise.all(Array.from({ length: PRICE_CALLERS }, () => price('sku-1'))),
  ])
  await semaphore.close()
  await redis.close()
  await client.close()
  return prices.filter((p) => p.cents === 1299).length
}

/** The upstream: counts arrivals, calls in flight and price loads. */
function upstream() {
  const arrivals: number[] = []
  let inFlight = 0
  let peakInFlight = 0
  let priceLoads = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/price/')) {
      priceLoads++
      setTimeout(() => res.end(JSON.stringify({ sku: req.url!.slice(7), cents: 1299 })), 100)
      return
    }
    arrivals.push(performance.now())
    peakInFlight = Math.max(peakInFlight, ++inFlight)
    setTimeout(() => {
      inFlight--
      res.end('ok')
    }, 50)
  })
  const busiestSecond = (): number =>
    Math.max(0, ...arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + 1_000).length))
  return {
    server,
    seen: (pricesServed: number): Seen => ({
      work: arrivals.length,
      busiestSecond: busiestSecond(),
      peakInFlight,
      priceLoads,
      pricesServed,
    }),
  }
}

/** Starts the upstream, runs two worker processes against it, and says what it saw. */
export async function runManyInstances(
  redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
): Promise<Seen> {
  const { server, seen } = upstream()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const input: WorkerInput = { base, run: `${process.pid}-${Date.now()}`, redisUrl }
  try {
    const served = await Promise.all([1, 2].map(() => forkWorker(input)))
    return seen(served.reduce((a, b) => a + b, 0))
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

function forkWorker(input: WorkerInput): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), ['worker', JSON.stringify(input)], {
    execArgv: ['--import', 'tsx'],
  })
  return new Promise((resolve, reject) => {
    child.once('message', (served) => resolve(served as number))
    child.once('exit', (code) => reject(new Error(`a worker exited (${code}) without an answer`)))
  })
}

if (process.argv[2] === 'worker') {
  const served = await worker(JSON.parse(process.argv[3]!) as WorkerInput)
  process.send!(served, () => process.exit(0))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = await runManyInstances()
  console.log(`two instances, one Redis: the upstream saw
  ${s.work} calls to /work, at most ${s.busiestSecond} in any second (the limit: ${RATE.burst} + ${RATE.rate})
  at most ${s.peakInFlight} in flight at once (the limit: ${CONCURRENCY})
  ${s.priceLoads} price load for ${s.pricesServed} callers in two processes`)
}

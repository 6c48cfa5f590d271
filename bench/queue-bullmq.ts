/**
 * The BullMQ backend of `fanout/queue` against raw BullMQ, on the same Redis (127.0.0.1:6379) in
 * one process, to be folded into the `queue` benchmark (`bullmqMeasurements()`); run it alone
 * with `npm run -s build && npx tsx bench/queue-bullmq.ts`.
 *
 * Both contenders use the same client (node-redis, the primary; `…_ioredis` rows repeat it with
 * ioredis), the same BullMQ, and the same retention (`removeOnComplete` 1000, `removeOnFail`
 * 10 000, fanout's defaults), so Redis does the same work for each.
 *
 * - `worker_per_s`: WORKER_JOBS jobs already queued (added untimed), drained at concurrency 50
 *   with a no-op handler; jobs per second from the worker's start to the last handler's return.
 *   `fanout-bullmq` is `worker(bullmqQueue(...), name, () => null, { concurrency: 50 })`;
 *   `bullmq` is `new Worker(name, async () => null, { concurrency: 50 })`.
 * - `enqueue_p50_ms` / `enqueue_p99_ms`: ENQUEUES sequential single enqueues (the "answer 202"
 *   path): `offload(queue, name, data)` (which also answers whether the id was new) against
 *   `queue.add(name, data, { jobId })`.
 * - `consume_per_s` and `backend_enqueue_p50_ms` / `…_p99_ms` (fanout only): the backend alone,
 *   `queue.consume()` with a handler that completes at once and `queue.enqueue()`, to tell the
 *   backend's cost from that of `worker()` and `offload()` around it.
 * Rounds are interleaved; medians are reported. Skipped, with a note, when Redis is not up.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import type * as FanoutQueue from '../src/queue/index.js'
import type * as FanoutBullmq from '../src/queue-bullmq/index.js'
import { pingRedis } from '../test/helpers/ping-redis.js'
import { median } from './dag-shape.js'
import { formatTable, type Measurement } from './harness.js'
import { percentiles, type Latency } from './latency.js'

const HOST = '127.0.0.1'
const PORT = Number(process.env.FANOUT_BENCH_REDIS_PORT ?? 6379)
const WORKER_JOBS = 5_000
const ENQUEUES = 2_000
const CONCURRENCY = 50
const ROUNDS = 3
const RETENTION = { removeOnComplete: 1000, removeOnFail: 10_000 } as const

type Kind = 'node-redis' | 'ioredis'

export interface BullmqLib {
  readonly queue: typeof FanoutQueue
  readonly bullmq: typeof FanoutBullmq
}

const load = async <T>(path: string): Promise<T> =>
  (await import(new URL(`../dist/${path}`, import.meta.url).href)) as T

interface Client {
  readonly client: FanoutBullmq.BullmqRedisClient
  /** A second connection for BullMQ's worker (ioredis workers need `maxRetriesPerRequest: null`). */
  readonly forWorker: () => FanoutBullmq.BullmqRedisClient
  /** Removes the keys under `prefix` (SCAN + UNLINK) and closes the connections. */
  close(prefix: string): Promise<void>
}

/** SCAN + UNLINK of one prefix, through either client's raw command. */
async function removeKeys(
  command: (args: string[]) => Promise<unknown>,
  prefix: string,
): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = (await command([
      'SCAN',
      cursor,
      'MATCH',
      `${prefix}*`,
      'COUNT',
      '1000',
    ])) as [string, string[]]
    cursor = String(next)
    if (keys.length > 0) await command(['UNLINK', ...keys])
  } while (cursor !== '0')
}

async function connect(kind: Kind): Promise<Client> {
  if (kind === 'node-redis') {
    const client = createClient({ socket: { host: HOST, port: PORT } })
    client.on('error', () => {})
    await client.connect()
    const extra: { destroy(): void }[] = []
    return {
      client: client as unknown as FanoutBullmq.BullmqRedisClient,
      forWorker: () => {
        const dup = client.duplicate()
        extra.push(dup)
        return dup as unknown as FanoutBullmq.BullmqRedisClient
      },
      close: async (prefix) => {
        for (const c of extra) c.destroy()
        await removeKeys((args) => client.sendCommand(args), prefix)
        client.destroy()
      },
    }
  }
  const client = new Redis({ host: HOST, port: PORT, maxRetriesPerRequest: null })
  client.on('error', () => {})
  return {
    client: client as unknown as FanoutBullmq.BullmqRedisClient,
    forWorker: () => client as unknown as FanoutBullmq.BullmqRedisClient,
    close: async (prefix) => {
      await removeKeys(([name, ...rest]) => client.call(name!, ...rest), prefix)
      client.disconnect()
    },
  }
}

const benchPrefix = (): string => `fanout-bench:${randomBytes(4).toString('hex')}`

/** Raw BullMQ: addBulk WORKER_JOBS (untimed), then time a Worker draining them. */
async function rawWorker(kind: Kind): Promise<number> {
  const c = await connect(kind)
  const prefix = benchPrefix()
  const name = 'noop'
  const queue = new Queue(name, { connection: c.client as never, prefix })
  try {
    for (let i = 0; i < WORKER_JOBS; i += 500)
      await queue.addBulk(
        Array.from({ length: Math.min(500, WORKER_JOBS - i) }, (_, j) => ({
          name,
          data: { n: i + j },
          opts: { jobId: randomUUID(), ...RETENTION },
        })),
      )
    let done = 0
    let resolve = (): void => {}
    const finished = new Promise<void>((r) => (resolve = r))
    const started = performance.now()
    const worker = new Worker(
      name,
      async () => {
        if (++done === WORKER_JOBS) setImmediate(resolve)
        return null
      },
      {
        connection: c.forWorker() as never,
        prefix,
        concurrency: CONCURRENCY,
        removeOnComplete: { count: RETENTION.removeOnComplete },
        removeOnFail: { count: RETENTION.removeOnFail },
      },
    )
    await finished
    const seconds = (performance.now() - started) / 1000
    await worker.close()
    return WORKER_JOBS / seconds
  } finally {
    await queue.close()
    await c.close(prefix)
  }
}

/**
 * fanout: offload WORKER_JOBS (untimed), then time worker() draining them; with `backendOnly`,
 * the backend's own `consume()` with a handler that completes at once (no `worker()` around it).
 */
async function fanoutWorker(lib: BullmqLib, kind: Kind, backendOnly = false): Promise<number> {
  const c = await connect(kind)
  const name = 'noop'
  const prefix = benchPrefix()
  const queue = lib.bullmq.bullmqQueue({
    connection: c.client,
    prefix,
    ...RETENTION,
  })
  try {
    for (let i = 0; i < WORKER_JOBS; i += 200)
      await Promise.all(
        Array.from({ length: Math.min(200, WORKER_JOBS - i) }, (_, j) =>
          lib.queue.offload(queue, name, { n: i + j }),
        ),
      )
    let done = 0
    let resolve = (): void => {}
    const finished = new Promise<void>((r) => (resolve = r))
    const started = performance.now()
    const handler = (): null => {
      if (++done === WORKER_JOBS) setImmediate(resolve)
      return null
    }
    const w = backendOnly
      ? queue.consume(
          name,
          () => Promise.resolve({ outcome: 'completed' as const, result: handler() }),
          { concurrency: CONCURRENCY },
        )
      : lib.queue.worker(queue, name, handler, { concurrency: CONCURRENCY })
    await finished
    const seconds = (performance.now() - started) / 1000
    await w.close({ graceMs: 5_000 })
    return WORKER_JOBS / seconds
  } finally {
    await queue.close()
    await c.close(prefix)
  }
}

async function rawEnqueue(kind: Kind): Promise<Latency> {
  const c = await connect(kind)
  const name = 'enqueue'
  const prefix = benchPrefix()
  const queue = new Queue(name, { connection: c.client as never, prefix })
  try {
    // The first add connects and loads the scripts: not part of the per-call cost.
    await queue.add(name, { n: -1 }, { jobId: randomUUID(), ...RETENTION })
    const samples = new Float64Array(ENQUEUES)
    for (let i = 0; i < ENQUEUES; i++) {
      const at = performance.now()
      await queue.add(name, { n: i }, { jobId: randomUUID(), ...RETENTION })
      samples[i] = performance.now() - at
    }
    return percentiles(samples)
  } finally {
    await queue.close()
    await c.close(prefix)
  }
}

/** `offload()`, or with `backendOnly` the backend's own `enqueue()` with a fresh id each time. */
async function fanoutEnqueue(lib: BullmqLib, kind: Kind, backendOnly = false): Promise<Latency> {
  const c = await connect(kind)
  const name = 'enqueue'
  const prefix = benchPrefix()
  const queue = lib.bullmq.bullmqQueue({
    connection: c.client,
    prefix,
    ...RETENTION,
  })
  try {
    const one = backendOnly
      ? (n: number) =>
          queue.enqueue({
            name,
            id: randomUUID(),
            data: { n },
            attempts: 1,
            delayMs: 0,
            deadlineAt: null,
          })
      : (n: number) => lib.queue.offload(queue, name, { n })
    await one(-1)
    const samples = new Float64Array(ENQUEUES)
    for (let i = 0; i < ENQUEUES; i++) {
      const at = performance.now()
      await one(i)
      samples[i] = performance.now() - at
    }
    return percentiles(samples)
  } finally {
    await queue.close()
    await c.close(prefix)
  }
}

export interface BullmqBenchOptions {
  readonly progress?: (line: string) => void
  /** The modules measured; default the built package (`dist/`). */
  readonly lib?: BullmqLib
  /** Client kinds to run; default both. */
  readonly kinds?: readonly Kind[]
}

/**
 * The rows of the BullMQ part of the `queue` benchmark: contenders `fanout-bullmq` and `bullmq`,
 * metrics `worker_per_s`, `enqueue_p50_ms`, `enqueue_p99_ms` (node-redis), fanout's
 * `consume_per_s` and `backend_enqueue_p50_ms`/`…_p99_ms`, and all of them again with `_ioredis`.
 * Empty, with a note, when Redis is not answering.
 */
export async function bullmqMeasurements(
  options: BullmqBenchOptions = {},
): Promise<{ measurements: Measurement[]; notes: string[] }> {
  const progress = options.progress ?? (() => {})
  if (!(await pingRedis(PORT)))
    return {
      measurements: [],
      notes: [`bullmq skipped: Redis is not answering on ${HOST}:${PORT}.`],
    }
  const lib = options.lib ?? {
    queue: await load<typeof FanoutQueue>('queue/index.js'),
    bullmq: await load<typeof FanoutBullmq>('queue-bullmq/index.js'),
  }
  const kinds = options.kinds ?? (['node-redis', 'ioredis'] as const)
  const runs = new Map<string, number[]>()
  const note = (contender: string, metric: string, value: number): void => {
    const key = `${contender}|${metric}`
    runs.set(key, [...(runs.get(key) ?? []), value])
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const kind of kinds) {
      const suffix = kind === 'ioredis' ? '_ioredis' : ''
      const step = (what: string): void =>
        progress(`bullmq round ${round}/${ROUNDS}: ${what} (${kind})`)
      step('bullmq worker')
      note('bullmq', `worker_per_s${suffix}`, await rawWorker(kind))
      step('fanout worker')
      note('fanout-bullmq', `worker_per_s${suffix}`, await fanoutWorker(lib, kind))
      step('fanout backend consume')
      note('fanout-bullmq', `consume_per_s${suffix}`, await fanoutWorker(lib, kind, true))
      step('bullmq enqueue')
      const raw = await rawEnqueue(kind)
      note('bullmq', `enqueue_p50_ms${suffix}`, raw.p50)
      note('bullmq', `enqueue_p99_ms${suffix}`, raw.p99)
      step('fanout enqueue')
      const f = await fanoutEnqueue(lib, kind)
      note('fanout-bullmq', `enqueue_p50_ms${suffix}`, f.p50)
      note('fanout-bullmq', `enqueue_p99_ms${suffix}`, f.p99)
      step('fanout backend enqueue')
      const b = await fanoutEnqueue(lib, kind, true)
      note('fanout-bullmq', `backend_enqueue_p50_ms${suffix}`, b.p50)
      note('fanout-bullmq', `backend_enqueue_p99_ms${suffix}`, b.p99)
    }
  }
  const measurements: Measurement[] = [...runs].map(([key, values]) => {
    const [contender, metric] = key.split('|') as [string, string]
    return { contender, metric, value: median(values), unit: metric.includes('_ms') ? 'ms' : '/s' }
  })
  const notes = [
    `bullmq: ${WORKER_JOBS} jobs drained at concurrency ${CONCURRENCY}; ${ENQUEUES} sequential enqueues; removeOnComplete ${RETENTION.removeOnComplete} for both; median of ${ROUNDS} rounds.`,
  ]
  return { measurements, notes }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { measurements, notes } = await bullmqMeasurements({
    progress: (line) => process.stderr.write(`${line}\n`),
  })
  for (const line of notes) console.log(line)
  console.log(
    formatTable(measurements, {
      title: 'queue: BullMQ',
      metrics: [...new Set(measurements.map((m) => m.metric))],
      baseline: 'bullmq',
    }),
  )
}

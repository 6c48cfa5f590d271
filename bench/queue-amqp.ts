/**
 * The RabbitMQ backend of `fanout/queue` against raw amqplib, on the same broker (127.0.0.1:5672)
 * in one process, to be folded into the `queue` benchmark (`amqpMeasurements()`); run it alone
 * with `npm run -s build && npx tsx bench/queue-amqp.ts`.
 *
 * Both contenders do the same durable work: persistent messages on a durable quorum queue,
 * publishes awaited until the broker confirms them, manual acks.
 *
 * - `worker_per_s`: WORKER_JOBS jobs already queued, drained by one consumer at prefetch 50 with
 *   a no-op handler; jobs per second from the consumer's start to the last completion.
 *   `fanout-amqp` is `worker(amqpQueue(...), name, () => null, { concurrency: 50 })` (which also
 *   writes each job's start and completion to its record store); `amqplib` is `consume` + `ack`.
 * - `enqueue_p50_ms` / `enqueue_p99_ms`: ENQUEUES sequential single enqueues (the "answer 202"
 *   path): `offload(queue, name, data)` (record created if absent, then a confirmed publish)
 *   against `sendToQueue` + its confirm.
 *
 * - `backend_per_s`, `backend_enqueue_p50_ms`, `backend_enqueue_p99_ms`: the same without the
 *   `fanout/queue` layer on top (`queue.consume()` answering `completed`, `queue.enqueue()` with
 *   an id given), to tell the backend's cost from `worker()`'s and `offload()`'s.
 *
 * fanout's record store is work raw amqplib does not do: each metric is measured with
 * `memoryRecordStore()` (one process) and, as `…_redis_records`, with `redisRecordStore()` on
 * node-redis (the multi-process set-up), when Redis answers on 127.0.0.1:6379.
 * One untimed warm-up round (JIT, connections, queue declarations), then ROUNDS rounds with the
 * contenders interleaved; medians are reported. Skipped, with a note, when RabbitMQ is not up.
 */
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import amqp from 'amqplib'
import { createClient } from 'redis'
import type * as FanoutQueue from '../src/queue/index.js'
import type * as FanoutAmqp from '../src/queue-amqp/index.js'
import type * as FanoutRedis from '../src/redis/index.js'
import { pingRedis } from '../test/helpers/ping-redis.js'
import { median } from './dag-shape.js'
import { formatTable, type Measurement } from './harness.js'
import { percentiles, type Latency } from './latency.js'

const URL_ = process.env.FANOUT_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const WORKER_JOBS = 5_000
const ENQUEUES = 2_000
const PREFETCH = 50
const ROUNDS = 5

const load = async <T>(path: string): Promise<T> =>
  (await import(new URL(`../dist/${path}`, import.meta.url).href)) as T

type Records = 'memory' | 'redis'

interface Lib {
  readonly queue: typeof FanoutQueue
  readonly amqpLib: typeof FanoutAmqp
  readonly redisLib: typeof FanoutRedis
}

/** One fanout queue with the given record store, and what closes it. */
async function fanoutQueue(lib: Lib, prefix: string, records: Records) {
  let store: FanoutAmqp.JobRecordStore | undefined
  let closeRedis = async (): Promise<void> => {}
  if (records === 'redis') {
    const client = createClient({ socket: { host: '127.0.0.1', port: 6379 } })
    client.on('error', () => {})
    await client.connect()
    const connection = lib.redisLib.fromNodeRedis(client)
    store = lib.amqpLib.redisRecordStore({ redis: connection, prefix: `fanout-bench:${prefix}` })
    closeRedis = async () => {
      await store!.close()
      await connection.close()
      // Records left by the run: one key per job, under the bench's own hash tag.
      let cursor = '0'
      do {
        const reply = await client.scan(cursor, { MATCH: `{fanout-bench:${prefix}}*`, COUNT: 1000 })
        cursor = String(reply.cursor)
        if (reply.keys.length > 0) await client.unlink(reply.keys)
      } while (cursor !== '0')
      client.destroy()
    }
  }
  const queue = lib.amqpLib.amqpQueue({
    url: URL_,
    prefix,
    timeout: 5_000,
    maxUnconfirmed: 10_000,
    records: store ?? lib.amqpLib.memoryRecordStore({ maxRecords: 1_000_000 }),
  })
  return {
    queue,
    close: async () => {
      await queue.close()
      await closeRedis()
    },
  }
}

async function rawChannel() {
  const connection = await amqp.connect(URL_)
  const ch = await connection.createConfirmChannel()
  return { connection, ch }
}

const quorum = { durable: true, arguments: { 'x-queue-type': 'quorum' } }
const body = (i: number): Buffer => Buffer.from(JSON.stringify({ n: i }))

/** Raw: fill a quorum queue with confirmed publishes, then time consume + ack at prefetch 50. */
async function rawWorker(queue: string): Promise<number> {
  const { connection, ch } = await rawChannel()
  await ch.assertQueue(queue, quorum)
  for (let i = 0; i < WORKER_JOBS; i++) ch.sendToQueue(queue, body(i), { persistent: true })
  await ch.waitForConfirms()
  const consumer = await connection.createChannel()
  await consumer.prefetch(PREFETCH)
  let done = 0
  const started = performance.now()
  const finished = new Promise<void>((resolve) => {
    void consumer.consume(queue, (message) => {
      if (message === null) return
      JSON.parse(message.content.toString())
      consumer.ack(message)
      if (++done === WORKER_JOBS) resolve()
    })
  })
  await finished
  const seconds = (performance.now() - started) / 1000
  await ch.deleteQueue(queue)
  await connection.close()
  return WORKER_JOBS / seconds
}

/** fanout: enqueue WORKER_JOBS (untimed), then time worker() draining them at concurrency 50. */
/** `worker()` on the queue, or (`backend`) the queue's own `consume()` answering `completed`. */
type Layer = 'worker' | 'backend'

async function fanoutWorker(lib: Lib, records: Records, layer: Layer = 'worker'): Promise<number> {
  const prefix = `fanout-bench.${randomBytes(4).toString('hex')}`
  const name = 'noop'
  const { queue, close } = await fanoutQueue(lib, prefix, records)
  try {
    const batch = 200
    for (let i = 0; i < WORKER_JOBS; i += batch)
      await Promise.all(
        Array.from({ length: Math.min(batch, WORKER_JOBS - i) }, (_, j) =>
          lib.queue.offload(queue, name, { n: i + j }),
        ),
      )
    let done = 0
    let resolve = (): void => {}
    const finished = new Promise<void>((r) => (resolve = r))
    // Counted when the settlement is handed to the backend, which acks right after.
    const counting: FanoutQueue.JobQueue = {
      ...queue,
      consume: (n, process, options) =>
        queue.consume(
          n,
          async (delivery) => {
            const settlement = await process(delivery)
            if (++done === WORKER_JOBS) setImmediate(resolve)
            return settlement
          },
          options,
        ),
    }
    const started = performance.now()
    const w =
      layer === 'worker'
        ? lib.queue.worker(counting, name, () => null, { concurrency: PREFETCH })
        : counting.consume(name, async () => ({ outcome: 'completed', result: null }), {
            concurrency: PREFETCH,
          })
    await finished
    const seconds = (performance.now() - started) / 1000
    await w.close({ graceMs: 5_000 })
    return WORKER_JOBS / seconds
  } finally {
    await close()
    await deleteQueues(prefix, name)
  }
}

async function rawEnqueue(queue: string): Promise<Latency> {
  const { connection, ch } = await rawChannel()
  await ch.assertQueue(queue, quorum)
  const samples = new Float64Array(ENQUEUES)
  for (let i = 0; i < ENQUEUES; i++) {
    const at = performance.now()
    await new Promise<void>((resolve, reject) =>
      ch.sendToQueue(queue, body(i), { persistent: true }, (error: unknown) =>
        error ? reject(error as Error) : resolve(),
      ),
    )
    samples[i] = performance.now() - at
  }
  await ch.deleteQueue(queue)
  await connection.close()
  return percentiles(samples)
}

async function fanoutEnqueue(
  lib: Lib,
  records: Records,
  layer: Layer = 'worker',
): Promise<Latency> {
  const prefix = `fanout-bench.${randomBytes(4).toString('hex')}`
  const name = 'enqueue'
  const { queue, close } = await fanoutQueue(lib, prefix, records)
  try {
    // The first enqueue connects and declares the queues: not part of the per-call cost.
    await lib.queue.offload(queue, name, { n: -1 })
    const samples = new Float64Array(ENQUEUES)
    for (let i = 0; i < ENQUEUES; i++) {
      const at = performance.now()
      if (layer === 'worker') await lib.queue.offload(queue, name, { n: i })
      else
        await queue.enqueue({
          name,
          id: `job-${i}`,
          data: { n: i },
          attempts: 1,
          delayMs: 0,
          deadlineAt: null,
        })
      samples[i] = performance.now() - at
    }
    return percentiles(samples)
  } finally {
    await close()
    await deleteQueues(prefix, name)
  }
}

async function deleteQueues(prefix: string, name: string): Promise<void> {
  const connection = await amqp.connect(URL_)
  const ch = await connection.createChannel()
  ch.on('error', () => {})
  await ch.deleteQueue(`${prefix}.${name}`).catch(() => {})
  await ch.deleteQueue(`${prefix}.${name}.dead`).catch(() => {})
  await connection.close().catch(() => {})
}

/** Whether a broker answers the AMQP protocol header. */
async function amqpUp(): Promise<boolean> {
  try {
    const connection = await amqp.connect(URL_, { timeout: 1_000 })
    await connection.close()
    return true
  } catch {
    return false
  }
}

export interface AmqpBenchOptions {
  readonly progress?: (line: string) => void
}

/**
 * The rows of the RabbitMQ part of the `queue` benchmark: contenders `fanout-amqp` and `amqplib`,
 * metrics `worker_per_s`, `enqueue_p50_ms`, `enqueue_p99_ms`, fanout's with Redis records as
 * `…_redis_records`, and fanout's backend alone as `backend_…`. Empty, with a note, when RabbitMQ is not answering.
 */
export async function amqpMeasurements(
  options: AmqpBenchOptions = {},
): Promise<{ measurements: Measurement[]; notes: string[] }> {
  const progress = options.progress ?? (() => {})
  if (!(await amqpUp()))
    return { measurements: [], notes: [`amqp skipped: RabbitMQ is not answering at ${URL_}.`] }
  const [queue, amqpLib, redisLib] = await Promise.all([
    load<Lib['queue']>('queue/index.js'),
    load<Lib['amqpLib']>('queue-amqp/index.js'),
    load<Lib['redisLib']>('redis/index.js'),
  ])
  const lib: Lib = { queue, amqpLib, redisLib }
  const withRedis = await pingRedis()
  const kinds: Records[] = withRedis ? ['memory', 'redis'] : ['memory']
  const runs = new Map<string, number[]>()
  const record = (contender: string, metric: string, value: number): void => {
    const key = `${contender}|${metric}`
    runs.set(key, [...(runs.get(key) ?? []), value])
  }
  const suffix = (records: Records): string => (records === 'redis' ? '_redis_records' : '')
  for (let round = 0; round <= ROUNDS; round++) {
    // Round 0 warms up and is not reported.
    const note = round === 0 ? () => {} : record
    progress(`amqp round ${round}/${ROUNDS}: amqplib worker`)
    note(
      'amqplib',
      'worker_per_s',
      await rawWorker(`fanout-bench.raw.${randomBytes(4).toString('hex')}`),
    )
    for (const records of kinds) {
      progress(`amqp round ${round}/${ROUNDS}: fanout worker (${records} records)`)
      note('fanout-amqp', `worker_per_s${suffix(records)}`, await fanoutWorker(lib, records))
    }
    progress(`amqp round ${round}/${ROUNDS}: fanout backend consume (memory records)`)
    note('fanout-amqp', 'backend_per_s', await fanoutWorker(lib, 'memory', 'backend'))
    progress(`amqp round ${round}/${ROUNDS}: amqplib enqueue`)
    const raw = await rawEnqueue(`fanout-bench.raw.${randomBytes(4).toString('hex')}`)
    note('amqplib', 'enqueue_p50_ms', raw.p50)
    note('amqplib', 'enqueue_p99_ms', raw.p99)
    for (const records of kinds) {
      progress(`amqp round ${round}/${ROUNDS}: fanout enqueue (${records} records)`)
      const f = await fanoutEnqueue(lib, records)
      note('fanout-amqp', `enqueue_p50_ms${suffix(records)}`, f.p50)
      note('fanout-amqp', `enqueue_p99_ms${suffix(records)}`, f.p99)
    }
    progress(`amqp round ${round}/${ROUNDS}: fanout backend enqueue (memory records)`)
    const backend = await fanoutEnqueue(lib, 'memory', 'backend')
    note('fanout-amqp', 'backend_enqueue_p50_ms', backend.p50)
    note('fanout-amqp', 'backend_enqueue_p99_ms', backend.p99)
  }
  const measurements: Measurement[] = [...runs].map(([key, values]) => {
    const [contender, metric] = key.split('|') as [string, string]
    return { contender, metric, value: median(values), unit: metric.includes('_ms') ? 'ms' : '/s' }
  })
  const notes = [
    `amqp: ${WORKER_JOBS} jobs drained at prefetch ${PREFETCH}; ${ENQUEUES} sequential enqueues; durable quorum queues, confirmed publishes; median of ${ROUNDS} rounds.`,
    withRedis
      ? 'amqp: fanout-amqp …_redis_records keeps job records in Redis (127.0.0.1:6379): one script per enqueue; a consumer starts and settles many jobs a script.'
      : 'amqp: Redis is not answering, so the _redis_records rows are missing.',
  ]
  return { measurements, notes }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { measurements, notes } = await amqpMeasurements({
    progress: (line) => process.stderr.write(`${line}\n`),
  })
  for (const line of notes) console.log(line)
  console.log(
    formatTable(measurements, {
      title: 'queue: RabbitMQ',
      metrics: [...new Set(measurements.map((m) => m.metric))],
      baseline: 'amqplib',
    }),
  )
}

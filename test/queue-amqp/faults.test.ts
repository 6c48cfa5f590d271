/**
 * Fault cases of catalogue section H for amqpQueue, against the real broker: a worker process
 * SIGKILLed mid-job (H1), SIGTERM with jobs running (H3), the broker unreachable or partitioned at
 * enqueue (H4, a closed port and the TCP fault proxy's black hole), and a completion whose ack is
 * lost on a cut connection (H7). The cross-process cases keep job records in Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isFanoutError, QueueUnavailableError } from '../../src/core/errors.js'
import {
  amqpQueue,
  memoryRecordStore,
  redisRecordStore,
  type JobRecordStore,
} from '../../src/queue-amqp/index.js'
import { jobStatus, offload, worker } from '../../src/queue/index.js'
import type { EnqueueRequest } from '../../src/queue/job-queue.js'
import { startProxy } from '../helpers/fault-proxy.js'
import { forkWorker } from '../helpers/fork.js'
import {
  amqpPrefix,
  deleteJobQueues,
  RABBITMQ_PORT,
  RABBITMQ_URL,
  rabbitUp,
  requireRabbitWhenAsked,
} from '../helpers/rabbitmq.js'
import { connect, redisUp, removeKeys, testPrefix } from '../helpers/redis.js'
import { freePort } from '../helpers/redis-server.js'
import { chargeOnce, linesOf } from './workers/charge.js'

requireRabbitWhenAsked()

const WORKER = new URL('./workers/job-worker.ts', import.meta.url)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000) => {
  const end = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}
const request = (name: string, id: string): EnqueueRequest => ({
  name,
  id,
  data: null,
  attempts: 3,
  delayMs: 0,
  deadlineAt: null,
})

describe.runIf(rabbitUp && redisUp)('amqpQueue across processes (records in Redis)', () => {
  const prefix = amqpPrefix()
  const keys = testPrefix()
  const names: string[] = []
  const dirs: string[] = []
  afterAll(async () => {
    await deleteJobQueues(prefix, names)
    const redis = await connect('node-redis')
    await removeKeys(redis, `{${keys}}`)
    await redis.close()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
  const setup = async (label: string) => {
    const name = `${label}${names.length}`
    names.push(name)
    const dir = mkdtempSync(join(tmpdir(), 'fanout-amqp-'))
    dirs.push(dir)
    const redis = await connect('node-redis')
    const records = redisRecordStore({ redis: redis.connection, prefix: keys })
    const queue = amqpQueue({ url: RABBITMQ_URL, prefix, records })
    const close = async () => {
      await queue.close()
      await records.close()
      await redis.close()
    }
    return { name, dir, queue, close }
  }
  /** A worker process on `name` that holds its jobs; it reports once `reportAfter` have started. */
  const holder = (
    name: string,
    dir: string,
    hold: { holdMs: number; reportAfter: number; graceMs: number; concurrency: number } = {
      holdMs: 60_000,
      reportAfter: 1,
      graceMs: 0,
      concurrency: 1,
    },
  ) => forkWorker<{ started: number }>(WORKER, { prefix, keys, name, dir, ...hold })

  it('H1 worker SIGKILLed mid-job: the job is redelivered, runs again, and its guarded side effect happens once', async () => {
    const { name, dir, queue, close } = await setup('h1')
    try {
      const { jobId } = await offload(queue, name, { amount: 5 })
      const child = holder(name, dir)
      await child.result
      expect((await jobStatus(queue, jobId))?.state).toBe('running')
      child.kill()
      const w = worker(queue, name, (_data: { amount: number }, ctx) => {
        chargeOnce(dir, ctx.jobId)
        return { attempt: ctx.attempt }
      })
      const done = await until('completion', async () => {
        const s = await jobStatus(queue, jobId)
        return s?.state === 'completed' ? s : undefined
      })
      await w.close({ graceMs: 1_000 })
      expect(done.attemptsMade).toBe(2)
      expect(done.result).toEqual({ attempt: 2 })
      expect(linesOf(dir, 'runs')).toHaveLength(1)
      expect(linesOf(dir, 'effects')).toEqual([jobId])
    } finally {
      await close()
    }
  }, 30_000)

  it('cancel across processes: a job running in a worker process has its signal aborted through Redis pub/sub', async () => {
    const { name, dir, queue, close } = await setup('cancel')
    try {
      const { jobId } = await offload(queue, name, { amount: 1 })
      const child = holder(name, dir)
      await child.result
      const started = Date.now()
      expect(await queue.cancel(jobId)).toBe(true)
      const failed = await until('the cancelled job to fail', async () => {
        const s = await jobStatus(queue, jobId)
        return s?.state === 'failed' ? s : undefined
      })
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(failed.error.code).toBe('FANOUT_ABORTED')
      expect(linesOf(dir, 'aborted')).toEqual([jobId])
      child.child.kill('SIGTERM')
      await new Promise((resolve) => child.child.once('exit', resolve))
    } finally {
      await close()
    }
  }, 30_000)

  it('H3 SIGTERM with jobs running past the grace period: the worker exits 0 and no job is lost', async () => {
    const { name, dir, queue, close } = await setup('h3')
    try {
      const jobs = await Promise.all([1, 2, 3, 4].map((i) => offload(queue, name, { amount: i })))
      const child = holder(name, dir, {
        holdMs: 5_000,
        reportAfter: 2,
        graceMs: 200,
        concurrency: 2,
      })
      await child.result
      const exited = new Promise<number | null>((resolve) => child.child.once('exit', resolve))
      child.child.kill('SIGTERM')
      expect(await exited).toBe(0)
      const w = worker(queue, name, (_data: { amount: number }, ctx) => {
        chargeOnce(dir, ctx.jobId)
        return { attempt: ctx.attempt }
      })
      for (const job of jobs)
        await until(`job ${job.jobId}`, async () =>
          (await jobStatus(queue, job.jobId))?.state === 'completed' ? true : undefined,
        )
      await w.close({ graceMs: 1_000 })
      expect(linesOf(dir, 'effects').sort()).toEqual(jobs.map((j) => j.jobId).sort())
      // The two the child had started ran a second time here, as attempt 2.
      const attempts = await Promise.all(jobs.map((j) => jobStatus(queue, j.jobId)))
      expect(attempts.map((s) => s?.attemptsMade).sort()).toEqual([1, 1, 2, 2])
    } finally {
      await close()
    }
  }, 30_000)
})

describe.runIf(rabbitUp)('H4 RabbitMQ unreachable at enqueue', () => {
  const prefix = amqpPrefix()
  const names: string[] = []
  afterAll(async () => {
    await deleteJobQueues(prefix, names)
  })

  it('H4 nothing listens on the port: every enqueue rejects with QueueUnavailableError (amqp) at once, nothing hangs', async () => {
    const port = await freePort()
    const queue = amqpQueue({ url: `amqp://guest:guest@127.0.0.1:${port}`, prefix, timeout: 300 })
    try {
      const started = Date.now()
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => queue.enqueue(request('h4closed', `c${i}`))),
      )
      expect(Date.now() - started).toBeLessThan(1_000)
      for (const o of outcomes) {
        expect(o.status).toBe('rejected')
        const error = (o as PromiseRejectedResult).reason as QueueUnavailableError
        expect(error).toBeInstanceOf(QueueUnavailableError)
        expect(error).toMatchObject({ backend: 'amqp', operation: 'enqueue' })
      }
      // Failed enqueues leave no record behind: the same ids can be added once the broker is back.
      expect(await queue.status('c0')).toBeUndefined()
    } finally {
      await queue.close()
    }
  })

  it('H4 partition (black hole): enqueue rejects within the timeout or at the caller signal; after the partition the same queue works again, and a consumer resumes on its own', async () => {
    const proxy = await startProxy(RABBITMQ_PORT)
    const name = 'h4partition'
    names.push(name)
    const records: JobRecordStore = memoryRecordStore()
    const queue = amqpQueue({
      url: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
      prefix,
      records,
      timeout: 300,
      heartbeat: 1,
      connectTimeout: 1_000,
    })
    const ran: string[] = []
    const consumer = queue.consume(
      name,
      async (d) => {
        ran.push(d.id)
        return { outcome: 'completed', result: null }
      },
      { concurrency: 4 },
    )
    try {
      await queue.enqueue(request(name, 'before'))
      await until('the job before the partition', async () =>
        ran.includes('before') ? true : undefined,
      )
      proxy.set({ kind: 'blackhole' })
      let started = Date.now()
      const timedOut = await queue.enqueue(request(name, 'during')).catch((e: unknown) => e)
      const took = Date.now() - started
      expect(timedOut).toBeInstanceOf(QueueUnavailableError)
      expect(timedOut).toMatchObject({ backend: 'amqp', reason: 'timeout' })
      expect(took).toBeGreaterThanOrEqual(280)
      expect(took).toBeLessThan(1_500)
      // The caller's own signal ends it sooner.
      started = Date.now()
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 50)
      const aborted = await queue
        .enqueue({ ...request(name, 'aborted'), signal: controller.signal })
        .catch((e: unknown) => e)
      expect(isFanoutError(aborted, 'FANOUT_QUEUE_UNAVAILABLE')).toBe(true)
      expect(Date.now() - started).toBeLessThan(280)
      // The partition ends; the dead connection is noticed (heartbeat) or cut.
      proxy.set({ kind: 'pass' })
      proxy.reset()
      const after = await until('an enqueue to succeed again', () =>
        queue.enqueue(request(name, 'after')).catch(() => undefined),
      )
      expect(after.deduplicated).toBe(false)
      await until('the consumer to resume', async () => (ran.includes('after') ? true : undefined))
    } finally {
      await consumer.close({ graceMs: 100 })
      await queue.close()
      await proxy.close()
    }
  }, 30_000)

  it('H4 closing during a partition is bounded: the consumer and the queue close without the broker answering', async () => {
    const proxy = await startProxy(RABBITMQ_PORT)
    const name = 'h4close'
    names.push(name)
    const queue = amqpQueue({ url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, prefix })
    let entered = false
    const consumer = queue.consume(
      name,
      async (d) => {
        entered = true
        await new Promise((resolve) => d.signal.addEventListener('abort', resolve))
        return { outcome: 'completed', result: null }
      },
      { concurrency: 1 },
    )
    try {
      await queue.enqueue(request(name, 'held'))
      await until('the job to start', async () => (entered ? true : undefined))
      proxy.set({ kind: 'blackhole' })
      const started = Date.now()
      await consumer.close({ graceMs: 100 })
      await queue.close()
      expect(Date.now() - started).toBeLessThan(4_000)
    } finally {
      await proxy.close()
    }
    // The held job went back to the queue when its connection died: it is not lost.
    const again = amqpQueue({ url: RABBITMQ_URL, prefix })
    let ran = false
    const next = again.consume(
      name,
      async () => {
        ran = true
        return { outcome: 'completed', result: null }
      },
      { concurrency: 1 },
    )
    await until('the held job to run again', async () => (ran ? true : undefined))
    await next.close({ graceMs: 100 })
    await again.close()
  }, 30_000)

  it('H7 the ack of a completed job is lost on a cut connection: the job is redelivered and dropped, the handler ran once', async () => {
    const proxy = await startProxy(RABBITMQ_PORT)
    const name = 'h7ack'
    names.push(name)
    const inner = memoryRecordStore()
    const starts: string[] = []
    let cut = false
    // The records as the queue sees them, with the connection cut right after the completion is
    // written: the ack that follows goes into the black hole, then both sockets are reset.
    const records: JobRecordStore = {
      ...inner,
      start: (id, pending, fallback) => {
        starts.push(id)
        return inner.start(id, pending, fallback)
      },
      update: async (id, update) => {
        await inner.update(id, update)
        if (update.state === 'completed' && !cut) {
          cut = true
          proxy.set({ kind: 'blackhole' })
          setTimeout(() => {
            proxy.set({ kind: 'pass' })
            proxy.reset()
          }, 100)
        }
      },
    }
    const queue = amqpQueue({
      url: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
      prefix,
      records,
      heartbeat: 1,
    })
    let runs = 0
    const consumer = queue.consume(
      name,
      async () => {
        runs++
        return { outcome: 'completed', result: 'once' }
      },
      { concurrency: 1 },
    )
    try {
      await queue.enqueue(request(name, 'j'))
      await until('the redelivery', async () => (starts.length >= 2 ? true : undefined))
      await sleep(100)
      expect(runs).toBe(1)
      expect(starts).toEqual(['j', 'j'])
      expect(await queue.status('j')).toMatchObject({ state: 'completed', result: 'once' })
      // The redelivered copy was acknowledged: nothing is left in the queue.
      await queue.enqueue(request(name, 'k'))
      await until('the next job', async () => (runs === 2 ? true : undefined))
    } finally {
      await consumer.close({ graceMs: 100 })
      await queue.close()
      await proxy.close()
    }
  }, 30_000)
})

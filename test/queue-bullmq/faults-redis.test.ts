/**
 * H4 and H7 against real Redis: a private redis-server killed and restarted, and the fault proxy
 * in front of the shared one (a black hole; a completion whose reply is dropped, or that never
 * arrives). Enqueue fails typed and within its bound, never hangs, and works again on the same
 * queue object; a lost completion at most runs the job again, which the guard makes harmless.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { QueueUnavailableError } from '../../src/core/errors.js'
import type { EnqueueRequest, JobQueue, Settlement } from '../../src/queue/job-queue.js'
import { bullmqQueue } from '../../src/queue-bullmq/index.js'
import { startProxy, type FaultProxy } from '../helpers/fault-proxy.js'
import { redisRequired, redisUp, REDIS_PORT, testPrefix } from '../helpers/redis.js'
import { startRedis, type PrivateRedis } from '../helpers/redis-server.js'
import { eventually, rawClient, removePrefix, type ClientKind, type RawClient } from './clients.js'

const TEST_MS = 40_000
/** Timers fire late on a busy 2-core machine: the bound plus this much. */
const SLACK_MS = 400

const job = (id: string, name = 'lane'): EnqueueRequest => ({
  name,
  id,
  data: { id },
  attempts: 3,
  delayMs: 0,
  deadlineAt: null,
})

async function failsWithin(work: Promise<unknown>): Promise<{ error: unknown; elapsed: number }> {
  const start = Date.now()
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  )
  return { error, elapsed: Date.now() - start }
}

describe.runIf(redisUp || redisRequired).each(['node-redis', 'ioredis'] as ClientKind[])(
  '%s',
  (kind) => {
    const cleanups: (() => Promise<void> | void)[] = []
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    }, TEST_MS)

    test(
      'H4 Redis down at enqueue (server killed): a typed error within enqueueTimeoutMs, no hang; the same queue works after a restart',
      async () => {
        const server: PrivateRedis = await startRedis()
        cleanups.push(() => server.stop())
        const raw = await rawClient(kind, server.port)
        cleanups.push(() => raw.close())
        const queue = bullmqQueue({
          connection: raw.client,
          prefix: testPrefix(),
          enqueueTimeoutMs: 300,
          operationTimeoutMs: 300,
        })
        cleanups.push(() => queue.close())
        expect(await queue.enqueue(job('before'))).toEqual({ id: 'before', deduplicated: false })
        await server.kill()
        for (let i = 0; i < 5; i++) {
          const { error, elapsed } = await failsWithin(queue.enqueue(job(`down-${i}`)))
          expect(error).toBeInstanceOf(QueueUnavailableError)
          expect(error).toMatchObject({ backend: 'bullmq', operation: 'enqueue' })
          expect(elapsed).toBeLessThan(300 + SLACK_MS)
        }
        const status = await failsWithin(queue.status('before'))
        expect(status.error).toMatchObject({
          code: 'FANOUT_QUEUE_UNAVAILABLE',
          operation: 'status',
        })
        expect(status.elapsed).toBeLessThan(300 + SLACK_MS)

        await server.restart()
        const back = await eventually(
          () =>
            queue.enqueue(job('after')).then(
              () => true,
              () => false,
            ),
          10_000,
        ).then(() => true)
        expect(back).toBe(true)
        expect(await queue.enqueue(job('after'))).toEqual({ id: 'after', deduplicated: true })
        // The restarted server knows none of the scripts: consuming loads them again.
        const consumer = queue.consume(
          'lane',
          async () => ({ outcome: 'completed', result: 'ran' }),
          {
            concurrency: 1,
          },
        )
        cleanups.push(() => consumer.close({ graceMs: 0 }))
        await eventually(async () => (await queue.status('after'))?.state === 'completed', 10_000)
      },
      TEST_MS,
    )

    test(
      "H4 Redis black-holed at enqueue (fault proxy): times out typed within enqueueTimeoutMs, or at the request's signal; works again once the network heals",
      async () => {
        const proxy: FaultProxy = await startProxy(REDIS_PORT)
        cleanups.push(() => proxy.close())
        const raw = await rawClient(kind, proxy.port)
        cleanups.push(() => raw.close())
        const direct = await rawClient(kind)
        cleanups.push(() => direct.close())
        const prefix = testPrefix()
        cleanups.push(() => removePrefix(direct, prefix))
        const queue = bullmqQueue({ connection: raw.client, prefix, enqueueTimeoutMs: 300 })
        cleanups.push(() => queue.close())
        await queue.enqueue(job('before'))
        proxy.set({ kind: 'blackhole' })
        const timedOut = await failsWithin(queue.enqueue(job('lost')))
        expect(timedOut.error).toMatchObject({
          code: 'FANOUT_QUEUE_UNAVAILABLE',
          reason: 'timeout',
        })
        expect(timedOut.elapsed).toBeGreaterThanOrEqual(290)
        expect(timedOut.elapsed).toBeLessThan(300 + SLACK_MS)
        const signal = AbortSignal.timeout(50)
        const aborted = await failsWithin(queue.enqueue({ ...job('aborted'), signal }))
        expect(aborted.error).toBe(signal.reason)
        expect(aborted.elapsed).toBeLessThan(50 + SLACK_MS)

        proxy.set({ kind: 'pass' })
        proxy.reset()
        await eventually(
          () =>
            queue.enqueue(job('after')).then(
              () => true,
              () => false,
            ),
          10_000,
        )
        expect(await queue.status('after')).toMatchObject({ state: 'queued' })
      },
      TEST_MS,
    )

    /** A consumer through the proxy, a producer and a second consumer direct; the guarded side effect. */
    async function h7Setup(): Promise<{
      proxy: FaultProxy
      producer: JobQueue
      viaProxy: JobQueue
      direct: RawClient
      prefix: string
      handler: (fault: () => void) => (d: { id: string; attempt: number }) => Promise<Settlement>
    }> {
      const proxy = await startProxy(REDIS_PORT)
      cleanups.push(() => proxy.close())
      const direct = await rawClient(kind)
      cleanups.push(() => direct.close())
      const proxied = await rawClient(kind, proxy.port)
      cleanups.push(() => proxied.close())
      const prefix = testPrefix()
      cleanups.push(() => removePrefix(direct, prefix))
      const settings = { prefix, lockDurationMs: 1000, stalledIntervalMs: 300 }
      const producer = bullmqQueue({ connection: direct.client, ...settings })
      cleanups.push(() => producer.close())
      const viaProxy = bullmqQueue({ connection: proxied.client, ...settings })
      cleanups.push(() => viaProxy.close())
      const handler =
        (fault: () => void) =>
        async (d: { id: string; attempt: number }): Promise<Settlement> => {
          await direct.command(['RPUSH', `${prefix}:runs`, String(d.attempt)])
          if ((await direct.command(['SET', `${prefix}:guard:${d.id}`, '1', 'NX'])) === 'OK')
            await direct.command(['INCR', `${prefix}:effects`])
          if (d.attempt === 1) fault()
          return { outcome: 'completed', result: { attempt: d.attempt } }
        }
      return { proxy, producer, viaProxy, direct, prefix, handler }
    }

    test(
      "H7 completion's reply dropped: Redis applied it, the job is completed once and not run again",
      async () => {
        const { proxy, producer, viaProxy, direct, prefix, handler } = await h7Setup()
        const consumer = viaProxy.consume(
          'h7',
          handler(() => proxy.set({ kind: 'dropReplyOnce' })),
          {
            concurrency: 1,
          },
        )
        cleanups.push(() => consumer.close({ graceMs: 0 }))
        await producer.enqueue(job('charge', 'h7'))
        await eventually(
          async () => (await producer.status('charge'))?.state === 'completed',
          15_000,
        )
        await eventually(() => proxy.dropped > 0, 5000)
        await new Promise((r) => setTimeout(r, 1500)) // a redelivery would have happened by now
        expect(await producer.status('charge')).toMatchObject({
          state: 'completed',
          result: { attempt: 1 },
        })
        expect(await direct.command(['LRANGE', `${prefix}:runs`, 0, -1])).toEqual(['1'])
        expect(Number(await direct.command(['GET', `${prefix}:effects`]))).toBe(1)
      },
      TEST_MS,
    )

    test(
      'H7 completion lost on the way (black hole past the lock): the job runs again elsewhere, harmlessly; the late completion changes nothing',
      async () => {
        const { proxy, producer, viaProxy, direct, prefix, handler } = await h7Setup()
        const consumer = viaProxy.consume(
          'h7',
          handler(() => proxy.set({ kind: 'blackhole' })),
          {
            concurrency: 1,
          },
        )
        cleanups.push(() => consumer.close({ graceMs: 0 }))
        await producer.enqueue(job('charge', 'h7'))
        await eventually(
          async () => (await direct.command(['LLEN', `${prefix}:runs`])) === 1,
          15_000,
        )
        const rescuer = producer.consume(
          'h7',
          handler(() => {}),
          { concurrency: 1 },
        )
        cleanups.push(() => rescuer.close({ graceMs: 0 }))
        await eventually(
          async () => (await producer.status('charge'))?.state === 'completed',
          15_000,
        )
        proxy.set({ kind: 'pass' })
        proxy.reset()
        await new Promise((r) => setTimeout(r, 1500)) // the first worker's completion, retried late
        expect(await producer.status('charge')).toMatchObject({
          state: 'completed',
          attemptsMade: 2,
          result: { attempt: 2 },
        })
        expect(await direct.command(['LRANGE', `${prefix}:runs`, 0, -1])).toEqual(['1', '2'])
        expect(Number(await direct.command(['GET', `${prefix}:effects`]))).toBe(1)
      },
      TEST_MS,
    )
  },
)

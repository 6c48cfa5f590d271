/**
 * bullmqQueue against the shared Redis, with both clients: dedupe, settlements (exact retry delay,
 * failed, dead letter and requeue), status, cancellation, graceful close, bounds and options.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { isFanoutError, QueueFullError } from '../../src/core/errors.js'
import type { Delivery, EnqueueRequest, JobQueue, Settlement } from '../../src/queue/job-queue.js'
import { loadBullmq } from '../../src/queue-bullmq/bullmq.js'
import { bullmqQueue, type BullmqQueueOptions } from '../../src/queue-bullmq/index.js'
import { redisRequired, redisUp, testPrefix } from '../helpers/redis.js'
import { eventually, rawClient, removePrefix, type RawClient } from './clients.js'

const job = (id: string, extra: Partial<EnqueueRequest> = {}): EnqueueRequest => ({
  name: 'lane',
  id,
  data: { n: 1 },
  attempts: 3,
  delayMs: 0,
  deadlineAt: null,
  ...extra,
})

const done = (result: unknown = null): Settlement => ({
  outcome: 'completed',
  result: result as never,
})

describe.runIf(redisUp || redisRequired).each(['node-redis', 'ioredis'] as const)(
  'bullmqQueue (%s)',
  (kind) => {
    let raw: RawClient
    let prefix: string
    const queues: JobQueue[] = []
    const make = (options: Partial<BullmqQueueOptions> = {}): JobQueue => {
      const q = bullmqQueue({
        connection: raw.client,
        prefix,
        lockDurationMs: 1000,
        stalledIntervalMs: 300,
        ...options,
      })
      queues.push(q)
      return q
    }
    beforeEach(async () => {
      raw = await rawClient(kind)
      prefix = testPrefix()
    })
    afterEach(async () => {
      await Promise.all(queues.splice(0).map((q) => q.close()))
      await removePrefix(raw, prefix)
      raw.close()
    })

    test('20 concurrent enqueues of one id add one job; ids of any shape are kept as given', async () => {
      const q = make()
      const results = await Promise.all(Array.from({ length: 20 }, () => q.enqueue(job('same'))))
      expect(results.filter((r) => !r.deduplicated)).toHaveLength(1)
      expect(results.every((r) => r.id === 'same')).toBe(true)
      for (const id of ['42', 'a:b:c', 'meta', '%3A', 'wait']) {
        expect(await q.enqueue(job(id))).toEqual({ id, deduplicated: false })
        expect(await q.enqueue(job(id))).toEqual({ id, deduplicated: true })
        expect(await q.status(id)).toMatchObject({
          id,
          name: 'lane',
          state: 'queued',
          attemptsMade: 0,
        })
      }
      expect(await q.status('never-added')).toBeUndefined()
    })

    test('a completed job carries its result; the delivery has the data, attempts and deadline', async () => {
      const q = make()
      const deadlineAt = Date.now() + 60_000
      await q.enqueue(job('done', { data: { x: [1, 'two'] }, deadlineAt }))
      const seen: Delivery[] = []
      const c = q.consume('lane', async (d) => (seen.push(d), done({ ok: d.data })), {
        concurrency: 1,
      })
      await eventually(async () => (await q.status('done'))?.state === 'completed')
      expect(await q.status('done')).toEqual({
        id: 'done',
        name: 'lane',
        attemptsMade: 1,
        state: 'completed',
        result: { ok: { x: [1, 'two'] } },
      })
      expect(seen[0]).toMatchObject({ id: 'done', attempt: 1, attempts: 3, deadlineAt })
      await c.close({ graceMs: 1000 })
    })

    test('a retry runs again after exactly its delay; meanwhile it is queued with runAt and lastError', async () => {
      const q = make()
      await q.enqueue(job('retry'))
      const starts: number[] = []
      const c = q.consume(
        'lane',
        async (d) => {
          starts.push(Date.now())
          return d.attempt === 1
            ? { outcome: 'retry', delayMs: 700, error: { code: 'UPSTREAM', status: 503 } }
            : done('second')
        },
        { concurrency: 1 },
      )
      await eventually(
        async () => (await q.status('retry'))?.state === 'queued' && starts.length === 1,
      )
      const queued = await q.status('retry')
      expect(queued).toMatchObject({
        state: 'queued',
        attemptsMade: 1,
        lastError: { code: 'UPSTREAM', status: 503 },
      })
      const runAt = (queued as { runAt: number }).runAt
      expect(runAt - starts[0]!).toBeGreaterThanOrEqual(650)
      expect(runAt - starts[0]!).toBeLessThan(1000)
      await eventually(async () => (await q.status('retry'))?.state === 'completed')
      expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(690)
      expect(await q.status('retry')).toMatchObject({ attemptsMade: 2, result: 'second' })
      await c.close({ graceMs: 1000 })
    })

    test('failed is final and stores code and status only; dead goes to the dead letter and can be requeued', async () => {
      const q = make()
      await q.enqueue(job('fails', { data: { secret: 'Bearer abc' } }))
      await q.enqueue(job('dies'))
      let revived = false
      const c = q.consume(
        'lane',
        async (d): Promise<Settlement> => {
          if (d.id === 'fails')
            return { outcome: 'failed', error: { code: 'FANOUT_HTTP_STATUS', status: 400 } }
          if (revived) return done('back')
          return {
            outcome: 'dead',
            error: { code: 'UPSTREAM', status: 500, message: 'token=xyz' } as never,
          }
        },
        { concurrency: 2 },
      )
      await eventually(async () => (await q.status('dies'))?.state === 'dead')
      await eventually(async () => (await q.status('fails'))?.state === 'failed')
      expect(await q.status('fails')).toMatchObject({
        error: { code: 'FANOUT_HTTP_STATUS', status: 400 },
      })
      expect(await q.status('dies')).toEqual({
        id: 'dies',
        name: 'lane',
        attemptsMade: 1,
        state: 'dead',
        error: { code: 'UPSTREAM', status: 500 },
      })
      const dead = await q.dead('lane')
      expect(dead).toHaveLength(1)
      expect(Object.keys(dead[0]!).sort()).toEqual([
        'attemptsMade',
        'diedAt',
        'error',
        'id',
        'name',
      ])
      expect(dead[0]).toMatchObject({
        id: 'dies',
        name: 'lane',
        attemptsMade: 1,
        error: { code: 'UPSTREAM', status: 500 },
      })
      const stored = JSON.stringify(await raw.command(['HGETALL', `${prefix}:lane:@dies`]))
      expect(stored).not.toContain('token=xyz')
      expect(
        JSON.stringify(await raw.command(['HGETALL', `${prefix}:lane:fanout:dead`])),
      ).not.toContain('token')
      revived = true
      expect(await q.requeueDead('lane')).toBe(1)
      expect(await q.dead('lane')).toEqual([])
      await eventually(async () => (await q.status('dies'))?.state === 'completed')
      expect(await q.status('dies')).toMatchObject({ attemptsMade: 1, result: 'back' })
      expect(await q.requeueDead('lane', { ids: ['fails'] })).toBe(0)
      await c.close({ graceMs: 1000 })
    })

    test('the dead letter keeps the newest maxDead records', async () => {
      const q = make({ maxDead: 2 })
      for (const id of ['d1', 'd2', 'd3']) await q.enqueue(job(id))
      const c = q.consume(
        'lane',
        async () => ({ outcome: 'dead', error: { code: 'X', status: null } }),
        { concurrency: 1 },
      )
      await eventually(async () => (await q.status('d3'))?.state === 'dead')
      expect((await q.dead('lane')).map((d) => d.id)).toEqual(['d2', 'd3'])
      expect(await q.dead('lane', { limit: 1 })).toHaveLength(1)
      await c.close({ graceMs: 1000 })
    })

    test('cancel: a queued job is removed and reads failed FANOUT_ABORTED; a running one, in another process, sees its signal abort', async () => {
      const producer = make()
      const consumerSide = make()
      await producer.enqueue(job('later', { delayMs: 60_000 }))
      expect(await producer.cancel('later')).toBe(true)
      expect(await producer.status('later')).toMatchObject({
        state: 'failed',
        error: { code: 'FANOUT_ABORTED', status: null },
      })
      expect(await producer.cancel('later')).toBe(false)
      expect(await producer.cancel('nobody')).toBe(false)
      expect(await producer.enqueue(job('later'))).toEqual({ id: 'later', deduplicated: false })
      expect(await producer.status('later')).toMatchObject({ state: 'queued' })

      await producer.enqueue(job('running', { name: 'slow' }))
      let aborted: unknown
      const c = consumerSide.consume(
        'slow',
        (d) =>
          new Promise<Settlement>((resolve) => {
            d.signal.addEventListener('abort', () => {
              aborted = d.signal.reason
              resolve({ outcome: 'failed', error: { code: 'FANOUT_ABORTED', status: null } })
            })
          }),
        { concurrency: 1 },
      )
      await eventually(async () => (await producer.status('running'))?.state === 'running')
      await new Promise((r) => setTimeout(r, 100)) // the consumer's subscription is up
      expect(await producer.cancel('running')).toBe(true)
      await eventually(async () => (await producer.status('running'))?.state === 'failed')
      expect(isFanoutError(aborted, 'FANOUT_ABORTED')).toBe(true)
      await c.close({ graceMs: 1000 })
    })

    test('close({graceMs}) lets a short job finish and hands a long one back to be run again', async () => {
      const q = make()
      await q.enqueue(job('short'))
      await q.enqueue(job('long'))
      let longSignal: AbortSignal | undefined
      const first = q.consume(
        'lane',
        async (d) => {
          if (d.id === 'short') {
            await new Promise((r) => setTimeout(r, 100))
            return done('short')
          }
          longSignal = d.signal
          await new Promise((r) => setTimeout(r, 3000)) // ignores its signal
          return done('too late')
        },
        { concurrency: 2 },
      )
      await eventually(
        async () =>
          (await q.status('long'))?.state === 'running' &&
          (await q.status('short'))?.state === 'running',
      )
      const closing = Date.now()
      await first.close({ graceMs: 300 })
      expect(Date.now() - closing).toBeLessThan(1500)
      expect(longSignal?.aborted).toBe(true)
      expect(await q.status('short')).toMatchObject({ state: 'completed', result: 'short' })
      expect(await q.status('long')).toMatchObject({ state: 'queued' })
      const second = q.consume('lane', async (d) => done(`again ${d.attempt}`), { concurrency: 1 })
      await eventually(async () => (await q.status('long'))?.state === 'completed')
      expect(await q.status('long')).toMatchObject({ result: 'again 2' })
      await second.close({ graceMs: 1000 })
    })

    test('maxQueued refuses past the bound; removeOnComplete bounds what Redis keeps', async () => {
      const q = make({ maxQueued: 2, removeOnComplete: 1 })
      await q.enqueue(job('q1'))
      await q.enqueue(job('q2'))
      const full = await q.enqueue(job('q3')).catch((e: unknown) => e)
      expect(full).toBeInstanceOf(QueueFullError)
      const c = q.consume('lane', async () => done(1), { concurrency: 1 })
      await eventually(async () => (await q.status('q2'))?.state === 'completed')
      await eventually(async () => (await q.status('q1')) === undefined)
      await c.close({ graceMs: 1000 })
    })
  },
)

describe('bullmqQueue options', () => {
  const client = { duplicate() {}, on() {}, sendCommand() {}, isOpen: true } as never
  test('rejects what is not a client, unknown options and bad bounds', () => {
    expect(() => bullmqQueue({ connection: {} as never })).toThrow(/node-redis client/)
    expect(() => bullmqQueue({ connection: client, prefx: 'x' } as never)).toThrow(
      /Did you mean `prefix`/,
    )
    expect(() => bullmqQueue({ connection: client, enqueueTimeoutMs: 0 })).toThrow(
      /enqueueTimeoutMs/,
    )
    expect(() => bullmqQueue({ connection: client, maxQueued: 1.5 })).toThrow(/maxQueued/)
    expect(() => bullmqQueue({ connection: client, prefix: '' })).toThrow(/prefix/)
  })
  test('a missing bullmq package is a MissingPeerError naming it', () => {
    const missing = (id: string): never => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' })
    }
    const error = (() => {
      try {
        loadBullmq(missing)
      } catch (e) {
        return e
      }
    })()
    expect(isFanoutError(error, 'FANOUT_MISSING_PEER')).toBe(true)
    expect(String((error as Error).message)).toContain('npm install bullmq')
  })
})

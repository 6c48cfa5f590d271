/**
 * amqpQueue against the real broker: enqueue with confirms, dedupe, delayed retry through the
 * delay queues, the dead letter and requeue, cancel (queued and running), close's grace period,
 * maxQueued, and option checks. Fault cases are in faults.test.ts.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  InvalidOptionError,
  MissingPeerError,
  QueueFullError,
  QueueUnavailableError,
} from '../../src/core/errors.js'
import { loadAmqplib } from '../../src/queue-amqp/amqplib.js'
import { amqpQueue, memoryRecordStore, type AmqpQueue } from '../../src/queue-amqp/index.js'
import { delayBucket } from '../../src/queue-amqp/topology.js'
import type { Delivery, EnqueueRequest, Settlement } from '../../src/queue/job-queue.js'
import {
  amqpPrefix,
  deleteJobQueues,
  RABBITMQ_URL,
  rabbitUp,
  readyCount,
  requireRabbitWhenAsked,
} from '../helpers/rabbitmq.js'

requireRabbitWhenAsked()

const job = (name: string, id: string, extra: Partial<EnqueueRequest> = {}): EnqueueRequest => ({
  name,
  id,
  data: { n: id },
  attempts: 3,
  delayMs: 0,
  deadlineAt: null,
  ...extra,
})

const until = async (check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('amqpQueue options', () => {
  it('refuses bad options at construction', () => {
    expect(() => amqpQueue({ url: 'http://x' })).toThrow(InvalidOptionError)
    expect(() => amqpQueue({ url: RABBITMQ_URL, timout: 5 } as never)).toThrow(
      /Did you mean `timeout`/,
    )
    expect(() => amqpQueue({ url: RABBITMQ_URL, timeout: 0 })).toThrow(InvalidOptionError)
    expect(() => amqpQueue({ url: RABBITMQ_URL, prefix: 'a b' })).toThrow(InvalidOptionError)
    expect(() => amqpQueue({ url: RABBITMQ_URL, maxQueued: 1.5 })).toThrow(InvalidOptionError)
    expect(() => amqpQueue({ url: RABBITMQ_URL, records: {} as never })).toThrow(InvalidOptionError)
  })

  it('names amqplib when it is not installed', () => {
    const missing = (id: string): never => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' })
    }
    expect(() => loadAmqplib(missing)).toThrow(MissingPeerError)
    expect(() => loadAmqplib(missing)).toThrow(/npm install amqplib/)
    try {
      loadAmqplib(missing)
    } catch (error) {
      expect((error as MissingPeerError).packages).toEqual(['amqplib'])
    }
    // Installed but broken is not "missing": it surfaces as itself.
    const broken = (): never => {
      throw new SyntaxError('Unexpected token')
    }
    expect(() => loadAmqplib(broken)).toThrow(SyntaxError)
  })

  it('rounds delays up to two significant digits', () => {
    expect([0, 1, 99, 100, 1234, 1200, 60_001, 0.5].map(delayBucket)).toEqual([
      0, 1, 99, 100, 1300, 1200, 61_000, 1,
    ])
  })
})

describe.runIf(rabbitUp)('amqpQueue on RabbitMQ', () => {
  const prefix = amqpPrefix()
  const names = new Set<string>()
  const delays = new Set<number>()
  const queues: AmqpQueue[] = []
  let seq = 0
  const make = (extra: Partial<Parameters<typeof amqpQueue>[0]> = {}): AmqpQueue => {
    const q = amqpQueue({ url: RABBITMQ_URL, prefix, ...extra })
    queues.push(q)
    return q
  }
  const lane = (): string => {
    const name = `lane${++seq}`
    names.add(name)
    return name
  }
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()))
  })
  afterAll(async () => {
    await deleteJobQueues(prefix, [...names], [...delays])
  })

  it('enqueues with a confirm, runs the job and reports completed with its result', async () => {
    const q = make()
    const name = lane()
    expect(await q.enqueue(job(name, 'a'))).toEqual({ id: 'a', deduplicated: false })
    expect(await q.status('a')).toMatchObject({ state: 'queued', attemptsMade: 0, runAt: null })
    const seen: Delivery[] = []
    const consumer = q.consume(
      name,
      async (d) => {
        seen.push(d)
        return { outcome: 'completed', result: { ok: d.data } }
      },
      { concurrency: 5 },
    )
    await until(async () => (await q.status('a'))?.state === 'completed')
    expect(await q.status('a')).toEqual({
      id: 'a',
      name,
      attemptsMade: 1,
      state: 'completed',
      result: { ok: { n: 'a' } },
    })
    expect(seen.map((d) => [d.attempt, d.attempts, d.deadlineAt])).toEqual([[1, 3, null]])
    await consumer.close({ graceMs: 100 })
    expect(await q.status('nope')).toBeUndefined()
  })

  it('adds one job for 20 concurrent enqueues of one id, and runs it once', async () => {
    const q = make()
    const name = lane()
    const results = await Promise.all(
      Array.from({ length: 20 }, () => q.enqueue(job(name, 'same'))),
    )
    expect(results.filter((r) => !r.deduplicated)).toHaveLength(1)
    expect(new Set(results.map((r) => r.id))).toEqual(new Set(['same']))
    let runs = 0
    const consumer = q.consume(
      name,
      async () => {
        runs++
        return { outcome: 'completed', result: null }
      },
      { concurrency: 5 },
    )
    await until(async () => (await q.status('same'))?.state === 'completed')
    await new Promise((r) => setTimeout(r, 200))
    expect(runs).toBe(1)
    expect(await readyCount(`${prefix}.${name}`)).toBe(0)
    await consumer.close({ graceMs: 100 })
  })

  it('retries after the delay through a delay queue, never earlier', async () => {
    const q = make()
    const name = lane()
    delays.add(300)
    await q.enqueue(job(name, 'r'))
    const at: number[] = []
    const consumer = q.consume(
      name,
      async (d): Promise<Settlement> => {
        at.push(Date.now())
        return d.attempt === 1
          ? { outcome: 'retry', delayMs: 300, error: { code: 'FANOUT_HTTP', status: 503 } }
          : { outcome: 'completed', result: d.attempt }
      },
      { concurrency: 1 },
    )
    await until(async () => (await q.status('r'))?.state === 'queued' && at.length === 1)
    const queued = await q.status('r')
    expect(queued).toMatchObject({
      state: 'queued',
      attemptsMade: 1,
      lastError: { code: 'FANOUT_HTTP', status: 503 },
    })
    expect(queued?.state === 'queued' && queued.runAt! >= at[0]! + 300).toBe(true)
    await until(async () => (await q.status('r'))?.state === 'completed')
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(295)
    expect(await q.status('r')).toMatchObject({ attemptsMade: 2, result: 2 })
    await consumer.close({ graceMs: 100 })
  })

  it('a short retry is not held back behind a long one', async () => {
    const q = make()
    const name = lane()
    delays.add(5_000).add(200)
    await q.enqueue(job(name, 'long'))
    await q.enqueue(job(name, 'short'))
    const done: string[] = []
    const consumer = q.consume(
      name,
      async (d): Promise<Settlement> => {
        if (d.attempt === 1)
          return {
            outcome: 'retry',
            delayMs: d.id === 'long' ? 5_000 : 200,
            error: { code: 'X', status: null },
          }
        done.push(d.id)
        return { outcome: 'completed', result: null }
      },
      { concurrency: 1 },
    )
    await until(() => done.includes('short'), 2_000)
    expect(done).toEqual(['short'])
    await consumer.close({ graceMs: 100 })
  })

  it('dead-letters, lists the dead job without its data, and requeues it', async () => {
    const q = make()
    const name = lane()
    await q.enqueue(job(name, 'd1'))
    await q.enqueue(job(name, 'd2'))
    let requeued = false
    const consumer = q.consume(
      name,
      async (): Promise<Settlement> =>
        requeued
          ? { outcome: 'completed', result: 'again' }
          : { outcome: 'dead', error: { code: 'FANOUT_HTTP', status: 500 } },
      { concurrency: 2 },
    )
    await until(async () => (await q.dead(name)).length === 2)
    const dead = await q.dead(name)
    expect(dead.map((d) => [d.id, d.attemptsMade, d.error])).toEqual([
      ['d1', 1, { code: 'FANOUT_HTTP', status: 500 }],
      ['d2', 1, { code: 'FANOUT_HTTP', status: 500 }],
    ])
    expect(Object.keys(dead[0]!).sort()).toEqual(['attemptsMade', 'diedAt', 'error', 'id', 'name'])
    expect(await q.dead(name, { limit: 1 })).toHaveLength(1)
    expect(await q.status('d1')).toMatchObject({ state: 'dead' })
    requeued = true
    expect(await q.requeueDead(name, { ids: ['d2'] })).toBe(1)
    await until(async () => (await q.status('d2'))?.state === 'completed')
    // Requeued as new attempts: counted from zero again.
    expect(await q.status('d2')).toMatchObject({ attemptsMade: 1, result: 'again' })
    expect((await q.dead(name)).map((d) => d.id)).toEqual(['d1'])
    expect(await q.requeueDead(name)).toBe(1)
    await until(async () => (await q.status('d1'))?.state === 'completed')
    expect(await readyCount(`${prefix}.${name}.dead`)).toBe(0)
    await consumer.close({ graceMs: 100 })
  })

  it('cancels a queued job (failed, FANOUT_ABORTED; never run) and a running one (signal aborted)', async () => {
    const q = make()
    const name = lane()
    await q.enqueue(job(name, 'queued'))
    expect(await q.cancel('queued')).toBe(true)
    expect(await q.status('queued')).toMatchObject({
      state: 'failed',
      error: { code: 'FANOUT_ABORTED', status: null },
    })
    expect(await q.cancel('queued')).toBe(false)
    expect(await q.cancel('unknown')).toBe(false)
    await q.enqueue(job(name, 'running'))
    const ran: string[] = []
    let aborted = false
    const consumer = q.consume(
      name,
      async (d): Promise<Settlement> => {
        ran.push(d.id)
        await new Promise<void>((resolve) => d.signal.addEventListener('abort', () => resolve()))
        aborted = true
        return { outcome: 'failed', error: { code: 'FANOUT_ABORTED', status: null } }
      },
      { concurrency: 2 },
    )
    await until(async () => (await q.status('running'))?.state === 'running')
    expect(await q.cancel('running')).toBe(true)
    await until(async () => (await q.status('running'))?.state === 'failed')
    expect(aborted).toBe(true)
    expect(ran).toEqual(['running'])
    await consumer.close({ graceMs: 100 })
  })

  it('a cancel whose message was missed is caught up on when the record store resyncs', async () => {
    const inner = memoryRecordStore()
    let resync = (): void => {}
    const records = {
      ...inner,
      // Cancel notifications are lost, as pub/sub loses them while its subscriber reconnects.
      onCancel: () => () => {},
      onResync: (listener: () => void) => {
        resync = listener
        return () => {}
      },
    }
    const q = make({ records })
    const name = lane()
    await q.enqueue(job(name, 'missed'))
    let aborted = false
    const consumer = q.consume(
      name,
      async (d): Promise<Settlement> => {
        await new Promise((resolve) => d.signal.addEventListener('abort', resolve))
        aborted = true
        return { outcome: 'failed', error: { code: 'FANOUT_ABORTED', status: null } }
      },
      { concurrency: 1 },
    )
    await until(async () => (await q.status('missed'))?.state === 'running')
    expect(await q.cancel('missed')).toBe(true)
    await new Promise((r) => setTimeout(r, 100))
    expect(aborted).toBe(false)
    resync()
    await until(async () => (await q.status('missed'))?.state === 'failed')
    expect(aborted).toBe(true)
    await consumer.close({ graceMs: 100 })
  })

  it('close() waits for running jobs up to graceMs, then aborts and leaves them to be redelivered', async () => {
    const q = make()
    const name = lane()
    await q.enqueue(job(name, 'quick'))
    await q.enqueue(job(name, 'slow'))
    let signal: AbortSignal | undefined
    const first = q.consume(
      name,
      async (d): Promise<Settlement> => {
        if (d.id === 'slow') {
          signal = d.signal
          await new Promise((r) => setTimeout(r, 2_000))
        } else await new Promise((r) => setTimeout(r, 50))
        return { outcome: 'completed', result: 'first' }
      },
      { concurrency: 2 },
    )
    await until(() => signal !== undefined)
    const started = Date.now()
    await first.close({ graceMs: 300 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(Date.now() - started).toBeLessThan(1_500)
    expect(signal?.aborted).toBe(true)
    expect(await q.status('quick')).toMatchObject({ state: 'completed' })
    const second = q.consume(
      name,
      async (d): Promise<Settlement> => ({ outcome: 'completed', result: d.attempt }),
      { concurrency: 2 },
    )
    await until(async () => (await q.status('slow'))?.state === 'completed')
    expect(await q.status('slow')).toMatchObject({ result: 2, attemptsMade: 2 })
    await second.close({ graceMs: 100 })
  })

  it('H8 maxQueued: the broker refuses past the cap (QueueFullError), the queue stays bounded', async () => {
    const q = make({ maxQueued: 5 })
    const name = lane()
    const outcomes: PromiseSettledResult<unknown>[] = []
    for (let i = 0; i < 12; i++)
      outcomes.push(...(await Promise.allSettled([q.enqueue(job(name, `f${i}`))])))
    const full = outcomes.filter((o) => o.status === 'rejected')
    const taken = outcomes.filter((o) => o.status === 'fulfilled').length
    expect(taken).toBe(5)
    expect(full).toHaveLength(7)
    for (const o of full) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError)
    expect(await readyCount(`${prefix}.${name}`)).toBe(taken)
    // A refused job's record is rolled back: the id can be enqueued again once there is room.
    expect(await q.status('f11')).toBeUndefined()
    // A burst of concurrent producers: a quorum queue applies the cap as publishes reach its
    // log, so a burst may overshoot it by what was in flight, but never grows without bound.
    const burst = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => q.enqueue(job(name, `b${i}`))),
    )
    const ready = await readyCount(`${prefix}.${name}`)
    expect(ready).toBeLessThanOrEqual(taken + 50)
    expect(burst.filter((o) => o.status === 'fulfilled')).toHaveLength(ready - taken)
  })

  it('a record store that fails when a job starts is tried again; the job runs once it answers', async () => {
    const inner = memoryRecordStore()
    let failures = 3
    const records = {
      ...inner,
      start: (...args: Parameters<typeof inner.start>) =>
        failures-- > 0 ? Promise.reject(new Error('store down')) : inner.start(...args),
    }
    const q = make({ records })
    const name = lane()
    await q.enqueue(job(name, 'flaky'))
    const attempts: number[] = []
    const consumer = q.consume(
      name,
      async (d): Promise<Settlement> => {
        attempts.push(d.attempt)
        return { outcome: 'completed', result: null }
      },
      { concurrency: 1 },
    )
    await until(async () => (await q.status('flaky'))?.state === 'completed')
    expect(attempts).toEqual([1])
    await consumer.close({ graceMs: 100 })
  })

  it('status, cancel and dead answer QueueUnavailableError when the record store fails', async () => {
    const broken = {
      ...memoryRecordStore(),
      get: () => Promise.reject(new Error('store down')),
      cancel: () => Promise.reject(new Error('store down')),
      dead: () => Promise.reject(new Error('store down')),
    }
    const q = make({ records: broken })
    for (const call of [() => q.status('x'), () => q.cancel('x'), () => q.dead('n')]) {
      const error = await call().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(QueueUnavailableError)
      expect(error).toMatchObject({ backend: 'amqp', reason: 'error' })
    }
  })

  it('never piles up unconfirmed publishes: past maxUnconfirmed, enqueue fails at once', async () => {
    const q = make({ maxUnconfirmed: 1 })
    const name = lane()
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => q.enqueue(job(name, `u${i}`))),
    )
    const refused = outcomes.filter((o) => o.status === 'rejected')
    expect(refused.length).toBeGreaterThan(0)
    for (const o of refused)
      expect((o as PromiseRejectedResult).reason).toMatchObject({
        code: 'FANOUT_QUEUE_UNAVAILABLE',
        backend: 'amqp',
        reason: 'error',
      })
    // Refused jobs left no record: enqueueing them again adds them.
    const id = `u${outcomes.findIndex((o) => o.status === 'rejected')}`
    expect(await q.enqueue(job(name, id))).toEqual({ id, deduplicated: false })
  })

  it('memoryRecordStore is bounded: final records make room, live ones refuse', async () => {
    const store = memoryRecordStore({ maxRecords: 2 })
    const rec = (id: string) => ({
      id,
      name: 'n',
      state: 'queued' as const,
      attemptsMade: 0,
      pending: 1,
      runAt: null,
      lastError: null,
      result: null,
      error: null,
      diedAt: null,
      cancelRequested: false,
    })
    expect(await store.create(rec('a'))).toBe(true)
    expect(await store.create(rec('b'))).toBe(true)
    await expect(store.create(rec('c'))).rejects.toBeInstanceOf(QueueFullError)
    await store.update('a', { state: 'completed', result: 1 })
    expect(await store.create(rec('c'))).toBe(true)
    expect(await store.get('a')).toBeUndefined()
  })
})

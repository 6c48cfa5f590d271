import { describe, expect, it, vi } from 'vitest'
import { InvalidOptionError, QueueFullError } from '../../src/index.js'
import {
  memoryQueue,
  QueueUnavailableError,
  type Delivery,
  type EnqueueRequest,
  type Settlement,
} from '../../src/queue/index.js'
import { useFakeTime } from '../helpers/time.js'
import { describeJobQueue } from './conformance.js'

describeJobQueue('memory', (options) => {
  const queue = memoryQueue(options)
  return Promise.resolve({ queue, cleanup: () => queue.close(), features: { maxQueued: true } })
})

describe('memoryQueue(): its own bounds and behaviour, on fake time', () => {
  const job = (id: string, extra?: Partial<EnqueueRequest>): EnqueueRequest => ({
    name: 'job',
    id,
    data: { id },
    attempts: 3,
    delayMs: 0,
    deadlineAt: null,
    ...extra,
  })
  const settled =
    (outcome: Settlement): ((delivery: Delivery) => Promise<Settlement>) =>
    () =>
      Promise.resolve(outcome)

  it('checks its options', () => {
    expect(() => memoryQueue({ maxQueued: 0 })).toThrow(InvalidOptionError)
    expect(() => memoryQueue({ maxQueue: 5 } as never)).toThrow(/Did you mean `maxQueued`/)
    expect(() => memoryQueue({ clock: {} as never })).toThrow(InvalidOptionError)
    expect(memoryQueue().backend).toBe('memory')
  })

  it('H8: maxQueued counts queued and delayed jobs, not running ones; a dedupe is never refused', async () => {
    useFakeTime()
    const queue = memoryQueue({ maxQueued: 2 })
    await queue.enqueue(job('a'))
    await queue.enqueue(job('b', { delayMs: 5_000 }))
    const full = await queue.enqueue(job('c')).catch((e: unknown) => e)
    expect(full).toBeInstanceOf(QueueFullError)
    expect(full).toMatchObject({ maxQueue: 2 })
    expect(await queue.enqueue(job('a'))).toEqual({ id: 'a', deduplicated: true })
    let release!: () => void
    const consumer = queue.consume(
      'job',
      () =>
        new Promise<Settlement>((r) => (release = () => r({ outcome: 'completed', result: 1 }))),
      { concurrency: 1 },
    )
    await vi.advanceTimersByTimeAsync(0)
    expect((await queue.status('a'))?.state).toBe('running')
    expect(await queue.enqueue(job('c'))).toEqual({ id: 'c', deduplicated: false })
    release()
    await consumer.close({ graceMs: 0 })
    await queue.close()
  })

  it('delays run on the clock: runAt is wall time, the job starts when the delay ends', async () => {
    useFakeTime()
    const queue = memoryQueue()
    const started: number[] = []
    const consumer = queue.consume(
      'job',
      () => (started.push(Date.now()), Promise.resolve({ outcome: 'completed', result: null })),
      { concurrency: 1 },
    )
    const t0 = Date.now()
    await queue.enqueue(job('a', { delayMs: 5_000 }))
    expect(await queue.status('a')).toMatchObject({ state: 'queued', runAt: t0 + 5_000 })
    await vi.advanceTimersByTimeAsync(4_999)
    expect(started).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(started).toEqual([t0 + 5_000])
    await consumer.close({ graceMs: 0 })
    await queue.close()
  })

  it('a retry settlement waits exactly its delayMs and keeps the last error', async () => {
    useFakeTime()
    const queue = memoryQueue()
    const attempts: number[] = []
    const error = { code: 'FANOUT_RATE_LIMITED', status: null }
    const consumer = queue.consume(
      'job',
      (d) => {
        attempts.push(d.attempt)
        return Promise.resolve<Settlement>(
          d.attempt === 1
            ? { outcome: 'retry', delayMs: 2_000, error }
            : { outcome: 'completed', result: d.attempt },
        )
      },
      { concurrency: 1 },
    )
    await queue.enqueue(job('a'))
    await vi.advanceTimersByTimeAsync(0)
    expect(await queue.status('a')).toEqual({
      id: 'a',
      name: 'job',
      state: 'queued',
      attemptsMade: 1,
      runAt: Date.now() + 2_000,
      lastError: error,
    })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(await queue.status('a')).toMatchObject({
      state: 'completed',
      result: 2,
      attemptsMade: 2,
    })
    expect(attempts).toEqual([1, 2])
    await consumer.close({ graceMs: 0 })
    await queue.close()
  })

  it('retention: the oldest finished and dead jobs are dropped, and their ids may be used again', async () => {
    useFakeTime()
    const queue = memoryQueue({ maxFinished: 2, maxDead: 1 })
    const consumer = queue.consume(
      'job',
      (d) =>
        Promise.resolve<Settlement>(
          d.id.startsWith('dead')
            ? { outcome: 'dead', error: { code: 'X', status: null } }
            : { outcome: 'completed', result: null },
        ),
      { concurrency: 4 },
    )
    for (const id of ['a', 'b', 'c', 'dead1', 'dead2']) await queue.enqueue(job(id))
    await vi.advanceTimersByTimeAsync(0)
    expect(await queue.status('a')).toBeUndefined()
    expect((await queue.status('c'))?.state).toBe('completed')
    expect(await queue.status('dead1')).toBeUndefined()
    expect((await queue.dead('job')).map((d) => d.id)).toEqual(['dead2'])
    expect(await queue.enqueue(job('a'))).toEqual({ id: 'a', deduplicated: false })
    await consumer.close({ graceMs: 0 })
    await queue.close()
  })

  it('concurrency bounds each consumer, and two consumers share the work', async () => {
    useFakeTime()
    const queue = memoryQueue()
    let running = 0
    let peak = 0
    const by: string[] = []
    const slow = (label: string) => async (): Promise<Settlement> => {
      by.push(label)
      peak = Math.max(peak, ++running)
      await new Promise((r) => setTimeout(r, 100))
      running--
      return { outcome: 'completed', result: null }
    }
    const one = queue.consume('job', slow('one'), { concurrency: 2 })
    const two = queue.consume('job', slow('two'), { concurrency: 1 })
    for (let i = 0; i < 9; i++) await queue.enqueue(job(`j${i}`))
    await vi.advanceTimersByTimeAsync(0)
    expect(peak).toBe(3)
    await vi.advanceTimersByTimeAsync(300)
    expect(by.filter((b) => b === 'one')).toHaveLength(6)
    expect(by.filter((b) => b === 'two')).toHaveLength(3)
    await Promise.all([one.close({ graceMs: 0 }), two.close({ graceMs: 0 })])
    await queue.close()
  })

  it('H3: close waits up to graceMs, then aborts and takes running jobs back for another consumer', async () => {
    useFakeTime()
    const queue = memoryQueue()
    const signals: AbortSignal[] = []
    const first = queue.consume(
      'job',
      (d) => (signals.push(d.signal), new Promise<Settlement>(() => {})),
      { concurrency: 1 },
    )
    await queue.enqueue(job('a'))
    await vi.advanceTimersByTimeAsync(0)
    let closed = false
    void first.close({ graceMs: 1_000 }).then(() => (closed = true))
    await vi.advanceTimersByTimeAsync(999)
    expect([closed, signals[0]!.aborted]).toEqual([false, false])
    await vi.advanceTimersByTimeAsync(1)
    expect([closed, signals[0]!.aborted]).toEqual([true, true])
    expect(await queue.status('a')).toMatchObject({ state: 'queued', attemptsMade: 1 })
    const second = queue.consume('job', settled({ outcome: 'completed', result: 'again' }), {
      concurrency: 1,
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(await queue.status('a')).toMatchObject({ state: 'completed', attemptsMade: 2 })
    await second.close({ graceMs: 0 })
    await queue.close()
  })

  it('cancel of a running job: aborted signal; success still counts, anything else ends failed', async () => {
    const queue = memoryQueue()
    const consumer = queue.consume(
      'job',
      (d) =>
        new Promise<Settlement>((resolve) =>
          d.signal.addEventListener('abort', () =>
            resolve(
              d.id === 'finishes'
                ? { outcome: 'completed', result: 'done anyway' }
                : { outcome: 'retry', delayMs: 0, error: { code: 'X', status: null } },
            ),
          ),
        ),
      { concurrency: 2 },
    )
    await queue.enqueue(job('finishes'))
    await queue.enqueue(job('stops'))
    await new Promise((r) => setTimeout(r, 0))
    expect(await queue.cancel('finishes')).toBe(true)
    expect(await queue.cancel('stops')).toBe(true)
    expect(await queue.cancel('stops')).toBe(false)
    await new Promise((r) => setTimeout(r, 0))
    expect(await queue.status('finishes')).toMatchObject({
      state: 'completed',
      result: 'done anyway',
    })
    expect(await queue.status('stops')).toMatchObject({
      state: 'failed',
      error: { code: 'FANOUT_ABORTED', status: null },
    })
    await consumer.close({ graceMs: 0 })
    await queue.close()
  })

  it('a process that rejects breaks the contract but loses nothing: retried, then dead', async () => {
    const queue = memoryQueue()
    const consumer = queue.consume('job', () => Promise.reject(new Error('bug')), {
      concurrency: 1,
    })
    await queue.enqueue(job('a', { attempts: 2 }))
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0))
    expect(await queue.status('a')).toMatchObject({ state: 'dead', attemptsMade: 2 })
    await consumer.close({ graceMs: 0 })
    await queue.close()
  })

  it('an aborted enqueue signal rejects; a closed queue refuses with QueueUnavailableError and leaves no timer', async () => {
    useFakeTime()
    const queue = memoryQueue()
    const controller = new AbortController()
    controller.abort(new Error('gone'))
    await expect(queue.enqueue(job('a', { signal: controller.signal }))).rejects.toThrow('gone')
    await queue.enqueue(job('b', { delayMs: 60_000 }))
    await queue.close()
    expect(vi.getTimerCount()).toBe(0)
    await expect(queue.enqueue(job('c'))).rejects.toMatchObject({
      code: 'FANOUT_QUEUE_UNAVAILABLE',
      reason: 'closed',
      backend: 'memory',
    })
    expect(() =>
      queue.consume('job', settled({ outcome: 'completed', result: null }), { concurrency: 1 }),
    ).toThrow(QueueUnavailableError)
  })

  it('requeueDead: by ids or all, attempts start over, the last error stays visible', async () => {
    const queue = memoryQueue()
    const consumer = queue.consume(
      'job',
      settled({ outcome: 'dead', error: { code: 'E', status: 500 } }),
      {
        concurrency: 2,
      },
    )
    await queue.enqueue(job('a'))
    await queue.enqueue(job('b'))
    await new Promise((r) => setTimeout(r, 0))
    await consumer.close({ graceMs: 0 })
    expect(await queue.dead('job', { limit: 1 })).toHaveLength(1)
    expect(await queue.requeueDead('job', { ids: ['b'] })).toBe(1)
    expect(await queue.status('b')).toMatchObject({
      state: 'queued',
      attemptsMade: 0,
      lastError: { code: 'E', status: 500 },
    })
    expect(await queue.requeueDead('other')).toBe(0)
    expect(await queue.requeueDead('job')).toBe(1)
    expect(await queue.dead('job')).toEqual([])
    await queue.close()
  })
})

describe('memoryQueue(): closing the queue first', () => {
  it('releases running jobs from their consumers, so a later consumer close does not wait', async () => {
    const queue = memoryQueue()
    let signal: AbortSignal | undefined
    const consumer = queue.consume(
      'job',
      (d) => ((signal = d.signal), new Promise<Settlement>(() => {})),
      { concurrency: 1 },
    )
    await queue.enqueue({
      name: 'job',
      id: 'a',
      data: 1,
      attempts: 1,
      delayMs: 0,
      deadlineAt: null,
    })
    await new Promise((r) => setTimeout(r, 0))
    await queue.close()
    expect(signal?.aborted).toBe(true)
    await consumer.close({ graceMs: Infinity })
  })
})

describe('memoryQueue(): stores what a broker would', () => {
  it('data and results go through JSON: later changes do not reach the job, a Date comes back a string', async () => {
    const queue = memoryQueue()
    const data = { list: [1] }
    await queue.enqueue({ name: 'job', id: 'a', data, attempts: 1, delayMs: 0, deadlineAt: null })
    data.list.push(2)
    const at = new Date(0)
    let received: unknown
    const consumer = queue.consume(
      'job',
      (d) => {
        received = d.data
        return Promise.resolve({ outcome: 'completed', result: { at } as never })
      },
      { concurrency: 1 },
    )
    await new Promise((r) => setTimeout(r, 0))
    expect(received).toEqual({ list: [1] })
    expect(await queue.status('a')).toMatchObject({ result: { at: '1970-01-01T00:00:00.000Z' } })
    await consumer.close({ graceMs: 0 })
    await queue.close()
  })
})

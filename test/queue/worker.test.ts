import { describe, expect, it } from 'vitest'
import {
  AbortedError,
  CircuitOpenError,
  DeadlineError,
  InvalidArgumentError,
  InvalidOptionError,
  RateLimitedError,
  RateLimitExceededError,
  TimeoutError,
  flow,
  retry,
  type Policy,
} from '../../src/index.js'
import { decide } from '../../src/queue/decide.js'
import { errorInfo } from '../../src/queue/error-info.js'
import {
  isPermanentError,
  memoryQueue,
  offload,
  permanentError,
  worker,
  type JobContext,
  type JobQueue,
  type JobStatus,
} from '../../src/queue/index.js'
import type { QueueBackoff } from '../../src/queue/worker-options.js'
import { useFakeTime } from '../helpers/time.js'
import { vi } from 'vitest'

const backoff: QueueBackoff = {
  strategy: 'exponential',
  baseDelay: 1_000,
  maxDelay: 60_000,
  random: () => 0.5,
}
const at = (attempt: number, attempts = 3, aborted = false) => ({ attempt, attempts, aborted })
const http = (status: number, extra?: object): Error =>
  Object.assign(new Error(`status ${status} Bearer secret`), { status, ...extra })

describe('decide(): the settlement of a failed attempt', () => {
  it.each<[string, unknown, ReturnType<typeof decide>]>([
    [
      'a 503 with attempts left: backoff',
      http(503),
      { outcome: 'retry', delayMs: 1_000, error: { code: 'FANOUT_JOB_FAILED', status: 503 } },
    ],
    [
      'a network error: backoff',
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
      { outcome: 'retry', delayMs: 1_000, error: { code: 'ECONNRESET', status: null } },
    ],
    [
      'a plain bug: transient until the attempts run out',
      new TypeError('x is undefined'),
      { outcome: 'retry', delayMs: 1_000, error: { code: 'FANOUT_JOB_FAILED', status: null } },
    ],
    [
      'a RateLimitedError: exactly its retryAfterMs',
      new RateLimitedError('slow', 2_345.2),
      { outcome: 'retry', delayMs: 2_346, error: { code: 'FANOUT_RATE_LIMITED', status: null } },
    ],
    [
      'a 429 carrying retryAfterMs: exactly that',
      http(429, { retryAfterMs: 7_000 }),
      { outcome: 'retry', delayMs: 7_000, error: { code: 'FANOUT_JOB_FAILED', status: 429 } },
    ],
    [
      'a 429 without a wait: backoff',
      http(429),
      { outcome: 'retry', delayMs: 1_000, error: { code: 'FANOUT_JOB_FAILED', status: 429 } },
    ],
    [
      'a 408: backoff',
      http(408),
      { outcome: 'retry', delayMs: 1_000, error: { code: 'FANOUT_JOB_FAILED', status: 408 } },
    ],
    [
      'an attempt timeout: backoff',
      new TimeoutError('t', 5),
      { outcome: 'retry', delayMs: 1_000, error: { code: 'FANOUT_TIMEOUT', status: null } },
    ],
    [
      'a 400: failed',
      http(400),
      { outcome: 'failed', error: { code: 'FANOUT_JOB_FAILED', status: 400 } },
    ],
    [
      'a 404 with a code: failed',
      http(404, { code: 'NOT_FOUND' }),
      { outcome: 'failed', error: { code: 'NOT_FOUND', status: 404 } },
    ],
    [
      'a passed deadline: failed',
      new DeadlineError('late', 0),
      { outcome: 'failed', error: { code: 'FANOUT_DEADLINE', status: null } },
    ],
    [
      'invalid input: failed',
      new InvalidArgumentError('bad'),
      { outcome: 'failed', error: { code: 'FANOUT_INVALID_ARGUMENT', status: null } },
    ],
    [
      'a permanentError(): failed',
      permanentError(new Error('gone')),
      { outcome: 'failed', error: { code: 'FANOUT_JOB_FAILED', status: null } },
    ],
    [
      'a wait that can never be granted: failed',
      new RateLimitExceededError('l', 'weight', 'too heavy', Infinity),
      { outcome: 'failed', error: { code: 'FANOUT_RATE_LIMITED', status: null } },
    ],
  ])('%s', (_, error, expected) => {
    expect(decide(error, at(1), backoff)).toEqual(expected)
  })

  it('a failed flow is judged by the task failure that failed it', async () => {
    const f = flow('page').task('user', () => Promise.reject(http(404, { code: 'NO_USER' })))
    const error = await f.run().catch((e: unknown) => e)
    expect(decide(error, at(1), backoff)).toEqual({
      outcome: 'failed',
      error: { code: 'NO_USER', status: 404 },
    })
  })

  it('dead once the attempts are spent, whatever the error asked', () => {
    expect(decide(http(503), at(3), backoff)).toEqual({
      outcome: 'dead',
      error: { code: 'FANOUT_JOB_FAILED', status: 503 },
    })
    expect(decide(new RateLimitedError('slow', 10), at(3), backoff).outcome).toBe('dead')
    expect(decide(http(400), at(3), backoff).outcome).toBe('failed')
  })

  it('an aborted delivery is failed with FANOUT_ABORTED, whatever the error', () => {
    expect(decide(http(503), at(1, 3, true), backoff)).toEqual({
      outcome: 'failed',
      error: { code: 'FANOUT_ABORTED', status: null },
    })
  })

  it("the backoff grows with the attempt and an open breaker's wait is a floor", () => {
    expect(decide(http(503), at(2), backoff)).toMatchObject({ delayMs: 2_000 })
    expect(decide(new CircuitOpenError('b', 0, 9_000), at(1), backoff)).toMatchObject({
      outcome: 'retry',
      delayMs: 9_000,
    })
  })

  it('errorInfo() keeps codes that look like codes and statuses, never messages', () => {
    expect(errorInfo(Object.assign(new Error('m'), { code: 'token abc123 is invalid' }))).toEqual({
      code: 'FANOUT_JOB_FAILED',
      status: null,
    })
    expect(errorInfo('a thrown string')).toEqual({ code: 'FANOUT_JOB_FAILED', status: null })
    expect(errorInfo(new AbortedError('x'))).toEqual({ code: 'FANOUT_ABORTED', status: null })
  })

  it('permanentError() marks objects in place and wraps other values', () => {
    const e = new Error('x')
    expect(permanentError(e)).toBe(e)
    expect(isPermanentError(e)).toBe(true)
    expect(isPermanentError(permanentError('nope'))).toBe(true)
    expect(isPermanentError(new Error('y'))).toBe(false)
  })
})

async function until(queue: JobQueue, id: string, state: JobStatus['state']): Promise<JobStatus> {
  for (let i = 0; i < 1_000; i++) {
    const s = await queue.status(id)
    if (s?.state === state) return s
    await vi.advanceTimersByTimeAsync(
      s?.state === 'queued' && s.runAt !== null ? Math.max(1, s.runAt - Date.now()) : 1,
    )
  }
  throw new Error(`job ${id} never became ${state}`)
}

describe('worker()', () => {
  it('gives the handler its data and a context: jobId, attempt, attempts, signal, deadline, through the policies', async () => {
    useFakeTime()
    const queue = memoryQueue()
    const seen: JobContext[] = []
    const tagged: string[] = []
    const tag: Policy = { name: 'tag', wrap: (next) => (ctx) => (tagged.push(ctx.task), next(ctx)) }
    const w = worker(queue, 'job', (data: { n: number }, ctx) => (seen.push(ctx), data.n + 1), {
      policies: [tag],
      attempts: 4,
    })
    const { jobId } = await offload(queue, 'job', { n: 1 }, { jobDeadline: 60_000 })
    expect(await until(queue, jobId, 'completed')).toMatchObject({ result: 2 })
    const ctx = seen[0]!
    expect([ctx.jobId, ctx.attempt, ctx.attempts, ctx.task]).toEqual([jobId, 1, 4, 'job'])
    expect(ctx.signal).toBeInstanceOf(AbortSignal)
    expect(ctx.deadline! - Date.now()).toBeGreaterThan(59_000)
    expect(ctx.deadlineAt).toBeLessThan(Infinity)
    expect(tagged).toEqual(['job'])
    await w.close({ graceMs: 0 })
    await queue.close()
  })

  it('a job past its deadline fails fast with FANOUT_DEADLINE and calls nothing', async () => {
    useFakeTime()
    const queue = memoryQueue()
    const handler = vi.fn(() => 'x')
    const w = worker(queue, 'job', handler)
    await queue.enqueue({
      name: 'job',
      id: 'late',
      data: 1,
      attempts: 3,
      delayMs: 0,
      deadlineAt: Date.now() - 1,
    })
    expect(await until(queue, 'late', 'failed')).toMatchObject({
      error: { code: 'FANOUT_DEADLINE', status: null },
    })
    expect(handler).not.toHaveBeenCalled()
    await w.close()
    await queue.close()
  })

  it('retries a transient failure after the backoff, then dead-letters it; a handler without a result completes with null', async () => {
    useFakeTime()
    const queue = memoryQueue()
    let calls = 0
    const w = worker(
      queue,
      'job',
      (data: { ok: boolean }) => {
        calls++
        if (!data.ok) throw http(500)
      },
      { backoff: { strategy: 'exponential', baseDelay: 1_000, maxDelay: 10_000 } },
    )
    const bad = await offload(queue, 'job', { ok: false }, { attempts: 3 })
    await vi.advanceTimersByTimeAsync(0)
    expect(await queue.status(bad.jobId)).toMatchObject({
      state: 'queued',
      runAt: Date.now() + 1_000,
      attemptsMade: 1,
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls).toBe(2)
    expect(await queue.status(bad.jobId)).toMatchObject({
      state: 'queued',
      runAt: Date.now() + 2_000,
    })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(await queue.status(bad.jobId)).toMatchObject({
      state: 'dead',
      attemptsMade: 3,
      error: { status: 500 },
    })
    const good = await offload(queue, 'job', { ok: true })
    expect(await until(queue, good.jobId, 'completed')).toMatchObject({ result: null })
    await w.close()
    await queue.close()
  })

  it('in-process retry() handles 503s inside one queue attempt', async () => {
    useFakeTime()
    const queue = memoryQueue()
    let calls = 0
    const w = worker(
      queue,
      'job',
      () => {
        if (++calls < 3) throw http(503)
        return 'ok'
      },
      { policies: [retry({ maxAttempts: 3, budget: false })] },
    )
    const { jobId } = await offload(queue, 'job', 1)
    expect(await until(queue, jobId, 'completed')).toMatchObject({ attemptsMade: 1, result: 'ok' })
    await w.close()
    await queue.close()
  })

  it('checks its arguments and options', () => {
    const queue = memoryQueue()
    expect(() => worker(queue, 'bad name', () => 1)).toThrow(InvalidArgumentError)
    expect(() => worker(queue, 'job', 'nope' as never)).toThrow(InvalidOptionError)
    expect(() => worker(queue, 'job', () => 1, { concurency: 2 } as never)).toThrow(
      /Did you mean `concurrency`/,
    )
    expect(() => worker(queue, 'job', () => 1, { policies: retry() as never })).toThrow(/array/)
    expect(() => worker(queue, 'job', () => 1, { policies: [{}] as never })).toThrow(/policy/)
    expect(() =>
      worker(queue, 'job', () => 1, { backoff: { strategy: 'linear' as never } }),
    ).toThrow(InvalidOptionError)
    expect(() =>
      worker(queue, 'job', () => 1, { backoff: { baseDelay: 10, maxDelay: 5 } }),
    ).toThrow(/maxDelay/)
    expect(() => worker(queue, 'job', () => 1, { attempts: 0 })).toThrow(InvalidOptionError)
    return queue.close()
  })

  it('close() is idempotent and checks graceMs', async () => {
    const queue = memoryQueue()
    const w = worker(queue, 'job', () => 1)
    expect(() => w.close({ graceMs: -1 })).toThrow(InvalidOptionError)
    const first = w.close({ graceMs: 0 })
    expect(w.close()).toBe(first)
    await first
    await queue.close()
  })
})

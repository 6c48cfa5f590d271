import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, InvalidOptionError } from '../../src/index.js'
import {
  accepted,
  acceptedHeaders,
  idempotencyKeyOf,
  memoryQueue,
  statusResponse,
  jobStatus,
  cancelJob,
  requeueDead,
  QueueUnavailableError,
  type JobQueue,
} from '../../src/queue/index.js'

describe('accepted()', () => {
  it('answers 202 with Location, Retry-After and the job id', async () => {
    const response = accepted({ jobId: 'j1', deduplicated: true }, { location: '/jobs/j1' })
    expect(response.status).toBe(202)
    expect(response.headers.get('location')).toBe('/jobs/j1')
    expect(response.headers.get('retry-after')).toBe('1')
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(await response.json()).toEqual({ jobId: 'j1', deduplicated: true, location: '/jobs/j1' })
  })

  it('acceptedHeaders() gives the same headers to frameworks with their own response', () => {
    expect(
      acceptedHeaders(
        { jobId: 'j1', deduplicated: false },
        { location: '/jobs/j1', retryAfter: 5 },
      ),
    ).toEqual({ location: '/jobs/j1', 'retry-after': '5' })
  })

  it('checks its arguments', () => {
    const result = { jobId: 'j1', deduplicated: false }
    expect(() => accepted(result, { location: '' })).toThrow(InvalidOptionError)
    expect(() => accepted(result, { location: '/a\r\nSet-Cookie: x' })).toThrow(InvalidOptionError)
    expect(() => accepted(result, { location: '/a', retryAfter: 1.5 })).toThrow(InvalidOptionError)
    expect(() => accepted(result, { location: '/a', retry: 1 } as never)).toThrow(
      InvalidOptionError,
    )
    expect(() => accepted({} as never, { location: '/a' })).toThrow(InvalidArgumentError)
  })
})

describe('idempotencyKeyOf()', () => {
  it('reads the header from a Request, a Headers and a plain record, any case', () => {
    const key = '8e03978e-40d5-43e8-bc93-6894a57f9324'
    expect(
      idempotencyKeyOf(
        new Request('http://x/', { method: 'POST', headers: { 'Idempotency-Key': key } }),
      ),
    ).toBe(key)
    expect(idempotencyKeyOf(new Headers({ 'idempotency-key': key }))).toBe(key)
    expect(idempotencyKeyOf({ 'idempotency-key': key })).toBe(key)
    expect(idempotencyKeyOf({ headers: { 'IDEMPOTENCY-KEY': key } })).toBe(key)
  })

  it('accepts the draft’s quoted string form', () => {
    expect(idempotencyKeyOf({ 'idempotency-key': '"abc-1"' })).toBe('abc-1')
  })

  it('answers undefined when absent', () => {
    expect(idempotencyKeyOf(new Headers())).toBeUndefined()
    expect(idempotencyKeyOf({})).toBeUndefined()
  })

  it('refuses empty, too long, non-ASCII and repeated keys (a 400 for the route)', () => {
    for (const value of ['', '""', ' ', 'x'.repeat(256), 'clé', '"a"b"', ['a', 'b']])
      expect(() => idempotencyKeyOf({ 'idempotency-key': value }), String(value)).toThrow(
        InvalidArgumentError,
      )
    expect(() => idempotencyKeyOf('key' as never)).toThrow(InvalidArgumentError)
  })
})

describe('status helpers', () => {
  it('statusResponse(): 200 with the status as JSON, Retry-After while pending, 404 unknown', async () => {
    const queue = memoryQueue()
    await queue.enqueue({
      name: 'job',
      id: 'j1',
      data: 1,
      attempts: 1,
      delayMs: 0,
      deadlineAt: null,
    })
    const queued = statusResponse(await jobStatus(queue, 'j1'))
    expect(queued.status).toBe(200)
    expect(queued.headers.get('retry-after')).toBe('1')
    expect(await queued.json()).toEqual({
      id: 'j1',
      name: 'job',
      attemptsMade: 0,
      state: 'queued',
      runAt: null,
      lastError: null,
    })
    expect(await cancelJob(queue, 'j1')).toBe(true)
    const failed = statusResponse(await jobStatus(queue, 'j1'), { retryAfter: 3 })
    expect(failed.headers.get('retry-after')).toBeNull()
    expect(await failed.json()).toMatchObject({
      state: 'failed',
      error: { code: 'FANOUT_ABORTED', status: null },
    })
    expect(statusResponse(await jobStatus(queue, 'nope')).status).toBe(404)
    await queue.close()
  })

  it('check their arguments and turn a broker failure into QueueUnavailableError', async () => {
    const queue = memoryQueue()
    expect(() => jobStatus(queue, '')).toThrow(InvalidArgumentError)
    expect(() => requeueDead(queue, 'bad name')).toThrow(InvalidArgumentError)
    expect(() => requeueDead(queue, 'job', { ids: 'j1' as never })).toThrow(InvalidOptionError)
    expect(await requeueDead(queue, 'job', { ids: ['j1'] })).toBe(0)
    const broken = {
      ...queue,
      backend: 'stub',
      status: () => Promise.reject(new Error('down')),
    } as JobQueue
    await expect(jobStatus(broken, 'j1')).rejects.toBeInstanceOf(QueueUnavailableError)
    await queue.close()
    await expect(jobStatus(queue, 'j1')).rejects.toMatchObject({
      reason: 'closed',
      backend: 'memory',
    })
  })
})

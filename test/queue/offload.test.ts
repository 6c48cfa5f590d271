import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  DeadlineError,
  InvalidArgumentError,
  InvalidOptionError,
  QueueFullError,
  flow,
  isFanoutError,
} from '../../src/index.js'
import {
  QueueUnavailableError,
  memoryQueue,
  offload,
  type EnqueueRequest,
  type JobQueue,
} from '../../src/queue/index.js'
import { settle, useFakeTime } from '../helpers/time.js'

/** A queue whose enqueue is scripted; the other operations are never called here. */
function stubQueue(
  enqueue: (request: EnqueueRequest) => Promise<{ id: string; deduplicated: boolean }>,
): JobQueue & { requests: EnqueueRequest[] } {
  const requests: EnqueueRequest[] = []
  const never = (): never => {
    throw new Error('not used')
  }
  return {
    backend: 'stub',
    requests,
    enqueue: (request) => {
      requests.push(request)
      return enqueue(request)
    },
    status: never,
    consume: never,
    cancel: never,
    dead: never,
    requeueDead: never,
    close: () => Promise.resolve(),
  }
}

const accepted = stubQueue((r) => Promise.resolve({ id: r.id, deduplicated: false }))

/** `offload()` checks its arguments at the call: a refusal is a synchronous throw. */
const refused = async (data: unknown): Promise<unknown> =>
  Promise.resolve()
    .then(() => offload(accepted, 'job', data as never))
    .then(
      () => 'accepted',
      (e: unknown) => e,
    )

describe('offload(): H5 credentials in payloads', () => {
  it.each([
    [{ authorization: 'x' }, '$.authorization'],
    [{ headers: { Cookie: 'sid=1' } }, '$.headers.Cookie'],
    [{ user: { PASSWORD: 'p' } }, '$.user.PASSWORD'],
    [{ api_key: 'k' }, '$.api_key'],
    [{ 'x-api-key': 'k' }, '$.x-api-key'],
    [{ client_secret: 's' }, '$.client_secret'],
    [{ oauth: [{ refresh_token: 'r' }] }, '$.oauth[0].refresh_token'],
    [{ token: 't' }, '$.token'],
    [{ note: 'call it with Bearer abc.def-ghi' }, '$.note'],
    [['Bearer xyz'], '$[0]'],
  ])('H5 refuses %j by default, naming %s but never the value', async (data, path) => {
    const error = await refused(data)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    const message = (error as Error).message
    expect(message).toContain(path)
    expect(message).toContain("credentials: 'redact'")
    for (const secret of ['sid=1', 'abc.def-ghi', 'xyz']) expect(message).not.toContain(secret)
  })

  it('lets ordinary keys through: a page token, a token count, a secretary', async () => {
    expect(await refused({ nextPageToken: 'p2', tokenCount: 3, secretary: 'Ann', bearer: 1 })).toBe(
      'accepted',
    )
  })

  it("H5 'redact' replaces credential values and bearer tokens with [REDACTED], nested too", async () => {
    const queue = stubQueue((r) => Promise.resolve({ id: r.id, deduplicated: false }))
    await offload(
      queue,
      'job',
      { user: 'ann', auth: { Authorization: 'Bearer abc', list: ['ok', 'Bearer zzz'] } },
      { credentials: 'redact' },
    )
    expect(queue.requests[0]!.data).toEqual({
      user: 'ann',
      auth: { Authorization: '[REDACTED]', list: ['ok', 'Bearer [REDACTED]'] },
    })
  })

  it('refuses what is not JSON, and snapshots what is', async () => {
    for (const bad of [new Date(), () => 1, Number.NaN, { a: Infinity }, new Map(), 1n])
      expect(await refused(bad)).toBeInstanceOf(InvalidArgumentError)
    const deep: Record<string, unknown> = {}
    let at = deep
    for (let i = 0; i < 100; i++) at = (at.next = {}) as Record<string, unknown>
    expect(await refused(deep)).toBeInstanceOf(InvalidArgumentError)

    const queue = stubQueue((r) => Promise.resolve({ id: r.id, deduplicated: false }))
    const data = { list: [1, 2], skip: undefined as unknown as number }
    await offload(queue, 'job', data as never)
    data.list.push(3)
    expect(queue.requests[0]!.data).toEqual({ list: [1, 2] })
  })
})

describe('offload(): job ids', () => {
  const sha = (name: string, scope: string, key: string): string =>
    createHash('sha256')
      .update(JSON.stringify(['fanout.job', name, scope, key]))
      .digest('hex')

  it('an idempotency key becomes SHA-256 hex of name, scope and key', async () => {
    const queue = stubQueue((r) => Promise.resolve({ id: r.id, deduplicated: false }))
    const { jobId } = await offload(queue, 'render', 1, {
      idempotencyKey: 'k-1',
      scope: 'tenant-a',
    })
    expect(jobId).toBe(sha('render', 'tenant-a', 'k-1'))
    expect(jobId).toMatch(/^[0-9a-f]{64}$/)
    const other = await offload(queue, 'render', 1, { idempotencyKey: 'k-1', scope: 'tenant-b' })
    expect(other.jobId).not.toBe(jobId)
    const renamed = await offload(queue, 'email', 1, { idempotencyKey: 'k-1', scope: 'tenant-a' })
    expect(renamed.jobId).not.toBe(jobId)
  })

  it('without a key every job gets a random id', async () => {
    const queue = memoryQueue()
    const a = await offload(queue, 'job', 1)
    const b = await offload(queue, 'job', 1)
    expect(a.jobId).not.toBe(b.jobId)
    expect([a.deduplicated, b.deduplicated]).toEqual([false, false])
    await queue.close()
  })

  it('a key needs a scope, and a key is printable ASCII of 1–255', () => {
    expect(() => offload(accepted, 'job', 1, { idempotencyKey: 'k' })).toThrow(/needs a `scope`/)
    expect(() => offload(accepted, 'job', 1, { idempotencyKey: 'k', scope: ' ' })).toThrow(
      InvalidOptionError,
    )
    // No key (a request without the header): the scope has nothing to scope, a new job is made.
    expect(() =>
      offload(accepted, 'job', 1, { idempotencyKey: undefined, scope: 't' }),
    ).not.toThrow()
    for (const key of ['', ' k', 'k\n', 'é', 'x'.repeat(256)])
      expect(() => offload(accepted, 'job', 1, { idempotencyKey: key, scope: 's' })).toThrow(
        InvalidOptionError,
      )
  })

  it('passes attempts, delay and the job deadline (wall clock) to the backend', async () => {
    const queue = stubQueue((r) => Promise.resolve({ id: r.id, deduplicated: false }))
    const before = Date.now()
    await offload(queue, 'job', 1, { attempts: 5, delay: 250, jobDeadline: 10_000 })
    const r = queue.requests[0]!
    expect([r.name, r.attempts, r.delayMs]).toEqual(['job', 5, 250])
    expect(r.deadlineAt).toBeGreaterThanOrEqual(before + 10_000)
    expect(r.deadlineAt).toBeLessThanOrEqual(Date.now() + 10_000)
    await offload(queue, 'job', 1)
    expect([
      queue.requests[1]!.attempts,
      queue.requests[1]!.delayMs,
      queue.requests[1]!.deadlineAt,
    ]).toEqual([3, 0, null])
  })
})

describe('offload(): options and arguments', () => {
  it('checks options at the call: unknown keys, bad values, signal with context', () => {
    expect(() => offload(accepted, 'job', 1, { atempts: 2 } as never)).toThrow(
      /Did you mean `attempts`/,
    )
    expect(() => offload(accepted, 'job', 1, { attempts: 0 })).toThrow(InvalidOptionError)
    expect(() => offload(accepted, 'job', 1, { delay: -1 })).toThrow(InvalidOptionError)
    expect(() => offload(accepted, 'job', 1, { credentials: 'allow' as never })).toThrow(
      InvalidOptionError,
    )
    expect(() => offload(accepted, 'job', 1, { context: {} as never })).toThrow(/call context/)
    const ctx = { signal: new AbortController().signal, deadlineAt: Infinity, clock: {} }
    expect(() =>
      offload(accepted, 'job', 1, { context: ctx as never, signal: new AbortController().signal }),
    ).toThrow(/not both/)
    expect(() => offload(accepted, 'bad name', 1)).toThrow(InvalidArgumentError)
    expect(() => offload({} as JobQueue, 'job', 1)).toThrow(InvalidArgumentError)
  })

  it('reads own properties only: a polluted prototype adds no option', async () => {
    const proto = Object.prototype as Record<string, unknown>
    proto.credentials = 'redact'
    try {
      expect(await refused({ password: 'p' })).toBeInstanceOf(InvalidArgumentError)
    } finally {
      delete proto.credentials
    }
  })
})

describe('offload(): the enqueue is bounded', () => {
  const hanging = (): JobQueue & { requests: EnqueueRequest[] } =>
    stubQueue(
      (r) =>
        new Promise((_, reject) =>
          r.signal?.addEventListener('abort', () => reject(r.signal?.reason)),
        ),
    )

  it('rejects with DeadlineError when the broker does not answer within the deadline', async () => {
    useFakeTime()
    const queue = hanging()
    const outcome = await settle(offload(queue, 'job', 1, { deadline: 100 }))
    expect(outcome.ok).toBe(false)
    expect((outcome as { error: unknown }).error).toBeInstanceOf(DeadlineError)
    expect(queue.requests[0]!.signal?.aborted).toBe(true)
  })

  it("rejects with the caller's abort reason, at once when already aborted", async () => {
    const controller = new AbortController()
    const pending = offload(hanging(), 'job', 1, { signal: controller.signal })
    await Promise.resolve()
    controller.abort(new Error('client went away'))
    await expect(pending).rejects.toThrow('client went away')
    await expect(offload(accepted, 'job', 1, { signal: controller.signal })).rejects.toThrow(
      'client went away',
    )
    await expect(offload(accepted, 'job', 1, { deadlineAt: -1 })).rejects.toBeInstanceOf(
      DeadlineError,
    )
  })

  it('a broker failure becomes QueueUnavailableError (cause kept); fanout errors pass as they are', async () => {
    const broken = stubQueue(() => Promise.reject(new Error('ECONNREFUSED')))
    const error = await offload(broken, 'job', 1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(QueueUnavailableError)
    expect(error).toMatchObject({ backend: 'stub', operation: 'enqueue', reason: 'error' })
    expect((error as Error).cause).toEqual(new Error('ECONNREFUSED'))
    const full = stubQueue(() => Promise.reject(new QueueFullError('full', 3)))
    expect(
      isFanoutError(await offload(full, 'job', 1).catch((e: unknown) => e), 'FANOUT_QUEUE_FULL'),
    ).toBe(true)
  })

  it('works as a flow task: the run’s signal and deadline bound it', async () => {
    const queue = memoryQueue()
    const submit = flow('submit').task('job', (_, ctx) =>
      offload(queue, 'render', { id: 1 }, { context: ctx, idempotencyKey: 'k', scope: 'u1' }),
    )
    const { job } = await submit.run(undefined, { deadline: 1_000 })
    expect(job.deduplicated).toBe(false)
    expect((await queue.status(job.jobId))?.state).toBe('queued')
    const slow = flow('slow').task('job', (_, ctx) =>
      offload(hanging(), 'render', { id: 1 }, { context: ctx }),
    )
    await expect(slow.run(undefined, { deadline: 30 })).rejects.toSatisfy(
      (e: unknown) => isFanoutError(e, 'FANOUT_DEADLINE') || isFanoutError(e, 'FANOUT_TASK_FAILED'),
    )
    await queue.close()
  })
})

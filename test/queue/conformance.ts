/**
 * The one suite every `JobQueue` backend runs (the embedded queue, BullMQ, RabbitMQ): the seam's
 * promises, checked through the public helpers (`offload`, `worker`, `jobStatus`, `cancelJob`,
 * `requeueDead`) exactly as an application uses them.
 *
 * Real time, short delays: the brokers run for real. Nothing asserts a tight timing; every wait
 * polls with a generous timeout, so a slow, busy machine only makes it slower.
 *
 * Usage, in a backend's test file:
 *
 *   describeJobQueue('bullmq', async (options) => {
 *     const queue = bullmqQueue({ connection, prefix: testPrefix(), ...options })
 *     return { queue, cleanup: () => queue.close(), features: { maxQueued: true } }
 *   })
 *
 * `make` is called once per test and must give a fresh, empty queue (its own prefix or vhost).
 * `options.maxQueued` is passed only by the H8 test; a backend without a bound ignores it and
 * leaves `features.maxQueued` unset, and that test is skipped.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { RateLimitedError, isFanoutError } from '../../src/core/errors.js'
import { retry } from '../../src/policies/retry.js'
import {
  cancelJob,
  jobStatus,
  offload,
  requeueDead,
  worker,
  type JobContext,
  type JobData,
  type JobQueue,
  type JobStatus,
  type Worker,
  type WorkerOptions,
} from '../../src/queue/index.js'

export interface QueueFixtureOptions {
  /** Waiting jobs the queue may hold (H8); only the H8 test passes it. */
  readonly maxQueued?: number
}

export interface QueueFixture {
  readonly queue: JobQueue
  /** Closes the queue and removes what the test left in the broker. */
  readonly cleanup: () => Promise<void>
  /** Optional features this backend has; a test of a missing one is skipped. */
  readonly features?: {
    /** Enqueue beyond `maxQueued` waiting jobs rejects with `QueueFullError`. */
    readonly maxQueued?: boolean
  }
}

/** Generous: a busy 2-core machine and a real broker make every step slow now and then. */
const WAIT_MS = 15_000
const TEST_MS = 60_000
/** A redelivery may wait for a lock to lapse (BullMQ's stalled-job check runs every 30 s by default). */
const REDELIVERY_MS = 45_000
/** Queue-level backoff short enough for tests on real brokers. */
const FAST: WorkerOptions = { backoff: { strategy: 'none', baseDelay: 0, maxDelay: 0 } }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `probe` until it returns something other than undefined, or fails after `timeout`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeout = WAIT_MS,
): Promise<T> {
  const until = Date.now() + timeout
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > until)
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`, { cause: last })
    await sleep(25)
  }
}

/** Waits until the job is in one of `states`, and answers its status. */
export function stateOf<S extends JobStatus['state']>(
  queue: JobQueue,
  id: string,
  ...states: S[]
): Promise<Extract<JobStatus, { state: S }>> {
  return stateWithin(WAIT_MS, queue, id, ...states)
}

/** `stateOf` with a timeout of its own, for a backend step that may take long (a redelivery). */
export function stateWithin<S extends JobStatus['state']>(
  timeout: number,
  queue: JobQueue,
  id: string,
  ...states: S[]
): Promise<Extract<JobStatus, { state: S }>> {
  return eventually(
    `job ${id} to be ${states.join(' or ')}`,
    async () => {
      const status = await jobStatus(queue, id)
      return status !== undefined && (states as string[]).includes(status.state)
        ? (status as Extract<JobStatus, { state: S }>)
        : undefined
    },
    timeout,
  )
}

/** An error like an HTTP client's: a status, a message that must never reach the broker. */
function httpError(status: number, extra?: Record<string, unknown>): Error {
  return Object.assign(new Error(`upstream answered ${status} for token=hunter2`), {
    status,
    ...extra,
  })
}

let unique = 0
/** A job name of its own per test, so a backend that shares a broker across tests still isolates them. */
const jobName = (label: string): string =>
  `conf-${label}-${Date.now().toString(36)}-${(unique++).toString(36)}`

export function describeJobQueue(
  label: string,
  make: (options: QueueFixtureOptions) => Promise<QueueFixture>,
): void {
  describe(`JobQueue conformance: ${label}`, () => {
    let fixture: QueueFixture | undefined
    const workers: Worker[] = []

    const open = async (options: QueueFixtureOptions = {}): Promise<JobQueue> => {
      fixture = await make(options)
      return fixture.queue
    }
    const start = <D extends JobData, R extends JobData | void>(
      queue: JobQueue,
      name: string,
      handler: (data: D, ctx: JobContext) => R | Promise<R>,
      options?: WorkerOptions,
    ): Worker => {
      // D and R are JSON by their constraints; the generic check cannot see it through them.
      const w = worker<D, R>(queue, name, handler as never, { ...FAST, ...options })
      workers.push(w)
      return w
    }

    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.close({ graceMs: 0 })))
      const f = fixture
      fixture = undefined
      await f?.cleanup()
    }, TEST_MS)

    it(
      'enqueues, runs and completes a job: status carries the result and attemptsMade 1',
      async () => {
        const queue = await open()
        const name = jobName('basic')
        expect(await jobStatus(queue, 'no-such-job')).toBeUndefined()
        const { jobId, deduplicated } = await offload(queue, name, { n: 21 })
        expect(deduplicated).toBe(false)
        const early = await jobStatus(queue, jobId)
        expect(early?.id).toBe(jobId)
        expect(early?.name).toBe(name)
        start(queue, name, (data: { n: number }) => ({ doubled: data.n * 2 }))
        const done = await stateOf(queue, jobId, 'completed')
        expect(done.result).toEqual({ doubled: 42 })
        expect(done.attemptsMade).toBe(1)
      },
      TEST_MS,
    )

    it(
      'H5 credentials in a payload never reach the broker: refused before the enqueue, or redacted on request',
      async () => {
        const queue = await open()
        const name = jobName('h5')
        const secret = { to: 'ops@example.com', headers: { Authorization: 'Bearer abc.def.ghi' } }
        expect(() => offload(queue, name, secret)).toThrow(
          /credential at \$\.headers\.Authorization/,
        )
        const seen: unknown[] = []
        start(queue, name, (data: JobData) => {
          seen.push(data)
          return null
        })
        const { jobId } = await offload(queue, name, secret, { credentials: 'redact' })
        await stateOf(queue, jobId, 'completed')
        // The worker got the redacted copy: the token was never stored in the broker.
        expect(seen).toEqual([{ to: 'ops@example.com', headers: { Authorization: '[REDACTED]' } }])
      },
      TEST_MS,
    )

    it(
      'dedupes: 20 concurrent offloads with one key make one job, and the handler runs once',
      async () => {
        const queue = await open()
        const name = jobName('dedupe')
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            offload(queue, name, { order: 7 }, { idempotencyKey: 'key-1', scope: 'tenant-a' }),
          ),
        )
        expect(new Set(results.map((r) => r.jobId)).size).toBe(1)
        expect(results.filter((r) => !r.deduplicated)).toHaveLength(1)
        let calls = 0
        start(queue, name, () => {
          calls++
          return 'done'
        })
        const jobId = results[0]!.jobId
        await stateOf(queue, jobId, 'completed')
        const again = await offload(
          queue,
          name,
          { order: 7 },
          { idempotencyKey: 'key-1', scope: 'tenant-a' },
        )
        expect(again).toEqual({ jobId, deduplicated: true })
        // Another scope with the same key is another job: keys never cross tenants.
        const other = await offload(
          queue,
          name,
          { order: 7 },
          { idempotencyKey: 'key-1', scope: 'tenant-b' },
        )
        expect(other.jobId).not.toBe(jobId)
        expect(other.deduplicated).toBe(false)
        await stateOf(queue, other.jobId, 'completed')
        await sleep(200)
        expect(calls).toBe(2)
      },
      TEST_MS,
    )

    it(
      '503 twice then ok: in-process retry() completes it within one queue-level attempt',
      async () => {
        const queue = await open()
        const name = jobName('transient')
        let calls = 0
        start(
          queue,
          name,
          () => {
            calls++
            if (calls <= 2) throw httpError(503)
            return { ok: true }
          },
          { policies: [retry({ maxAttempts: 3, baseDelay: 1, maxDelay: 5, budget: false })] },
        )
        const { jobId } = await offload(queue, name, null)
        const done = await stateOf(queue, jobId, 'completed')
        expect(done.result).toEqual({ ok: true })
        expect(done.attemptsMade).toBe(1)
        expect(calls).toBe(3)
      },
      TEST_MS,
    )

    it(
      '400: failed at once with code and status, never retried',
      async () => {
        const queue = await open()
        const name = jobName('bad-request')
        let calls = 0
        start(queue, name, () => {
          calls++
          throw httpError(400, { code: 'BAD_INPUT' })
        })
        const { jobId } = await offload(queue, name, { x: 1 }, { attempts: 5 })
        const failed = await stateOf(queue, jobId, 'failed', 'dead')
        expect(failed.state).toBe('failed')
        expect(failed.error).toEqual({ code: 'BAD_INPUT', status: 400 })
        expect(failed.attemptsMade).toBe(1)
        await sleep(200)
        expect(calls).toBe(1)
        expect(JSON.stringify(failed)).not.toContain('hunter2')
      },
      TEST_MS,
    )

    it(
      "429 with Retry-After: the job waits exactly the upstream's delay, not a generic backoff",
      async () => {
        const queue = await open()
        const name = jobName('rate-limited')
        const RETRY_AFTER = 1_500
        const calls: number[] = []
        start(
          queue,
          name,
          () => {
            calls.push(Date.now())
            if (calls.length === 1) throw new RateLimitedError('slow down', RETRY_AFTER)
            return 'ok'
          },
          // A long generic backoff: were it used instead of Retry-After, the test would notice.
          { backoff: { strategy: 'exponential', baseDelay: 60_000, maxDelay: 60_000 } },
        )
        const { jobId } = await offload(queue, name, { page: 1 })
        const waiting = await eventually('the retry to be scheduled', async () => {
          const s = await jobStatus(queue, jobId)
          return s?.state === 'queued' && s.lastError !== null ? s : undefined
        })
        expect(waiting.lastError).toEqual({ code: 'FANOUT_RATE_LIMITED', status: null })
        expect(waiting.runAt).not.toBeNull()
        // Clocks tick in whole ms and a broker may round: 20 ms of slack, never less than asked.
        expect(waiting.runAt!).toBeGreaterThanOrEqual(calls[0]! + RETRY_AFTER - 20)
        const done = await stateOf(queue, jobId, 'completed')
        expect(done.attemptsMade).toBe(2)
        expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(RETRY_AFTER - 20)
      },
      TEST_MS,
    )

    it(
      'H6 poison job: bounded attempts, then the dead letter with code and status only; other jobs run; requeueDead runs it again',
      async () => {
        const queue = await open()
        const name = jobName('poison')
        let poisonCalls = 0
        start(
          queue,
          name,
          (data: { kind: string; orderId: string }) => {
            if (data.kind === 'poison') {
              poisonCalls++
              throw httpError(500)
            }
            return data.orderId
          },
          { concurrency: 2 },
        )
        const poison = await offload(
          queue,
          name,
          { kind: 'poison', orderId: 'order-secret-payload' },
          { attempts: 3 },
        )
        const good = await Promise.all(
          [1, 2, 3].map((i) => offload(queue, name, { kind: 'good', orderId: `o${i}` })),
        )
        for (const [i, g] of good.entries())
          expect((await stateOf(queue, g.jobId, 'completed')).result).toBe(`o${i + 1}`)
        const dead = await stateOf(queue, poison.jobId, 'dead', 'failed')
        expect(dead.state).toBe('dead')
        expect(dead.error).toEqual({ code: 'FANOUT_JOB_FAILED', status: 500 })
        expect(dead.attemptsMade).toBe(3)
        expect(poisonCalls).toBe(3)
        const letters = await eventually('the dead letter', async () => {
          const list = await queue.dead(name)
          return list.length > 0 ? list : undefined
        })
        expect(letters).toHaveLength(1)
        expect(letters[0]).toMatchObject({
          id: poison.jobId,
          name,
          attemptsMade: 3,
          error: { code: 'FANOUT_JOB_FAILED', status: 500 },
        })
        expect(letters[0]!.diedAt).toBeGreaterThan(0)
        const stored = JSON.stringify([letters, dead])
        expect(stored).not.toContain('hunter2')
        expect(stored).not.toContain('order-secret-payload')

        expect(await requeueDead(queue, name)).toBe(1)
        await eventually('the requeued job to run', () => (poisonCalls > 3 ? true : undefined))
        const again = await stateOf(queue, poison.jobId, 'dead')
        expect(again.attemptsMade).toBe(3)
        expect(poisonCalls).toBe(6)
        expect(await requeueDead(queue, name, { ids: ['another-id'] })).toBe(0)
      },
      TEST_MS,
    )

    it(
      'cancel: a queued job is removed (failed, FANOUT_ABORTED); a running one has its signal aborted',
      async () => {
        const queue = await open()
        const name = jobName('cancel')
        const later = await offload(queue, name, { which: 'later' }, { delay: 60_000 })
        expect(await cancelJob(queue, later.jobId)).toBe(true)
        const removed = await stateOf(queue, later.jobId, 'failed')
        expect(removed.error.code).toBe('FANOUT_ABORTED')
        expect(await cancelJob(queue, later.jobId)).toBe(false)
        expect(await cancelJob(queue, 'no-such-job')).toBe(false)

        let entered = false
        let abortedWith: unknown
        start(
          queue,
          name,
          (_data: { which: string }, ctx) =>
            new Promise<string>((_, reject) => {
              entered = true
              ctx.signal.addEventListener('abort', () => {
                abortedWith = ctx.signal.reason
                reject(ctx.signal.reason)
              })
            }),
        )
        const running = await offload(queue, name, { which: 'now' })
        await stateOf(queue, running.jobId, 'running')
        await eventually('the handler to start', () => (entered ? true : undefined))
        expect(await cancelJob(queue, running.jobId)).toBe(true)
        await eventually('the handler to see the abort', () =>
          abortedWith !== undefined ? true : undefined,
        )
        const cancelled = await stateOf(queue, running.jobId, 'failed')
        expect(cancelled.error.code).toBe('FANOUT_ABORTED')
      },
      TEST_MS,
    )

    it(
      'a job whose deadline passed before it ran fails fast with FANOUT_DEADLINE, calling nothing',
      async () => {
        const queue = await open()
        const name = jobName('deadline')
        let calls = 0
        start(queue, name, () => {
          calls++
          return 'too late'
        })
        const { jobId } = await offload(queue, name, { x: 1 }, { delay: 300, jobDeadline: 50 })
        const failed = await stateOf(queue, jobId, 'failed', 'dead')
        expect(failed.state).toBe('failed')
        expect(failed.error).toEqual({ code: 'FANOUT_DEADLINE', status: null })
        expect(calls).toBe(0)
      },
      TEST_MS,
    )

    it(
      'H3 close with running jobs: they finish within the grace period; none is lost',
      async () => {
        const queue = await open()
        const name = jobName('drain')
        const finished: string[] = []
        let running = 0
        const first = start(
          queue,
          name,
          async (data: { i: number }) => {
            running++
            await sleep(300)
            finished.push(`first ${data.i}`)
            return data.i
          },
          { concurrency: 2 },
        )
        const jobs = await Promise.all([1, 2, 3, 4].map((i) => offload(queue, name, { i })))
        await eventually('two jobs to run', () => (running >= 2 ? true : undefined))
        await first.close({ graceMs: 20_000 })
        // Whatever the first worker had started, it finished before close() resolved.
        expect(finished.length).toBe(running)
        start(queue, name, (data: { i: number }) => {
          finished.push(`second ${data.i}`)
          return data.i
        })
        for (const [i, job] of jobs.entries())
          expect((await stateOf(queue, job.jobId, 'completed')).result).toBe(i + 1)
        expect(finished).toHaveLength(4)
      },
      TEST_MS,
    )

    it(
      'H3 close past the grace period: running jobs are aborted and run again elsewhere, never lost',
      async () => {
        const queue = await open()
        const name = jobName('takeback')
        let entered = 0
        let aborted = 0
        const first = start(
          queue,
          name,
          (_data: { i: number }, ctx) =>
            new Promise<number>((_, reject) => {
              entered++
              ctx.signal.addEventListener('abort', () => {
                aborted++
                reject(ctx.signal.reason)
              })
            }),
          { concurrency: 2 },
        )
        const jobs = await Promise.all([1, 2].map((i) => offload(queue, name, { i })))
        await eventually('both jobs to run', () => (entered >= 2 ? true : undefined))
        await first.close({ graceMs: 50 })
        await eventually('both handlers to see the abort', () => (aborted >= 2 ? true : undefined))
        start(queue, name, (data: { i: number }, ctx) => ({ i: data.i, attempt: ctx.attempt }))
        for (const [i, job] of jobs.entries()) {
          // A broker may hand a taken-back job out again only after its lock or visibility lapses.
          const done = await stateWithin(REDELIVERY_MS, queue, job.jobId, 'completed')
          expect(done.result).toMatchObject({ i: i + 1 })
          expect((done.result as { attempt: number }).attempt).toBeGreaterThanOrEqual(2)
        }
      },
      2 * REDELIVERY_MS + WAIT_MS,
    )

    it(
      'H7 in spirit: a handler that runs twice does its side effect once with the idempotency guard pattern',
      async () => {
        const queue = await open()
        const name = jobName('guard')
        // The side effect's own store, keyed by the job id (in production: a unique constraint).
        const charged = new Set<string>()
        let runs = 0
        start(queue, name, (data: { amount: number }, ctx) => {
          runs++
          if (!charged.has(ctx.jobId)) charged.add(ctx.jobId)
          // The first run's acknowledgement is "lost": the job runs again.
          if (ctx.attempt === 1) throw httpError(503)
          return { charged: data.amount }
        })
        const { jobId } = await offload(queue, name, { amount: 5 })
        const done = await stateOf(queue, jobId, 'completed')
        expect(done.attemptsMade).toBe(2)
        expect(runs).toBe(2)
        expect(charged.size).toBe(1)
      },
      TEST_MS,
    )

    it(
      'data reaches the handler as it was enqueued: nested JSON, unicode, numbers, null',
      async () => {
        const queue = await open()
        const name = jobName('roundtrip')
        const data = {
          text: 'héllo ☃ 𝄞 "quoted" \\ back',
          list: [1, -2.5, 1e21, 0, null, true, false],
          nested: { a: { b: [], c: {} } },
          empty: '',
        }
        let seen: unknown
        start(queue, name, (received: typeof data) => {
          seen = received
          return received
        })
        const { jobId } = await offload(queue, name, data)
        const done = await stateOf(queue, jobId, 'completed')
        expect(seen).toEqual(data)
        expect(done.result).toEqual(data)
      },
      TEST_MS,
    )

    it(
      'a worker runs at most its concurrency at once',
      async () => {
        const queue = await open()
        const name = jobName('concurrency')
        let running = 0
        let peak = 0
        start(
          queue,
          name,
          async (data: { i: number }) => {
            peak = Math.max(peak, ++running)
            await sleep(100)
            running--
            return data.i
          },
          { concurrency: 2 },
        )
        const jobs = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => offload(queue, name, { i })))
        for (const job of jobs) await stateOf(queue, job.jobId, 'completed')
        expect(peak).toBeGreaterThanOrEqual(1)
        expect(peak).toBeLessThanOrEqual(2)
      },
      TEST_MS,
    )

    it(
      'the dead letter lists oldest first within its limit; requeueDead with ids runs only those',
      async () => {
        const queue = await open()
        const name = jobName('dead-ids')
        const runs = new Map<number, number>()
        start(queue, name, (data: { i: number }) => {
          runs.set(data.i, (runs.get(data.i) ?? 0) + 1)
          throw httpError(500)
        })
        const ids: string[] = []
        for (const i of [1, 2, 3]) {
          const { jobId } = await offload(queue, name, { i }, { attempts: 1 })
          await stateOf(queue, jobId, 'dead')
          ids.push(jobId)
        }
        const letters = await eventually('three dead letters', async () => {
          const list = await queue.dead(name)
          return list.length === 3 ? list : undefined
        })
        expect(letters.map((l) => l.id)).toEqual(ids)
        expect((await queue.dead(name, { limit: 2 })).map((l) => l.id)).toEqual(ids.slice(0, 2))
        expect(await requeueDead(queue, name, { ids: [ids[1]!] })).toBe(1)
        await eventually('the requeued job to run', () => (runs.get(2) === 2 ? true : undefined))
        await stateOf(queue, ids[1]!, 'dead')
        await sleep(200)
        expect([runs.get(1), runs.get(2), runs.get(3)]).toEqual([1, 2, 1])
      },
      TEST_MS,
    )

    it(
      'a closed queue refuses an enqueue with QueueUnavailableError, never buffering it',
      async () => {
        const queue = await open()
        const name = jobName('closed')
        await offload(queue, name, { before: true })
        await queue.close()
        const error = await offload(queue, name, { after: true }, { deadline: 5_000 }).catch(
          (e: unknown) => e,
        )
        expect(isFanoutError(error, 'FANOUT_QUEUE_UNAVAILABLE')).toBe(true)
        expect(error).toMatchObject({ backend: queue.backend, operation: 'enqueue' })
      },
      TEST_MS,
    )

    it(
      'H8 bounded: past maxQueued waiting jobs, offload rejects with QueueFullError',
      async (ctx) => {
        const queue = await open({ maxQueued: 3 })
        if (fixture?.features?.maxQueued !== true) {
          ctx.skip()
          return
        }
        const name = jobName('bounded')
        for (let i = 0; i < 3; i++) await offload(queue, name, { i })
        const error = await offload(queue, name, { i: 4 }).catch((e: unknown) => e)
        expect(isFanoutError(error, 'FANOUT_QUEUE_FULL')).toBe(true)
        start(queue, name, (data: { i: number }) => data.i)
        const more = await eventually('room in the queue', () =>
          offload(queue, name, { i: 5 }).catch(() => undefined),
        )
        expect((await stateOf(queue, more.jobId, 'completed')).result).toBe(5)
      },
      TEST_MS,
    )
  })
}

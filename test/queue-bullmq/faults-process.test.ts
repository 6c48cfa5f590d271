/**
 * H1 and H3 with real worker processes on the shared Redis (a prefix per test): a worker SIGKILLed
 * mid-job, and a worker told to stop (SIGTERM) with jobs running. No job is lost, and the side
 * effect behind the idempotency guard happens once however often a job runs.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { jobStatus, offload, worker, type Worker as FanoutWorker } from '../../src/queue/index.js'
import type { JobQueue } from '../../src/queue/job-queue.js'
import { bullmqQueue } from '../../src/queue-bullmq/index.js'
import { forkWorker, type Worker } from '../helpers/fork.js'
import { redisRequired, redisUp, testPrefix } from '../helpers/redis.js'
import { eventually, rawClient, removePrefix, type ClientKind, type RawClient } from './clients.js'

const WORKER = new URL('./workers/job-worker.ts', import.meta.url)
const TEST_MS = 30_000

describe.runIf(redisUp || redisRequired).each(['node-redis', 'ioredis'] as ClientKind[])(
  '%s',
  (kind) => {
    let raw: RawClient
    let prefix: string
    let queue: JobQueue
    const children: Worker<unknown>[] = []
    const workers: FanoutWorker[] = []
    beforeEach(async () => {
      raw = await rawClient(kind)
      prefix = testPrefix()
      queue = bullmqQueue({
        connection: raw.client,
        prefix,
        lockDurationMs: 1000,
        stalledIntervalMs: 300,
      })
    })
    afterEach(async () => {
      for (const child of children.splice(0)) child.kill()
      await Promise.all(workers.splice(0).map((w) => w.close({ graceMs: 0 })))
      await queue.close()
      await removePrefix(raw, prefix)
      raw.close()
    }, TEST_MS)

    const fork = (input: Record<string, unknown>): Worker<unknown> => {
      const child = forkWorker(WORKER, {
        kind,
        prefix,
        ms: 0,
        graceMs: 0,
        concurrency: 1,
        ...input,
      })
      children.push(child)
      return child
    }
    const runs = async (): Promise<string[]> =>
      (await raw.command(['LRANGE', `${prefix}:runs`, 0, -1])) as string[]
    const effects = async (): Promise<number> =>
      Number(await raw.command(['GET', `${prefix}:effects`]))
    /** A worker in this process that does the same guarded side effect. */
    const guarded = (name: string): FanoutWorker => {
      const w = worker(queue, name, async (_data, ctx) => {
        await raw.command(['RPUSH', `${prefix}:runs`, `${process.pid}:${ctx.jobId}:${ctx.attempt}`])
        if ((await raw.command(['SET', `${prefix}:guard:${ctx.jobId}`, '1', 'NX'])) === 'OK')
          await raw.command(['INCR', `${prefix}:effects`])
        return { by: process.pid, attempt: ctx.attempt }
      })
      workers.push(w)
      return w
    }

    test(
      'H1 worker SIGKILLed mid-job: the job runs again on another worker, its guarded side effect happens once',
      async () => {
        const name = 'h1'
        const { jobId } = await offload(queue, name, { amount: 5 })
        const child = fork({ name, mode: 'hang' })
        // The side effect is done; the job is not finished when the process dies.
        await eventually(async () => (await effects()) === 1, 15_000)
        child.kill()
        const killedAt = Date.now()
        guarded(name)
        await eventually(async () => (await jobStatus(queue, jobId))?.state === 'completed', 15_000)
        const done = await jobStatus(queue, jobId)
        expect(done).toMatchObject({
          state: 'completed',
          attemptsMade: 2,
          result: { by: process.pid, attempt: 2 },
        })
        // lockDurationMs 1000 + stalledIntervalMs 300, with room for a loaded machine.
        expect(Date.now() - killedAt).toBeLessThan(8000)
        const all = await runs()
        expect(all).toHaveLength(2)
        expect(all[0]).toBe(`${child.pid}:${jobId}:1`)
        expect(all[1]).toBe(`${process.pid}:${jobId}:2`)
        expect(await effects()).toBe(1)
      },
      TEST_MS,
    )

    test(
      'H3 SIGTERM with active jobs: they finish within the grace period, the rest run elsewhere, none is lost',
      async () => {
        const name = 'h3'
        const jobs = await Promise.all([1, 2, 3, 4].map((i) => offload(queue, name, { i })))
        const child = fork({ name, mode: 'slow', ms: 500, graceMs: 5000, concurrency: 2 })
        await eventually(async () => (await runs()).length === 2, 15_000)
        child.child.kill('SIGTERM')
        const exit = await new Promise<number | null>((resolve) =>
          child.child.once('exit', resolve),
        )
        expect(exit).toBe(0)
        const byChild = (await runs()).filter((r) => r.startsWith(`${child.pid}:`))
        expect(byChild).toHaveLength(2)
        for (const run of byChild) {
          const id = run.split(':').slice(1, -1).join(':')
          expect(await jobStatus(queue, id)).toMatchObject({
            state: 'completed',
            result: { by: child.pid },
          })
        }
        guarded(name)
        for (const job of jobs)
          await eventually(
            async () => (await jobStatus(queue, job.jobId))?.state === 'completed',
            15_000,
          )
        expect(await runs()).toHaveLength(4)
        expect(await effects()).toBe(4)
      },
      TEST_MS,
    )

    test(
      'H3 SIGTERM past the grace period: the running jobs are handed back at once and run again elsewhere',
      async () => {
        const name = 'h3-late'
        const jobs = await Promise.all([1, 2].map((i) => offload(queue, name, { i })))
        const child = fork({ name, mode: 'slow', ms: 20_000, graceMs: 200, concurrency: 2 })
        await eventually(async () => (await runs()).length === 2, 15_000)
        const termAt = Date.now()
        child.child.kill('SIGTERM')
        await new Promise((resolve) => child.child.once('exit', resolve))
        expect(Date.now() - termAt).toBeLessThan(5000)
        for (const job of jobs)
          expect(await jobStatus(queue, job.jobId)).toMatchObject({ state: 'queued' })
        guarded(name)
        for (const job of jobs) {
          await eventually(
            async () => (await jobStatus(queue, job.jobId))?.state === 'completed',
            15_000,
          )
          expect(await jobStatus(queue, job.jobId)).toMatchObject({ result: { attempt: 2 } })
        }
        expect(await effects()).toBe(2)
      },
      TEST_MS,
    )
  },
)

/**
 * H2 with real worker processes on the shared Redis (a prefix per test): a handler blocks its
 * event loop synchronously well past the 1 s lock, so it cannot extend the lock; another worker
 * process's stalled check takes the job back and runs it again while the first run is still
 * going. Both runs reach the side effect; the idempotency guard (SET NX on the job id) lets it
 * happen once, and the job ends completed by the run that holds the lock. The first run's late
 * completion is refused (its lock is gone) and changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { jobStatus, offload } from '../../src/queue/index.js'
import type { JobQueue } from '../../src/queue/job-queue.js'
import { bullmqQueue } from '../../src/queue-bullmq/index.js'
import { forkWorker, type Worker } from '../helpers/fork.js'
import { redisRequired, redisUp, testPrefix } from '../helpers/redis.js'
import { eventually, rawClient, removePrefix, type ClientKind, type RawClient } from './clients.js'

const WORKER = new URL('./workers/blocking-worker.ts', import.meta.url)
const TEST_MS = 60_000

describe.runIf(redisUp || redisRequired).each(['node-redis', 'ioredis'] as ClientKind[])(
  '%s',
  (kind) => {
    let raw: RawClient
    let prefix: string
    let queue: JobQueue
    let dir: string
    const children: Worker<unknown>[] = []
    beforeEach(async () => {
      raw = await rawClient(kind)
      prefix = testPrefix()
      dir = mkdtempSync(join(tmpdir(), 'fanout-h2-'))
      queue = bullmqQueue({
        connection: raw.client,
        prefix,
        lockDurationMs: 1000,
        stalledIntervalMs: 300,
      })
    })
    afterEach(async () => {
      for (const child of children.splice(0)) child.kill()
      await queue.close()
      await removePrefix(raw, prefix)
      raw.close()
      rmSync(dir, { recursive: true, force: true })
    }, TEST_MS)

    const list = async (key: string): Promise<string[]> =>
      (await raw.command(['LRANGE', `${prefix}:${key}`, 0, -1])) as string[]

    test(
      'H2 handler blocks the event loop past lockDuration: a second worker runs the job again, the guarded side effect happens once, the job completes',
      async () => {
        const name = 'h2'
        const pair = [0, 1].map(() =>
          forkWorker(WORKER, { kind, prefix, name, dir, blockCapMs: 40_000 }),
        )
        children.push(...pair)
        // Both consume before the job exists, so the one that does not take it is there to take it back.
        await Promise.all(pair.map((c) => c.result))
        const { jobId } = await offload(queue, name, { amount: 5 })
        await eventually(async () => (await list('guards')).length === 2, 45_000)
        await eventually(async () => (await jobStatus(queue, jobId))?.state === 'completed', 10_000)

        const runs = await list('runs')
        expect(runs).toHaveLength(2)
        const [blocked, again] = runs.map((r) => Number(r.split(':')[0]))
        // The second execution is in the other process, while the first was still blocked.
        expect(again).not.toBe(blocked)
        expect(pair.map((c) => c.pid).sort()).toEqual([blocked, again].sort())
        // Both runs reached the side effect; the guard let exactly one do it.
        expect((await list('guards')).map((g) => g.split(':')[1]).sort()).toEqual([
          'skipped',
          'won',
        ])
        expect(Number(await raw.command(['GET', `${prefix}:effects`]))).toBe(1)
        // Completed by the run holding the lock; the blocked run's completion did not overwrite it.
        const done = await jobStatus(queue, jobId)
        expect(done).toMatchObject({ state: 'completed', result: { by: again, run: 2 } })
        // Nothing runs it a third time once the first run's stale completion has been refused.
        await new Promise((r) => setTimeout(r, 1500))
        expect(await list('runs')).toHaveLength(2)
        expect(await jobStatus(queue, jobId)).toMatchObject({ state: 'completed' })
      },
      TEST_MS,
    )
  },
)

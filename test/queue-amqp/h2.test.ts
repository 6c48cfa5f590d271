/**
 * H2 for amqpQueue, with two real worker processes and job records in Redis. RabbitMQ has no lock
 * to expire: a handler that blocks its event loop stops amqplib's heartbeats (1 s here), the
 * broker closes that connection after missing them and delivers the unacknowledged job to the
 * other consumer, which runs it again while the first run is still blocked. Nothing detects the
 * second copy as stale (it carries the same attempt header and the record says running), so the
 * job really runs twice. Both runs reach the side effect; the idempotency guard (a file created
 * exclusively per job id) lets it happen once, the job ends completed by the run that holds it,
 * and there is no third run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { amqpQueue, redisRecordStore } from '../../src/queue-amqp/index.js'
import { jobStatus, offload } from '../../src/queue/index.js'
import { forkWorker, type Worker } from '../helpers/fork.js'
import {
  amqpPrefix,
  deleteJobQueues,
  RABBITMQ_URL,
  rabbitUp,
  requireRabbitWhenAsked,
} from '../helpers/rabbitmq.js'
import { connect, redisRequired, redisUp, removeKeys, testPrefix } from '../helpers/redis.js'
import { linesOf } from './workers/charge.js'

requireRabbitWhenAsked()
it.runIf(redisRequired)('Redis answers (required: FANOUT_REQUIRE_REDIS=1)', () => {
  expect(redisUp).toBe(true)
})

const WORKER = new URL('./workers/blocking-worker.ts', import.meta.url)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const until = async (what: string, probe: () => Promise<boolean> | boolean, ms: number) => {
  const end = Date.now() + ms
  for (;;) {
    if (await probe()) return
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

describe.runIf(rabbitUp && redisUp)('amqpQueue, a blocked handler (records in Redis)', () => {
  const prefix = amqpPrefix()
  const keys = testPrefix()
  const name = 'h2'
  const dir = mkdtempSync(join(tmpdir(), 'fanout-amqp-h2-'))
  const children: Worker<unknown>[] = []
  afterAll(async () => {
    for (const child of children.splice(0)) child.kill()
    await deleteJobQueues(prefix, [name])
    const redis = await connect('node-redis')
    await removeKeys(redis, `{${keys}}`)
    await redis.close()
    rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  it('H2 handler blocks the event loop past the heartbeat: the broker drops it, the other consumer runs the job again, the guarded side effect happens once, the job completes', async () => {
    const redis = await connect('node-redis')
    const records = redisRecordStore({ redis: redis.connection, prefix: keys })
    const queue = amqpQueue({ url: RABBITMQ_URL, prefix, records })
    try {
      const pair = [0, 1].map(() =>
        forkWorker(WORKER, { url: RABBITMQ_URL, prefix, keys, name, dir, blockCapMs: 40_000 }),
      )
      children.push(...pair)
      await Promise.all(pair.map((c) => c.result))
      const { jobId } = await offload(queue, name, { amount: 5 })
      await until('both runs past the guard', () => linesOf(dir, 'guards').length === 2, 50_000)
      await until(
        'completion',
        async () => (await jobStatus(queue, jobId))?.state === 'completed',
        15_000,
      )

      const runs = linesOf(dir, 'runs').map((l) => Number(l.split(' ')[0]))
      expect(runs).toHaveLength(2)
      const [blocked, again] = runs
      // The second execution is in the other process, while the first was still blocked.
      expect(again).not.toBe(blocked)
      expect(pair.map((c) => c.pid).sort()).toEqual([blocked, again].sort())
      // Both runs reached the side effect; the guard let exactly one do it.
      expect(
        linesOf(dir, 'guards')
          .map((g) => g.split(' ')[1])
          .sort(),
      ).toEqual(['skipped', 'won'])
      expect(linesOf(dir, 'effects')).toEqual([jobId])
      // Both deliveries counted. The record is fenced by the run: the blocked run, whose delivery
      // the broker gave to the other consumer, cannot settle the job (its ack fails too); the
      // run that holds it now does, as BullMQ refuses a lost lock's completion.
      const done = await jobStatus(queue, jobId)
      expect(done).toMatchObject({ state: 'completed', attemptsMade: 2 })
      const result = (done as unknown as { result: { by: number; first: boolean } }).result
      expect(result).toEqual({ by: again, first: false })
      // No third run, and the job stays completed once the blocked run's late settlement is in.
      await sleep(2_000)
      expect(linesOf(dir, 'runs')).toHaveLength(2)
      expect(await jobStatus(queue, jobId)).toMatchObject({ state: 'completed' })
    } finally {
      await queue.close()
      await records.close()
      await redis.close()
    }
  }, 90_000)
})

/**
 * The job record stores, memory and Redis, held to the same rules: create-if-absent, a stale
 * copy dropped, a crash redelivery run again, cancel by state, the dead index and revive.
 */
import { afterAll, describe, expect, it } from 'vitest'
import {
  memoryRecordStore,
  redisRecordStore,
  type JobRecordStore,
} from '../../src/queue-amqp/index.js'
import { newRecord } from '../../src/queue-amqp/records.js'
import { connect, redisUp, removeKeys, testPrefix, type TestRedis } from '../helpers/redis.js'

function describeStore(label: string, make: () => Promise<JobRecordStore>): void {
  describe(label, () => {
    it('creates once, runs the current copy, drops a stale one, runs a crash redelivery again', async () => {
      const store = await make()
      const rec = newRecord('a', 'n', null)
      expect(await store.create(rec)).toBe(true)
      expect(await store.create(rec)).toBe(false)
      expect(await store.start('a', 1, rec)).toEqual({ run: true, attempt: 1 })
      // The worker died: the same copy comes again and runs as attempt 2.
      expect(await store.start('a', 1, rec)).toEqual({ run: true, attempt: 2 })
      await store.update('a', {
        state: 'queued',
        runAt: 5,
        lastError: { code: 'E', status: 503 },
        pending: 2,
      })
      expect(await store.get('a')).toMatchObject({
        state: 'queued',
        runAt: 5,
        lastError: { code: 'E', status: 503 },
        attemptsMade: 2,
      })
      // The original's ack was lost after the retry copy was published: it is dropped.
      expect(await store.start('a', 1, rec)).toEqual({ run: false })
      expect(await store.start('a', 2, rec)).toEqual({ run: true, attempt: 3 })
      await store.update('a', { state: 'completed', result: [] })
      expect(await store.get('a')).toMatchObject({ state: 'completed', result: [] })
      expect(await store.start('a', 2, rec)).toEqual({ run: false })
      // Final records do not change.
      await store.update('a', { state: 'failed', error: { code: 'X', status: null } })
      expect((await store.get('a'))?.state).toBe('completed')
      await store.close()
    })

    it('H2 a settlement from a run the broker took back is ignored: the newer run settles the job', async () => {
      const store = await make()
      const rec = newRecord('h2', 'n', null)
      await store.create(rec)
      // Run 1 blocked its event loop; the broker gave the same copy to another consumer: run 2.
      expect(await store.start('h2', 1, rec)).toEqual({ run: true, attempt: 1 })
      expect(await store.start('h2', 1, rec)).toEqual({ run: true, attempt: 2 })
      await store.update('h2', { state: 'failed', error: { code: 'E', status: 400 } }, 1)
      expect(await store.get('h2')).toMatchObject({ state: 'running', attemptsMade: 2 })
      await store.update('h2', { state: 'completed', result: 'ok' }, 2)
      expect(await store.get('h2')).toMatchObject({ state: 'completed', result: 'ok' })
      await store.close()
    })

    it('recreates a missing record from the delivered copy; remove rolls a create back', async () => {
      const store = await make()
      expect(await store.start('b', 1, newRecord('b', 'n', null))).toEqual({
        run: true,
        attempt: 1,
      })
      expect((await store.get('b'))?.state).toBe('running')
      await store.create(newRecord('c', 'n', null))
      await store.remove('c')
      expect(await store.get('c')).toBeUndefined()
      await store.close()
    })

    it('cancels by state and tells the listeners about a running job', async () => {
      const store = await make()
      const told: string[] = []
      const stop = store.onCancel((id) => told.push(id))
      await new Promise((r) => setTimeout(r, 100)) // the Redis subscription
      await store.create(newRecord('q', 'n', null))
      expect(await store.cancel('q')).toBe('cancelled')
      expect(await store.get('q')).toMatchObject({
        state: 'failed',
        error: { code: 'FANOUT_ABORTED', status: null },
      })
      await store.create(newRecord('r', 'n', null))
      await store.start('r', 1, newRecord('r', 'n', null))
      expect(await store.cancel('r')).toBe('running')
      expect((await store.get('r'))?.cancelRequested).toBe(true)
      for (let i = 0; i < 50 && told.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
      expect(told).toEqual(['r'])
      expect(await store.cancel('q')).toBe('none')
      expect(await store.cancel('nobody')).toBe('none')
      stop()
      await store.close()
    })

    it('a job cancelled while running whose worker died is not run again', async () => {
      const store = await make()
      const rec = newRecord('z', 'n', null)
      await store.create(rec)
      await store.start('z', 1, rec)
      expect(await store.cancel('z')).toBe('running')
      // The worker died before it saw the cancel: its message comes back.
      expect(await store.start('z', 1, rec)).toEqual({ run: false })
      expect(await store.get('z')).toMatchObject({
        state: 'failed',
        attemptsMade: 1,
        error: { code: 'FANOUT_ABORTED', status: null },
      })
      await store.close()
    })

    it('lists dead jobs oldest first per name, and revives one with attempts from zero', async () => {
      const store = await make()
      for (const [id, name, at] of [
        ['d2', 'n', 20],
        ['d1', 'n', 10],
        ['e1', 'other', 5],
      ] as const) {
        await store.create(newRecord(id, name, null))
        await store.start(id, 1, newRecord(id, name, null))
        await store.update(id, { state: 'dead', error: { code: 'E', status: 500 }, diedAt: at })
      }
      expect((await store.dead('n', 10)).map((r) => r.id)).toEqual(['d1', 'd2'])
      expect((await store.dead('n', 1)).map((r) => r.id)).toEqual(['d1'])
      expect(await store.revive('d1', 2)).toBe(true)
      expect(await store.revive('d1', 2)).toBe(false)
      expect(await store.get('d1')).toMatchObject({ state: 'queued', attemptsMade: 0, pending: 2 })
      expect((await store.dead('n', 10)).map((r) => r.id)).toEqual(['d2'])
      await store.close()
    })
  })
}

describeStore('memoryRecordStore', async () => memoryRecordStore())

describe.runIf(redisUp)('on Redis', () => {
  const prefix = testPrefix()
  const clients: TestRedis[] = []
  afterAll(async () => {
    if (clients[0] !== undefined) await removeKeys(clients[0], `{${prefix}`)
    for (const c of clients) await c.close()
  })
  let n = 0
  for (const kind of ['node-redis', 'ioredis'] as const)
    describeStore(`redisRecordStore (${kind})`, async () => {
      const redis = await connect(kind)
      clients.push(redis)
      return redisRecordStore({ redis: redis.connection, prefix: `${prefix}:${n++}` })
    })

  it('starts and settles many jobs a script; a record that is not JSON fails only its own job', async () => {
    const redis = await connect('node-redis')
    clients.push(redis)
    const p = `${prefix}:batch`
    const store = redisRecordStore({ redis: redis.connection, prefix: p })
    await redis.command(['SET', `{${p}}:job:bad`, 'not json'])
    const ids = ['x0', 'x1', 'bad', 'x2']
    const started = await Promise.allSettled(
      ids.map((id) => store.start(id, 1, newRecord(id, 'n', null))),
    )
    expect(started.map((s) => (s.status === 'fulfilled' ? s.value : 'failed'))).toEqual([
      { run: true, attempt: 1 },
      { run: true, attempt: 1 },
      'failed',
      { run: true, attempt: 1 },
    ])
    const settled = await Promise.allSettled(
      ids.map((id) => store.update(id, { state: 'completed', result: id })),
    )
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ])
    expect(await store.get('x2')).toMatchObject({ state: 'completed', result: 'x2' })
    await store.close()
  })
})

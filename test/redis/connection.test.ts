/**
 * The two client adapters against real Redis: scripts (EVALSHA, and EVAL after NOSCRIPT),
 * publish/subscribe and the reconnect signal, error events, and the settings refused up front.
 */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defineScript, fromIoredis, fromNodeRedis } from '../../src/redis/index.js'
import {
  CLIENT_KINDS,
  connect,
  redisRequired,
  redisUp,
  removeKeys,
  testPrefix,
  type TestRedis,
} from '../helpers/redis.js'
import { startRedis, type PrivateRedis } from '../helpers/redis-server.js'

const incr = defineScript('incr-by', "return tostring(redis.call('INCRBY', KEYS[1], ARGV[1]))")

it.runIf(redisRequired)(
  'Redis answers on 127.0.0.1:6379 (required: FANOUT_REQUIRE_REDIS=1)',
  () => {
    expect(redisUp).toBe(true)
  },
)

describe.runIf(redisUp).each(CLIENT_KINDS)('%s adapter', (kind) => {
  let redis: TestRedis
  const prefix = testPrefix()
  beforeAll(async () => {
    redis = await connect(kind)
  })
  afterAll(async () => {
    await removeKeys(redis, prefix)
    await redis.close()
  })

  it('runs a script by SHA, loading it the first time', async () => {
    const key = `${prefix}:n`
    expect(await redis.connection.evalScript(incr, [key], [2])).toBe('2')
    expect(await redis.connection.evalScript(incr, [key], [3])).toBe('5')
  })

  it('delivers published messages to a subscriber, and stops after unsubscribe', async () => {
    const channel = `${prefix}:ch`
    const got: string[] = []
    const stop = await redis.connection.subscribe(channel, (m) => got.push(m))
    await redis.connection.publish(channel, 'one')
    await expect.poll(() => got).toEqual(['one'])
    await stop()
    await redis.connection.publish(channel, 'two')
    await redis.connection.publish(`${prefix}:other`, 'x')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(got).toEqual(['one'])
  })
})

describe.runIf(redisUp)('on a private server', () => {
  let server: PrivateRedis
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await server.stop()
  })
  const opened: TestRedis[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((r) => r.close()))
  })

  it.each(CLIENT_KINDS)('E5: %s reloads a script after SCRIPT FLUSH (NOSCRIPT)', async (kind) => {
    const redis = await connect(kind, { port: server.port })
    opened.push(redis)
    expect(await redis.connection.evalScript(incr, ['e5'], [1])).toMatch(/^\d+$/)
    await redis.command(['SCRIPT', 'FLUSH'])
    expect(await redis.connection.evalScript(incr, ['e5'], [1])).toMatch(/^\d+$/)
  })

  it.each(CLIENT_KINDS)(
    'E13: %s error events never go unheard, and reach onError',
    async (kind) => {
      const redis = await connect(kind, { port: server.port })
      opened.push(redis)
      const errors: unknown[] = []
      redis.connection.onError((e) => errors.push(e))
      await server.kill()
      await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0)
      await server.restart()
    },
  )

  it.each(CLIENT_KINDS)(
    '%s signals a subscriber reconnect (missed messages cannot be replayed)',
    async (kind) => {
      const redis = await connect(kind, { port: server.port })
      opened.push(redis)
      let reconnects = 0
      redis.connection.onReconnect(() => reconnects++)
      const stop = await redis.connection.subscribe('inv', () => {})
      await redis.command(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
      await expect.poll(() => reconnects, { timeout: 5000 }).toBe(1)
      await stop()
    },
  )
})

describe('construction', () => {
  it('E2: refuses an ioredis client that re-sends unanswered commands (its default)', () => {
    const client = new Redis({ lazyConnect: true })
    expect(() => fromIoredis(client)).toThrow(/autoResendUnfulfilledCommands: false/)
    client.disconnect()
  })

  it('refuses what is not a client, naming what it expected', () => {
    expect(() => fromNodeRedis({} as never)).toThrow(/createClient\(\)/)
    expect(() => fromIoredis(null as never)).toThrow(/new Redis\(\)/)
  })
})

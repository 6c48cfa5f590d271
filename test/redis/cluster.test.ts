/**
 * E10: on Redis Cluster every store works with both clients, because all keys of one script share
 * a hash tag (no CROSSSLOT); a script over keys outside one tag fails with CROSSSLOT, which is why
 * fanout places the tags itself (and refuses braces in `prefix` and `name`).
 */
import { Redis } from 'ioredis'
import { createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CACHE_ENTRY_FORMAT, type CacheEntry } from '../../src/cache/index.js'
import {
  defineScript,
  fromIoredis,
  fromNodeRedis,
  redisCacheStore,
  redisFlight,
  redisInvalidation,
  redisRateLimitStore,
  type RedisConnection,
} from '../../src/redis/index.js'
import { redisUp } from '../helpers/redis.js'
import { startCluster, type PrivateCluster } from '../helpers/redis-cluster.js'

const twoKeys = defineScript(
  'two-keys',
  "redis.call('INCR', KEYS[1]); return tostring(redis.call('INCR', KEYS[2]))",
)

describe.runIf(redisUp)('E10: Redis Cluster', () => {
  let cluster: PrivateCluster
  const connections: { kind: string; connection: RedisConnection; close: () => Promise<void> }[] =
    []
  beforeAll(async () => {
    cluster = await startCluster()
    const nodes = cluster.ports.map((port) => ({ host: '127.0.0.1', port }))
    const nodeRedis = createCluster({ rootNodes: nodes.map((n) => ({ socket: n })) })
    nodeRedis.on('error', () => {})
    await nodeRedis.connect()
    const connection = fromNodeRedis(nodeRedis)
    connections.push({
      kind: 'node-redis',
      connection,
      close: async () => {
        await connection.close()
        nodeRedis.destroy()
      },
    })
    const io = new Redis.Cluster(nodes, {
      redisOptions: { autoResendUnfulfilledCommands: false },
    })
    io.on('error', () => {})
    await new Promise<void>((resolve) => io.once('ready', () => resolve()))
    const ioConnection = fromIoredis(io)
    connections.push({
      kind: 'ioredis',
      connection: ioConnection,
      close: async () => {
        await ioConnection.close()
        io.disconnect()
      },
    })
  }, 60_000)
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()))
    await cluster?.stop()
  })

  it('both adapters know they talk to a cluster', () => {
    expect(connections.map((c) => [c.kind, c.connection.cluster])).toEqual([
      ['node-redis', true],
      ['ioredis', true],
    ])
  })

  it('a two-key script runs when the keys share a hash tag, and fails with CROSSSLOT otherwise', async () => {
    for (const { connection } of connections) {
      expect(await connection.evalScript(twoKeys, ['{e10}:a', '{e10}:b'], [])).toMatch(/^\d+$/)
      await expect(connection.evalScript(twoKeys, ['e10-a', 'e10-b'], [])).rejects.toThrow(
        /CROSSSLOT/,
      )
    }
  })

  it('the rate store reserves on several keys in one tick (one key per script run on a cluster)', async () => {
    for (const { kind, connection } of connections) {
      const store = redisRateLimitStore({ redis: connection, prefix: 'e10', name: `rate-${kind}` })
      const params = { algorithm: 'gcra', interval: 100, tolerance: 100 } as const
      const answers = await Promise.all(
        ['a', 'b', 'c', 'd', 'e', 'f'].map((key) =>
          store.reserve(key, { cost: 1, now: 0, maxWaitMs: 0, notBefore: -Infinity, params }),
        ),
      )
      expect(answers.map((a) => a.ok)).toEqual([true, true, true, true, true, true])
      const window = { algorithm: 'sliding-window', limit: 1, window: 60_000 } as const
      const request = { cost: 1, now: 0, maxWaitMs: 0, notBefore: -Infinity, params: window }
      expect((await store.reserve('w', request)).ok).toBe(true)
      expect((await store.reserve('w', request)).ok).toBe(false)
    }
  })

  it('the cache store, the invalidation bus and the flight work on a cluster', async () => {
    for (const { kind, connection } of connections) {
      const store = redisCacheStore({ redis: connection, prefix: 'e10', name: `cache-${kind}` })
      const now = Date.now()
      const entry: CacheEntry = {
        format: CACHE_ENTRY_FORMAT,
        version: null,
        storedAt: now,
        freshUntil: now + 60_000,
        staleUntil: now + 60_000,
        errorUntil: now + 60_000,
        kind: 'value',
        value: { n: 1 },
      }
      await store.set('k', entry, 60_000)
      expect(await store.get('k')).toEqual(entry)
      const bus = redisInvalidation({ redis: connection, prefix: 'e10', name: `inv-${kind}` })
      await bus.publish(['k'])
      const flight = redisFlight({ redis: connection, prefix: 'e10', name: `flight-${kind}` })
      const claim = await flight.claim('k', 5_000)
      expect(claim.won).toBe(true)
      if (claim.won) await flight.release('k', claim.token)
      expect((await flight.claim('k', 5_000)).won).toBe(true)
      await flight.close()
      await store.delete('k')
    }
  })
})

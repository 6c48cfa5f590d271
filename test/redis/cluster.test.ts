/**
 * E10: on Redis Cluster every store works with both clients, because all keys of one script share
 * a hash tag (no CROSSSLOT), and keys a caller places outside one tag are refused up front.
 */
import { Redis } from 'ioredis'
import { createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  defineScript,
  fromIoredis,
  fromNodeRedis,
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
})

/**
 * E10: `redisConcurrencyStore()` on a 3-node Redis Cluster (private servers, started and stopped
 * by PID), with each client's cluster client: a multi-key acquire never meets CROSSSLOT, because
 * every key of a store carries the hash tag `{name}`, and releases still wake watchers.
 */
import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  fromIoredis,
  fromNodeRedis,
  redisConcurrencyStore,
  type RedisConnection,
} from '../../src/redis/index.js'
import { CLIENT_KINDS, redisUp, type ClientKind } from '../helpers/redis.js'
import { startCluster, type PrivateCluster } from '../helpers/redis-cluster.js'

async function connectCluster(
  kind: ClientKind,
  port: number,
): Promise<{ connection: RedisConnection; close(): Promise<void> }> {
  if (kind === 'node-redis') {
    const cluster = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] })
    cluster.on('error', () => {})
    await cluster.connect()
    const connection = fromNodeRedis(cluster)
    return {
      connection,
      async close() {
        await connection.close()
        cluster.destroy()
      },
    }
  }
  const cluster = new Cluster([{ host: '127.0.0.1', port }], {
    redisOptions: { autoResendUnfulfilledCommands: false },
  })
  cluster.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    cluster.once('ready', () => resolve())
    cluster.once('end', () => reject(new Error('ioredis cluster could not connect')))
  })
  const connection = fromIoredis(cluster)
  return {
    connection,
    async close() {
      await connection.close()
      cluster.disconnect()
    },
  }
}

describe.runIf(redisUp)('E10: on a Redis Cluster', () => {
  let nodes: PrivateCluster
  beforeAll(async () => {
    nodes = await startCluster()
  }, 30_000)
  afterAll(async () => {
    await nodes?.stop()
  })

  it.each(CLIENT_KINDS)(
    '%s: a total and a per-key permit in one script (one hash tag: no CROSSSLOT), and release wakes a watcher',
    async (kind) => {
      const redis = await connectCluster(kind, nodes.ports[0]!)
      expect(redis.connection.cluster).toBe(true)
      const store = redisConcurrencyStore({
        redis: redis.connection,
        name: `cluster-${kind}`,
        timeout: 2_000,
      })
      try {
        const permits = (key: string) => [
          { key: '["api"]', limit: 2 },
          { key: `["api","${key}"]`, limit: 1 },
        ]
        const lease = { now: 0, leaseMs: 10_000 }
        expect(await store.acquire({ permits: permits('a'), holder: 'h1', ...lease })).toEqual({
          ok: true,
        })
        expect((await store.acquire({ permits: permits('a'), holder: 'h2', ...lease })).ok).toBe(
          false,
        )
        expect(await store.acquire({ permits: permits('b'), holder: 'h3', ...lease })).toEqual({
          ok: true,
        })
        expect(await store.renew(['["api"]', '["api","a"]'], 'h1', 0, 10_000)).toBe(true)
        let woken = 0
        const stop = store.watch('["api","a"]', () => woken++)
        // Releases keep being published until the watcher's subscription is in place.
        await expect
          .poll(
            async () => {
              await store.acquire({ permits: permits('a'), holder: 'h1', ...lease })
              await store.release(['["api"]', '["api","a"]'], 'h1', 0)
              return woken
            },
            { timeout: 5_000, interval: 100 },
          )
          .toBeGreaterThan(0)
        stop()
      } finally {
        await store.close()
        await redis.close()
      }
    },
  )
})

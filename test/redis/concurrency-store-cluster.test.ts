/**
 * E10: `redisConcurrencyStore()` on a 3-node Redis Cluster (private servers, started and stopped
 * by PID), with each client's cluster client: a multi-key acquire never meets CROSSSLOT, because
 * every key of a store carries the hash tag `{name}`, and releases still wake watchers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  fromIoredis,
  fromNodeRedis,
  redisConcurrencyStore,
  type RedisConnection,
} from '../../src/redis/index.js'
import { CLIENT_KINDS, pingRedis, redisUp, type ClientKind } from '../helpers/redis.js'
import { freePort, REDIS_SERVER } from '../helpers/redis-server.js'

const REDIS_CLI = '/usr/bin/redis-cli'

interface ClusterNodes {
  readonly ports: readonly number[]
  stop(): Promise<void>
}

async function startCluster(): Promise<ClusterNodes> {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-cluster-'))
  const ports = [await freePort(), await freePort(), await freePort()]
  const children: ChildProcess[] = ports.map((port) =>
    spawn(
      REDIS_SERVER,
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
        ...['--dir', dir, '--daemonize', 'no'],
      ],
      { stdio: 'ignore' },
    ),
  )
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.kill('SIGKILL')
          }),
      ),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const port of ports)
      for (let i = 0; !(await pingRedis(port)); i++) {
        if (i > 200) throw new Error(`redis-server on ${port} did not start`)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    const created = spawnSync(
      REDIS_CLI,
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    )
    if (created.status !== 0) throw new Error(`cluster create failed: ${created.stdout}`)
    for (const port of ports)
      for (let i = 0; ; i++) {
        const info = spawnSync(REDIS_CLI, ['-p', String(port), 'CLUSTER', 'INFO'], {
          encoding: 'utf8',
        })
        if (info.stdout.includes('cluster_state:ok')) break
        if (i > 200) throw new Error(`cluster node ${port} not ready`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    return { ports, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

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
  let nodes: ClusterNodes
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

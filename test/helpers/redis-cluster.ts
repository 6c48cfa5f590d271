/**
 * A private three-node Redis Cluster for the cluster cases (E10): three `redis-server` processes
 * with `--cluster-enabled yes` on free ports, joined by `redis-cli --cluster create` (no replicas),
 * started and stopped by the test through their PIDs. Takes a few seconds.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { pingRedis } from './redis.js'
import { freePort, REDIS_SERVER } from './redis-server.js'

const run = promisify(execFile)

export interface PrivateCluster {
  readonly ports: readonly number[]
  stop(): Promise<void>
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

export async function startCluster(): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-cluster-'))
  const ports: number[] = []
  const children: ChildProcess[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve()
            c.once('exit', () => resolve())
            c.kill('SIGKILL')
          }),
      ),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      ports.push(port)
      children.push(
        spawn(
          REDIS_SERVER,
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '2000',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            dir,
          ],
          { stdio: 'ignore' },
        ),
      )
    }
    for (const port of ports) await until(() => pingRedis(port), `cluster node ${port}`)
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    await until(async () => {
      const { stdout } = await run('redis-cli', ['-p', String(ports[0]), 'CLUSTER', 'INFO'])
      return stdout.includes('cluster_state:ok')
    }, 'cluster_state:ok')
  } catch (error) {
    await stop()
    throw error
  }
  return { ports, stop }
}

/**
 * A private `redis-server` for destructive cases (kill, restart, DEBUG SLEEP, SCRIPT FLUSH): on a
 * free port, keeping nothing on disk, started and stopped by the test through its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { pingRedis } from './redis.js'

export const REDIS_SERVER = '/usr/bin/redis-server'

/** A port nobody listens on right now (bind :0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}

export interface PrivateRedis {
  readonly port: number
  readonly pid: number
  /** SIGKILLs the server and waits for it to exit (a crash, not a shutdown). */
  kill(): Promise<void>
  /** Starts the server again on the same port (after `kill`). */
  restart(): Promise<void>
  /** Stops it for good. */
  stop(): Promise<void>
}

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

function launch(port: number): ChildProcess {
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--enable-debug-command',
      'yes',
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  )
  return child
}

export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  let child = launch(port)
  await waitUntil(() => pingRedis(port), `redis-server on port ${port}`)
  const exited = (c: ChildProcess): Promise<void> =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => c.once('exit', () => resolve()))
  let running = true
  return {
    port,
    get pid() {
      return child.pid!
    },
    async kill() {
      if (!running) return
      running = false
      process.kill(child.pid!, 'SIGKILL')
      await exited(child)
    },
    async restart() {
      if (running) return
      child = launch(port)
      running = true
      await waitUntil(() => pingRedis(port), `redis-server restart on port ${port}`)
    },
    async stop() {
      if (!running) return
      running = false
      process.kill(child.pid!, 'SIGKILL')
      await exited(child)
    },
  }
}

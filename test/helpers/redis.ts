/**
 * Redis for tests. Ordinary suites use the shared server on 127.0.0.1:6379 with a key prefix of
 * their own (`testPrefix()`), removed afterwards with SCAN + UNLINK; they never FLUSHALL, SCRIPT
 * FLUSH, CONFIG SET or pause the shared server (files run in parallel). Destructive cases start a
 * private server (`redis-server.ts`).
 *
 * Without Redis a suite is skipped with the reason, except under FANOUT_REQUIRE_REDIS=1 (set by
 * `.ci/run`), where the suites' required-check fails instead (see connection.test.ts).
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { fromIoredis, fromNodeRedis, type RedisConnection } from '../../src/redis/index.js'
import { pingRedis, REDIS_HOST, REDIS_PORT } from './ping-redis.js'

export { pingRedis, REDIS_HOST, REDIS_PORT }

export const redisRequired = process.env.FANOUT_REQUIRE_REDIS === '1'

/** Checked once per file, at import: suites use `describe.runIf(redisUp)`. */
export const redisUp = await pingRedis()
if (!redisUp && !redisRequired)
  console.warn(
    `Redis is not answering on ${REDIS_HOST}:${REDIS_PORT}: the suites that need it are skipped (FANOUT_REQUIRE_REDIS=1 makes this a failure).`,
  )

/** A key prefix no other test run uses. */
export function testPrefix(): string {
  return `fanout-test:${process.pid}:${randomBytes(4).toString('hex')}`
}

export type ClientKind = 'node-redis' | 'ioredis'
export const CLIENT_KINDS: readonly ClientKind[] = ['node-redis', 'ioredis']

/** A connected client of either kind, and its fanout connection. `close()` releases both. */
export interface TestRedis {
  readonly kind: ClientKind
  readonly connection: RedisConnection
  /** Runs a raw command (for assertions and cleanup). */
  command(args: readonly (string | number)[]): Promise<unknown>
  close(): Promise<void>
}

export interface ConnectOptions {
  readonly port?: number
  readonly host?: string
  /** Client-level command timeout, ms (off by default: fanout's own store timeout is under test). */
  readonly commandTimeout?: number
}

export async function connect(kind: ClientKind, options: ConnectOptions = {}): Promise<TestRedis> {
  const port = options.port ?? REDIS_PORT
  const host = options.host ?? REDIS_HOST
  if (kind === 'node-redis') {
    const client = createClient({
      socket: { host, port, reconnectStrategy: (retries: number) => Math.min(50 * retries, 500) },
    })
    client.on('error', () => {})
    await client.connect()
    const connection = fromNodeRedis(client)
    return {
      kind,
      connection,
      command: (args) => client.sendCommand(args.map(String)),
      async close() {
        await connection.close()
        client.destroy()
      },
    }
  }
  const client = new Redis({
    host,
    port,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(50 * times, 500),
    ...(options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout }),
  })
  client.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve())
    client.once('end', () => reject(new Error('ioredis could not connect')))
  })
  const connection = fromIoredis(client)
  return {
    kind,
    connection,
    command: ([name, ...rest]) => client.call(String(name), ...rest.map(String)),
    async close() {
      await connection.close()
      client.disconnect()
    },
  }
}

/** Deletes every key under `prefix` (SCAN + UNLINK: never a FLUSH on the shared server). */
export async function removeKeys(redis: TestRedis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = (await redis.command([
      'SCAN',
      cursor,
      'MATCH',
      `${prefix}*`,
      'COUNT',
      500,
    ])) as [string, string[]]
    cursor = String(next)
    if (keys.length > 0) await redis.command(['UNLINK', ...keys])
  } while (cursor !== '0')
}

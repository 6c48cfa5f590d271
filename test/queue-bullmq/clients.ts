/**
 * Raw Redis clients of either kind for the BullMQ backend's tests (bullmqQueue takes the
 * application's client, not a fanout connection), and the per-run cleanup of a prefix.
 */
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import type { BullmqRedisClient } from '../../src/queue-bullmq/index.js'
import { REDIS_HOST, REDIS_PORT } from '../helpers/redis.js'

export type ClientKind = 'node-redis' | 'ioredis'

export interface RawClient {
  readonly kind: ClientKind
  readonly client: BullmqRedisClient
  command(args: readonly (string | number)[]): Promise<unknown>
  close(): void
}

export async function rawClient(kind: ClientKind, port = REDIS_PORT): Promise<RawClient> {
  if (kind === 'node-redis') {
    const client = createClient({
      socket: {
        host: REDIS_HOST,
        port,
        reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 300),
      },
    })
    client.on('error', () => {})
    await client.connect()
    return {
      kind,
      client: client as unknown as BullmqRedisClient,
      command: (args) => client.sendCommand(args.map(String)),
      close: () => client.destroy(),
    }
  }
  const client = new Redis({
    host: REDIS_HOST,
    port,
    retryStrategy: (times: number) => Math.min(50 * times, 300),
  })
  client.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve())
    client.once('end', () => reject(new Error('ioredis could not connect')))
  })
  return {
    kind,
    client: client as unknown as BullmqRedisClient,
    command: ([name, ...rest]) => client.call(String(name), ...rest.map(String)),
    close: () => client.disconnect(),
  }
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never a FLUSH on the shared server). */
export async function removePrefix(raw: RawClient, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = (await raw.command([
      'SCAN',
      cursor,
      'MATCH',
      `${prefix}*`,
      'COUNT',
      1000,
    ])) as [string, string[]]
    cursor = String(next)
    if (keys.length > 0) await raw.command(['UNLINK', ...keys])
  } while (cursor !== '0')
}

/** Polls `check` until it answers true, or fails after `ms`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms = 5000,
): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * `fromIoredis(client)`: a `RedisConnection` over ioredis 5.4+ or 6 (`new Redis()` or
 * `new Redis.Cluster()`). ioredis re-sends a command whose reply was lost when it reconnects
 * (`autoResendUnfulfilledCommands`, on by default), which would apply a rate-limit reservation or
 * a lock twice while the caller sees one success (E2): such a client is refused, with the setting
 * that fixes it. fanout never opens, configures or closes the client, except that it listens for
 * `error` (E13).
 *
 * Structural types only: no `import type` from ioredis, so an application that has only node-redis
 * installed type-checks.
 */
import { InvalidOptionError } from '../core/errors.js'
import type { RedisArgument, RedisConnection, RedisScript } from './connection.js'
import { Listeners } from './listeners.js'
import { isNoScript } from './script.js'
import { Subscriber } from './subscriber.js'

/** What fanout calls on an ioredis client (or cluster). */
export interface IoredisClient {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>
  publish(channel: string, message: string): Promise<unknown>
  duplicate(): IoredisSubscriber
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off?(event: string, listener: (...args: unknown[]) => void): unknown
  readonly isCluster?: boolean
  readonly options?: object
}

/** What fanout calls on the duplicate it opens for pub/sub. */
export interface IoredisSubscriber {
  subscribe(channel: string): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  quit(): Promise<unknown>
  /** Drops the connection at once, reconnecting no more. */
  disconnect?(): void
  readonly status?: string
}

const resends = (client: IoredisClient): boolean => {
  const options = (client.options ?? {}) as Record<string, unknown>
  // A cluster keeps the per-node settings under redisOptions.
  const node = (client.isCluster === true ? options.redisOptions : options) as
    Record<string, unknown> | undefined
  // ioredis's default is true.
  return node?.autoResendUnfulfilledCommands !== false
}

export function fromIoredis(client: IoredisClient): RedisConnection {
  for (const method of ['evalsha', 'eval', 'publish', 'duplicate', 'on'] as const)
    if (typeof (client as unknown as Record<string, unknown> | null)?.[method] !== 'function')
      throw new InvalidOptionError(
        `fromIoredis(): expected an ioredis client (new Redis() or new Redis.Cluster() from 'ioredis'), got an object without ${method}().`,
      )
  if (resends(client))
    throw new InvalidOptionError(
      'fromIoredis(): the client re-sends commands whose reply was lost when it reconnects (`autoResendUnfulfilledCommands`, true by default in ioredis), so a reservation or a lock could be applied twice while fanout sees it once. Create the client with `autoResendUnfulfilledCommands: false` (for a cluster: `redisOptions: { autoResendUnfulfilledCommands: false }`).',
    )
  const errors = new Listeners<[unknown]>()
  const forward = (error: unknown): void => errors.emit(error)
  client.on('error', forward)
  let sub: IoredisSubscriber | undefined
  const subscriber = new Subscriber({
    open: async (deliver, ready) => {
      sub = client.duplicate()
      sub.on('error', forward)
      sub.on('ready', ready)
      sub.on('message', (channel, message) => deliver(String(channel), String(message)))
      // A duplicate connects by itself; if it is ready already, its first ready has passed.
      if (sub.status === 'ready') ready()
    },
    subscribe: async (channel) => {
      await sub!.subscribe(channel)
    },
    unsubscribe: async (channel) => {
      await sub!.unsubscribe(channel)
    },
    close: async () => {
      const closing = sub
      sub = undefined
      // quit() waits for a reply a dead or partitioned Redis never sends: drop the socket instead.
      if (closing?.disconnect !== undefined) closing.disconnect()
      else await closing?.quit()
    },
  })

  return {
    client: 'ioredis',
    cluster: client.isCluster === true,
    async evalScript(script: RedisScript, keys: readonly string[], args: readonly RedisArgument[]) {
      const rest = [...keys, ...args.map(String)]
      try {
        return await client.evalsha(script.sha, keys.length, ...rest)
      } catch (error) {
        if (!isNoScript(error)) throw error
        return await client.eval(script.source, keys.length, ...rest)
      }
    },
    async publish(channel, message) {
      await client.publish(channel, message)
    },
    subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
    onReconnect: (listener) => subscriber.reconnects.add(listener),
    onError: (listener) => errors.add(listener),
    async close() {
      await subscriber.close()
      client.off?.('error', forward)
    },
  }
}

/**
 * `fromNodeRedis(client)`: a `RedisConnection` over node-redis (`redis` / `@redis/client` 5 or
 * 6), the primary client: an in-flight command on a dropped socket is rejected, never re-sent, so a
 * reservation whose reply was lost is never applied twice (E2). Works with `createClient()` and
 * `createCluster()`. The client must be connected (`await client.connect()`); fanout never opens,
 * configures or closes it, except that it listens for `error` (E13).
 *
 * Structural types only: no `import type` from node-redis, so an application that has only
 * ioredis installed type-checks.
 */
import { InvalidOptionError } from '../core/errors.js'
import type { RedisArgument, RedisConnection, RedisScript } from './connection.js'
import { Listeners } from './listeners.js'
import { isNoScript } from './script.js'
import { Subscriber } from './subscriber.js'

interface EvalOptions {
  keys: string[]
  arguments: string[]
}

/** What fanout calls on a node-redis client (or cluster). */
export interface NodeRedisClient {
  evalSha(sha: string, options: EvalOptions): Promise<unknown>
  eval(script: string, options: EvalOptions): Promise<unknown>
  publish(channel: string, message: string): Promise<unknown>
  duplicate(): NodeRedisSubscriber
  on(event: 'error', listener: (error: unknown) => void): unknown
  off?(event: 'error', listener: (error: unknown) => void): unknown
}

/** What fanout calls on the duplicate it opens for pub/sub. */
export interface NodeRedisSubscriber {
  connect(): Promise<unknown>
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  on(event: 'error' | 'ready', listener: (...args: unknown[]) => void): unknown
  close?(): Promise<unknown>
  quit?(): Promise<unknown>
  /** Drops the socket at once, without waiting for replies (node-redis 5+). */
  destroy?(): unknown
}

const texts = (args: readonly RedisArgument[]): string[] => args.map(String)

export function fromNodeRedis(client: NodeRedisClient): RedisConnection {
  for (const method of ['evalSha', 'eval', 'publish', 'duplicate', 'on'] as const)
    if (typeof (client as unknown as Record<string, unknown> | null)?.[method] !== 'function')
      throw new InvalidOptionError(
        `fromNodeRedis(): expected a node-redis client (createClient() or createCluster() from 'redis'), got an object without ${method}().`,
      )
  const errors = new Listeners<[unknown]>()
  const forward = (error: unknown): void => errors.emit(error)
  client.on('error', forward)
  const cluster = 'masters' in client || 'getSlotRandomNode' in client
  const subscriber = new Subscriber({
    open: async (deliver, ready) => {
      const sub = client.duplicate()
      opened = sub
      sub.on('error', forward)
      sub.on('ready', ready)
      try {
        await sub.connect()
      } catch (error) {
        // A duplicate that could not connect must not keep reconnecting in the background: the
        // next subscribe opens a new one.
        opened = undefined
        sub.destroy?.()
        throw error
      }
      route = deliver
    },
    subscribe: async (channel) => {
      await opened!.subscribe(channel, (message, from) => route?.(from, message))
    },
    unsubscribe: async (channel) => {
      await opened!.unsubscribe(channel)
    },
    close: async () => {
      const sub = opened
      opened = undefined
      route = undefined
      if (sub?.destroy !== undefined) sub.destroy()
      else await (sub?.close?.() ?? sub?.quit?.())
    },
  })
  let opened: NodeRedisSubscriber | undefined
  let route: ((channel: string, message: string) => void) | undefined

  return {
    client: 'node-redis',
    cluster,
    async evalScript(script: RedisScript, keys: readonly string[], args: readonly RedisArgument[]) {
      const options = { keys: [...keys], arguments: texts(args) }
      try {
        return await client.evalSha(script.sha, options)
      } catch (error) {
        if (!isNoScript(error)) throw error
        return await client.eval(script.source, options)
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

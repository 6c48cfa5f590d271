/**
 * What fanout needs from a Redis client, and nothing more: run a Lua script on some keys, publish,
 * and listen on a channel. `fromNodeRedis(client)` and `fromIoredis(client)` make one from the
 * client an application already has, so `fanout/redis` imports no Redis package and works with
 * either (and with a cluster client of either).
 *
 * Why scripts only: every store operation must be atomic on the server (read, decide and write in
 * one step, on the server's clock), and a script is the one way both clients, standalone and
 * cluster, agree on.
 */

/** A Lua script with its SHA-1, run with EVALSHA and loaded with EVAL on `NOSCRIPT`. */
export interface RedisScript {
  /** Shown in errors and events. */
  readonly name: string
  readonly source: string
  /** Lowercase hex SHA-1 of `source`. */
  readonly sha: string
}

/** An argument to a script: strings and finite numbers (sent as their decimal text). */
export type RedisArgument = string | number

export interface RedisConnection {
  /** Which client this wraps. */
  readonly client: 'node-redis' | 'ioredis'
  /** A cluster client: every key of one script must share a `{hash tag}`. */
  readonly cluster: boolean
  /**
   * Runs `script` on `keys` with `args`: EVALSHA first, and EVAL when the server does not know the
   * script (`NOSCRIPT`, after a restart, a failover or `SCRIPT FLUSH`). Resolves with the reply.
   */
  evalScript(
    script: RedisScript,
    keys: readonly string[],
    args: readonly RedisArgument[],
  ): Promise<unknown>
  publish(channel: string, message: string): Promise<void>
  /**
   * Listens on `channel` through a subscriber connection the adapter opens (a duplicate of the
   * client) on first use. Resolves once subscribed, with the function that stops listening.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>
  /**
   * Calls `listener` each time the subscriber connection is ready again after a disconnect.
   * Messages published in between are lost (pub/sub delivers at most once), so what a listener
   * learned from them must be treated as unknown: a local cache flushes everything.
   */
  onReconnect(listener: () => void): () => void
  /**
   * Calls `listener` with each `error` event of the client or the subscriber. The adapter always
   * listens itself, so an error event never crashes the process (E13).
   */
  onError(listener: (error: unknown) => void): () => void
  /** Closes what the adapter opened (the subscriber); the application's client stays open. */
  close(): Promise<void>
}

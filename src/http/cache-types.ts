/**
 * The shape of the HTTP client's `cache` option and of the config it is read into, in a module of
 * their own: the option types and the option parser both need them.
 */
import type { CacheStore } from '../cache/store.js'

export interface HttpCacheOptions {
  /** Where responses are kept: `memoryCacheStore({ maxEntries })` from 'fanout/cache', or a shared store. */
  readonly store: CacheStore
  /**
   * Whether the cache serves many users (default `true`, as a BFF's does): then `private`
   * responses, responses that set a cookie, and answers to requests with `Authorization` (unless
   * `public`, `s-maxage` or `must-revalidate` allow it) are never stored, and `s-maxage` counts.
   * `false` for a cache that one user's requests alone go through.
   */
  readonly shared?: boolean
  /** Largest body stored, in bytes after decoding (default 1 MiB); larger responses pass through. */
  readonly maxBodyBytes?: number
  /**
   * Ms a response with a validator (`ETag`, `Last-Modified`) is kept after it went stale, to be
   * revalidated with a conditional request instead of fetched again (default 1 hour; 0: not kept).
   */
  readonly keepStale?: number
  /** The cache's name in events and keys (default `'http'`): clients sharing a store and a name share entries. */
  readonly name?: string
}

export interface HttpCacheConfig {
  readonly store: CacheStore
  readonly shared: boolean
  readonly maxBodyBytes: number
  readonly keepStale: number
  readonly name: string
}

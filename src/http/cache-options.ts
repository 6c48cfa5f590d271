/** The HTTP client's `cache` option: its shape, defaults and checks (own properties only). */
import { InvalidOptionError } from '../core/errors.js'
import { checkBoolean, checkDuration, checkName, checkNumber, show } from '../core/validate.js'
import type { CacheStore } from '../cache/store.js'
import { checkPlainObject } from './header-check.js'
import { unknownKey } from './option-checks.js'

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

const CACHE_KEYS = ['store', 'shared', 'maxBodyBytes', 'keepStale', 'name'] as const
const DEFAULT_MAX_BODY = 1024 * 1024
const MAX_KEEP = 365 * 24 * 60 * 60 * 1000

function checkStore(where: string, value: unknown): CacheStore {
  const s = value as Partial<Record<'get' | 'set' | 'delete', unknown>> | null
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.get !== 'function' ||
    typeof s.set !== 'function' ||
    typeof s.delete !== 'function'
  ) {
    throw new InvalidOptionError(
      `${where}: \`cache.store\` must be a CacheStore (get, set, delete), e.g. memoryCacheStore({ maxEntries: 10_000 }) from 'fanout/cache', got ${show(value)}.`,
    )
  }
  return s as CacheStore
}

/** The `cache` option, or undefined when there is none (`undefined` or `false`). */
export function parseCacheOptions(
  where: string,
  value: unknown,
  maxResponseSize: number,
): HttpCacheConfig | undefined {
  if (value === undefined || value === false) return undefined
  const o = checkPlainObject(
    where,
    'cache',
    value,
    '{ store, shared?, maxBodyBytes?, keepStale?, name? }',
  ) as Record<string, unknown>
  const got = Object.create(null) as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!(CACHE_KEYS as readonly string[]).includes(key))
      unknownKey(where, key, CACHE_KEYS, 'cache.')
    got[key] = o[key]
  }
  if (got.store === undefined)
    throw new InvalidOptionError(
      `${where}: \`cache.store\` is required, e.g. cache: { store: memoryCacheStore({ maxEntries: 10_000 }) }.`,
    )
  return {
    store: checkStore(where, got.store),
    shared: got.shared === undefined ? true : checkBoolean(where, 'cache.shared', got.shared),
    maxBodyBytes:
      got.maxBodyBytes === undefined
        ? Math.min(DEFAULT_MAX_BODY, maxResponseSize)
        : checkNumber(where, 'cache.maxBodyBytes', got.maxBodyBytes, {
            min: 0,
            max: maxResponseSize,
            integer: true,
            unit: 'bytes (at most maxResponseSize)',
          }),
    keepStale:
      got.keepStale === undefined
        ? 60 * 60 * 1000
        : checkDuration(where, 'cache.keepStale', got.keepStale, { min: 0, max: MAX_KEEP }),
    name: got.name === undefined ? 'http' : checkName(where, got.name),
  }
}

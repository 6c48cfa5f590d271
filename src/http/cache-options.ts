/** Reading the HTTP client's `cache` option: defaults and checks (own properties only). */
import { InvalidOptionError } from '../core/errors.js'
import { checkBoolean, checkDuration, checkNumber, show } from '../core/validate.js'
import type { CacheStore } from '../cache/store.js'
import type { HttpCacheConfig } from './cache-types.js'
import { checkPlainObject } from './header-check.js'
import { unknownKey } from './option-checks.js'

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
    name: got.name === undefined ? 'http' : checkCacheName(where, got.name),
  }
}

function checkCacheName(where: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 100)
    throw new InvalidOptionError(
      `${where}: \`cache.name\` must be a non-empty string of at most 100 characters, got ${show(value)}.`,
    )
  return value
}

/**
 * `fanout/cache`: `memoryCacheStore()`, an in-process, always bounded LRU store for `cached()`
 * built on lru-cache (an optional peer dependency, needed only by this subpath), and the cache's
 * core API re-exported for one-import use.
 *
 * The store holds `CacheEntry` records by reference: a hit hands every caller the same value
 * object, so treat cached values as read-only.
 */
import { LRUCache } from './lru-cache.js'
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import { own } from '../core/own.js'
import {
  checkClock,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  show,
  snapshot,
} from '../core/validate.js'
import type { CacheEntry, CacheStore } from './store.js'

export {
  cached,
  CachedError,
  MAX_CACHE_TTL,
  type Cached,
  type CachedOptions,
  type CachedCallOptions,
  type CachedContext,
  type CachedResult,
  type CacheStatus,
  type NegativeCacheOptions,
} from './cached.js'
export { cacheKey } from './key.js'
export { singleFlight, type SingleFlight, type SingleFlightRunOptions } from './single-flight.js'
export {
  CACHE_ENTRY_FORMAT,
  type CacheEntry,
  type CacheValueEntry,
  type CacheErrorEntry,
  type CacheStore,
} from './store.js'

export interface MemoryCacheStoreOptions {
  /** Entries kept at most; the least recently used goes first. Integer 1–10 000 000. */
  readonly maxEntries?: number
  /** Total size kept at most, as measured by `sizeOf`; the least recently used goes first. */
  readonly maxBytes?: number
  /** The size of a cached value in bytes (an estimate is fine). Needed by `maxBytes` and `maxEntrySize`. */
  sizeOf?(value: unknown): number
  /** A value larger than this is not stored (and replaces nothing: the old entry is removed). */
  readonly maxEntrySize?: number
  /** The clock the store's reclaim times are read on (default `systemClock`); `cached()` judges freshness on its own. */
  readonly clock?: Clock
}

export interface MemoryCacheStore extends CacheStore {
  /** Entries held now (some may have expired and not yet been reclaimed). */
  readonly size: number
  clear(): void
}

/** What a negative entry (status and code only) counts for against `maxBytes`. */
const ERROR_ENTRY_SIZE = 64
/** lru-cache allocates a slot per entry up front: keep that allocation sane. */
const MAX_ENTRIES = 10_000_000

export function memoryCacheStore(options: MemoryCacheStoreOptions): MemoryCacheStore {
  const where = 'memoryCacheStore()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, ['maxEntries', 'maxBytes', 'sizeOf', 'maxEntrySize', 'clock'])
  if (opts.maxEntries === undefined && opts.maxBytes === undefined) {
    throw new InvalidOptionError(
      `${where}: a bound is required: \`maxEntries\` (e.g. maxEntries: 10_000) and/or \`maxBytes\` with \`sizeOf(value)\`. ` +
        'An unbounded cache grows until the process runs out of memory.',
    )
  }
  const maxEntries =
    opts.maxEntries === undefined
      ? undefined
      : checkNumber(where, 'maxEntries', opts.maxEntries, {
          min: 1,
          max: MAX_ENTRIES,
          integer: true,
        })
  const maxBytes =
    opts.maxBytes === undefined
      ? undefined
      : checkNumber(where, 'maxBytes', opts.maxBytes, {
          min: 1,
          max: Number.MAX_SAFE_INTEGER,
          integer: true,
          unit: 'bytes',
        })
  const maxEntrySize =
    opts.maxEntrySize === undefined
      ? undefined
      : checkNumber(where, 'maxEntrySize', opts.maxEntrySize, {
          min: 1,
          max: maxBytes ?? Number.MAX_SAFE_INTEGER,
          integer: true,
          unit: 'bytes',
        })
  const sized = maxBytes !== undefined || maxEntrySize !== undefined
  if (sized && opts.sizeOf === undefined) {
    throw new InvalidOptionError(
      `${where}: \`${maxBytes !== undefined ? 'maxBytes' : 'maxEntrySize'}\` needs \`sizeOf(value)\`, the size of a value in bytes, ` +
        'e.g. sizeOf: (value) => JSON.stringify(value).length.',
    )
  }
  if (!sized && opts.sizeOf !== undefined) {
    throw new InvalidOptionError(
      `${where}: \`sizeOf\` is used only with \`maxBytes\` or \`maxEntrySize\`; add one of them or remove \`sizeOf\`.`,
    )
  }
  const sizeOf =
    opts.sizeOf === undefined
      ? undefined
      : checkFunction<(value: unknown) => number>(
          where,
          'sizeOf',
          opts.sizeOf,
          '(value) => number of bytes',
        )
  if (opts.clock !== undefined) checkClock(where, opts.clock)
  const clock = opts.clock ?? systemClock

  // One of max and maxSize is set (checked above); the options type cannot see that. Expiry is
  // kept here rather than with lru-cache's ttl: its ttl reads a start time of 0 as "none", which
  // an injected clock may well return. lru-cache reads its options (and each call's) as plain
  // properties: it gets null-prototype ones, so a polluted Object.prototype adds none (I10).
  const lru = new LRUCache<string, Held>(
    own({
      ...(maxEntries !== undefined ? { max: maxEntries } : {}),
      ...(maxBytes !== undefined ? { maxSize: maxBytes } : {}),
      ...(maxEntrySize !== undefined ? { maxEntrySize } : {}),
      ...(sizeOf !== undefined
        ? { sizeCalculation: (held: Held) => measure(sizeOf, held.entry) }
        : {}),
    }) as LRUCache.Options<string, Held, unknown>,
  )

  return {
    get(key) {
      const held = lru.get(key, noOptions())
      if (held === undefined) return undefined
      // Past the ttl it was given: reclaimed on read, like lru-cache's own lazy expiry.
      if (!(clock.now() < held.until)) {
        lru.delete(key)
        return undefined
      }
      return held.entry
    },
    set(key, entry, ttlMs) {
      lru.set(key, { entry, until: clock.now() + ttlMs }, noOptions())
    },
    delete(key) {
      lru.delete(key)
    },
    get size() {
      return lru.size
    },
    clear: () => lru.clear(),
  }
}

/** A fresh empty options object for a lru-cache call (it writes `status` into it). */
const noOptions = (): object => Object.create(null) as object

interface Held {
  readonly entry: CacheEntry
  /** When the store may forget it, on the store's clock. */
  readonly until: number
}

function measure(sizeOf: (value: unknown) => number, entry: CacheEntry): number {
  if (entry.kind === 'error') return ERROR_ENTRY_SIZE
  const size = sizeOf(entry.value)
  if (typeof size !== 'number' || !(size >= 0) || size === Infinity) {
    // cached() treats a failed set as "not stored", so this surfaces only to direct users.
    throw new TypeError(
      `memoryCacheStore(): \`sizeOf\` returned ${show(size)}; it must return a finite number of bytes, 0 or more.`,
    )
  }
  return Math.max(1, Math.ceil(size))
}

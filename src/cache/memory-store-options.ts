/**
 * The options of the in-memory stores, read and checked in one place: `memoryCacheStore()` (the
 * built-in LRU) and `lruCacheStore()` (the same store on lru-cache) take the same options with
 * the same messages, so one can replace the other by changing the import alone.
 */
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import {
  checkClock,
  checkFunction,
  checkKnownKeys,
  checkName,
  checkNumber,
  show,
  snapshot,
} from '../core/validate.js'
import type { CacheEntry, CacheStore } from './store.js'

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
  /** Names the store in `stats()` (default "memory", or "lru-cache" for `lruCacheStore()`). */
  readonly name?: string
}

/** An in-memory store's snapshot: what it holds now, and counts since creation. */
export interface CacheStoreStats {
  readonly kind: 'cacheStore'
  readonly name: string
  /** Entries held now (some may have expired and not yet been reclaimed). */
  readonly size: number
  /** What they count against `maxBytes`, as `sizeOf` measured them (0 without a byte bound). */
  readonly bytes: number
  /** Reads that found a live entry, and reads that found none (or one past its time). */
  readonly hits: number
  readonly misses: number
  /** Entries dropped, least recently used first, to stay within `maxEntries` and `maxBytes`. */
  readonly evictions: number
}

export interface MemoryCacheStore extends CacheStore {
  /** Entries held now (some may have expired and not yet been reclaimed). */
  readonly size: number
  clear(): void
  /** A snapshot for a health endpoint or `prometheusText()`. */
  stats(): CacheStoreStats
}

/** The options once checked: at least one of `maxEntries` and `maxBytes` is set. */
export interface MemoryStoreBounds {
  readonly maxEntries: number | undefined
  readonly maxBytes: number | undefined
  readonly maxEntrySize: number | undefined
  /** Set exactly when `maxBytes` or `maxEntrySize` is. */
  readonly sizeOf: ((value: unknown) => number) | undefined
  readonly clock: Clock
  /** The `name` option, if given. */
  readonly name: string | undefined
}

/** What a negative entry (status and code only) counts for against `maxBytes`. */
const ERROR_ENTRY_SIZE = 64
/**
 * lru-cache allocates a slot per entry up front: keep that sane, in both stores so that either
 * takes the other's options.
 */
const MAX_ENTRIES = 10_000_000

export function readMemoryStoreOptions(
  where: string,
  options: MemoryCacheStoreOptions,
): MemoryStoreBounds {
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, ['maxEntries', 'maxBytes', 'sizeOf', 'maxEntrySize', 'clock', 'name'])
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
  const name = opts.name === undefined ? undefined : checkName(where, opts.name)
  return { maxEntries, maxBytes, maxEntrySize, sizeOf, clock: opts.clock ?? systemClock, name }
}

/** An entry's size for the byte bounds: `sizeOf` of its value, a fixed small size for a negative entry. */
export function entrySize(
  where: string,
  sizeOf: (value: unknown) => number,
  entry: CacheEntry,
): number {
  if (entry.kind === 'error') return ERROR_ENTRY_SIZE
  const size = sizeOf(entry.value)
  if (typeof size !== 'number' || !(size >= 0) || size === Infinity) {
    // cached() treats a failed set as "not stored", so this surfaces only to direct users.
    throw new TypeError(
      `${where}: \`sizeOf\` returned ${show(size)}; it must return a finite number of bytes, 0 or more.`,
    )
  }
  return Math.max(1, Math.ceil(size))
}

/**
 * Where `cached()` keeps its entries: an in-process LRU (`memoryCacheStore()` from
 * 'fanout/cache') or a shared store such as Redis. Every method may answer synchronously or with a
 * promise, so a networked store fits the same interface.
 *
 * An entry carries its own expiry times, as absolute readings of the clock of the `cached()` that
 * wrote it, and `cached()` judges them with its own clock, never the store's: a store that keeps
 * an entry longer than asked, or whose clock jumps, never makes an entry live longer. The store's
 * `ttlMs` only says when it may reclaim the space.
 *
 * A store shared by several processes needs them to share a time scale: give each `cached()` a
 * wall-clock `clock` (e.g. `{ ...systemClock, now: Date.now }`), since the default monotonic clock
 * starts at 0 in every process.
 */
import { own } from '../core/own.js'

/** The entry layout this version of fanout reads and writes; any other is treated as a miss. */
export const CACHE_ENTRY_FORMAT = 1

interface CacheEntryTimes {
  /** Layout version ({@link CACHE_ENTRY_FORMAT}). */
  readonly format: typeof CACHE_ENTRY_FORMAT
  /** The `version` option of the `cached()` that wrote it (`null` when it had none). */
  readonly version: string | number | null
  /** When it was written. A reading earlier than this means the clock went back: the entry is ignored. */
  readonly storedAt: number
  /** Until then the entry is served as is. */
  readonly freshUntil: number
  /** Until then it is served while one background refresh runs (stale-while-revalidate). */
  readonly staleUntil: number
  /** Until then it is served when a refresh fails with a transient error (stale-if-error). */
  readonly errorUntil: number
}

/** A cached value. */
export interface CacheValueEntry<V = unknown> extends CacheEntryTimes {
  readonly kind: 'value'
  readonly value: V
}

/**
 * A cached failure (negative caching). Only the error's status and code are kept, never its
 * message, which may hold request details or credentials.
 */
export interface CacheErrorEntry extends CacheEntryTimes {
  readonly kind: 'error'
  readonly status: number | null
  readonly code: string | null
}

export type CacheEntry<V = unknown> = CacheValueEntry<V> | CacheErrorEntry

export interface CacheStore {
  /** The entry under `key`, or `undefined`. What comes back is checked before use: a malformed entry is a miss. */
  get(key: string): CacheEntry | undefined | PromiseLike<CacheEntry | undefined>
  /** Stores `entry` under `key`; the store may drop it after `ttlMs` (or earlier, to stay within its bounds). */
  set(key: string, entry: CacheEntry, ttlMs: number): void | PromiseLike<void>
  delete(key: string): void | PromiseLike<void>
}

/** The entry if `raw` has the layout of {@link CACHE_ENTRY_FORMAT}, otherwise `undefined`. */
export function readEntry(raw: unknown): CacheEntry | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  // Own properties only: an entry missing a field must not borrow one from Object.prototype (I10).
  const e = own(raw) as Partial<Record<keyof CacheValueEntry | keyof CacheErrorEntry, unknown>>
  if (e.format !== CACHE_ENTRY_FORMAT) return undefined
  if (!(typeof e.version === 'string' || typeof e.version === 'number' || e.version === null))
    return undefined
  for (const t of [e.storedAt, e.freshUntil, e.staleUntil, e.errorUntil])
    if (typeof t !== 'number' || Number.isNaN(t)) return undefined
  if (e.kind === 'value') return 'value' in e ? (raw as CacheValueEntry) : undefined
  if (e.kind === 'error') {
    const statusOk = e.status === null || typeof e.status === 'number'
    const codeOk = e.code === null || typeof e.code === 'string'
    return statusOk && codeOk ? (raw as CacheErrorEntry) : undefined
  }
  return undefined
}

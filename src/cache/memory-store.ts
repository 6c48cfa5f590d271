/**
 * `memoryCacheStore()`: an in-process, always bounded LRU store for `cached()`, built on a `Map`
 * so that `fanout/cache` needs no package and runs on any runtime. (`lruCacheStore()` from
 * `fanout/cache/lru-cache` is the same store on lru-cache.)
 *
 * The store holds `CacheEntry` records by reference: a hit hands every caller the same value
 * object, so treat cached values as read-only.
 */
import {
  entrySize,
  readMemoryStoreOptions,
  type MemoryCacheStore,
  type MemoryCacheStoreOptions,
} from './memory-store-options.js'
import type { CacheEntry } from './store.js'

export type {
  CacheStoreStats,
  MemoryCacheStore,
  MemoryCacheStoreOptions,
} from './memory-store-options.js'

interface Held {
  readonly entry: CacheEntry
  /** When the store may forget it, on the store's clock. */
  readonly until: number
  /** What it counts against `maxBytes` (0 when the store has no byte bound). */
  readonly size: number
}

export function memoryCacheStore(options: MemoryCacheStoreOptions): MemoryCacheStore {
  const where = 'memoryCacheStore()'
  const { maxEntries, maxBytes, maxEntrySize, sizeOf, clock, name } = readMemoryStoreOptions(
    where,
    options,
  )
  const entryLimit = maxEntries ?? Infinity
  const byteLimit = maxBytes ?? Infinity
  // Never above maxBytes: an entry that fits alone can always be stored by evicting the others.
  const largest = Math.min(maxEntrySize ?? Infinity, byteLimit)
  // A Map iterates in insertion order, and a hit re-inserts its key: the first key is always the
  // least recently used, and eviction takes it in O(1).
  const held = new Map<string, Held>()
  let bytes = 0
  let hits = 0
  let misses = 0
  let evictions = 0

  const remove = (key: string): void => {
    const old = held.get(key)
    if (old === undefined) return
    held.delete(key)
    bytes -= old.size
  }

  return {
    get(key) {
      const found = held.get(key)
      if (found === undefined) {
        misses++
        return undefined
      }
      // Past the ttl it was given: reclaimed on read, with no timer to release.
      if (!(clock.now() < found.until)) {
        misses++
        remove(key)
        return undefined
      }
      hits++
      held.delete(key)
      held.set(key, found)
      return found.entry
    },
    set(key, entry, ttlMs) {
      // Measured before anything changes, so a sizeOf that throws leaves the store as it was.
      const size = sizeOf === undefined ? 0 : entrySize(where, sizeOf, entry)
      remove(key)
      // Too large: not stored, and the older entry it would have replaced is gone (never stale data).
      if (size > largest) return
      held.set(key, { entry, until: clock.now() + ttlMs, size })
      bytes += size
      // Ends with the new entry at the latest: it fits alone (size <= largest <= maxBytes).
      while (held.size > entryLimit || bytes > byteLimit) {
        remove(held.keys().next().value as string)
        evictions++
      }
    },
    delete(key) {
      remove(key)
    },
    get size() {
      return held.size
    },
    clear() {
      held.clear()
      bytes = 0
    },
    stats() {
      return Object.freeze({
        kind: 'cacheStore' as const,
        name: name ?? 'memory',
        size: held.size,
        bytes,
        hits,
        misses,
        evictions,
      })
    },
  }
}

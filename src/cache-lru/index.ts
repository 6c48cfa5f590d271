/**
 * `fanout/cache/lru-cache`: `lruCacheStore()`, `memoryCacheStore()` from `fanout/cache` on
 * lru-cache (an optional peer dependency, needed only by this subpath): the same options, bounds,
 * messages and behaviour, for a project that already runs lru-cache or keeps very many entries
 * (lru-cache preallocates its index for `maxEntries` rather than growing a `Map`). Loading it
 * needs `node:module`, which keeps it out of the runtime-neutral `fanout/cache`.
 *
 * The store holds `CacheEntry` records by reference: a hit hands every caller the same value
 * object, so treat cached values as read-only.
 */
import { LRUCache } from './lru-cache.js'
import { own } from '../core/own.js'
import {
  entrySize,
  readMemoryStoreOptions,
  type MemoryCacheStore,
  type MemoryCacheStoreOptions,
} from '../cache/memory-store-options.js'
import type { CacheEntry } from '../cache/store.js'

interface Held {
  readonly entry: CacheEntry
  /** When the store may forget it, on the store's clock. */
  readonly until: number
}

export function lruCacheStore(options: MemoryCacheStoreOptions): MemoryCacheStore {
  const where = 'lruCacheStore()'
  const { maxEntries, maxBytes, maxEntrySize, sizeOf, clock, name } = readMemoryStoreOptions(
    where,
    options,
  )
  let hits = 0
  let misses = 0
  let evictions = 0

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
        ? { sizeCalculation: (held: Held) => entrySize(where, sizeOf, held.entry) }
        : {}),
      dispose: (_held: Held, _key: string, reason: string) => {
        if (reason === 'evict') evictions++
      },
    }) as LRUCache.Options<string, Held, unknown>,
  )

  return {
    get(key) {
      const held = lru.get(key, noOptions())
      if (held !== undefined && clock.now() < held.until) {
        hits++
        return held.entry
      }
      // Past the ttl it was given: reclaimed on read, like lru-cache's own lazy expiry.
      if (held !== undefined) lru.delete(key)
      misses++
      return undefined
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
    stats: () =>
      Object.freeze({
        kind: 'cacheStore' as const,
        name: name ?? 'lru-cache',
        size: lru.size,
        bytes: lru.calculatedSize ?? 0,
        hits,
        misses,
        evictions,
      }),
  }
}

/** A fresh empty options object for a lru-cache call (it writes `status` into it). */
const noOptions = (): object => Object.create(null) as object

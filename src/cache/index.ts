/**
 * `fanout/cache`: what `cached()` (from `fanout`) is built from and stores into. The bounded
 * in-memory store (`memoryCacheStore()`, a built-in LRU), the `CacheStore` contract another
 * backend implements, the key encoding, and single-flight de-duplication on its own. Like the
 * root entry it needs no package and imports nothing from Node; the same store on lru-cache is
 * `fanout/cache/lru-cache`.
 */
export {
  memoryCacheStore,
  type CacheStoreStats,
  type MemoryCacheStore,
  type MemoryCacheStoreOptions,
} from './memory-store.js'
export {
  CACHE_ENTRY_FORMAT,
  type CacheStore,
  type CacheEntry,
  type CacheValueEntry,
  type CacheErrorEntry,
} from './store.js'
export {
  tieredCacheStore,
  type LocalCacheStore,
  type TieredCacheStore,
  type TieredCacheStoreOptions,
} from './tiered-store.js'
export type { CacheInvalidation, CacheInvalidationListener } from './invalidation.js'
export { MAX_CACHE_TTL } from './cached.js'
export { cacheKey } from './key.js'
export { singleFlight, type SingleFlight, type SingleFlightRunOptions } from './single-flight.js'
export type { CacheFlight, FlightClaim, FlightWaitOptions } from './flight.js'

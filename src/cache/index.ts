/**
 * `fanout/cache`: what `cached()` (from `fanout`) is built from and stores into. The bounded
 * in-memory store (`memoryCacheStore()`, on lru-cache, an optional peer needed only by this
 * subpath), the `CacheStore` contract another backend implements, the key encoding, and
 * single-flight de-duplication on its own.
 */
export {
  memoryCacheStore,
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
export { MAX_CACHE_TTL } from './cached.js'
export { cacheKey } from './key.js'
export { singleFlight, type SingleFlight, type SingleFlightRunOptions } from './single-flight.js'
export type { CacheFlight, FlightClaim, FlightWaitOptions } from './flight.js'

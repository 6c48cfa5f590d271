/** Where a response came from, when the client has a cache (its own module: the exchange and the cache both name it). */
export type HttpCacheStatus = 'hit' | 'revalidated' | 'miss' | 'stale'

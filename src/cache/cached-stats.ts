/** What `cached()` counts for its `stats()`: each lookup once, by how it was served. */

/** A `cached()` function's snapshot: see `stats()`. */
export interface CachedStats {
  readonly kind: 'cache'
  /** The `name` option (default "cached"). */
  readonly name: string
  /** Lookups served a fresh entry (a remembered failure included). */
  readonly hits: number
  /** Lookups that found nothing usable and waited for `fn`, whatever came of it. */
  readonly misses: number
  /** Lookups served a stale value at once while a refresh ran (stale-while-revalidate). */
  readonly staleServed: number
  /** Lookups served a stale value in place of a failed refresh (stale-if-error). */
  readonly staleIfError: number
  /** The share of lookups served from the cache, (all − misses) / all; 0 before the first. */
  readonly hitRatio: number
}

/** The counts behind `CachedStats`: plain increments on the lookup's path. */
export class CacheCounts {
  hits = 0
  misses = 0
  staleServed = 0
  staleIfError = 0

  snapshot(name: string): CachedStats {
    const { hits, misses, staleServed, staleIfError } = this
    const all = hits + misses + staleServed + staleIfError
    return Object.freeze({
      kind: 'cache' as const,
      name,
      hits,
      misses,
      staleServed,
      staleIfError,
      hitRatio: all === 0 ? 0 : (all - misses) / all,
    })
  }
}

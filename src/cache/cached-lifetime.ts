/**
 * An entry's life as `cached()` sees it: the times a new entry carries, and where a reading of
 * the clock falls in an entry's life — capped by the cache's own lifetimes, whatever times the
 * entry claims (K1).
 */
import type { Parsed } from './cached-options.js'
import { CACHE_ENTRY_FORMAT, type CacheEntry } from './store.js'

/** Where a reading falls in an entry's life. */
export type Lifetime = 'fresh' | 'stale' | 'error-window' | 'expired'

/** The times of an entry written at `now`, fresh for `lifetime` ms, then stale for `swrMs` (or `sieMs` on error). */
export function entryTimes(
  version: string | number | null,
  now: number,
  lifetime: number,
  swrMs: number,
  sieMs: number,
) {
  return {
    format: CACHE_ENTRY_FORMAT as typeof CACHE_ENTRY_FORMAT,
    version,
    storedAt: now,
    freshUntil: now + lifetime,
    staleUntil: now + lifetime + swrMs,
    errorUntil: now + lifetime + sieMs,
  }
}

/** Where `now` falls in the entry's life, capped by the cache's own lifetimes. */
export function judgeEntry(
  o: Pick<Parsed<unknown>, 'ttl' | 'swr' | 'sie' | 'negative'>,
  entry: CacheEntry,
  now: number,
): Lifetime {
  const { ttl, swr, sie, negative } = o
  if (!(now >= entry.storedAt)) return 'expired'
  const age = now - entry.storedAt
  if (entry.kind === 'error')
    return now < entry.freshUntil && age < (negative?.ttl ?? 0) ? 'fresh' : 'expired'
  if (now < entry.freshUntil && age < ttl) return 'fresh'
  if (now < entry.staleUntil && age < ttl + swr) return 'stale'
  if (now < entry.errorUntil && age < ttl + sie) return 'error-window'
  return 'expired'
}

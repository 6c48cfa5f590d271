/**
 * The metric families `prometheusText()` writes: per kind of component, each family's name, type,
 * help text and the samples one snapshot gives it. Names follow Prometheus' conventions: a
 * `fanout_` prefix, the component, base units, `_total` on counters.
 */
import type { LoaderStats } from '../batch/loader-types.js'
import type { CachedStats } from '../cache/cached-stats.js'
import type { CacheStoreStats } from '../cache/memory-store-options.js'
import type { AdaptiveConcurrencyStats } from '../policies/adaptive.js'
import type { CircuitBreakerStats } from '../policies/circuit-breaker.js'
import type { LimiterStats } from '../policies/limit.js'
import type { RateLimiterStats } from '../policies/rate-limit.js'

/** Every snapshot `prometheusText()` reads, told apart by `kind`. */
export type StatsSnapshot =
  | LimiterStats
  | RateLimiterStats
  | AdaptiveConcurrencyStats
  | CircuitBreakerStats
  | CachedStats
  | CacheStoreStats
  | LoaderStats

export type StatsKind = StatsSnapshot['kind']

/** A sample's labels beyond `name` (and the caller's constant labels), and its value. */
export type Sample = readonly [labels: Readonly<Record<string, string>>, value: number]

export interface Family<S> {
  readonly name: string
  readonly type: 'counter' | 'gauge'
  readonly help: string
  /** A number for one sample without labels of its own, or the samples; none skips the snapshot. */
  readonly samples: (snapshot: S) => number | readonly Sample[]
}

type Families = {
  readonly [K in StatsKind]: readonly Family<Extract<StatsSnapshot, { kind: K }>>[]
}

/** How `kind` reads in an error message ("two limiters are named …"), and how to name one. */
export const KIND_NOUNS: { readonly [K in StatsKind]: readonly [plural: string, example: string] } =
  {
    limiter: ['limiters', "limit({ concurrency: 8, name: 'search' })"],
    rateLimiter: ['rate limiters', "rateLimit({ rate: 10, per: 1_000, name: 'github' })"],
    adaptiveConcurrency: [
      'adaptive concurrency policies',
      "adaptiveConcurrency(limiter, { name: 'search' })",
    ],
    circuitBreaker: ['circuit breakers', "circuitBreaker({ name: 'payments' })"],
    cache: ['caches', "cached(fn, { …, name: 'users' })"],
    cacheStore: ['cache stores', "memoryCacheStore({ maxEntries: 10_000, name: 'hot' })"],
    loader: ['loaders', "new Loader(batch, { name: 'users' })"],
  }

const BREAKER_STATE = { closed: 0, halfOpen: 1, open: 2 } as const

export const FAMILIES: Families = {
  limiter: [
    {
      name: 'fanout_limiter_in_flight',
      type: 'gauge',
      help: 'Calls holding a slot of the concurrency limiter now.',
      samples: (s) => s.inFlight,
    },
    {
      name: 'fanout_limiter_queued',
      type: 'gauge',
      help: 'Calls waiting for a slot of the concurrency limiter now.',
      samples: (s) => s.queued,
    },
    {
      name: 'fanout_limiter_limit',
      type: 'gauge',
      help: 'Calls the concurrency limiter lets run at once.',
      samples: (s) => s.limit,
    },
    {
      name: 'fanout_limiter_waited_total',
      type: 'counter',
      help: 'Calls that waited in line for a slot.',
      samples: (s) => s.waited,
    },
    {
      name: 'fanout_limiter_rejected_total',
      type: 'counter',
      help: 'Calls refused by the concurrency limiter: its queue was full, or the wait ran out of time.',
      samples: (s) => [
        [{ reason: 'queue_full' }, s.queueFull],
        [{ reason: 'timeout' }, s.timedOut],
      ],
    },
  ],
  rateLimiter: [
    {
      name: 'fanout_rate_limiter_queued',
      type: 'gauge',
      help: 'Callers waiting for their turn at the rate limiter now, over every key.',
      samples: (s) => s.queued,
    },
    {
      name: 'fanout_rate_limiter_admitted_total',
      type: 'counter',
      help: 'Calls the rate limiter let through.',
      samples: (s) => s.admitted,
    },
    {
      name: 'fanout_rate_limiter_delayed_total',
      type: 'counter',
      help: 'Calls the rate limiter let through after a wait.',
      samples: (s) => s.delayed,
    },
    {
      name: 'fanout_rate_limiter_rejected_total',
      type: 'counter',
      help: 'Calls the rate limiter refused (over maxWait, the deadline or maxQueue).',
      samples: (s) => s.rejected,
    },
    {
      name: 'fanout_rate_limiter_rate_factor',
      type: 'gauge',
      help: 'Share of the configured rate an adaptive rate limiter allows now (unkeyed limiters only).',
      samples: (s) => (s.adaptive && !s.keyed ? [[{}, s.rateFactor]] : []),
    },
  ],
  adaptiveConcurrency: [
    {
      name: 'fanout_adaptive_limit',
      type: 'gauge',
      help: 'The concurrency an adaptive concurrency policy allows now.',
      samples: (s) => s.limit,
    },
    {
      name: 'fanout_adaptive_increases_total',
      type: 'counter',
      help: 'Times an adaptive concurrency policy raised its limit.',
      samples: (s) => s.increases,
    },
    {
      name: 'fanout_adaptive_decreases_total',
      type: 'counter',
      help: 'Times an adaptive concurrency policy lowered its limit.',
      samples: (s) => s.decreases,
    },
  ],
  circuitBreaker: [
    {
      name: 'fanout_breaker_state',
      type: 'gauge',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      samples: (s) => BREAKER_STATE[s.state],
    },
    {
      name: 'fanout_breaker_failures',
      type: 'gauge',
      help: 'Failures the trip rule counts now: in a row (consecutive), or in the window (ratio).',
      samples: (s) => (s.strategy === 'consecutive' ? s.consecutiveFailures : s.failures),
    },
    {
      name: 'fanout_breaker_opened_total',
      type: 'counter',
      help: 'Times the circuit breaker opened.',
      samples: (s) => s.opened,
    },
    {
      name: 'fanout_breaker_transitions_total',
      type: 'counter',
      help: 'State changes of the circuit breaker.',
      samples: (s) => s.transitions,
    },
    {
      name: 'fanout_breaker_rejected_total',
      type: 'counter',
      help: 'Calls the circuit breaker failed fast.',
      samples: (s) => s.rejected,
    },
  ],
  cache: [
    {
      name: 'fanout_cache_hits_total',
      type: 'counter',
      help: 'Lookups served a fresh entry.',
      samples: (s) => s.hits,
    },
    {
      name: 'fanout_cache_misses_total',
      type: 'counter',
      help: 'Lookups that found nothing usable and waited for the function.',
      samples: (s) => s.misses,
    },
    {
      name: 'fanout_cache_stale_served_total',
      type: 'counter',
      help: 'Lookups served a stale value: while a refresh ran (revalidating), or in place of a failed refresh (error).',
      samples: (s) => [
        [{ reason: 'revalidating' }, s.staleServed],
        [{ reason: 'error' }, s.staleIfError],
      ],
    },
  ],
  cacheStore: [
    {
      name: 'fanout_cache_store_entries',
      type: 'gauge',
      help: 'Entries an in-memory cache store holds now.',
      samples: (s) => s.size,
    },
    {
      name: 'fanout_cache_store_bytes',
      type: 'gauge',
      help: 'Bytes an in-memory cache store holds now, as its sizeOf measures them.',
      samples: (s) => s.bytes,
    },
    {
      name: 'fanout_cache_store_hits_total',
      type: 'counter',
      help: 'Store reads that found a live entry.',
      samples: (s) => s.hits,
    },
    {
      name: 'fanout_cache_store_misses_total',
      type: 'counter',
      help: 'Store reads that found no live entry.',
      samples: (s) => s.misses,
    },
    {
      name: 'fanout_cache_store_evictions_total',
      type: 'counter',
      help: 'Entries evicted to stay within the store bounds.',
      samples: (s) => s.evictions,
    },
  ],
  loader: [
    {
      name: 'fanout_loader_batches_total',
      type: 'counter',
      help: 'Calls of the loader batch function.',
      samples: (s) => s.batches,
    },
    {
      name: 'fanout_loader_keys_total',
      type: 'counter',
      help: 'Keys sent to the loader batch function.',
      samples: (s) => s.keys,
    },
    {
      name: 'fanout_loader_cache_hits_total',
      type: 'counter',
      help: 'Loads that sent no key: answered by the memo or joined the same key.',
      samples: (s) => s.cacheHits,
    },
    {
      name: 'fanout_loader_cache_entries',
      type: 'gauge',
      help: 'Keys the loader memoizes now.',
      samples: (s) => s.cacheSize,
    },
  ],
}

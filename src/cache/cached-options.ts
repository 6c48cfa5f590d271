/** `cached()`'s options: their types, and reading them (own properties only, each checked by name). */
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError, NoUserError } from '../core/errors.js'
import { currentRequest } from '../core/request-context.js'
import { recorderFor, type EventListener, type Recorder } from '../core/trace.js'
import {
  checkClock,
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkName,
  show,
  snapshot,
} from '../core/validate.js'
import type { CacheFlight } from './flight.js'
import type { CacheStore } from './store.js'

export interface NegativeCacheOptions {
  /** Ms a failure is remembered (and replayed as a `CachedError`). 1 ms – 365 days. */
  readonly ttl: number
  /** Which failures to remember. Default: status 404 or 410. */
  readonly when?: (error: unknown) => boolean
}

export interface CachedOptions<K, V = unknown> {
  /** Where entries live, e.g. `memoryCacheStore({ maxEntries: 10_000 })` from 'fanout/cache'. */
  readonly store: CacheStore
  /** Ms an entry is fresh. Values above 365 days are capped to it. */
  readonly ttl: number
  /**
   * Whose entries these are: `'shared'` when any caller may be served any entry (public data), or
   * a function naming the user, tenant or request an entry belongs to. Required, because getting
   * it wrong serves one user's data to another. `'user'`: the user of the current request
   * context (fanout/next, fanout/express…); a call where none is known fails with `NoUserError`.
   */
  readonly scope: 'shared' | 'user' | ((key: K) => string)
  /** Ms after `ttl` during which a stale value is served at once while one background refresh runs. */
  readonly staleWhileRevalidate?: number
  /** Ms after `ttl` during which a stale value is served when the refresh fails with a 5xx or a network error. */
  readonly staleIfError?: number
  /**
   * Whether a fetched value may be stored. One it refuses still reaches every caller waiting for
   * it, and replaces nothing: the key's old entry is deleted. Default: a value shaped like an HTTP
   * response (it has `headers`) is not stored when it says `Cache-Control: no-store`, nor — in a
   * `'shared'` cache — when it says `private` or sets a cookie (F2). Other values are stored.
   */
  readonly storable?: (value: V) => boolean
  /** Cache some failures too (not-found answers, by default). Off unless given. */
  readonly negative?: NegativeCacheOptions
  /** Entries written under another version are misses (and are deleted): bump it when the value's shape changes. */
  readonly version?: string | number
  /** The parts that identify a key, for `cacheKey`. Default: `[key]`. */
  readonly key?: (key: K) => readonly unknown[]
  /** Prefix of every store key, so several caches can share one store. Default "cached". */
  readonly name?: string
  readonly clock?: Clock
  /** Ms a store get or set may take before it is skipped. 1–60 000, default 250. */
  readonly storeTimeout?: number
  /**
   * Hears this cache's events (`cache.hit`, `cache.missed`, `cache.staleServed`, `cache.stored`)
   * and those of the work `fn` does, whoever calls. A caller's `context` hears them too, for its
   * own calls: prefer that inside a flow.
   */
  readonly onEvent?: EventListener
  /**
   * Ms a call to `fn` may take: then its signal aborts and it fails with a `TimeoutError` (which
   * stale-if-error covers). A call shared by several callers holds its key until it settles, so
   * give `fn` a bound here or inside it. Default: none.
   */
  readonly timeout?: number
  /**
   * Single-flight across processes (e.g. `redisFlight()` from 'fanout/redis'): when several
   * processes sharing the store miss one key at once, one of them calls `fn` and the others wait
   * for its entry (bounded by their deadlines and the lease) instead of calling `fn` too. A stale
   * entry within `staleWhileRevalidate` is still served at once; the flight gates the refresh.
   * When the flight fails or is slow (`storeTimeout`), each process calls `fn` once itself.
   * Default: none (single-flight within this process only).
   */
  readonly flight?: CacheFlight
  /**
   * Ms a process holds a key's flight lock: renewed every third of it while `fn` runs (when the
   * flight can renew), and how long the others wait before taking over from a holder that died.
   * 10–600 000, default 5000. Only with `flight`.
   */
  readonly flightLease?: number
}

/** Longest lifetime or window: a year. Longer asks are capped, so nothing is cached for ever. */
export const MAX_CACHE_TTL = 365 * 24 * 60 * 60 * 1000

const KNOWN = [
  'store',
  'ttl',
  'scope',
  'staleWhileRevalidate',
  'staleIfError',
  'storable',
  'negative',
  'version',
  'key',
  'name',
  'clock',
  'storeTimeout',
  'timeout',
  'onEvent',
  'flight',
  'flightLease',
]

export interface Parsed<K, V = unknown> {
  readonly store: CacheStore
  readonly ttl: number
  readonly swr: number
  readonly sie: number
  readonly scope: 'shared' | ((key: K) => string)
  readonly negative:
    { readonly ttl: number; readonly when: ((error: unknown) => boolean) | undefined } | undefined
  readonly version: string | number | null
  readonly key: ((key: K) => readonly unknown[]) | undefined
  readonly name: string
  readonly clock: Clock
  readonly storeTimeout: number
  readonly timeout: number | undefined
  readonly storable: ((value: V) => boolean) | undefined
  readonly trace: Recorder
  readonly flight: CacheFlight | undefined
  readonly flightLease: number
}

export function parseOptions<K, V>(where: string, options: CachedOptions<K, V>): Parsed<K, V> {
  if (options === undefined) {
    throw new InvalidOptionError(
      `${where}: options are required: at least \`store\`, \`ttl\` and \`scope\`, e.g. cached(fn, { store: memoryCacheStore({ maxEntries: 10_000 }), ttl: 60_000, scope: 'shared' }).`,
    )
  }
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, KNOWN)
  const store = opts.store as Partial<CacheStore> | undefined
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function' ||
    typeof store.delete !== 'function'
  ) {
    throw new InvalidOptionError(
      `${where}: \`store\` must be a CacheStore (get, set, delete), got ${show(store)}. ` +
        `For an in-process LRU use memoryCacheStore({ maxEntries: 10_000 }) from 'fanout/cache'.`,
    )
  }
  if (store instanceof Map) {
    // A Map has get, set and delete, and grows for ever.
    throw new InvalidOptionError(
      `${where}: \`store\` is a Map, which is never bounded. Use memoryCacheStore({ maxEntries: 10_000 }) from 'fanout/cache', an LRU.`,
    )
  }
  const scope = opts.scope === 'user' ? userScope(where) : opts.scope
  if (scope !== 'shared' && typeof scope !== 'function') {
    throw new InvalidOptionError(
      `${where}: \`scope\` is required and must be 'shared', 'user' or a function (key) => string, got ${show(scope)}. ` +
        `Use 'shared' when any caller may be served any entry (public data), or name the user or tenant an entry belongs to, ` +
        `e.g. scope: (key) => key.tenantId, so one user's data is never served to another.`,
    )
  }
  const negative = opts.negative === undefined ? undefined : parseNegative(where, opts.negative)
  const version = opts.version
  if (!(
    version === undefined ||
    typeof version === 'string' ||
    (typeof version === 'number' && Number.isFinite(version))
  )) {
    throw new InvalidOptionError(
      `${where}: \`version\` must be a string or a finite number, got ${show(version)}.`,
    )
  }
  if (opts.clock !== undefined) checkClock(where, opts.clock)
  const flight = opts.flight === undefined ? undefined : parseFlight(where, opts.flight)
  if (flight === undefined && opts.flightLease !== undefined)
    throw new InvalidOptionError(
      `${where}: \`flightLease\` applies to a \`flight\`, and none was given (got flightLease: ${show(opts.flightLease)}).`,
    )
  return {
    flight,
    flightLease:
      opts.flightLease === undefined
        ? 5000
        : checkDuration(where, 'flightLease', opts.flightLease, { min: 10, max: 600_000 }),
    store: store as CacheStore,
    ttl: lifetime(where, 'ttl', opts.ttl),
    swr:
      opts.staleWhileRevalidate === undefined
        ? 0
        : windowOf(where, 'staleWhileRevalidate', opts.staleWhileRevalidate),
    sie: opts.staleIfError === undefined ? 0 : windowOf(where, 'staleIfError', opts.staleIfError),
    scope,
    negative,
    version: version ?? null,
    key:
      opts.key === undefined
        ? undefined
        : checkFunction<(key: K) => readonly unknown[]>(
            where,
            'key',
            opts.key,
            '(key) => readonly unknown[] (the parts that identify the key)',
          ),
    name: opts.name === undefined ? 'cached' : checkName(where, opts.name),
    clock: opts.clock ?? systemClock,
    storeTimeout:
      opts.storeTimeout === undefined
        ? 250
        : checkDuration(where, 'storeTimeout', opts.storeTimeout, { max: 60_000 }),
    timeout: opts.timeout === undefined ? undefined : checkDuration(where, 'timeout', opts.timeout),
    storable:
      opts.storable === undefined
        ? undefined
        : checkFunction<(value: V) => boolean>(
            where,
            'storable',
            opts.storable,
            '(value) => boolean',
          ),
    trace: recorderFor(
      opts.onEvent === undefined
        ? undefined
        : checkFunction<EventListener>(where, 'onEvent', opts.onEvent, '(event) => void'),
    ),
  }
}

function parseFlight(where: string, value: unknown): CacheFlight {
  const f = value as Partial<Record<keyof CacheFlight, unknown>> | null
  const missing =
    typeof f !== 'object' || f === null
      ? 'claim'
      : (['claim', 'release', 'waitForFill'] as const).find((m) => typeof f[m] !== 'function')
  if (missing !== undefined || (f!.renew !== undefined && typeof f!.renew !== 'function'))
    throw new InvalidOptionError(
      `${where}: \`flight\` must be a CacheFlight (claim, release, waitForFill, and optionally renew), such as redisFlight() from 'fanout/redis', got ${show(value)}.`,
    )
  return value as CacheFlight
}

function parseNegative(where: string, value: unknown): Parsed<unknown>['negative'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      `${where}: \`negative\` must be an object { ttl, when? }, got ${show(value)}.`,
    )
  }
  const opts = snapshot(`${where} negative`, value as NegativeCacheOptions)
  checkKnownKeys(`${where} negative`, opts, ['ttl', 'when'])
  const when =
    opts.when === undefined
      ? undefined
      : checkFunction<(error: unknown) => boolean>(
          where,
          'negative.when',
          opts.when,
          '(error) => boolean',
        )
  return { ttl: lifetime(where, 'negative.ttl', opts.ttl), when }
}

/** A required lifetime: at least 1 ms, capped at a year. */
function lifetime(where: string, name: string, value: unknown): number {
  if (value === undefined)
    throw new InvalidOptionError(
      `${where}: \`${name}\` is required: the ms an entry stays fresh, e.g. ${name}: 60_000.`,
    )
  if (value === 0)
    throw new InvalidOptionError(
      `${where}: \`${name}\` must be at least 1 ms, got 0. To not cache, call the function directly.`,
    )
  return Math.min(checkDuration(where, name, value, { allowInfinity: true }), MAX_CACHE_TTL)
}

/** An optional window after the ttl: at least 1 ms, capped at a year. */
function windowOf(where: string, name: string, value: unknown): number {
  return Math.min(checkDuration(where, name, value, { allowInfinity: true }), MAX_CACHE_TTL)
}

/** `scope: 'user'`: the current request's user, or a `NoUserError` (never an unscoped entry). */
function userScope(where: string): () => string {
  return () => {
    const user = currentRequest()?.user
    if (user === undefined) throw new NoUserError(where)
    return user
  }
}

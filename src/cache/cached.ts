/**
 * `cached(fn, options)`: a read-through cache in front of a function that fetches by key, with
 * stale-while-revalidate, stale-if-error, negative caching and stampede protection.
 *
 * Invariants:
 * - an entry is served only to callers of its own scope: the scope is part of the store key and
 *   of the single-flight key, so one user's value or in-flight call never reaches another;
 * - concurrent misses on one key make one call to `fn`; a caller that aborts leaves alone and the
 *   call runs on for the others;
 * - an entry is judged by this cache's clock, and never lives past `storedAt` + its configured
 *   lifetime, whatever times it claims; a reading earlier than `storedAt` (the clock went back)
 *   makes it a miss;
 * - within `staleWhileRevalidate` a stale value is served at once and one refresh runs in the
 *   background; a failed refresh keeps the stale value;
 * - within `staleIfError` a stale value replaces only a transient failure (500, 502, 503, 504 or
 *   a network error), never a 4xx or anything else;
 * - a value that must not be kept (`storable`; by default an HTTP-shaped value marked no-store,
 *   or private or setting a cookie in a shared cache) reaches its callers and is not stored;
 * - an error is cached only when `negative` says so (404 and 410 by default), as its status and
 *   code, never its message;
 * - the store never fails a call: a get or set that throws or takes longer than `storeTimeout` is
 *   skipped (a miss, or an unsaved value), and an entry of another version or layout is a miss
 *   and is deleted;
 * - `delete(key)` wins over a fetch of that key already in progress: the fetch's answer is not
 *   stored and later calls do not join it (read-after-invalidate);
 * - every timer and listener is released on every path.
 */
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError, isFanoutError, TimeoutError } from '../core/errors.js'
import { own } from '../core/own.js'
import {
  checkClock,
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkName,
  show,
  snapshot,
} from '../core/validate.js'
import { withTimeLimit } from '../core/time-limit.js'
import { codeOf, statusOf, TRANSIENT_ERROR_CODES } from '../policies/classify.js'
import { cacheKey } from './key.js'
import { singleFlight } from './single-flight.js'
import { isStorable } from './storable.js'
import { CACHE_ENTRY_FORMAT, readEntry, type CacheEntry, type CacheStore } from './store.js'

/** How a value was served: fetched now, fresh from the cache, stale while a refresh runs, or stale because the refresh failed. */
export type CacheStatus = 'miss' | 'hit' | 'stale' | 'stale-if-error'

export interface CachedContext {
  /** Aborts when every caller waiting for this call has left. Pass it to `fetch`. */
  readonly signal: AbortSignal
}

export interface CachedCallOptions {
  /** Stops this caller waiting; a call to `fn` shared with other callers runs on for them. */
  readonly signal?: AbortSignal | undefined
}

export interface CachedResult<V> {
  readonly value: V
  readonly status: CacheStatus
}

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
   * it wrong serves one user's data to another.
   */
  readonly scope: 'shared' | ((key: K) => string)
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
   * Ms a call to `fn` may take: then its signal aborts and it fails with a `TimeoutError` (which
   * stale-if-error covers). A call shared by several callers holds its key until it settles, so
   * give `fn` a bound here or inside it. Default: none.
   */
  readonly timeout?: number
}

export interface Cached<K, V> {
  /** The value for `key`: from the cache when it holds one, otherwise from `fn`. */
  (key: K, options?: CachedCallOptions): Promise<V>
  /** Like calling the cache, and says how the value was served. */
  entry(key: K, options?: CachedCallOptions): Promise<CachedResult<V>>
  /**
   * Removes the entry for `key` from the store — after a write upstream, say. A fetch of `key`
   * already in progress is not joined by later calls and does not store its answer, which may
   * predate the change. Rejects when the store fails or exceeds `storeTimeout`.
   */
  delete(key: K): Promise<void>
}

/**
 * A failure replayed from the cache (negative caching). It carries the original error's `status`
 * and `code`, so `statusOf`, `codeOf` and fallbacks treat it like the original; the original
 * message is never stored.
 */
export class CachedError extends Error {
  readonly status: number | undefined
  readonly code: string | undefined
  constructor(cache: string, status: number | null, code: string | null) {
    const what = [
      status !== null ? `status ${status}` : undefined,
      code !== null ? `code ${code}` : undefined,
    ]
      .filter((s) => s !== undefined)
      .join(', ')
    super(
      `cached("${cache}"): this key failed recently (${what || 'no status or code'}) and the failure is cached for \`negative.ttl\`; the original message is not kept`,
    )
    this.name = 'CachedError'
    this.status = status ?? undefined
    this.code = code ?? undefined
  }
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
]
const STALE_IF_ERROR_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504])
const BYPASS = Symbol('bypass')

export function cached<K, V>(
  fn: (key: K, ctx: CachedContext) => V | PromiseLike<V>,
  options: CachedOptions<NoInfer<K>, NoInfer<V>>,
): Cached<K, V> {
  const where = 'cached()'
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(
      `${where}: the first argument must be the function that fetches a value, (key, { signal }) => value, got ${show(fn)}.`,
    )
  }
  const o = parseOptions<K, V>(where, options)
  const { store, ttl, swr, sie, clock, storeTimeout, version, timeout } = o
  const callFn = (key: K, signal: AbortSignal): Promise<V> =>
    timeout === undefined
      ? Promise.resolve(fn(key, { signal }))
      : withTimeLimit(
          clock,
          signal,
          timeout,
          () =>
            new TimeoutError(
              `cached("${o.name}"): the call to fn took longer than ${timeout} ms`,
              timeout,
            ),
          (bounded) => Promise.resolve(fn(key, { signal: bounded })),
        )
  const prefix = `${o.name}:`
  const shared = o.scope === 'shared'
  const storable = (value: V): boolean => {
    try {
      return o.storable === undefined ? isStorable(value, shared) : Boolean(o.storable(value))
    } catch {
      // A broken predicate (or a value whose headers throw when read) must not fail the callers
      // of a value fetched fine: just don't store it.
      return false
    }
  }
  const flights = singleFlight()
  /**
   * Per key with a fetch in progress: how many, and how often the key was deleted meanwhile. A
   * fetch that started before a delete() must not write its (older) answer after it; the map
   * holds only keys being fetched.
   */
  const fetching = new Map<string, { running: number; deletes: number }>()

  const keyOf = (key: K): string => {
    let scope = 'z' // cacheKey(null): no string scope encodes like this
    if (o.scope !== 'shared') {
      const s = o.scope(key)
      if (typeof s !== 'string' || s === '') {
        throw new TypeError(
          `cached("${o.name}"): \`scope\` must return a non-empty string naming whose entry this is (a user, a tenant…), got ${show(s)}. ` +
            `Use scope: 'shared' for entries any caller may see.`,
        )
      }
      scope = cacheKey(s)
    }
    if (o.key === undefined) return prefix + scope + cacheKey(key)
    const parts = o.key(key)
    if (!Array.isArray(parts))
      throw new TypeError(
        `cached("${o.name}"): \`key\` must return an array of key parts, got ${show(parts)}.`,
      )
    return prefix + scope + cacheKey(...(parts as readonly unknown[]))
  }

  /** A store call bounded by `storeTimeout` (and the caller's signal); a sync answer skips the timer. */
  const bounded = <T>(
    op: () => T | PromiseLike<T>,
    signal?: AbortSignal,
  ): T | typeof BYPASS | Promise<T | typeof BYPASS> => {
    let result: T | PromiseLike<T>
    try {
      result = op()
    } catch {
      return BYPASS
    }
    if (!isThenable(result)) return result
    const pending = result
    return withTimeLimit(
      clock,
      signal,
      storeTimeout,
      () => BYPASS,
      () => Promise.resolve(pending),
    ).catch((error: unknown) => {
      if (isCallerAbort(signal, error)) throw error
      return BYPASS
    })
  }

  const write = (storeKey: string, entry: CacheEntry, ttlMs: number): void | Promise<unknown> => {
    const done = bounded(() => store.set(storeKey, entry, ttlMs))
    return isThenable(done) ? done : undefined
  }

  const drop = (storeKey: string): void => {
    const done = bounded(() => store.delete(storeKey))
    if (isThenable(done)) done.then(undefined, () => {})
  }

  const times = (now: number, lifetime: number, swrMs: number, sieMs: number) => ({
    format: CACHE_ENTRY_FORMAT as typeof CACHE_ENTRY_FORMAT,
    version,
    storedAt: now,
    freshUntil: now + lifetime,
    staleUntil: now + lifetime + swrMs,
    errorUntil: now + lifetime + sieMs,
  })

  /** The call to `fn` that a flight shares: its outcome is written to the store before callers hear of it. */
  const fetchAndStore = async (storeKey: string, key: K, signal: AbortSignal): Promise<V> => {
    let state = fetching.get(storeKey)
    if (state === undefined) fetching.set(storeKey, (state = { running: 0, deletes: 0 }))
    state.running++
    const deletesBefore = state.deletes
    try {
      return await fetchAndStoreOnce(storeKey, key, signal, () => state.deletes !== deletesBefore)
    } finally {
      if (--state.running === 0) fetching.delete(storeKey)
    }
  }

  const fetchAndStoreOnce = async (
    storeKey: string,
    key: K,
    signal: AbortSignal,
    deleted: () => boolean,
  ): Promise<V> => {
    let value: V
    try {
      value = await callFn(key, signal)
    } catch (error) {
      const negative = o.negative
      if (negative !== undefined && !signal.aborted && !deleted() && remembers(negative, error)) {
        const entry: CacheEntry = {
          ...times(clock.now(), negative.ttl, 0, 0),
          kind: 'error',
          status: statusOf(error) ?? null,
          code: codeOf(error) ?? null,
        }
        await write(storeKey, entry, negative.ttl)
      }
      throw error
    }
    // Deleted while it was fetched: the answer may predate the change that caused the delete.
    if (deleted()) return value
    if (!storable(value)) {
      // Nothing is kept, and nothing older stands in for it: a key whose answers stopped being
      // storable must not keep serving the last one that was.
      drop(storeKey)
      return value
    }
    await write(
      storeKey,
      { ...times(clock.now(), ttl, swr, sie), kind: 'value', value },
      ttl + Math.max(swr, sie),
    )
    return value
  }

  const load = (storeKey: string, key: K, signal?: AbortSignal): Promise<V> =>
    flights.run(storeKey, (flightSignal) => fetchAndStore(storeKey, key, flightSignal), { signal })

  const lookup = async (key: K, signal: AbortSignal | undefined): Promise<CachedResult<V>> => {
    if (signal?.aborted === true) throw signal.reason
    const storeKey = keyOf(key)
    const read = bounded(() => store.get(storeKey), signal)
    const raw = isThenable(read) ? await read : read
    // null too: what a networked store's client returns for a missing key.
    const absent = raw === BYPASS || raw === undefined || raw === null
    let entry = absent ? undefined : readEntry(raw)
    if (!absent && (entry === undefined || entry.version !== version)) {
      entry = undefined
      drop(storeKey)
    }
    const state = entry === undefined ? 'expired' : judge(entry, clock.now())
    if (entry === undefined || state === 'expired')
      return { value: await load(storeKey, key, signal), status: 'miss' }
    if (entry.kind === 'error') throw new CachedError(o.name, entry.status, entry.code)
    const value = entry.value as V
    if (state === 'fresh') return { value, status: 'hit' }
    if (state === 'stale') {
      // Served now; the refresh joins (or is joined by) any load of this key, so one runs at a time.
      load(storeKey, key).then(undefined, () => {})
      return { value, status: 'stale' }
    }
    try {
      return { value: await load(storeKey, key, signal), status: 'miss' }
    } catch (error) {
      if (isCallerAbort(signal, error) || !isTransient(error)) throw error
      return { value, status: 'stale-if-error' }
    }
  }

  /** Where `now` falls in the entry's life, capped by this cache's own lifetimes (K1). */
  const judge = (
    entry: CacheEntry,
    now: number,
  ): 'fresh' | 'stale' | 'error-window' | 'expired' => {
    if (!(now >= entry.storedAt)) return 'expired'
    const age = now - entry.storedAt
    if (entry.kind === 'error')
      return now < entry.freshUntil && age < (o.negative?.ttl ?? 0) ? 'fresh' : 'expired'
    if (now < entry.freshUntil && age < ttl) return 'fresh'
    if (now < entry.staleUntil && age < ttl + swr) return 'stale'
    if (now < entry.errorUntil && age < ttl + sie) return 'error-window'
    return 'expired'
  }

  const entry = (key: K, options?: CachedCallOptions): Promise<CachedResult<V>> =>
    lookup(key, own(options).signal)
  const call = (key: K, options?: CachedCallOptions): Promise<V> =>
    entry(key, options).then((r) => r.value)
  return Object.assign(call, {
    entry,
    async delete(key: K): Promise<void> {
      const storeKey = keyOf(key)
      // A fetch in progress started before the change: it must neither be joined by later calls
      // nor write its answer over the deletion.
      flights.forget(storeKey)
      const state = fetching.get(storeKey)
      if (state !== undefined) state.deletes++
      const result = store.delete(storeKey)
      if (!isThenable(result)) return
      await withTimeLimit(
        clock,
        undefined,
        storeTimeout,
        () =>
          new TimeoutError(
            `cached("${o.name}"): the store did not finish deleting an entry within \`storeTimeout\` (${storeTimeout} ms)`,
            storeTimeout,
          ),
        () => Promise.resolve(result),
      )
    },
  })
}

interface Parsed<K, V = unknown> {
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
}

function parseOptions<K, V>(where: string, options: CachedOptions<K, V>): Parsed<K, V> {
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
  const scope = opts.scope
  if (scope !== 'shared' && typeof scope !== 'function') {
    throw new InvalidOptionError(
      `${where}: \`scope\` is required and must be 'shared' or a function (key) => string, got ${show(scope)}. ` +
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
  return {
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
  }
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

function remembers(negative: NonNullable<Parsed<unknown>['negative']>, error: unknown): boolean {
  if (negative.when === undefined) {
    const status = statusOf(error)
    return status === 404 || status === 410
  }
  try {
    return Boolean(negative.when(error))
  } catch {
    // A broken predicate must not replace the caller's real error with its own: just don't cache.
    return false
  }
}

/**
 * Whether a stale value may stand in for this failure: 500, 502, 503, 504 or a network error —
 * including a fanout time limit on the fetch (an upstream that does not answer in time is down
 * as far as the caller can tell).
 */
function isTransient(error: unknown): boolean {
  // retry() stopped by its budget: judge the upstream's own last error.
  if (isFanoutError(error, 'FANOUT_RETRY_BUDGET')) return isTransient(error.cause)
  const status = statusOf(error)
  if (status !== undefined) return STALE_IF_ERROR_STATUSES.has(status)
  if (isFanoutError(error, 'FANOUT_TIMEOUT')) return true
  const code = codeOf(error)
  return code !== undefined && TRANSIENT_ERROR_CODES.has(code)
}

function isCallerAbort(signal: AbortSignal | undefined, error: unknown): boolean {
  return signal !== undefined && signal.aborted && error === signal.reason
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

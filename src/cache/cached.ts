/**
 * `cached(fn, options)`: a read-through cache in front of a function that fetches by key, with
 * stale-while-revalidate, stale-if-error, negative caching and stampede protection.
 *
 * Invariants (and every timer and listener is released on every path):
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
 * - a failing store fails no call (a get or set that throws or outlasts `storeTimeout` is a miss
 *   or an unsaved value) unless it is misconfigured (`StoreError`); an entry of another version
 *   or layout is a miss and is deleted;
 * - `delete(key)` wins over a fetch of that key already in progress: the fetch's answer is not
 *   stored and later calls do not join it (read-after-invalidate);
 * - with a `flight`, concurrent misses of one key across processes make one call to `fn`: the
 *   others wait for its entry (bounded by deadline, signal and lease) and take over from a holder
 *   whose lease ended, which then does not write; callers holding a stale entry never wait for
 *   another process's refresh; a failing flight degrades to one call per process;
 * - a caller's `context` (a flow task's ctx) is carried to `fn`: `fn` gets the flight's shared
 *   context (see `SharedContext`: its signal aborts when every caller has left, its deadline is
 *   the latest of the waiting callers', its events reach each of them).
 */
import type { CallContext } from '../core/call.js'
import { InvalidOptionError, TimeoutError } from '../core/errors.js'
import { own } from '../core/own.js'
import { checkContext, checkSignalOrContext } from '../core/shared-context.js'
import { withTimeLimit } from '../core/time-limit.js'
import { teeRecorder, type Recorder } from '../core/trace.js'
import { show } from '../core/validate.js'
import { codeOf, statusOf } from '../policies/classify.js'
import { flightFetch, REFRESHED_ELSEWHERE, type Filled, type FlightWork } from './cached-flight.js'
import {
  MAX_CACHE_TTL,
  parseOptions,
  type CachedOptions,
  type NegativeCacheOptions,
  type Parsed,
} from './cached-options.js'
import { CachedError } from './cached-error.js'
import { entryTimes, judgeEntry } from './cached-lifetime.js'
import { CacheCounts, type CachedStats } from './cached-stats.js'
import {
  bounded,
  BYPASS,
  isCallerAbort,
  isStoreError,
  isThenable,
  isTransient,
  remembers,
} from './cached-util.js'
import { cacheKey } from './key.js'
import { singleFlight, type SingleFlight } from './single-flight.js'
import { isStorable } from './storable.js'
import { readEntry, type CacheEntry } from './store.js'

export {
  CachedError,
  MAX_CACHE_TTL,
  type CachedOptions,
  type CachedStats,
  type NegativeCacheOptions,
}

/** How a value was served: fetched now, fresh from the cache, stale while a refresh runs, or stale because the refresh failed. */
export type CacheStatus = 'miss' | 'hit' | 'stale' | 'stale-if-error'

/**
 * What `fn` receives: the context of the fetch that every caller of the key shares. Its signal
 * aborts when every caller waiting for this call has left (pass it to `fetch`); its deadline is
 * the latest of theirs; its trace reaches each of them. Pass it on whole to the HTTP client
 * (`{ context: ctx }`) or to a policy's call.
 */
export type CachedContext = CallContext

export interface CachedCallOptions {
  /** Stops this caller waiting; a call to `fn` shared with other callers runs on for them. */
  readonly signal?: AbortSignal | undefined
  /**
   * The caller's context (a flow task's `ctx`): its signal stops this caller waiting, its
   * deadline and trace reach `fn` (see `CachedContext`). Give this or `signal`, not both.
   */
  readonly context?: CallContext | undefined
}

export interface CachedResult<V> {
  readonly value: V
  readonly status: CacheStatus
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
  /** A snapshot for a health endpoint or `prometheusText()`: each lookup counted once, by how it was served. */
  stats(): CachedStats
}

/** One caller of the cache: its signal, and where its events go (its context's trace and `onEvent`). */
interface Caller {
  readonly signal: AbortSignal | undefined
  readonly context: CallContext | undefined
  readonly trace: Recorder
}

export function cached<K, V>(
  fn: (key: K, ctx: CachedContext) => V | PromiseLike<V>,
  options: CachedOptions<NoInfer<K>, NoInfer<V>>,
): Cached<K, V> {
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(
      `cached(): the first argument must be the function that fetches a value, (key, ctx) => value, got ${show(fn)}.`,
    )
  }
  const cache = new ReadThrough<K, V>(fn, parseOptions<K, V>('cached()', options))
  const entry = (key: K, options?: CachedCallOptions): Promise<CachedResult<V>> => {
    let caller: Caller
    try {
      caller = cache.caller(options)
    } catch (error) {
      return Promise.reject(error)
    }
    return cache.lookup(key, caller)
  }
  const call = (key: K, options?: CachedCallOptions): Promise<V> =>
    entry(key, options).then((r) => r.value)
  return Object.assign(call, {
    entry,
    delete: (key: K) => cache.delete(key),
    stats: () => cache.counts.snapshot(cache.o.name),
  })
}

/** The cache behind `cached()`: lookups, the shared fetch and its write, deletes. */

class ReadThrough<K, V> {
  readonly counts = new CacheCounts()
  readonly #prefix: string
  readonly #flights: SingleFlight
  /**
   * Per key with a fetch in progress: how many, and how often the key was deleted meanwhile. A
   * fetch that started before a delete() must not write its (older) answer after it; the map
   * holds only keys being fetched.
   */
  readonly #fetching = new Map<string, { running: number; deletes: number }>()

  constructor(
    readonly fn: (key: K, ctx: CachedContext) => V | PromiseLike<V>,
    readonly o: Parsed<K, V>,
  ) {
    this.#prefix = `${o.name}:`
    this.#flights = singleFlight({ name: o.name, clock: o.clock, trace: o.trace })
  }

  caller(options: CachedCallOptions | undefined): Caller {
    const { signal, context: raw } = own(options)
    checkSignalOrContext('cached() call', signal, raw)
    if (raw === undefined) return { signal, context: undefined, trace: this.o.trace }
    const context = checkContext('cached() call', raw)
    return { signal: context.signal, context, trace: teeRecorder(context.trace, this.o.trace) }
  }

  #event(caller: Caller, type: 'cache.hit' | 'cache.missed'): void {
    if (type === 'cache.hit') this.counts.hits++
    else this.counts.misses++
    const trace = caller.trace
    if (trace.enabled)
      trace.emit({ type, task: this.#task(caller), at: this.o.clock.now(), cache: this.o.name })
  }

  #task(caller: Caller): string {
    return caller.context?.task ?? this.o.name
  }

  keyOf(key: K): string {
    const o = this.o
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
    if (o.key === undefined) return this.#prefix + scope + cacheKey(key)
    const parts = o.key(key)
    if (!Array.isArray(parts))
      throw new TypeError(
        `cached("${o.name}"): \`key\` must return an array of key parts, got ${show(parts)}.`,
      )
    return this.#prefix + scope + cacheKey(...(parts as readonly unknown[]))
  }

  #storable(value: V): boolean {
    try {
      const o = this.o
      return o.storable === undefined
        ? isStorable(value, o.scope === 'shared')
        : Boolean(o.storable(value))
    } catch {
      // A broken predicate (or a value whose headers throw when read) must not fail the callers
      // of a value fetched fine: just don't store it.
      return false
    }
  }

  /** A store call bounded by `storeTimeout` (and the caller's signal); a sync answer skips the timer. */
  #bounded<T>(
    op: () => T | PromiseLike<T>,
    signal?: AbortSignal,
  ): T | typeof BYPASS | Promise<T | typeof BYPASS> {
    // A store that is down reads as a miss; one that is misconfigured (a key of another type
    // under its prefix, E12) must say so, not quietly turn every read into a miss.
    return bounded(this.o.clock, this.o.storeTimeout, op, signal, isStoreError)
  }

  #write(storeKey: string, entry: CacheEntry, ttlMs: number, ctx: CallContext): unknown {
    const trace = ctx.trace
    if (trace.enabled) {
      const kind = entry.kind
      trace.emit({
        type: 'cache.stored',
        task: ctx.task,
        at: this.o.clock.now(),
        cache: this.o.name,
        kind,
        ttlMs,
      })
    }
    const done = this.#bounded(() => this.o.store.set(storeKey, entry, ttlMs))
    return isThenable(done) ? done : undefined
  }

  #drop(storeKey: string): void {
    const done = this.#bounded(() => this.o.store.delete(storeKey))
    if (isThenable(done)) done.then(undefined, () => {})
  }

  /** `fn` under the `timeout` option: its context gets a signal the time limit aborts. */
  #callFn(key: K, ctx: CallContext): Promise<V> {
    const { timeout, clock, name } = this.o
    if (timeout === undefined) return Promise.resolve(this.fn(key, ctx))
    const deadlineAt = Math.min(ctx.deadlineAt, clock.now() + timeout)
    return withTimeLimit(
      clock,
      ctx.signal,
      timeout,
      () =>
        new TimeoutError(
          `cached("${name}"): the call to fn took longer than ${timeout} ms`,
          timeout,
        ),
      (signal) => Promise.resolve(this.fn(key, { ...ctx, signal, deadlineAt })),
    )
  }

  /** The call to `fn` that a flight shares: its outcome is written to the store before callers hear of it. */
  async #fetchAndStore(
    storeKey: string,
    key: K,
    ctx: CallContext,
    mayWrite?: () => Promise<boolean>,
  ): Promise<V> {
    let state = this.#fetching.get(storeKey)
    if (state === undefined) this.#fetching.set(storeKey, (state = { running: 0, deletes: 0 }))
    state.running++
    const deletesBefore = state.deletes
    try {
      return await this.#fetchAndStoreOnce(
        storeKey,
        key,
        ctx,
        () => state.deletes !== deletesBefore,
        mayWrite,
      )
    } finally {
      if (--state.running === 0) this.#fetching.delete(storeKey)
    }
  }

  async #fetchAndStoreOnce(
    storeKey: string,
    key: K,
    ctx: CallContext,
    deleted: () => boolean,
    mayWrite: (() => Promise<boolean>) | undefined,
  ): Promise<V> {
    const { clock, ttl, swr, sie } = this.o
    let value: V
    try {
      value = await this.#callFn(key, ctx)
    } catch (error) {
      const negative = this.o.negative
      if (
        negative !== undefined &&
        !ctx.signal.aborted &&
        !deleted() &&
        remembers(negative, error) &&
        (mayWrite === undefined || (await mayWrite()))
      ) {
        const entry: CacheEntry = {
          ...entryTimes(this.o.version, clock.now(), negative.ttl, 0, 0),
          kind: 'error',
          status: statusOf(error) ?? null,
          code: codeOf(error) ?? null,
        }
        await this.#write(storeKey, entry, negative.ttl, ctx)
      }
      throw error
    }
    // Deleted while it was fetched: the answer may predate the change that caused the delete.
    if (deleted()) return value
    if (!this.#storable(value)) {
      // Nothing is kept, and nothing older stands in for it: a key whose answers stopped being
      // storable must not keep serving the last one that was.
      this.#drop(storeKey)
      return value
    }
    if (mayWrite !== undefined && !(await mayWrite())) return value
    const times = entryTimes(this.o.version, clock.now(), ttl, swr, sie)
    const entry: CacheEntry = { ...times, kind: 'value', value }
    await this.#write(storeKey, entry, ttl + Math.max(swr, sie), ctx)
    return value
  }

  /**
   * The shared load of a key. `stale`: the caller holds a stale entry it may serve; with a
   * cross-process flight, a load that finds another process refreshing rejects with
   * `REFRESHED_ELSEWHERE` instead of waiting (and callers without an entry who joined it load
   * again, see `#miss`).
   */
  #load(storeKey: string, key: K, caller: Caller | undefined, stale: boolean): Promise<V> {
    const fetch = (ctx: CallContext, mayWrite?: () => Promise<boolean>): Promise<V> =>
      this.#fetchAndStore(storeKey, key, ctx, mayWrite)
    const flight = this.o.flight
    const work =
      flight === undefined
        ? fetch
        : (ctx: CallContext): Promise<V> =>
            flightFetch(this.#flightWork(flight, storeKey, fetch), storeKey, ctx, stale)
    if (caller === undefined) return this.#flights.run(storeKey, work)
    return this.#flights.run(
      storeKey,
      work,
      caller.context !== undefined ? { context: caller.context } : { signal: caller.signal },
    )
  }

  #flightWork(
    flight: NonNullable<Parsed<K, V>['flight']>,
    storeKey: string,
    fetch: FlightWork<V>['fetch'],
  ): FlightWork<V> {
    const { clock, storeTimeout, name, flightLease } = this.o
    const filled = async (signal: AbortSignal): Promise<Filled<V> | undefined> => {
      const read = this.#read(storeKey, signal)
      const entry = isThenable(read) ? await read : read
      if (entry === undefined || judgeEntry(this.o, entry, clock.now()) !== 'fresh')
        return undefined
      if (entry.kind === 'error') return { error: new CachedError(name, entry.status, entry.code) }
      return { value: entry.value as V }
    }
    return { flight, lease: flightLease, clock, storeTimeout, name, filled, fetch }
  }

  /** The store's entry for `storeKey`, or undefined (missing, unreadable, of another version). */
  #read(
    storeKey: string,
    signal: AbortSignal | undefined,
  ): CacheEntry | undefined | Promise<CacheEntry | undefined> {
    const read = this.#bounded(() => this.o.store.get(storeKey), signal)
    // A synchronous store answers without a tick: the call to `fn` starts in the caller's turn.
    return isThenable(read)
      ? read.then((raw) => this.#entryOf(storeKey, raw))
      : this.#entryOf(storeKey, read)
  }

  #entryOf(storeKey: string, raw: unknown): CacheEntry | undefined {
    // null too: what a networked store's client returns for a missing key.
    if (raw === BYPASS || raw === undefined || raw === null) return undefined
    const entry = readEntry(raw)
    if (entry !== undefined && entry.version === this.o.version) return entry
    this.#drop(storeKey)
    return undefined
  }

  async lookup(key: K, caller: Caller): Promise<CachedResult<V>> {
    const signal = caller.signal
    if (signal?.aborted === true) throw signal.reason
    const storeKey = this.keyOf(key)
    const read = this.#read(storeKey, signal)
    const entry = isThenable(read) ? await read : read
    const state = entry === undefined ? 'expired' : judgeEntry(this.o, entry, this.o.clock.now())
    if (entry === undefined || state === 'expired') {
      this.#event(caller, 'cache.missed')
      return { value: await this.#miss(storeKey, key, caller), status: 'miss' }
    }
    if (entry.kind === 'error') {
      this.#event(caller, 'cache.hit')
      throw new CachedError(this.o.name, entry.status, entry.code)
    }
    const value = entry.value as V
    if (state === 'fresh') {
      this.#event(caller, 'cache.hit')
      return { value, status: 'hit' }
    }
    if (state === 'stale') {
      this.#staleServed(caller, 'revalidating')
      // Served now; the refresh joins (or is joined by) any load of this key, so one runs at a
      // time. It is nobody's call: no caller's signal, deadline or trace.
      this.#load(storeKey, key, undefined, true).then(undefined, () => {})
      return { value, status: 'stale' }
    }
    this.#event(caller, 'cache.missed')
    try {
      return { value: await this.#load(storeKey, key, caller, true), status: 'miss' }
    } catch (error) {
      if (error === REFRESHED_ELSEWHERE) {
        this.#staleServed(caller, 'revalidating', true)
        return { value, status: 'stale' }
      }
      if (isCallerAbort(signal, error) || !isTransient(error)) throw error
      this.#staleServed(caller, 'error', true)
      return { value, status: 'stale-if-error' }
    }
  }

  /** A load for a caller with nothing to serve: one that joined a refresh which left it to another process loads again. */
  async #miss(storeKey: string, key: K, caller: Caller): Promise<V> {
    for (;;) {
      try {
        return await this.#load(storeKey, key, caller, false)
      } catch (error) {
        if (error !== REFRESHED_ELSEWHERE) throw error
      }
    }
  }

  /** `missed`: the lookup counted as a miss when it went to wait for the refresh; it is none. */
  #staleServed(caller: Caller, reason: 'revalidating' | 'error', missed = false): void {
    const counts = this.counts
    if (missed) counts.misses--
    if (reason === 'revalidating') counts.staleServed++
    else counts.staleIfError++
    const trace = caller.trace
    if (trace.enabled) {
      const at = this.o.clock.now()
      trace.emit({
        type: 'cache.staleServed',
        task: this.#task(caller),
        at,
        cache: this.o.name,
        reason,
      })
    }
  }

  async delete(key: K): Promise<void> {
    const { store, clock, storeTimeout, name } = this.o
    const storeKey = this.keyOf(key)
    // A fetch in progress started before the change: it must neither be joined by later calls
    // nor write its answer over the deletion.
    this.#flights.forget(storeKey)
    const state = this.#fetching.get(storeKey)
    if (state !== undefined) state.deletes++
    const result = store.delete(storeKey)
    if (!isThenable(result)) return
    await withTimeLimit(
      clock,
      undefined,
      storeTimeout,
      () =>
        new TimeoutError(
          `cached("${name}"): the store did not finish deleting an entry within \`storeTimeout\` (${storeTimeout} ms)`,
          storeTimeout,
        ),
      () => Promise.resolve(result),
    )
  }
}

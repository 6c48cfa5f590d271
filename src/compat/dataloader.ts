/**
 * A drop-in for DataLoader 2.2: `import DataLoader from 'fanout/compat/dataloader'` instead of
 * 'dataloader'. Same constructor, options (`batch`, `maxBatchSize`, `batchScheduleFn`, `cache`,
 * `cacheKeyFn`, `cacheMap`, `name`), methods and semantics, down to the microtask:
 *
 * - the positional contract: the batch function gets the keys (with the loader as `this`) and
 *   returns a promise of an array-like of the same length, value i for key i; an `Error` value
 *   rejects its key alone; anything else (a throw, a non-promise, a rejected promise, a
 *   non-array or an array of another length) rejects every key of the batch with DataLoader's
 *   own TypeError (or the rejection reason), and those keys are cleared from the cache (through
 *   `this.clear`, as DataLoader does);
 * - dispatch after the current tick, loads made in `.then` callbacks of that tick included (the
 *   same post-promise-job scheduling, `afterTick`), or when `batchScheduleFn` says;
 * - a cache hit returns a new promise that settles with its batch, not before, and cache hits
 *   settle before the batch's fresh values; without the cache, repeated keys repeat in the batch;
 * - `prime` never overwrites, an `Error` primes a rejection, `clear`/`clearAll`/`prime` chain;
 * - DataLoader's error messages for misuse (missing function, null key, bad options, ...).
 *
 * Batches are collected, closed and sent by `Batcher`, the engine `Loader` uses (on `Loader`'s own
 * `Batch`); this module adds only DataLoader's contract: the positional answer, its cache map and
 * its messages.
 *
 * One deliberate difference: the default cache map is bounded. It keeps at most 10,000 keys and
 * forgets the oldest first (insertion order) — an unbounded memo is the leak DataLoader's users
 * are told to work around by creating loaders per request. Below the bound the behaviour is
 * identical; pass `cacheMap: new Map()` for DataLoader's unbounded cache, or any Map-like (an
 * LRU, for instance) for another policy.
 */
import { Batcher } from '../batch/batcher.js'
import { systemClock } from '../core/clock.js'
import * as Types from './dataloader-options.js'
import { callPositional, HitBatch, resolveHits } from './dataloader-answer.js'
import { concat, isArrayLike, settingsOf } from './dataloader-options.js'

/** Keys memoized at most by the default cache map; the oldest go first. */
const DEFAULT_CACHE_SIZE = 10_000

/** A function given an array of keys that returns a promise of an array of values or Errors. */
export type BatchLoadFn<K, V> = DataLoader.BatchLoadFn<K, V>
/** A custom cache: any object with Map's `get`, `set`, `delete` and `clear`. */
export type CacheMap<K, V> = DataLoader.CacheMap<K, V>
/** DataLoader's options. */
export type Options<K, V, C = K> = DataLoader.Options<K, V, C>

// One shared executor instead of a closure per load (the executor runs synchronously).
let capturedResolve: ((value: unknown) => void) | undefined
let capturedReject: ((reason: unknown) => void) | undefined
const capture = (resolve: (value: never) => void, reject: (reason: unknown) => void): void => {
  capturedResolve = resolve as (value: unknown) => void
  capturedReject = reject
}

const returnError = (error: unknown): unknown => error

class DataLoader<K, V, C = K> {
  /** The name given in the options, for APM tools; `null` when none. */
  name: string | null
  readonly #batchLoadFn: BatchLoadFn<K, V>
  readonly #cacheKeyFn: ((key: K) => C) | undefined
  /** Falsy when caching is off (DataLoader tests it for truthiness, so `cacheMap: false` turns it off too). */
  readonly #cacheMap: CacheMap<unknown, Promise<V>> | null
  /** True for the default map, which this loader bounds. */
  readonly #bounded: boolean
  readonly #batcher: Batcher<HitBatch<K>>

  constructor(batchLoadFn: BatchLoadFn<K, V>, options?: Options<K, V, C>) {
    const settings = settingsOf(batchLoadFn, options)
    this.#batchLoadFn = batchLoadFn
    this.#cacheKeyFn = settings.cacheKeyFn as ((key: K) => C) | undefined
    this.#bounded = settings.cacheMap === undefined
    this.#cacheMap =
      settings.cacheMap === undefined
        ? new Map()
        : (settings.cacheMap as CacheMap<unknown, Promise<V>> | null)
    this.name = settings.name
    const scheduleFn = settings.batchScheduleFn
    this.#batcher = new Batcher<HitBatch<K>>({
      maxBatchSize: settings.maxBatchSize,
      maxBatchCost: Infinity,
      wait: 0,
      // DataLoader calls its schedule function with the loader as `this`.
      schedule: scheduleFn && ((dispatch) => scheduleFn.call(this, dispatch)),
      clock: systemClock,
      open: () => new HitBatch<K>(undefined, true),
      send: (batch) => this.#send(batch),
    })
  }

  /** Loads a key: a promise of its value, from the next batch (or the cache). */
  load(key: K): Promise<V> {
    if (key === null || key === undefined) {
      throw new TypeError(
        'The loader.load() function must be called with a value, but got: ' + String(key) + '.',
      )
    }
    const batcher = this.#batcher
    const batch = batcher.current ?? batcher.collecting(undefined, 0)
    const cacheMap = this.#cacheMap
    let cacheKey: unknown
    if (cacheMap) {
      cacheKey = this.#cacheKeyFn === undefined ? key : this.#cacheKeyFn.call(this, key)
      const cached = cacheMap.get(cacheKey)
      if (cached) {
        // A hit still waits for the batch it joins (so cached and fresh loads resolve together).
        const promise = new Promise<V>(capture)
        const hits = batch.hits ?? (batch.hits = [])
        hits.push(capturedResolve, cached)
        capturedResolve = capturedReject = undefined
        return promise
      }
    }
    batch.keys.push(key)
    const promise = new Promise<V>(capture)
    batch.resolves.push(capturedResolve!)
    batch.rejects.push(capturedReject!)
    capturedResolve = capturedReject = undefined
    if (cacheMap) {
      cacheMap.set(cacheKey, promise)
      if (this.#bounded) trim(cacheMap as Map<unknown, unknown>)
    }
    batcher.added(batch)
    return promise
  }

  /** Loads many keys: an array with each key's value, or its Error in its place (never rejects). */
  loadMany(keys: ArrayLike<K>): Promise<Array<V | Error>> {
    if (!isArrayLike(keys)) {
      throw new TypeError(
        'The loader.loadMany() function must be called with Array<key> but got: ' +
          concat(keys) +
          '.',
      )
    }
    const promises: Promise<V | Error>[] = []
    for (let i = 0; i < keys.length; i++)
      promises.push(this.load(keys[i]!).catch(returnError as (error: unknown) => Error))
    return Promise.all(promises)
  }

  /** Clears `key` from the cache, if there. Returns the loader. */
  clear(key: K): this {
    const cacheMap = this.#cacheMap
    if (cacheMap)
      cacheMap.delete(this.#cacheKeyFn === undefined ? key : this.#cacheKeyFn.call(this, key))
    return this
  }

  /** Clears the whole cache. Returns the loader. */
  clearAll(): this {
    const cacheMap = this.#cacheMap
    if (cacheMap) cacheMap.clear()
    return this
  }

  /** Caches `value` (an Error: a rejection) for `key` unless the key is cached already. Returns the loader. */
  prime(key: K, value: V | PromiseLike<V> | Error): this {
    const cacheMap = this.#cacheMap
    if (cacheMap) {
      const cacheKey = this.#cacheKeyFn === undefined ? key : this.#cacheKeyFn.call(this, key)
      if (cacheMap.get(cacheKey) === undefined) {
        let promise: Promise<V>
        if (value instanceof Error) {
          promise = Promise.reject(value)
          // Primed on purpose: not an unhandled rejection unless a load ignores it.
          promise.catch(returnError)
        } else {
          promise = Promise.resolve(value)
        }
        cacheMap.set(cacheKey, promise)
        if (this.#bounded) trim(cacheMap as Map<unknown, unknown>)
      }
    }
    return this
  }

  /** A batch the engine sends: an empty one (cache hits only) settles at once, else the batch function is called. */
  #send(batch: HitBatch<K>): void {
    if (batch.keys.length === 0) resolveHits(batch)
    else callPositional(this.#batchLoadFn, this, batch, this.#failed)
  }

  /** The whole batch failed: its keys are not cached (cleared through `this.clear`) and all reject. */
  readonly #failed = (batch: HitBatch<K>, error: unknown): void => {
    resolveHits(batch)
    for (let i = 0; i < batch.keys.length; i++) {
      this.clear(batch.keys[i]!)
      batch.rejects[i]!(error)
    }
  }
}

/** Keeps the default map within its bound: the oldest key (first inserted) goes. */
function trim(map: Map<unknown, unknown>): void {
  if (map.size > DEFAULT_CACHE_SIZE) map.delete(map.keys().next().value)
}

// The types under the class's name too, as DataLoader declares them: `DataLoader.Options<K, V>`.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace DataLoader {
  /** A function given an array of keys (the loader as `this`) that returns a promise of an array of values or Errors, value i for key i. */
  type BatchLoadFn<K, V> = Types.BatchLoadFn<K, V>
  /** A custom cache: any object with Map's `get`, `set`, `delete` and `clear`. */
  type CacheMap<K, V> = Types.CacheMap<K, V>
  type Options<K, V, C = K> = Types.Options<K, V, C>
}

export default DataLoader

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
 * One deliberate difference: the default cache map is bounded. It keeps at most 10,000 keys and
 * forgets the oldest first (insertion order) — an unbounded memo is the leak DataLoader's users
 * are told to work around by creating loaders per request. Below the bound the behaviour is
 * identical; pass `cacheMap: new Map()` for DataLoader's unbounded cache, or any Map-like (an
 * LRU, for instance) for another policy.
 */
import { afterTick } from '../batch/tick.js'
import { hasField } from '../core/own.js'

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

/** One batch: its keys and, in parallel arrays, their callers' resolve and reject functions. */
class Batch<K> {
  dispatched = false
  readonly keys: K[] = []
  readonly resolves: ((value: unknown) => void)[] = []
  readonly rejects: ((reason: unknown) => void)[] = []
  /** Cache hits waiting on this batch, in pairs: the hit's resolve, then the cached promise. */
  hits: unknown[] | undefined = undefined
}

/** Settles the cache hits of a batch with their cached promises (idempotent, as resolving is). */
function resolveHits(batch: Batch<unknown>): void {
  const hits = batch.hits
  if (hits === undefined) return
  batch.hits = undefined
  for (let i = 0; i < hits.length; i += 2) (hits[i] as (value: unknown) => void)(hits[i + 1])
}

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  if (typeof x !== 'object' || x === null) return false
  const length = (x as { length?: unknown }).length
  return (
    typeof length === 'number' &&
    (length === 0 || (length > 0 && Object.prototype.hasOwnProperty.call(x, length - 1)))
  )
}

const CONTRACT =
  'DataLoader must be constructed with a function which accepts Array<key> and returns Promise<Array<value>>, but '

/** Options as DataLoader reads them: any value, property by property (`options && options.x`), own properties only (I10). */
type Loose = Readonly<Record<string, unknown>> | null | undefined
const read = (options: Loose, name: string): unknown =>
  options && (Object.hasOwn(options, name) ? options[name] : undefined)

/** `'' + value`, which is what DataLoader's messages do (not String(): it differs for some objects). */
const concat = (value: unknown): string => '' + (value as string)

class DataLoader<K, V, C = K> {
  /** The name given in the options, for APM tools; `null` when none. */
  name: string | null
  readonly #batchLoadFn: BatchLoadFn<K, V>
  readonly #maxBatchSize: number
  readonly #batchScheduleFn: (callback: () => void) => void
  readonly #cacheKeyFn: ((key: K) => C) | undefined
  /** Falsy when caching is off (DataLoader tests it for truthiness, so `cacheMap: false` turns it off too). */
  readonly #cacheMap: CacheMap<unknown, Promise<V>> | null
  /** True for the default map, which this loader bounds. */
  readonly #bounded: boolean
  #batch: Batch<K> | null = null

  constructor(batchLoadFn: BatchLoadFn<K, V>, options?: Options<K, V, C>) {
    if (typeof batchLoadFn !== 'function') {
      throw new TypeError(CONTRACT + 'got: ' + concat(batchLoadFn) + '.')
    }
    const opts = options as unknown as Loose
    this.#batchLoadFn = batchLoadFn
    this.#maxBatchSize = validMaxBatchSize(opts)
    this.#batchScheduleFn = validBatchScheduleFn(opts)
    const cacheKeyFn = read(opts, 'cacheKeyFn')
    if (cacheKeyFn !== undefined && typeof cacheKeyFn !== 'function')
      throw new TypeError('cacheKeyFn must be a function: ' + concat(cacheKeyFn))
    this.#cacheKeyFn = cacheKeyFn as ((key: K) => C) | undefined
    const cacheMap = validCacheMap(opts)
    this.#bounded = cacheMap === undefined
    this.#cacheMap =
      cacheMap === undefined ? new Map() : (cacheMap as CacheMap<unknown, Promise<V>> | null)
    const name = read(opts, 'name')
    this.name = name ? (name as string) : null
  }

  /** Loads a key: a promise of its value, from the next batch (or the cache). */
  load(key: K): Promise<V> {
    if (key === null || key === undefined) {
      throw new TypeError(
        'The loader.load() function must be called with a value, but got: ' + String(key) + '.',
      )
    }
    const batch = this.#currentBatch()
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

  /** The batch collecting loads, or a new one (its dispatch scheduled) when it is sent or full. */
  #currentBatch(): Batch<K> {
    const existing = this.#batch
    if (existing !== null && !existing.dispatched && existing.keys.length < this.#maxBatchSize)
      return existing
    const batch = new Batch<K>()
    this.#batch = batch
    this.#batchScheduleFn.call(this, () => this.#dispatch(batch))
    return batch
  }

  #dispatch(batch: Batch<K>): void {
    batch.dispatched = true
    if (this.#batch === batch) this.#batch = null // a sent batch is never joined; let it go when it settles
    if (batch.keys.length === 0) {
      resolveHits(batch)
      return
    }
    let batchPromise: unknown
    try {
      batchPromise = this.#batchLoadFn.call(this, batch.keys)
    } catch (error) {
      this.#failed(
        batch,
        new TypeError(CONTRACT + 'the function errored synchronously: ' + String(error) + '.'),
      )
      return
    }
    if (!batchPromise || typeof (batchPromise as PromiseLike<unknown>).then !== 'function') {
      this.#failed(
        batch,
        new TypeError(
          CONTRACT + 'the function did not return a Promise: ' + String(batchPromise) + '.',
        ),
      )
      return
    }
    // `.then(…).catch(…)` as DataLoader chains it, so failures arrive on the same microtask.
    ;(
      (batchPromise as PromiseLike<unknown>).then((values) => {
        if (!isArrayLike(values)) {
          throw new TypeError(
            CONTRACT + 'the function did not return a Promise of an Array: ' + String(values) + '.',
          )
        }
        if (values.length !== batch.keys.length) {
          throw new TypeError(
            CONTRACT +
              'the function did not return a Promise of an Array of the same length as the Array of keys.' +
              '\n\nKeys:\n' +
              String(batch.keys) +
              '\n\nValues:\n' +
              String(values),
          )
        }
        // Cache hits settle in the same microtask as the fresh values, just before them.
        resolveHits(batch)
        const { resolves, rejects } = batch
        for (let i = 0; i < resolves.length; i++) {
          const value = values[i]
          if (value instanceof Error) rejects[i]!(value)
          else resolves[i]!(value)
        }
      }) as Promise<void>
    ).catch((error: unknown) => this.#failed(batch, error))
  }

  /** The whole batch failed: its keys are not cached (cleared through `this.clear`) and all reject. */
  #failed(batch: Batch<K>, error: unknown): void {
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

function validMaxBatchSize(options: Loose): number {
  if (!(!options || read(options, 'batch') !== false)) return 1
  const maxBatchSize = read(options, 'maxBatchSize')
  if (maxBatchSize === undefined) return Infinity
  if (typeof maxBatchSize !== 'number' || maxBatchSize < 1)
    throw new TypeError('maxBatchSize must be a positive number: ' + concat(maxBatchSize))
  return maxBatchSize
}

function validBatchScheduleFn(options: Loose): (callback: () => void) => void {
  const batchScheduleFn = read(options, 'batchScheduleFn')
  if (batchScheduleFn === undefined) return afterTick
  if (typeof batchScheduleFn !== 'function')
    throw new TypeError('batchScheduleFn must be a function: ' + concat(batchScheduleFn))
  return batchScheduleFn as (callback: () => void) => void
}

/** The custom cache map, `null`/falsy for none, or `undefined` for the default (bounded) one. */
function validCacheMap(options: Loose): unknown {
  if (!(!options || read(options, 'cache') !== false)) return null
  const cacheMap = read(options, 'cacheMap')
  if (cacheMap === undefined) return undefined
  if (cacheMap !== null) {
    const missing = ['get', 'set', 'delete', 'clear'].filter(
      (method) =>
        cacheMap &&
        (!hasField(Object(cacheMap), method) ||
          typeof (cacheMap as Record<string, unknown>)[method] !== 'function'),
    )
    if (missing.length !== 0)
      throw new TypeError('Custom cacheMap missing methods: ' + missing.join(', '))
  }
  return cacheMap
}

// The types under the class's name too, as DataLoader declares them: `DataLoader.Options<K, V>`.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace DataLoader {
  /** A function given an array of keys (the loader as `this`) that returns a promise of an array of values or Errors, value i for key i. */
  type BatchLoadFn<K, V> = (keys: ReadonlyArray<K>) => PromiseLike<ArrayLike<V | Error>>

  /** A custom cache: any object with Map's `get`, `set`, `delete` and `clear`. */
  interface CacheMap<K, V> {
    get(key: K): V | void
    set(key: K, value: V): unknown
    delete(key: K): unknown
    clear(): unknown
  }

  interface Options<K, V, C = K> {
    /** Default true. false: one key per batch call (as `maxBatchSize: 1`). */
    batch?: boolean | undefined
    /** Default Infinity. Keys per batch call at most. */
    maxBatchSize?: number | undefined
    /** Schedules a batch's dispatch (called with the loader as `this`); default: after the current tick. */
    batchScheduleFn?: ((callback: () => void) => void) | undefined
    /** Default true. false: no memo at all (as `cacheMap: null`). */
    cache?: boolean | undefined
    /** Default `key => key`: the cache key of a load key (called with the loader as `this`). */
    cacheKeyFn?: ((key: K) => C) | undefined
    /** The memo. Default: a Map bounded to 10,000 keys (oldest out first); `new Map()` for DataLoader's unbounded one, `null` for none. */
    cacheMap?: CacheMap<C, Promise<V>> | null | undefined
    /** Shown by APM tools; `null` when not given. */
    name?: string | null | undefined
  }
}

export default DataLoader

/**
 * The DataLoader drop-in's types and option checks, with DataLoader's own messages and order of
 * checks. Kept apart from the loader so it reads as what it is: a thin layer over the batching
 * engine that `Loader` uses.
 */
import { hasField } from '../core/own.js'

/** A function given an array of keys (the loader as `this`) that returns a promise of an array of values or Errors, value i for key i. */
export type BatchLoadFn<K, V> = (keys: ReadonlyArray<K>) => PromiseLike<ArrayLike<V | Error>>

/** A custom cache: any object with Map's `get`, `set`, `delete` and `clear`. */
export interface CacheMap<K, V> {
  get(key: K): V | void
  set(key: K, value: V): unknown
  delete(key: K): unknown
  clear(): unknown
}

export interface Options<K, V, C = K> {
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

export const CONTRACT =
  'DataLoader must be constructed with a function which accepts Array<key> and returns Promise<Array<value>>, but '

/** `'' + value`, which is what DataLoader's messages do (not String(): it differs for some objects). */
export const concat = (value: unknown): string => '' + (value as string)

export function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  if (typeof x !== 'object' || x === null) return false
  const length = (x as { length?: unknown }).length
  return (
    typeof length === 'number' &&
    (length === 0 || (length > 0 && Object.prototype.hasOwnProperty.call(x, length - 1)))
  )
}

/** The options, checked in DataLoader's order (maxBatchSize, batchScheduleFn, cacheKeyFn, cacheMap). */
export interface Settings {
  readonly maxBatchSize: number
  /** `undefined`: after the tick, the batching engine's default. */
  readonly batchScheduleFn: ((callback: () => void) => void) | undefined
  readonly cacheKeyFn: ((key: unknown) => unknown) | undefined
  /** `undefined` for the default (bounded) map, falsy for none. */
  readonly cacheMap: unknown
  readonly name: string | null
}

/** Options as DataLoader reads them: any value, property by property (`options && options.x`), own properties only (I10). */
type Loose = Readonly<Record<string, unknown>> | null | undefined
const read = (options: Loose, name: string): unknown =>
  options && (Object.hasOwn(options, name) ? options[name] : undefined)

export function settingsOf(batchLoadFn: unknown, options: unknown): Settings {
  if (typeof batchLoadFn !== 'function') {
    throw new TypeError(CONTRACT + 'got: ' + concat(batchLoadFn) + '.')
  }
  const opts = options as Loose
  const maxBatchSize = validMaxBatchSize(opts)
  const batchScheduleFn = read(opts, 'batchScheduleFn')
  if (batchScheduleFn !== undefined && typeof batchScheduleFn !== 'function')
    throw new TypeError('batchScheduleFn must be a function: ' + concat(batchScheduleFn))
  const cacheKeyFn = read(opts, 'cacheKeyFn')
  if (cacheKeyFn !== undefined && typeof cacheKeyFn !== 'function')
    throw new TypeError('cacheKeyFn must be a function: ' + concat(cacheKeyFn))
  const cacheMap = validCacheMap(opts)
  const name = read(opts, 'name')
  return {
    maxBatchSize,
    batchScheduleFn: batchScheduleFn as Settings['batchScheduleFn'],
    cacheKeyFn: cacheKeyFn as Settings['cacheKeyFn'],
    cacheMap,
    name: name ? (name as string) : null,
  }
}

function validMaxBatchSize(options: Loose): number {
  if (!(!options || read(options, 'batch') !== false)) return 1
  const maxBatchSize = read(options, 'maxBatchSize')
  if (maxBatchSize === undefined) return Infinity
  if (typeof maxBatchSize !== 'number' || maxBatchSize < 1)
    throw new TypeError('maxBatchSize must be a positive number: ' + concat(maxBatchSize))
  return maxBatchSize
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

/**
 * Checks and normalizes `LoaderOptions` for `Loader`: kept apart from the loader so the
 * batching logic reads without a page of validation in front of it.
 */
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import { recorderFor, type EventListener, type Recorder } from '../core/trace.js'
import {
  checkClock,
  checkFunction,
  checkKnownKeys,
  checkName,
  checkNumber,
  checkDuration,
  show,
  snapshot,
} from '../core/validate.js'
import { limit as makeLimit, type Limiter } from '../policies/limit.js'
import { listenerOf } from './loader-events.js'
import type { BatchFunction, LoaderBatchEvent, LoaderOptions } from './loader-types.js'

const KNOWN = [
  'name',
  'maxBatchSize',
  'maxBatchCost',
  'cost',
  'wait',
  'schedule',
  'concurrency',
  'key',
  'id',
  'cache',
  'maxCacheSize',
  'onBatch',
  'onEvent',
  'clock',
] as const

/** A loader's settings, checked, with defaults filled in. */
export interface LoaderSettings<K, V, Id> {
  readonly name: string
  readonly batchFn: BatchFunction<K, V, Id>
  readonly keyOf: ((key: K) => Id) | undefined
  readonly idOf: ((item: V) => Id) | undefined
  readonly maxBatchSize: number
  readonly maxBatchCost: number
  readonly costOf: ((key: K) => number) | undefined
  readonly wait: number
  readonly schedule: ((dispatch: () => void) => void) | undefined
  readonly limiter: Limiter | undefined
  readonly cache: boolean
  readonly maxCacheSize: number
  readonly trace: Recorder
  readonly clock: Clock
}

const where = 'Loader'

/** Checks `batch` and `options` as `new Loader(batch, options)` does, throwing on a bad one. */
export function loaderSettings<K, V, Id>(
  batch: BatchFunction<K, V, Id>,
  options: LoaderOptions<K, V, Id>,
): LoaderSettings<K, V, Id> {
  const batchFn = checkFunction<BatchFunction<K, V, Id>>(
    where,
    'batch function',
    batch,
    '(keys, ctx) => answer',
  )
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, KNOWN)
  const name = opts.name === undefined ? 'loader' : checkName(where, opts.name)
  const sizing = batchSizing(opts)
  const timing = batchTiming(opts)
  const limiter = limiterOf(opts.concurrency, name)
  const keyOf =
    opts.key === undefined
      ? undefined
      : checkFunction<(key: K) => Id>(where, 'key', opts.key, '(key) => id')
  const idOf =
    opts.id === undefined
      ? undefined
      : checkFunction<(item: V) => Id>(where, 'id', opts.id, '(item) => id')
  if (opts.cache !== undefined && typeof opts.cache !== 'boolean')
    throw new InvalidOptionError(
      `${where}: \`cache\` must be true or false, got ${show(opts.cache)}.`,
    )
  const cache = opts.cache ?? true
  const maxCacheSize =
    opts.maxCacheSize === undefined
      ? 10_000
      : checkNumber(where, 'maxCacheSize', opts.maxCacheSize, {
          min: 1,
          max: 100_000_000,
          integer: true,
        })
  const trace = recorderFor(
    listenerOf(
      opts.onEvent === undefined
        ? undefined
        : checkFunction<EventListener>(where, 'onEvent', opts.onEvent, '(event) => void'),
      opts.onBatch === undefined
        ? undefined
        : checkFunction<(event: LoaderBatchEvent) => void>(
            where,
            'onBatch',
            opts.onBatch,
            '(event) => void',
          ),
    ),
  )
  if (opts.clock !== undefined) checkClock(where, opts.clock)
  const clock = opts.clock ?? systemClock
  return {
    name,
    batchFn,
    keyOf,
    idOf,
    ...sizing,
    ...timing,
    limiter,
    cache,
    maxCacheSize,
    trace,
    clock,
  }
}

/** `maxBatchSize`, `maxBatchCost` and `cost`. */
function batchSizing<K, V, Id>(
  opts: LoaderOptions<K, V, Id>,
): Pick<LoaderSettings<K, V, Id>, 'maxBatchSize' | 'maxBatchCost' | 'costOf'> {
  const maxBatchSize =
    opts.maxBatchSize === undefined
      ? Infinity
      : checkNumber(where, 'maxBatchSize', opts.maxBatchSize, {
          min: 1,
          max: 1_000_000_000,
          integer: true,
          allowInfinity: true,
        })
  const maxBatchCost =
    opts.maxBatchCost === undefined
      ? Infinity
      : checkNumber(where, 'maxBatchCost', opts.maxBatchCost, {
          min: 1,
          max: Number.MAX_SAFE_INTEGER,
          allowInfinity: true,
        })
  const costOf =
    opts.cost === undefined
      ? undefined
      : checkFunction<(key: K) => number>(where, 'cost', opts.cost, '(key) => number')
  if ((opts.maxBatchCost === undefined) !== (opts.cost === undefined)) {
    throw new InvalidOptionError(
      `${where}: \`maxBatchCost\` and \`cost\` go together, e.g. { maxBatchCost: 1800, cost: (id) => encodeURIComponent(id).length + 1 }.`,
    )
  }
  return { maxBatchSize, maxBatchCost, costOf }
}

/** `wait` and `schedule`: one or the other. */
function batchTiming<K, V, Id>(
  opts: LoaderOptions<K, V, Id>,
): Pick<LoaderSettings<K, V, Id>, 'wait' | 'schedule'> {
  const wait = opts.wait === undefined ? 0 : checkDuration(where, 'wait', opts.wait, { min: 0 })
  const schedule =
    opts.schedule === undefined
      ? undefined
      : checkFunction<(dispatch: () => void) => void>(
          where,
          'schedule',
          opts.schedule,
          '(dispatch) => void',
        )
  if (opts.schedule !== undefined && opts.wait !== undefined)
    throw new InvalidOptionError(
      `${where}: give \`wait\` (a window in ms) or \`schedule\`, not both.`,
    )
  return { wait, schedule }
}

/** `concurrency`: a number of batch calls, or a `limit()` limiter to share. */
function limiterOf(concurrency: unknown, name: string): Limiter | undefined {
  if (concurrency === undefined) return undefined
  if (typeof concurrency === 'number')
    return makeLimit({
      concurrency: checkNumber(where, 'concurrency', concurrency, {
        min: 1,
        max: 1_000_000,
        integer: true,
      }),
      name,
    })
  if (
    typeof concurrency === 'object' &&
    concurrency !== null &&
    typeof (concurrency as Limiter).run === 'function'
  )
    return concurrency as Limiter
  throw new InvalidOptionError(
    `${where}: \`concurrency\` must be a number of batch calls or a limit() limiter, got ${show(concurrency)}.`,
  )
}

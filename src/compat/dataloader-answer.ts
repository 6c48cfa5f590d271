/**
 * DataLoader's answer contract, for the drop-in: the batch function is called with the keys (and
 * the loader as `this`) and answers by position, value i for key i, with DataLoader's timing down
 * to the microtask and its messages for a wrong answer. The batch is `Loader`'s own, collected and
 * sent by the shared engine; cache hits wait on it to settle with its fresh values.
 */
import { Batch } from '../batch/batch.js'
import { CONTRACT, isArrayLike } from './dataloader-options.js'

/** `Loader`'s batch, plus the cache hits waiting on it (a DataLoader hit settles with its batch). */
export class HitBatch<K> extends Batch<K, unknown, K> {
  /** In pairs: the hit's resolve, then the cached promise. */
  hits: unknown[] | undefined = undefined
}

/** Settles the cache hits of a batch with their cached promises (idempotent, as resolving is). */
export function resolveHits(batch: HitBatch<unknown>): void {
  const hits = batch.hits
  if (hits === undefined) return
  batch.hits = undefined
  for (let i = 0; i < hits.length; i += 2) (hits[i] as (value: unknown) => void)(hits[i + 1])
}

/**
 * Calls `batchLoadFn` on the keys of `batch` and settles them by position; a wrong or failed
 * answer goes to `failed` (which rejects every key) with the error DataLoader gives.
 */
export function callPositional<K>(
  batchLoadFn: (keys: readonly K[]) => unknown,
  that: unknown,
  batch: HitBatch<K>,
  failed: (batch: HitBatch<K>, error: unknown) => void,
): void {
  let batchPromise: unknown
  try {
    batchPromise = batchLoadFn.call(that, batch.keys)
  } catch (error) {
    failed(
      batch,
      new TypeError(CONTRACT + 'the function errored synchronously: ' + String(error) + '.'),
    )
    return
  }
  if (!batchPromise || typeof (batchPromise as PromiseLike<unknown>).then !== 'function') {
    failed(
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
  ).catch((error: unknown) => failed(batch, error))
}

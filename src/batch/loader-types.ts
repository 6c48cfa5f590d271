/** The public shapes of `Loader`: its batch function, what it may answer, its options and events. */
import type { CallContext } from '../core/call.js'
import type { Clock } from '../core/clock.js'
import type { EventListener } from '../core/trace.js'
import type { Limiter } from '../policies/limit.js'

/**
 * What the batch function receives: a `CallContext` the batch's callers share (pass it on whole:
 * `http.json(url, { context: ctx })`, or to a policy-wrapped call), and the batch's scope.
 *
 * - `signal` aborts when every caller waiting on this batch has left;
 * - `deadlineAt` is the latest deadline of the callers still waiting (`Infinity` while one
 *   without a context waits);
 * - `trace` reaches every waiting caller's recorder (tagged with its task) and the loader's
 *   `onEvent`; `task` is the loader's name.
 */
export interface BatchContext extends CallContext {
  /** The scope the batch's loads were made in (`undefined` for unscoped loads). */
  readonly scope: string | undefined
}

/**
 * What a batch function may answer: a Map from id to value (or Error, failing that key), a plain
 * object keyed by id, or — when the loader has an `id` option — the items in any order.
 */
export type BatchAnswer<V, Id> =
  ReadonlyMap<Id, V | Error> | Iterable<V> | Readonly<Record<string, V | Error>>

export type BatchFunction<K, V, Id> = (
  keys: readonly K[],
  ctx: BatchContext,
) => BatchAnswer<V, Id> | PromiseLike<BatchAnswer<V, Id>>

export interface LoaderBatchEvent {
  readonly loader: string
  /** Keys in the batch (distinct). */
  readonly size: number
  /** Whether its loads carried a scope (the scope itself is not reported: it may name a user). */
  readonly scoped: boolean
  readonly outcome: 'fulfilled' | 'rejected' | 'aborted'
  /** When the batch function was called, on the loader's clock. */
  readonly startedAt: number
  readonly durationMs: number
}

export interface LoaderOptions<K, V, Id> {
  /** Shown in errors and batch events. Default 'loader'. */
  readonly name?: string
  /** Keys per batch call at most; a fuller batch closes and a new one starts. Default Infinity. */
  readonly maxBatchSize?: number
  /**
   * With `cost`: the most a batch may cost — e.g. the room left in a GET URL for the ids, so no
   * batch gets a 414. A key that alone costs more goes in a batch of its own.
   */
  readonly maxBatchCost?: number
  /** What a key adds to a batch's cost, e.g. `(id) => encodeURIComponent(id).length + 1`. */
  readonly cost?: (key: K) => number
  /** Collect loads for this many ms before calling (0: one tick, as DataLoader). */
  readonly wait?: number
  /** Decides when a batch is dispatched instead (DataLoader's `batchScheduleFn`). */
  readonly schedule?: (dispatch: () => void) => void
  /** Batch calls running at once: a number, or a shared `limit()` limiter. Default: no limit. */
  readonly concurrency?: number | Limiter
  /** The id of a key, to match the answer and memoize (default: the key itself). Must be a primitive or a stable reference. */
  readonly key?: (key: K) => Id
  /** The id of an item of a list answer; needed when the batch function returns a list. */
  readonly id?: (item: V) => Id
  /** Memoize one promise per key for the loader's lifetime. Default true. */
  readonly cache?: boolean
  /** Keys memoized at most (the oldest go first). Default 10,000. */
  readonly maxCacheSize?: number
  /**
   * Hears the loader's events (`batch.dispatched`, `batch.settled`) and those of the work its
   * batch function does, whoever loads. A load's `context` hears them too while it waits.
   */
  readonly onEvent?: EventListener
  /**
   * Called once per batch when it settles. A thin alias over `onEvent`: the `batch.settled`
   * event in the shape it had before `onEvent` existed.
   */
  readonly onBatch?: (event: LoaderBatchEvent) => void
  readonly clock?: Clock
}

export interface LoadOptions {
  /** Leaving: the load rejects with the signal's reason at once; others are unaffected. */
  readonly signal?: AbortSignal
  /**
   * The caller's context (a flow task's `ctx`): its signal is the load's, its deadline and trace
   * reach the batch function (see `BatchContext`). Give this or `signal`, not both.
   */
  readonly context?: CallContext
  /** Loads of different scopes never share a batch or a memoized value. */
  readonly scope?: string
}

/** What a `Loader` has done since it was created: see `loader.stats()`. */
export interface LoaderStats {
  readonly kind: 'loader'
  /** The `name` option (default "loader"). */
  readonly name: string
  /** Calls of the batch function. */
  readonly batches: number
  /** Keys sent to it, over every batch. */
  readonly keys: number
  /**
   * Loads that sent no key: answered by the memo, or joined a load of the same key already
   * asked for (in the batch collecting, or one in flight).
   */
  readonly cacheHits: number
  /** `keys / batches` (0 before the first batch). */
  readonly meanBatchSize: number
  /** Keys memoized now, over every scope. */
  readonly cacheSize: number
}

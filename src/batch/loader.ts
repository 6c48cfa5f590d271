/**
 * `Loader`: many `load(key)` calls made close together become one call of a batch function, in
 * the spirit of DataLoader — plus what DataLoader leaves to its users:
 *
 * - results are matched to keys **by id, never by position**: the batch function answers with a
 *   Map, an object keyed by id, or (with `id`) a list in any order; a key missing from the
 *   answer rejects with `NotFoundError` and a value never lands on another key;
 * - batches close at `maxBatchSize` keys or `maxBatchCost` (say, a URL length), collect for one
 *   tick or for a window of `wait` ms, and run at most `concurrency` at a time;
 * - a `signal` per load: a caller that leaves rejects at once without failing the others, and the
 *   batch call is aborted only when every caller of the batch has left;
 * - a `scope` per load (user, tenant): loads of different scopes never share a batch or a memo;
 * - the memo (one promise per key, for the loader's lifetime) is bounded and keeps no failures.
 *
 * One loader per incoming request is the simplest isolation: see `requestScoped`.
 */
import type { CallContext } from '../core/call.js'
import type { Clock } from '../core/clock.js'
import { batchChannel, subscribed, traced } from '../core/diagnostics.js'
import { AbortedError, NotFoundError } from '../core/errors.js'
import { own } from '../core/own.js'
import { checkContext, checkSignalOrContext, SharedContext } from '../core/shared-context.js'
import { onAbort } from '../core/signals.js'
import type { Recorder } from '../core/trace.js'
import type { Limiter } from '../policies/limit.js'
import { Batch, Pending, type Entry } from './batch.js'
import { Batcher } from './batcher.js'
import { lookupOf, MISSING } from './loader-answer.js'
import { batchContextOf, reportDispatched, reportSettled } from './loader-events.js'
import { Memo } from './loader-memo.js'
import { loaderSettings } from './loader-options.js'
import type {
  BatchAnswer,
  BatchContext,
  BatchFunction,
  LoaderBatchEvent,
  LoaderOptions,
  LoaderStats,
  LoadOptions,
} from './loader-types.js'

export type {
  BatchAnswer,
  BatchContext,
  BatchFunction,
  LoaderBatchEvent,
  LoaderOptions,
  LoaderStats,
  LoadOptions,
}

// One shared executor instead of a closure per load (it runs synchronously).
let capturedResolve: ((value: never) => void) | undefined
let capturedReject: ((reason: unknown) => void) | undefined
const capture = (resolve: (value: never) => void, reject: (reason: unknown) => void): void => {
  capturedResolve = resolve
  capturedReject = reject
}

export class Loader<K, V, Id = K> {
  readonly name: string
  readonly #batchFn: BatchFunction<K, V, Id>
  readonly #keyOf: ((key: K) => Id) | undefined
  readonly #idOf: ((item: V) => Id) | undefined
  readonly #costOf: ((key: K) => number) | undefined
  readonly #limiter: Limiter | undefined
  readonly #cache: boolean
  /** `onEvent`, and `onBatch` as its alias. */
  readonly #trace: Recorder
  readonly #clock: Clock
  /** `load(key)` with nothing else to do: memo on, keys are ids, no cost. */
  readonly #plain: boolean
  /** The unscoped memo, and one per scope; insertion order is eviction order. */
  readonly #memo: Memo<Id, V>
  /** Collects keys into batches (per scope) and sends them: the engine shared with the DataLoader drop-in. */
  readonly #batcher: Batcher<Batch<K, V, Id>>
  // Counts since creation, for `stats()`.
  #batches = 0
  #keys = 0
  #hits = 0

  constructor(batch: BatchFunction<K, V, Id>, options: LoaderOptions<K, V, Id> = {}) {
    const settings = loaderSettings(batch, options)
    this.name = settings.name
    this.#batchFn = settings.batchFn
    this.#costOf = settings.costOf
    this.#limiter = settings.limiter
    this.#keyOf = settings.keyOf
    this.#idOf = settings.idOf
    this.#cache = settings.cache
    this.#memo = new Memo(settings.maxCacheSize)
    this.#trace = settings.trace
    this.#clock = settings.clock
    this.#plain = this.#cache && this.#keyOf === undefined && this.#costOf === undefined
    const keysAreIds = this.#keyOf === undefined
    this.#batcher = new Batcher<Batch<K, V, Id>>({
      maxBatchSize: settings.maxBatchSize,
      maxBatchCost: settings.maxBatchCost,
      wait: settings.wait,
      schedule: settings.schedule,
      clock: settings.clock,
      open: (scope) => new Batch<K, V, Id>(scope, keysAreIds),
      send: (batch) => this.#send(batch),
    })
  }

  /** The value for `key`, loaded in a batch with the other keys asked for meanwhile. */
  load(key: K, options?: LoadOptions): Promise<V> {
    if (key === null || key === undefined) {
      throw new TypeError(`Loader "${this.name}": load() needs a key, got ${String(key)}.`)
    }
    if (options === undefined && this.#plain) {
      // The common call, kept short: one memo lookup, and on a miss one insertion.
      const id = key as unknown as Id
      const hit = this.#memo.root.get(id)
      if (hit !== undefined) {
        if (!(hit instanceof Pending)) {
          this.#hits++
          return hit
        }
        const batch = hit.batch
        if (batch.settled || !batch.abandoned) {
          this.#hits++
          if (!batch.settled) batch.pinned = true
          return hit.promise
        }
      }
      const batcher = this.#batcher
      let batch = batcher.current
      if (batch === undefined) batch = batcher.collecting(undefined, 0)
      const promise = new Promise<V>(capture)
      batch.keys.push(key)
      batch.resolves.push(capturedResolve as (value: V) => void)
      batch.rejects.push(capturedReject!)
      capturedResolve = capturedReject = undefined
      batch.pinned = true
      const memo = this.#memo
      memo.root.set(id, promise)
      if (++memo.size > memo.max) memo.evictOldest()
      if (batch.keys.length >= batcher.maxBatchSize) batcher.close(batch)
      return promise
    }
    const { scope, signal: given, context: raw } = own(options)
    checkSignalOrContext(`Loader "${this.name}": load()`, given, raw)
    const context =
      raw === undefined ? undefined : checkContext(`Loader "${this.name}": load()`, raw)
    const signal = context === undefined ? given : context.signal
    if (signal?.aborted) return Promise.reject(signal.reason)
    const id = this.#keyOf === undefined ? (key as unknown as Id) : this.#keyOf(key)
    let memo: Map<Id, Entry<V>> | undefined
    if (this.#cache) {
      memo = this.#memo.of(scope)
      const hit = memo?.get(id)
      if (hit !== undefined) {
        if (!(hit instanceof Pending)) {
          this.#hits++
          return this.#join(hit, undefined, signal, context)
        }
        if (!hit.batch.abandoned) {
          this.#hits++
          return this.#join(hit.promise, hit.batch as Batch<K, V, Id>, signal, context)
        }
      }
    }
    return this.#miss(key, id, scope, memo, signal, context)
  }

  /** Adds `key` to the collecting batch (or joins it there when asked already). */
  #miss(
    key: K,
    id: Id,
    scope: string | undefined,
    memo: Map<Id, Entry<V>> | undefined,
    signal: AbortSignal | undefined,
    context: CallContext | undefined,
  ): Promise<V> {
    // A key's cost, computed once: it decides the batch and then counts in it.
    const cost = this.#costOf === undefined ? 0 : this.#costOf(key)
    const batch = this.#batcher.collecting(scope, cost)
    if (batch.index !== undefined) {
      const asked = batch.index.get(id)
      if (asked !== undefined) {
        this.#hits++
        return this.#join(asked instanceof Pending ? asked.promise : asked, batch, signal, context)
      }
    }
    const promise = new Promise<V>(capture)
    batch.keys.push(key)
    if (batch.ids !== (batch.keys as unknown)) batch.ids.push(id)
    batch.resolves.push(capturedResolve as (value: V) => void)
    batch.rejects.push(capturedReject!)
    capturedResolve = capturedReject = undefined
    const entry: Entry<V> =
      signal === undefined || batch.pinned
        ? promise
        : new Pending(promise, batch as Batch<unknown, V, unknown>)
    if (this.#cache) this.#memo.remember(scope, memo, id, entry)
    else (batch.index ??= new Map()).set(id, entry)
    batch.cost += cost
    // Join before a full batch may be sent at once (with `wait`): the caller counts as waiting.
    const joined =
      signal === undefined && batch.pinned ? promise : this.#join(promise, batch, signal, context)
    this.#batcher.added(batch)
    return joined
  }

  /** Like DataLoader's: every key's value, or its Error in its place. */
  loadMany(keys: Iterable<K>, options?: LoadOptions): Promise<(V | Error)[]> {
    return Promise.all(
      Array.from(keys, (key) =>
        this.load(key, options).catch((error: unknown) =>
          error instanceof Error ? error : new Error(String(error)),
        ),
      ),
    )
  }

  /** Forgets `key`'s memoized value (the next load asks again). */
  clear(key: K, options?: { readonly scope?: string }): this {
    const scope = own(options).scope
    this.#memo.delete(scope, this.#keyOf === undefined ? (key as unknown as Id) : this.#keyOf(key))
    return this
  }

  /** Forgets every memoized value (of one scope, when given). */
  clearAll(options?: { readonly scope?: string }): this {
    const opts = own(options)
    if ('scope' in opts) this.#memo.clearScope(opts.scope)
    else this.#memo.clear()
    return this
  }

  /** Memoizes a value for `key` unless one is there already. Errors are not memoized. */
  prime(key: K, value: V | Error, options?: { readonly scope?: string }): this {
    if (!this.#cache || value instanceof Error) return this
    const scope = options?.scope
    const id = this.#keyOf === undefined ? (key as unknown as Id) : this.#keyOf(key)
    const memo = this.#memo.of(scope)
    if (memo?.has(id) === true) return this
    this.#memo.remember(scope, memo, id, Promise.resolve(value))
    return this
  }

  /** Keys memoized now, over every scope. */
  get cacheSize(): number {
    return this.#memo.size
  }

  /** A snapshot for a health endpoint or `prometheusText()`: batches and keys sent, memo hits. */
  stats(): LoaderStats {
    const batches = this.#batches
    return Object.freeze({
      kind: 'loader' as const,
      name: this.name,
      batches,
      keys: this.#keys,
      cacheHits: this.#hits,
      meanBatchSize: batches === 0 ? 0 : this.#keys / batches,
      cacheSize: this.#memo.size,
    })
  }

  /** Forgets `id` after its load failed, unless its memo entry is another batch's. */
  #forget(batch: Batch<K, V, Id>, id: Id): void {
    this.#memo.forget(batch.scope, id, batch)
  }

  /** The caller's view of a key's promise: the promise itself, or one it can leave with its signal. */
  #join(
    promise: Promise<V>,
    batch: Batch<K, V, Id> | undefined,
    signal: AbortSignal | undefined,
    context: CallContext | undefined,
  ): Promise<V> {
    if (batch === undefined || batch.settled) return promise
    if (signal === undefined) {
      batch.pinned = true
      return promise
    }
    batch.interest++
    // The caller's deadline and recorder count while it waits (see BatchContext).
    const joiner =
      context === undefined
        ? ((batch.bare = true), undefined)
        : (batch.shared ??= new SharedContext(this.name, this.#clock, this.#trace)).join(context)
    let left = false
    const done = (): void => {
      stop()
      if (joiner !== undefined) batch.shared!.leave(joiner)
      if (!left) batch.interest--
    }
    let stop: () => void = noop
    return new Promise<V>((resolve, reject) => {
      stop = onAbort(signal, () => {
        left = true
        if (joiner !== undefined) batch.shared!.leave(joiner)
        reject(signal.reason)
        this.#leave(batch, signal.reason)
      })
      promise.then(
        (value) => {
          done()
          resolve(value)
        },
        (error: unknown) => {
          done()
          reject(error)
        },
      )
    })
  }

  /** A caller left: when nobody is left waiting on the batch, it is abandoned. */
  #leave(batch: Batch<K, V, Id>, reason: unknown): void {
    batch.interest--
    if (batch.interest > 0 || batch.pinned) return
    // Not sent yet: #send sees nobody waits and skips the call.
    if (!batch.dispatched || batch.settled) return
    batch.abandoned = true
    batch.controller?.abort(reason)
  }

  /** Calls the batch function for a batch the batcher sends (once, closed already). */
  #send(batch: Batch<K, V, Id>): void {
    if (!batch.pinned && batch.interest === 0) {
      // Every caller left before the call: make none (G6), and memoize nothing.
      this.#fail(
        batch,
        new AbortedError(
          `Loader "${this.name}": every caller of the batch left before it was sent`,
        ),
      )
      return
    }
    this.#batches++
    this.#keys += batch.keys.length
    const ctx = this.#contextOf(batch)
    const trace = ctx.trace
    const startedAt = reportDispatched(batch, this.name, this.#clock, trace)
    const call = (): BatchAnswer<V, Id> | PromiseLike<BatchAnswer<V, Id>> =>
      this.#batchFn(batch.keys, ctx)
    const send = (): Promise<BatchAnswer<V, Id>> =>
      this.#limiter === undefined
        ? Promise.resolve(call())
        : this.#limiter.run(call, { signal: ctx.signal })
    let answer: Promise<BatchAnswer<V, Id>>
    try {
      answer = subscribed(batchChannel)
        ? traced(
            batchChannel,
            { loader: this.name, size: batch.keys.length, scoped: batch.scope !== undefined },
            send,
          )
        : send()
    } catch (error) {
      answer = Promise.reject(error)
    }
    answer.then(
      (result) => {
        let outcome: LoaderBatchEvent['outcome']
        try {
          outcome = this.#deliver(batch, result)
        } catch (error) {
          // A throwing `id` function, say: the keys not yet settled fail with it.
          this.#fail(batch, error)
          outcome = 'rejected'
        }
        this.#report(batch, trace, outcome, startedAt)
      },
      (error: unknown) => {
        const aborted = batch.controller?.signal.aborted === true
        this.#fail(batch, aborted ? batch.controller!.signal.reason : error)
        this.#report(batch, trace, aborted ? 'aborted' : 'rejected', startedAt)
      },
    )
  }

  #contextOf(batch: Batch<K, V, Id>): BatchContext {
    return batchContextOf(batch, this.name, this.#clock, this.#trace)
  }

  #report(
    batch: Batch<K, V, Id>,
    trace: Recorder,
    outcome: LoaderBatchEvent['outcome'],
    startedAt: number,
  ): void {
    reportSettled(batch, this.name, this.#clock, trace, outcome, startedAt)
  }

  /** Every key of the batch not yet settled fails with `error` (G2); nothing of it stays memoized. */
  #fail(batch: Batch<K, V, Id>, error: unknown): void {
    const rejects = batch.rejects
    for (let i = 0; i < rejects.length; i++) {
      if (this.#cache) this.#forget(batch, batch.ids[i]!)
      rejects[i]!(error) // a no-op for a key already settled
    }
    this.#release(batch)
  }

  #deliver(batch: Batch<K, V, Id>, answer: BatchAnswer<V, Id>): 'fulfilled' | 'rejected' {
    const ids = batch.ids
    const resolves = batch.resolves
    if (answer instanceof Map) {
      // The common answer, read directly.
      const map = answer as ReadonlyMap<Id, V | Error>
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!
        const value = map.get(id)
        if (value instanceof Error) this.#reject(batch, i, value)
        else if (value === undefined && !map.has(id)) this.#reject(batch, i, undefined)
        else resolves[i]!(value as V)
      }
    } else {
      const lookup = lookupOf(
        answer as Exclude<BatchAnswer<V, Id>, ReadonlyMap<Id, V | Error>>,
        this.#idOf,
      )
      if (typeof lookup === 'string') {
        this.#fail(batch, new TypeError(`Loader "${this.name}": ${lookup}`))
        return 'rejected'
      }
      for (let i = 0; i < ids.length; i++) {
        const value = lookup(ids[i]!)
        if (value === MISSING) this.#reject(batch, i, undefined)
        else if (value instanceof Error) this.#reject(batch, i, value)
        else resolves[i]!(value)
      }
    }
    this.#release(batch)
    return 'fulfilled'
  }

  /** Fails key `i` with `error`, or with NotFoundError when the answer had nothing for it. */
  #reject(batch: Batch<K, V, Id>, i: number, error: Error | undefined): void {
    if (this.#cache) this.#forget(batch, batch.ids[i]!)
    batch.rejects[i]!(
      error ??
        new NotFoundError(
          `Loader "${this.name}": the batch answer has no item for a requested key`,
          batch.keys[i],
        ),
    )
  }

  #release(batch: Batch<K, V, Id>): void {
    // Its entries are plain memoized promises from now on; drop what settled them.
    batch.settled = true
    batch.resolves = []
    batch.rejects = []
    batch.index = undefined
    batch.controller = undefined
  }
}

const noop = (): void => {}

/** `new Loader(batch, options)`. */
export function loader<K, V, Id = K>(
  batch: BatchFunction<K, V, Id>,
  options?: LoaderOptions<K, V, Id>,
): Loader<K, V, Id> {
  return new Loader(batch, options)
}

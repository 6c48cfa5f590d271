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
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js'
import { AbortedError, InvalidOptionError, NotFoundError } from '../core/errors.js'
import { onAbort } from '../core/signals.js'
import { checkClock, checkFunction, checkKnownKeys, checkName, checkNumber, checkDuration, show, snapshot } from '../core/validate.js'
import { limit as makeLimit, type Limiter } from '../policies/limit.js'
import { afterTick } from './tick.js'

export interface BatchContext {
  /** Aborted when every caller waiting on this batch has left (or the loader's batch was cancelled). */
  readonly signal: AbortSignal
  /** The scope the batch's loads were made in (`undefined` for unscoped loads). */
  readonly scope: string | undefined
}

/**
 * What a batch function may answer: a Map from id to value (or Error, failing that key), a plain
 * object keyed by id, or — when the loader has an `id` option — the items in any order.
 */
export type BatchAnswer<V, Id> = ReadonlyMap<Id, V | Error> | Iterable<V> | Readonly<Record<string, V | Error>>

export type BatchFunction<K, V, Id> = (keys: readonly K[], ctx: BatchContext) => BatchAnswer<V, Id> | PromiseLike<BatchAnswer<V, Id>>

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
  /** Called once per batch when it settles. */
  readonly onBatch?: (event: LoaderBatchEvent) => void
  readonly clock?: Clock
}

export interface LoadOptions {
  /** Leaving: the load rejects with the signal's reason at once; others are unaffected. */
  readonly signal?: AbortSignal
  /** Loads of different scopes never share a batch or a memoized value. */
  readonly scope?: string
}

const KNOWN = ['name', 'maxBatchSize', 'maxBatchCost', 'cost', 'wait', 'schedule', 'concurrency', 'key', 'id', 'cache', 'maxCacheSize', 'onBatch', 'clock'] as const

/** One pending batch: parallel arrays rather than an object per key (the hot path). */
class Batch<K, V, Id> {
  readonly keys: K[] = []
  readonly ids: Id[] = []
  readonly resolves: ((value: V) => void)[] = []
  readonly rejects: ((reason: unknown) => void)[] = []
  readonly entries: (Entry<V> | undefined)[] = []
  /** Without the memo: id → index, so a key asked twice in one batch is asked once (G4). */
  index: Map<Id, number> | undefined
  cost = 0
  closed = false
  dispatched = false
  /** A caller without a signal waits on it: it can never be abandoned. */
  pinned = false
  /** Callers with a signal still waiting. */
  interest = 0
  controller: AbortController | undefined
  timer: TimerHandle | undefined
  constructor(readonly scope: string | undefined) {}
}

/** A memoized key: its promise, and its batch while that is pending (callers join it). */
interface Entry<V> {
  readonly promise: Promise<V>
  batch: Batch<unknown, V, unknown> | undefined
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
  readonly #maxBatchSize: number
  readonly #maxBatchCost: number
  readonly #costOf: ((key: K) => number) | undefined
  readonly #wait: number
  readonly #schedule: ((dispatch: () => void) => void) | undefined
  readonly #limiter: Limiter | undefined
  readonly #cache: boolean
  readonly #maxCacheSize: number
  readonly #onBatch: ((event: LoaderBatchEvent) => void) | undefined
  readonly #clock: Clock
  /** Memo per scope (`undefined`: unscoped), in insertion order for eviction. */
  readonly #memos = new Map<string | undefined, Map<Id, Entry<V>>>()
  #memoSize = 0
  /** The batch collecting loads, per scope. */
  #current: Batch<K, V, Id> | undefined
  readonly #currentScoped = new Map<string, Batch<K, V, Id>>()

  constructor(batch: BatchFunction<K, V, Id>, options: LoaderOptions<K, V, Id> = {}) {
    const where = 'Loader'
    this.#batchFn = checkFunction(where, 'batch function', batch, '(keys, ctx) => answer')
    const opts = snapshot(where, options)
    checkKnownKeys(where, opts, KNOWN)
    this.name = opts.name === undefined ? 'loader' : checkName(where, opts.name)
    this.#maxBatchSize = opts.maxBatchSize === undefined ? Infinity : checkNumber(where, 'maxBatchSize', opts.maxBatchSize, { min: 1, max: 1_000_000_000, integer: true, allowInfinity: true })
    this.#maxBatchCost = opts.maxBatchCost === undefined ? Infinity : checkNumber(where, 'maxBatchCost', opts.maxBatchCost, { min: 1, max: Number.MAX_SAFE_INTEGER, allowInfinity: true })
    this.#costOf = opts.cost === undefined ? undefined : checkFunction(where, 'cost', opts.cost, '(key) => number')
    if ((opts.maxBatchCost === undefined) !== (opts.cost === undefined)) {
      throw new InvalidOptionError(`${where}: \`maxBatchCost\` and \`cost\` go together, e.g. { maxBatchCost: 1800, cost: (id) => encodeURIComponent(id).length + 1 }.`)
    }
    this.#wait = opts.wait === undefined ? 0 : checkDuration(where, 'wait', opts.wait, { min: 0 })
    this.#schedule = opts.schedule === undefined ? undefined : checkFunction(where, 'schedule', opts.schedule, '(dispatch) => void')
    if (opts.schedule !== undefined && opts.wait !== undefined) throw new InvalidOptionError(`${where}: give \`wait\` (a window in ms) or \`schedule\`, not both.`)
    const concurrency = opts.concurrency
    if (concurrency === undefined) this.#limiter = undefined
    else if (typeof concurrency === 'number') this.#limiter = makeLimit({ concurrency: checkNumber(where, 'concurrency', concurrency, { min: 1, max: 1_000_000, integer: true }), name: this.name })
    else if (typeof concurrency === 'object' && concurrency !== null && typeof (concurrency as Limiter).run === 'function') this.#limiter = concurrency
    else throw new InvalidOptionError(`${where}: \`concurrency\` must be a number of batch calls or a limit() limiter, got ${show(concurrency)}.`)
    this.#keyOf = opts.key === undefined ? undefined : checkFunction(where, 'key', opts.key, '(key) => id')
    this.#idOf = opts.id === undefined ? undefined : checkFunction(where, 'id', opts.id, '(item) => id')
    if (opts.cache !== undefined && typeof opts.cache !== 'boolean') throw new InvalidOptionError(`${where}: \`cache\` must be true or false, got ${show(opts.cache)}.`)
    this.#cache = opts.cache ?? true
    this.#maxCacheSize = opts.maxCacheSize === undefined ? 10_000 : checkNumber(where, 'maxCacheSize', opts.maxCacheSize, { min: 1, max: 100_000_000, integer: true })
    this.#onBatch = opts.onBatch === undefined ? undefined : checkFunction(where, 'onBatch', opts.onBatch, '(event) => void')
    if (opts.clock !== undefined) checkClock(where, opts.clock)
    this.#clock = opts.clock ?? systemClock
  }

  /** The value for `key`, loaded in a batch with the other keys asked for meanwhile. */
  load(key: K, options?: LoadOptions): Promise<V> {
    if (key === null || key === undefined) {
      throw new TypeError(`Loader "${this.name}": load() needs a key, got ${String(key)}.`)
    }
    const scope = options?.scope
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(signal.reason)
    const id = this.#keyOf === undefined ? (key as unknown as Id) : this.#keyOf(key)
    let memo: Map<Id, Entry<V>> | undefined
    if (this.#cache) {
      memo = this.#memos.get(scope)
      const hit = memo?.get(id)
      if (hit !== undefined) return this.#join(hit.promise, hit.batch as Batch<K, V, Id> | undefined, signal)
    }
    const batch = this.#collecting(scope, key)
    let promise: Promise<V>
    if (batch.index !== undefined) {
      const at = batch.index.get(id)
      if (at !== undefined) return this.#join(batch.entries[at]!.promise, batch, signal)
    }
    promise = new Promise<V>(capture)
    const i = batch.keys.length
    batch.keys.push(key)
    batch.ids.push(id)
    batch.resolves.push(capturedResolve as (value: V) => void)
    batch.rejects.push(capturedReject!)
    capturedResolve = capturedReject = undefined
    const entry: Entry<V> = { promise, batch: batch as Batch<unknown, V, unknown> }
    batch.entries.push(entry)
    if (this.#cache) this.#remember(scope, memo, id, entry)
    else (batch.index ??= new Map()).set(id, i)
    if (this.#costOf !== undefined) batch.cost += this.#costOf(key)
    if (batch.keys.length >= this.#maxBatchSize) this.#close(batch)
    return this.#join(promise, batch, signal)
  }

  /** Like DataLoader's: every key's value, or its Error in its place. */
  loadMany(keys: Iterable<K>, options?: LoadOptions): Promise<(V | Error)[]> {
    return Promise.all(Array.from(keys, (key) => this.load(key, options).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))))
  }

  /** Forgets `key`'s memoized value (the next load asks again). */
  clear(key: K, options?: { readonly scope?: string }): this {
    const memo = this.#memos.get(options?.scope)
    const id = this.#keyOf === undefined ? (key as unknown as Id) : this.#keyOf(key)
    if (memo?.delete(id) === true) {
      this.#memoSize--
      if (memo.size === 0) this.#memos.delete(options?.scope)
    }
    return this
  }

  /** Forgets every memoized value (of one scope, when given). */
  clearAll(options?: { readonly scope?: string }): this {
    if (options !== undefined && 'scope' in options) {
      const memo = this.#memos.get(options.scope)
      if (memo !== undefined) {
        this.#memoSize -= memo.size
        this.#memos.delete(options.scope)
      }
    } else {
      this.#memos.clear()
      this.#memoSize = 0
    }
    return this
  }

  /** Memoizes a value (or an Error) for `key` unless one is there already. */
  prime(key: K, value: V | Error, options?: { readonly scope?: string }): this {
    if (!this.#cache) return this
    const scope = options?.scope
    const id = this.#keyOf === undefined ? (key as unknown as Id) : this.#keyOf(key)
    const memo = this.#memos.get(scope)
    if (memo?.has(id) === true) return this
    if (value instanceof Error) return this // failures are not memoized
    this.#remember(scope, memo, id, { promise: Promise.resolve(value), batch: undefined })
    return this
  }

  /** Keys memoized now, over every scope. */
  get cacheSize(): number {
    return this.#memoSize
  }

  #remember(scope: string | undefined, memo: Map<Id, Entry<V>> | undefined, id: Id, entry: Entry<V>): void {
    if (memo === undefined) this.#memos.set(scope, (memo = new Map()))
    memo.set(id, entry)
    this.#memoSize++
    while (this.#memoSize > this.#maxCacheSize) this.#evictOldest()
  }

  #evictOldest(): void {
    for (const [scope, memo] of this.#memos) {
      for (const id of memo.keys()) {
        memo.delete(id)
        this.#memoSize--
        break
      }
      if (memo.size === 0) this.#memos.delete(scope)
      return
    }
  }

  #forget(scope: string | undefined, id: Id, entry: Entry<V> | undefined): void {
    const memo = this.#memos.get(scope)
    if (memo !== undefined && entry !== undefined && memo.get(id) === entry) {
      memo.delete(id)
      this.#memoSize--
      if (memo.size === 0) this.#memos.delete(scope)
    }
  }

  /** The caller's view of a key's promise: the promise itself, or one it can leave with its signal. */
  #join(promise: Promise<V>, batch: Batch<K, V, Id> | undefined, signal: AbortSignal | undefined): Promise<V> {
    if (batch === undefined || batch.controller?.signal.aborted === true) return promise
    if (signal === undefined) {
      batch.pinned = true
      return promise
    }
    batch.interest++
    let left = false
    return new Promise<V>((resolve, reject) => {
      const stop = onAbort(signal, () => {
        left = true
        reject(signal.reason)
        this.#leave(batch, signal.reason)
      })
      promise.then(
        (value) => {
          stop()
          if (!left) batch.interest--
          resolve(value)
        },
        (error: unknown) => {
          stop()
          if (!left) batch.interest--
          reject(error)
        },
      )
    })
  }

  /** A caller left: when nobody is left waiting on the batch, it is abandoned. */
  #leave(batch: Batch<K, V, Id>, reason: unknown): void {
    batch.interest--
    if (batch.interest > 0 || batch.pinned) return
    if (batch.dispatched) batch.controller?.abort(reason)
    // Not dispatched yet: #dispatch sees nobody waits and skips the call.
  }

  /** The batch collecting `scope`'s loads, opened (and its dispatch scheduled) when needed. */
  #collecting(scope: string | undefined, key: K): Batch<K, V, Id> {
    let batch = scope === undefined ? this.#current : this.#currentScoped.get(scope)
    if (batch !== undefined && this.#costOf !== undefined && batch.keys.length > 0 && batch.cost + this.#costOf(key) > this.#maxBatchCost) {
      this.#close(batch)
      batch = undefined
    }
    if (batch !== undefined) return batch
    const fresh = new Batch<K, V, Id>(scope)
    if (scope === undefined) this.#current = fresh
    else this.#currentScoped.set(scope, fresh)
    const dispatch = (): void => this.#dispatch(fresh)
    if (this.#schedule !== undefined) this.#schedule(dispatch)
    else if (this.#wait > 0) fresh.timer = this.#clock.setTimeout(dispatch, this.#wait)
    else afterTick(dispatch)
    return fresh
  }

  /** No more keys join `batch`; with a window, a full batch goes at once. */
  #close(batch: Batch<K, V, Id>): void {
    if (batch.closed) return
    batch.closed = true
    if (batch.scope === undefined) {
      if (this.#current === batch) this.#current = undefined
    } else if (this.#currentScoped.get(batch.scope) === batch) this.#currentScoped.delete(batch.scope)
    if (batch.timer !== undefined) {
      this.#clock.clearTimeout(batch.timer)
      batch.timer = undefined
      this.#dispatch(batch)
    }
  }

  #dispatch(batch: Batch<K, V, Id>): void {
    if (batch.dispatched) return
    batch.dispatched = true
    if (batch.timer !== undefined) this.#clock.clearTimeout(batch.timer)
    batch.timer = undefined
    this.#close(batch)
    if (!batch.pinned && batch.interest === 0) {
      // Every caller left before the call: make none (G6), and memoize nothing.
      this.#fail(batch, new AbortedError(`Loader "${this.name}": every caller of the batch left before it was sent`))
      return
    }
    const controller = (batch.controller = new AbortController())
    const ctx: BatchContext = { signal: controller.signal, scope: batch.scope }
    const startedAt = this.#clock.now()
    const call = (): BatchAnswer<V, Id> | PromiseLike<BatchAnswer<V, Id>> => this.#batchFn(batch.keys, ctx)
    let answer: Promise<BatchAnswer<V, Id>>
    try {
      answer = this.#limiter === undefined ? Promise.resolve(call()) : this.#limiter.run(call, { signal: controller.signal })
    } catch (error) {
      answer = Promise.reject(error)
    }
    answer.then(
      (result) => {
        const outcome = this.#deliver(batch, result)
        this.#report(batch, outcome, startedAt)
      },
      (error: unknown) => {
        this.#fail(batch, controller.signal.aborted ? controller.signal.reason : error)
        this.#report(batch, controller.signal.aborted ? 'aborted' : 'rejected', startedAt)
      },
    )
  }

  #report(batch: Batch<K, V, Id>, outcome: LoaderBatchEvent['outcome'], startedAt: number): void {
    if (this.#onBatch === undefined) return
    const at = this.#clock.now()
    this.#onBatch({ loader: this.name, size: batch.keys.length, scoped: batch.scope !== undefined, outcome, startedAt, durationMs: at - startedAt })
  }

  /** Every key of the batch fails with `error` (G2); nothing of it stays memoized. */
  #fail(batch: Batch<K, V, Id>, error: unknown): void {
    for (let i = 0; i < batch.keys.length; i++) {
      const entry = batch.entries[i]
      if (entry !== undefined) {
        entry.batch = undefined
        this.#forget(batch.scope, batch.ids[i]!, entry)
      }
      batch.rejects[i]!(error)
    }
    this.#release(batch)
  }

  #deliver(batch: Batch<K, V, Id>, answer: BatchAnswer<V, Id>): 'fulfilled' | 'rejected' {
    const lookup = this.#lookup(answer)
    if (typeof lookup === 'string') {
      this.#fail(batch, new TypeError(`Loader "${this.name}": ${lookup}`))
      return 'rejected'
    }
    for (let i = 0; i < batch.keys.length; i++) {
      const id = batch.ids[i]!
      const entry = batch.entries[i]
      if (entry !== undefined) entry.batch = undefined
      const value = lookup(id)
      if (value === MISSING || value instanceof Error) {
        this.#forget(batch.scope, id, entry)
        batch.rejects[i]!(value === MISSING ? new NotFoundError(`Loader "${this.name}": the batch answer has no item for a requested key`, batch.keys[i]) : value)
      } else batch.resolves[i]!(value)
    }
    this.#release(batch)
    return 'fulfilled'
  }

  /** A function from id to value (or MISSING) over the answer, or what is wrong with it. */
  #lookup(answer: BatchAnswer<V, Id>): ((id: Id) => V | Error | typeof MISSING) | string {
    if (answer instanceof Map) {
      const map = answer as ReadonlyMap<Id, V | Error>
      return (id) => {
        const value = map.get(id)
        return value === undefined && !map.has(id) ? MISSING : value!
      }
    }
    if (answer !== null && typeof answer === 'object' && typeof (answer as Iterable<V>)[Symbol.iterator] === 'function') {
      const idOf = this.#idOf
      if (idOf === undefined) {
        return 'the batch function returned a list, but the loader has no `id` option to match items to keys (results are matched by id, never by position): pass { id: (item) => item.id }, or return a Map from id to value.'
      }
      const byId = new Map<Id, V>()
      for (const item of answer as Iterable<V>) {
        if (item === null || item === undefined) continue
        const id = idOf(item)
        if (!byId.has(id)) byId.set(id, item)
      }
      return (id) => (byId.has(id) ? byId.get(id)! : MISSING)
    }
    if (answer !== null && typeof answer === 'object') {
      const record = answer as Readonly<Record<string, V | Error>>
      return (id) => (Object.prototype.hasOwnProperty.call(record, String(id)) ? record[String(id)]! : MISSING)
    }
    return `the batch function must return a Map, an object keyed by id or a list (with \`id\`), got ${show(answer)}.`
  }

  #release(batch: Batch<K, V, Id>): void {
    // Drop references so a settled batch holds nothing (its callers hold their promises).
    batch.resolves.length = 0
    batch.rejects.length = 0
    batch.entries.length = 0
    batch.index = undefined
    batch.controller = undefined
  }
}

const MISSING: unique symbol = Symbol('missing')

/** `new Loader(batch, options)`. */
export function loader<K, V, Id = K>(batch: BatchFunction<K, V, Id>, options?: LoaderOptions<K, V, Id>): Loader<K, V, Id> {
  return new Loader(batch, options)
}

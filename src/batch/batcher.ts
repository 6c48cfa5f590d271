/**
 * The batching engine of `Loader` and of the DataLoader drop-in (fanout/compat/dataloader): which
 * batch a key joins (one collecting batch per scope), when a batch closes (`maxBatchSize` keys,
 * `maxBatchCost`) and when it is sent (after the tick, after a `wait` window, or when a custom
 * `schedule` says). One engine for both, so a fix here reaches both. What a batch holds, how its
 * batch function is called and how the answer is read stay with the caller: `open` makes a batch,
 * `send` sends one (at most once per batch).
 */
import type { Clock, TimerHandle } from '../core/clock.js'
import { afterTick } from './tick.js'

/** What the engine reads and writes on a batch; the rest of the batch is the caller's. */
export interface Collectable {
  readonly scope: string | undefined
  readonly keys: readonly unknown[]
  cost: number
  /** No more keys join it (full, or sent). */
  closed: boolean
  dispatched: boolean
  /** The `wait` window's timer, while it runs. */
  timer: TimerHandle | undefined
}

export interface BatcherSettings<B> {
  readonly maxBatchSize: number
  readonly maxBatchCost: number
  /** A window in ms to collect keys for (0: until after the tick). */
  readonly wait: number
  /** Decides when a batch is sent instead of `wait` (called once per batch, when it opens). */
  readonly schedule: ((dispatch: () => void) => void) | undefined
  readonly clock: Clock
  /** A new, empty batch for `scope`. */
  readonly open: (scope: string | undefined) => B
  /** Sends a batch: called once, when its schedule fires or (with a window) when it fills. */
  readonly send: (batch: B) => void
}

export class Batcher<B extends Collectable> {
  /** The unscoped batch collecting keys (read directly on the loaders' hot paths). */
  current: B | undefined
  readonly maxBatchSize: number
  readonly #scoped = new Map<string, B>()
  readonly #maxBatchCost: number
  readonly #wait: number
  readonly #schedule: ((dispatch: () => void) => void) | undefined
  readonly #clock: Clock
  readonly #open: (scope: string | undefined) => B
  readonly #send: (batch: B) => void

  constructor(settings: BatcherSettings<B>) {
    this.maxBatchSize = settings.maxBatchSize
    this.#maxBatchCost = settings.maxBatchCost
    this.#wait = settings.wait
    this.#schedule = settings.schedule
    this.#clock = settings.clock
    this.#open = settings.open
    this.#send = settings.send
  }

  /** The batch collecting `scope`'s keys, opened (and its dispatch scheduled) when needed. */
  collecting(scope: string | undefined, cost: number): B {
    let batch = scope === undefined ? this.current : this.#scoped.get(scope)
    if (batch !== undefined && batch.keys.length > 0 && batch.cost + cost > this.#maxBatchCost) {
      this.close(batch)
      batch = undefined
    }
    if (batch !== undefined) return batch
    const fresh = this.#open(scope)
    if (scope === undefined) this.current = fresh
    else this.#scoped.set(scope, fresh)
    const dispatch = (): void => this.dispatch(fresh)
    if (this.#schedule !== undefined) this.#schedule(dispatch)
    else if (this.#wait > 0) fresh.timer = this.#clock.setTimeout(dispatch, this.#wait)
    else afterTick(dispatch)
    return fresh
  }

  /** Closes `batch` when it holds `maxBatchSize` keys (call after adding one). */
  added(batch: B): void {
    if (batch.keys.length >= this.maxBatchSize) this.close(batch)
  }

  /** No more keys join `batch`; with a window, a closed batch goes at once. */
  close(batch: B): void {
    if (batch.closed) return
    batch.closed = true
    if (batch.scope === undefined) {
      if (this.current === batch) this.current = undefined
    } else if (this.#scoped.get(batch.scope) === batch) this.#scoped.delete(batch.scope)
    if (batch.timer !== undefined) {
      this.#clock.clearTimeout(batch.timer)
      batch.timer = undefined
      this.dispatch(batch)
    }
  }

  /** Sends `batch` unless sent already; it is closed first, so nothing joins it after. */
  dispatch(batch: B): void {
    if (batch.dispatched) return
    batch.dispatched = true
    if (batch.timer !== undefined) this.#clock.clearTimeout(batch.timer)
    batch.timer = undefined
    this.close(batch)
    this.#send(batch)
  }
}

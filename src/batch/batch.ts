/**
 * The loader's bookkeeping for one pending batch and for a memoized key whose batch may still be
 * abandoned. Internal to `Loader` and to the DataLoader drop-in, which both collect their batches
 * with `Batcher`.
 */
import type { TimerHandle } from '../core/clock.js'
import type { SharedContext } from '../core/shared-context.js'

/** One pending batch: parallel arrays rather than an object per key (the hot path). */
export class Batch<K, V, Id> {
  readonly keys: K[] = []
  /** The ids of `keys` — the very same array when keys are their own ids. */
  readonly ids: Id[]
  resolves: ((value: V) => void)[] = []
  rejects: ((reason: unknown) => void)[] = []
  /** Without the memo: id → entry, so a key asked twice in one batch is asked once (G4). */
  index: Map<Id, Entry<V>> | undefined
  cost = 0
  closed = false
  dispatched = false
  /** Delivered or failed: its entries are plain memoized promises now. */
  settled = false
  /** Every caller left after it was sent: its answer will be an abort, so nobody joins it. */
  abandoned = false
  /** A caller without a signal waits on it: it can never be abandoned. */
  pinned = false
  /** Callers with a signal still waiting. */
  interest = 0
  /** A caller without a context waits (or waited): the batch has no deadline. */
  bare = false
  /** The contexts of the callers that brought one: the batch's deadline and where its events go. */
  shared: SharedContext | undefined
  /** Made only when the batch function reads `ctx.signal` (most never abort anything). */
  controller: AbortController | undefined
  timer: TimerHandle | undefined
  constructor(
    readonly scope: string | undefined,
    keysAreIds: boolean,
  ) {
    this.ids = keysAreIds ? (this.keys as unknown as Id[]) : []
  }
}

/**
 * A memoized key whose batch may still be abandoned (every caller so far has a signal): a later
 * hit must know that batch, to pin it or to start afresh. Keys of a pinned batch — the common
 * case — are memoized as the bare promise: one allocation less per key.
 */
export class Pending<V> {
  constructor(
    readonly promise: Promise<V>,
    readonly batch: Batch<unknown, V, unknown>,
  ) {}
}

export type Entry<V> = Promise<V> | Pending<V>

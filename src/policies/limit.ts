/**
 * `limit()`: a concurrency limiter (bulkhead) with a bounded queue, priorities with aging,
 * per-key sub-limits with keys taking turns, and removal of aborted waiters.
 *
 * Invariants:
 * - at most `concurrency` calls hold a slot, and at most `perKey` per key;
 * - a slot is released only when the call it admitted has settled — never when a timer fires;
 * - a waiter that aborts or runs out of time leaves the queue at once without taking a slot;
 * - the queue never holds more than `maxQueue` waiters: one more is rejected at once;
 * - with keys, waiting keys are served in rotation (within a priority), and each key's own
 *   waiters in order, so one busy key cannot hold back another by the length of its queue;
 * - per-key state exists only while a key has calls running or waiting, so the map of keys is
 *   bounded by concurrency + maxQueue whatever the number of distinct keys;
 * - with a `store`, a call also holds a permit from it (for the limiter's total and its key) while
 *   it runs, so every limiter sharing the store's limit under one name stays within it together;
 *   the local slot is taken first, so the local bounds above hold as well.
 */
import { invoke, type Call, type CallContext, type Policy } from '../core/call.js'
import { systemClock, type Clock } from '../core/clock.js'
import { AbortedError, InvalidOptionError, TimeoutError } from '../core/errors.js'
import { own } from '../core/own.js'
import { linkSignal } from '../core/signals.js'
import {
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkName,
  checkNumber,
  snapshot,
} from '../core/validate.js'
import type { ConcurrencyStore } from './concurrency-store.js'
import { sharedPermits } from './shared-permits.js'
import { Slots, withSlots } from './slots.js'
import type { WaitOptions } from './wait-options.js'

export type { WaitOptions }

export interface LimitOptions {
  /** Calls allowed to run at once. An integer ≥ 1 (or Infinity). Required. */
  readonly concurrency: number
  /** Waiting calls allowed; one more is rejected at once with `QueueFullError`. Default 10,000. */
  readonly maxQueue?: number
  /** Longest wait for a slot in ms (the deadline applies too); then the call fails with `TimeoutError`. */
  readonly maxWait?: number
  /** Calls allowed to run at once per key (e.g. per host); needs `key`. */
  readonly perKey?: number
  /** The key of a call, for `perKey` (e.g. the upstream host). */
  readonly key?: (ctx: CallContext) => string
  /**
   * A call's priority (higher runs first; FIFO within a priority). `true` turns on the priority
   * queue with priorities given by `run({ priority })` and by flows (critical path first).
   */
  readonly priority?: ((ctx: CallContext) => number) | true
  /** Aging: each `agingMs` a call waits raises its priority by 1, so low priority still progresses. Default 1,000. */
  readonly agingMs?: number
  /** Shown in errors and `describe()`; with a `store`, the name under which limiters share a limit. */
  readonly name?: string
  /**
   * Shares the limit: every limiter with this store and `name` stays within `concurrency` (and
   * `perKey`) together — in one process with `memoryConcurrencyStore()`, across processes with a
   * shared store. Each call takes a permit before it runs; the queue stays local.
   */
  readonly store?: ConcurrencyStore
  /** With a `store`: a permit expires this long after it was last renewed (running calls renew it every third). Default 30,000 ms. */
  readonly leaseMs?: number
  /** With a `store`: the longest pause between two tries for a permit when the store does not announce releases. Default 1,000 ms. */
  readonly storePollMs?: number
}

export interface LimitRunOptions {
  readonly signal?: AbortSignal
  /** Highest priority first (needs a limiter created with `priority`). Default 0. */
  readonly priority?: number
  /** Key for `perKey`. */
  readonly key?: string
  /** Give up waiting after this many ms. */
  readonly deadline?: number
  readonly clock?: Clock
}

export interface Limiter extends Policy {
  /** Runs `fn` when a slot is free; the slot is held until its result settles. */
  run<T>(
    fn: (signal: AbortSignal | undefined) => T | PromiseLike<T>,
    options?: LimitRunOptions,
  ): Promise<T>
  /** Calls holding a slot. */
  readonly activeCount: number
  /** Calls waiting for one. */
  readonly pendingCount: number
  /** The limit; raising it starts waiting calls at once, lowering it lets running ones finish. */
  concurrency: number
  /** Rejects every waiting call (with an `AbortedError`, or `reason`). Running calls are unaffected. */
  clearQueue(reason?: unknown): void
}

const KNOWN = [
  'concurrency',
  'maxQueue',
  'maxWait',
  'perKey',
  'key',
  'priority',
  'agingMs',
  'name',
  'store',
  'leaseMs',
  'storePollMs',
] as const

function checkConcurrency(where: string, name: string, value: unknown): number {
  if (value === Infinity) return value
  return checkNumber(where, name, value, {
    min: 1,
    max: 1_000_000,
    integer: true,
    allowInfinity: true,
  })
}

/**
 * @example
 * const perHost = limit({ concurrency: 32, perKey: 6, key: (ctx) => ctx.task, maxQueue: 1_000 })
 * const page = flow().task('user', getUser, { policies: [perHost] })
 */
export function limit(options: LimitOptions | number): Limiter {
  const where = 'limit()'
  const opts: Partial<LimitOptions> = snapshot(
    where,
    typeof options === 'number' ? { concurrency: options } : options,
  )
  checkKnownKeys(where, opts, KNOWN)
  if (opts.concurrency === undefined)
    throw new InvalidOptionError(
      `${where}: \`concurrency\` is required (an integer ≥ 1), e.g. limit({ concurrency: 8 }).`,
    )
  const concurrency = checkConcurrency(where, 'concurrency', opts.concurrency)
  const maxQueue =
    opts.maxQueue === undefined
      ? 10_000
      : checkNumber(where, 'maxQueue', opts.maxQueue, { min: 0, max: 10_000_000, integer: true })
  const maxWait =
    opts.maxWait === undefined ? undefined : checkDuration(where, 'maxWait', opts.maxWait)
  const perKey =
    opts.perKey === undefined ? undefined : checkConcurrency(where, 'perKey', opts.perKey)
  const keyOf =
    opts.key === undefined
      ? undefined
      : checkFunction<(ctx: CallContext) => string>(where, 'key', opts.key, '(ctx) => string')
  if ((perKey === undefined) !== (keyOf === undefined)) {
    throw new InvalidOptionError(
      `${where}: \`perKey\` and \`key\` go together: \`key\` says which key a call belongs to, \`perKey\` how many calls per key may run.`,
    )
  }
  const priorityOf =
    opts.priority === undefined || opts.priority === true
      ? undefined
      : checkFunction<(ctx: CallContext) => number>(
          where,
          'priority',
          opts.priority,
          '(ctx) => number or true',
        )
  const agingMs = opts.agingMs === undefined ? 1_000 : checkDuration(where, 'agingMs', opts.agingMs)
  const name = opts.name === undefined ? 'limit' : checkName(where, opts.name)
  const store = opts.store === undefined ? undefined : checkStore(where, opts.store)
  if (store !== undefined && opts.name === undefined) {
    throw new InvalidOptionError(
      `${where}: a limiter with a \`store\` needs a \`name\`: limiters share a store's limit by name, e.g. limit({ concurrency: 8, store, name: 'payments-api' }).`,
    )
  }
  const leaseMs =
    opts.leaseMs === undefined ? 30_000 : checkDuration(where, 'leaseMs', opts.leaseMs)
  const storePollMs =
    opts.storePollMs === undefined ? 1_000 : checkDuration(where, 'storePollMs', opts.storePollMs)
  const slots = new Slots(
    concurrency,
    maxQueue,
    perKey,
    opts.priority !== undefined,
    agingMs,
    name,
    store !== undefined,
  )
  // `run(fn)` without options needs none of the per-call machinery: `Slots.run` then keeps no
  // object or closure per waiting call (see slots.ts).
  const fast =
    perKey === undefined &&
    opts.priority === undefined &&
    store === undefined &&
    maxWait === undefined
  const waitTimeout =
    maxWait === undefined
      ? undefined
      : () => new TimeoutError(`Limiter "${name}": waited ${maxWait} ms for a slot`, maxWait)
  const shared = store === undefined ? undefined : sharedPermits(store, name, leaseMs, storePollMs)

  /** `start` runs the call, with the signal to give it when the limiter has its own. */
  type Start<T> = (signal?: AbortSignal) => Promise<T>

  const hold = <T>(start: Start<T>, wait: WaitOptions): Promise<T> => {
    const key = wait.key
    const release = (): void => slots.release(key)
    if (shared !== undefined) {
      // The call gets a signal of its own, aborted with a LeaseLostError when its permit is lost.
      const lease = linkSignal(wait.signal)
      const pending = shared.run(
        shared.permitsFor(slots.concurrency, perKey, key),
        () => start(lease.signal),
        { ...wait, onLeaseLost: (error) => lease.abort(error) },
        release,
      )
      pending.then(lease.dispose, lease.dispose)
      return pending
    }
    const pending = invoke(start)
    pending.then(release, release)
    return pending
  }

  const acquire = <T>(start: Start<T>, wait: WaitOptions): Promise<T> => {
    if (wait.signal?.aborted) return Promise.reject(wait.signal.reason)
    if (slots.tryAcquire(wait.key)) return hold(start, wait)
    // `.then` is attached here, in the caller's async context, so `start` runs in it too.
    return slots.wait(wait).then(() => hold(start, wait))
  }

  const waitOptions = (clock: Clock, deadlineAt: number): number =>
    maxWait === undefined ? deadlineAt : Math.min(deadlineAt, clock.now() + maxWait)

  const limiter: Limiter = {
    name: `limit(${concurrency}${perKey !== undefined ? `, ${perKey}/key` : ''})`,
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return (ctx) =>
        acquire((signal) => next(signal === undefined ? ctx : { ...ctx, signal }), {
          signal: ctx.signal,
          clock: ctx.clock,
          deadlineAt: waitOptions(ctx.clock, ctx.deadlineAt),
          key: keyOf?.(ctx),
          priority: priorityOf?.(ctx),
          timeoutError:
            waitTimeout !== undefined && maxWait! <= ctx.deadlineAt - ctx.clock.now()
              ? waitTimeout
              : undefined,
        })
    },
    run<T>(
      fn: (signal: AbortSignal | undefined) => T | PromiseLike<T>,
      options?: LimitRunOptions,
    ): Promise<T> {
      if (options === undefined && fast) return slots.run(fn as () => T | PromiseLike<T>)
      const runOptions = own(options)
      const clock = runOptions.clock ?? systemClock
      const deadlineAt =
        runOptions.deadline === undefined ? Infinity : clock.now() + runOptions.deadline
      return acquire((signal) => Promise.resolve(fn(signal ?? runOptions.signal)), {
        signal: runOptions.signal,
        clock,
        deadlineAt: waitOptions(clock, deadlineAt),
        key: runOptions.key,
        priority: runOptions.priority,
        timeoutError:
          waitTimeout !== undefined && maxWait! <= deadlineAt - clock.now()
            ? waitTimeout
            : undefined,
      })
    },
    get activeCount() {
      return slots.active
    },
    get pendingCount() {
      return slots.pending
    },
    get concurrency() {
      return slots.concurrency
    },
    set concurrency(value: number) {
      slots.concurrency = checkConcurrency(where, 'concurrency', value)
      slots.pump()
    },
    clearQueue(reason?: unknown) {
      slots.clear(reason ?? new AbortedError(`Limiter "${name}": the queue was cleared`))
    },
  }
  return withSlots(limiter, slots)
}

function checkStore(where: string, store: unknown): ConcurrencyStore {
  const s = store as Partial<ConcurrencyStore> | null
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.acquire !== 'function' ||
    typeof s.renew !== 'function' ||
    typeof s.release !== 'function'
  ) {
    throw new InvalidOptionError(
      `${where}: \`store\` must be a ConcurrencyStore (acquire, renew and release), e.g. memoryConcurrencyStore().`,
    )
  }
  return s as ConcurrencyStore
}

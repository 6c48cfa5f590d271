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
import { AbortedError, TimeoutError } from '../core/errors.js'
import { own } from '../core/own.js'
import { linkSignal } from '../core/signals.js'
import {
  checkConcurrency,
  LIMIT_WHERE,
  readLimitOptions,
  type LimitConfig,
  type LimitOptions,
} from './limit-options.js'
import { sharedPermits, type SharedPermits } from './shared-permits.js'
import { Slots, withSlots } from './slots.js'
import type { WaitOptions } from './wait-options.js'

export type { WaitOptions, LimitOptions }

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

/**
 * @example
 * const perHost = limit({ concurrency: 32, perKey: 6, key: (ctx) => ctx.task, maxQueue: 1_000 })
 * const page = flow().task('user', getUser, { policies: [perHost] })
 */
export function limit(options: LimitOptions | number): Limiter {
  const config = readLimitOptions(options)
  const { concurrency, perKey, store, name } = config
  const slots = new Slots(
    concurrency,
    config.maxQueue,
    perKey,
    config.prioritized,
    config.agingMs,
    name,
    store !== undefined,
  )
  const shared =
    store === undefined ? undefined : sharedPermits(store, name, config.leaseMs, config.storePollMs)
  const admit = admission(config, slots, shared)
  // `run(fn)` without options needs none of the per-call machinery: `Slots.run` then keeps no
  // object or closure per waiting call (see slots.ts).
  const fast =
    perKey === undefined &&
    !config.prioritized &&
    store === undefined &&
    config.maxWait === undefined

  const limiter: Limiter = {
    name: `limit(${concurrency}${perKey !== undefined ? `, ${perKey}/key` : ''})`,
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return (ctx) =>
        admit(
          (signal) => next(signal === undefined ? ctx : { ...ctx, signal }),
          ctx.signal,
          ctx.clock,
          ctx.deadlineAt,
          {
            key: config.keyOf?.(ctx),
            priority: config.priorityOf?.(ctx),
          },
        )
    },
    run<T>(
      fn: (signal: AbortSignal | undefined) => T | PromiseLike<T>,
      options?: LimitRunOptions,
    ): Promise<T> {
      if (options === undefined && fast) return slots.run(fn as () => T | PromiseLike<T>)
      const o = own(options)
      const clock = o.clock ?? systemClock
      const deadlineAt = o.deadline === undefined ? Infinity : clock.now() + o.deadline
      return admit(
        (signal) => Promise.resolve(fn(signal ?? o.signal)),
        o.signal,
        clock,
        deadlineAt,
        {
          key: o.key,
          priority: o.priority,
        },
      )
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
      slots.concurrency = checkConcurrency(LIMIT_WHERE, 'concurrency', value)
      slots.pump()
    },
    clearQueue(reason?: unknown) {
      slots.clear(reason ?? new AbortedError(`Limiter "${name}": the queue was cleared`))
    },
  }
  return withSlots(limiter, slots)
}

/** Runs the call; with a store, given the signal the limiter made for it (aborted if its lease is lost). */
type Start<T> = (signal?: AbortSignal) => Promise<T>

type Admit = <T>(
  start: Start<T>,
  signal: AbortSignal | undefined,
  clock: Clock,
  deadlineAt: number,
  call: { readonly key: string | undefined; readonly priority: number | undefined },
) => Promise<T>

/**
 * How a call gets in: a slot (and, with a store, a permit) taken now or after waiting within
 * `maxWait` and the deadline; held until what `start` returns settles.
 */
function admission(config: LimitConfig, slots: Slots, shared: SharedPermits | undefined): Admit {
  const { maxWait, name, perKey } = config
  const waitTimeout =
    maxWait === undefined
      ? undefined
      : () => new TimeoutError(`Limiter "${name}": waited ${maxWait} ms for a slot`, maxWait)

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

  return (start, signal, clock, deadlineAt, call) => {
    const wait: WaitOptions = {
      signal,
      clock,
      deadlineAt: maxWait === undefined ? deadlineAt : Math.min(deadlineAt, clock.now() + maxWait),
      key: call.key,
      priority: call.priority,
      timeoutError:
        waitTimeout !== undefined && maxWait! <= deadlineAt - clock.now() ? waitTimeout : undefined,
    }
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (slots.tryAcquire(wait.key)) return hold(start, wait)
    // `.then` is attached here, in the caller's async context, so `start` runs in it too.
    return slots.wait(wait).then(() => hold(start, wait))
  }
}

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
 *   the local slot is taken first, so the local bounds above hold as well;
 * - a call that waited (for a slot, or for a permit the store refused at first) reports its wait
 *   as a `slot.waited` event on its context's trace, when the trace records; one that got in at
 *   once reports nothing.
 */
import { invoke, type Call, type CallContext, type Policy } from '../core/call.js'
import { systemClock, type Clock } from '../core/clock.js'
import { AbortedError, TimeoutError } from '../core/errors.js'
import { own } from '../core/own.js'
import { linkSignal } from '../core/signals.js'
import type { Recorder } from '../core/trace.js'
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

/** What a `limit()` limiter is doing now, and has refused since it was created: see `stats()`. */
export interface LimiterStats {
  readonly kind: 'limiter'
  /** The `name` option (default "limit"). */
  readonly name: string
  /** Calls holding a slot now (with a store, waiting for a permit included). */
  readonly inFlight: number
  /** Calls waiting for a slot now. */
  readonly queued: number
  /** The limit now (Infinity when unlimited). */
  readonly limit: number
  /** Calls that had to wait in line for a slot. */
  readonly waited: number
  /** Calls refused: `queueFull` + `timedOut`. */
  readonly rejected: number
  /** Calls refused at once because `maxQueue` calls were waiting (`QueueFullError`). */
  readonly queueFull: number
  /** Calls that ran out of time waiting for a slot or a permit (`maxWait`, their deadline). */
  readonly timedOut: number
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
  /**
   * A snapshot for a health endpoint or `prometheusText()`: calls in flight and queued now, and
   * the counts since creation. Flows scheduled through this limiter count too (they share its slots).
   */
  stats(): LimiterStats
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
            ctx,
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
          ctx: undefined,
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
    stats() {
      const timedOut = slots.timedOut + (shared?.timedOut ?? 0)
      return Object.freeze({
        kind: 'limiter' as const,
        name,
        inFlight: slots.active,
        queued: slots.pending,
        limit: slots.concurrency,
        waited: slots.waited,
        rejected: slots.queueFull + timedOut,
        queueFull: slots.queueFull,
        timedOut,
      })
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
  call: {
    readonly key: string | undefined
    readonly priority: number | undefined
    /** The call's context, whose trace hears of a wait: undefined for `run()`. */
    readonly ctx: CallContext | undefined
  },
) => Promise<T>

/** Where and since when a call's wait is reported, when its trace records. */
interface WaitReport {
  readonly trace: Recorder
  readonly task: string
  readonly clock: Clock
  /** When the call arrived. */
  readonly from: number
}

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

  /** `slot.waited`, for a call about to start after waiting. */
  const report = (r: WaitReport): void => {
    const at = r.clock.now()
    r.trace.emit({
      type: 'slot.waited',
      task: r.task,
      at,
      limiter: name,
      waitMs: Math.max(0, at - r.from),
      queued: slots.pending,
    })
  }

  /** Runs the call on the slot it holds; `queued`: it waited in line for the slot. */
  const hold = <T>(
    start: Start<T>,
    wait: WaitOptions,
    r: WaitReport | undefined,
    queued: boolean,
  ): Promise<T> => {
    const key = wait.key
    const release = (): void => slots.release(key)
    if (shared !== undefined) {
      // The call gets a signal of its own, aborted with a LeaseLostError when its permit is lost.
      const lease = linkSignal(wait.signal)
      const pending = shared.run(
        shared.permitsFor(slots.concurrency, perKey, key),
        (paused) => {
          if (r !== undefined && (queued || paused)) report(r)
          return start(lease.signal)
        },
        { ...wait, onLeaseLost: (error) => lease.abort(error) },
        release,
      )
      pending.then(lease.dispose, lease.dispose)
      return pending
    }
    // Reported inside `invoke`: a recorder that throws fails the call, and the slot still goes back.
    const pending =
      r !== undefined && queued
        ? invoke(() => {
            report(r)
            return start()
          })
        : invoke(start)
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
    const ctx = call.ctx
    const r =
      ctx !== undefined && ctx.trace.enabled
        ? { trace: ctx.trace, task: ctx.task, clock, from: clock.now() }
        : undefined
    if (slots.tryAcquire(wait.key)) return hold(start, wait, r, false)
    // `.then` is attached here, in the caller's async context, so `start` runs in it too.
    return slots.wait(wait).then(() => hold(start, wait, r, true))
  }
}

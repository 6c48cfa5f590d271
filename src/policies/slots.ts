/**
 * `Slots`: the slot primitive behind `limit()` and flows — a count of slots in use against a
 * limit, and the calls waiting for one. `limit()` builds its options, deadlines and shared-store
 * permits on top of it; a flow takes and gives back slots around each task's work (and while a
 * task waits for what it reads). Use it directly to build a limiter of your own shape.
 *
 * Contract: every successful `tryAcquire()` and every resolved `wait()` holds one slot, which
 * the holder gives back with exactly one `release()` (with the same key). `run()` does that
 * itself around the function it runs.
 *
 * Invariants:
 * - at most `concurrency` slots are held, and at most `perKey` per key;
 * - waiters are served first in, first out — with keys, waiting keys take turns; with
 *   priorities, best aged priority first;
 * - a waiter that aborts or runs out of time leaves the queue at once without taking a slot;
 * - the queue never holds more than `maxQueue` waiters;
 * - per-key state exists only while a key has slots held or waiters.
 *
 * The fast path: `run(fn)` without options on a limiter without keys and priorities keeps no
 * object per waiting call. The waiting line is one ring of pairs — the resolve function of the
 * call's gate and the function to run — next to the `wait()` waiters (the ring keeps both in
 * one arrival order). The caller's promise is `gate.then(start)`, attached when the call is
 * made, so the function runs in the caller's async context (AsyncLocalStorage) even after it
 * waited; the gate resolves with the function itself, so no closure is made per call.
 *
 * @example
 * const slots = new Slots(4)
 * const user = await slots.run(() => fetchUser(id))
 * // or by hand:
 * if (!slots.tryAcquire()) await slots.wait({ signal })
 * try { await work() } finally { slots.release() }
 */
import { DeadlineError, QueueFullError } from '../core/errors.js'
import { onAbort } from '../core/signals.js'
import { own } from '../core/own.js'
import type { Clock, TimerHandle } from '../core/clock.js'
import { Cleared, Line, type Grant, type Job } from './slot-line.js'
import { FifoQueue, PriorityQueue, type Waiter, type WaitingQueue } from './waiting-queue.js'
import type { WaitOptions } from './wait-options.js'

export type { WaitOptions }

interface Pending extends Waiter {
  readonly key: KeyState | undefined
  /** Called with the slot already taken. */
  grant(): void
  fail(error: unknown): void
  timer: TimerHandle | undefined
  unsubscribe: (() => void) | undefined
  clock: Clock | undefined
}

interface KeyState {
  readonly name: string
  active: number
  readonly queue: WaitingQueue<Pending>
}

// One shared executor: `new Promise(capture)` hands its resolve function over here instead of to
// a closure made per call (the executor runs synchronously, so this cannot interleave).
let captured: Grant | undefined
const capture = (resolve: Grant): void => {
  captured = resolve
}

/** Where a limiter keeps its `Slots`, for `slotsOf`. */
const SLOTS = Symbol('fanout.slots')

/** Attaches `slots` to `holder` (a limiter) so `slotsOf(holder)` finds them. */
export function withSlots<T extends object>(holder: T, slots: Slots): T {
  Object.defineProperty(holder, SLOTS, { value: slots })
  return holder
}

/**
 * The slots behind a `limit()` limiter, or undefined for anything else. A flow given a limiter
 * schedules its tasks through these, so flows and other users of the limiter share its limit.
 */
export function slotsOf(limiter: object): Slots | undefined {
  return (limiter as { [SLOTS]?: Slots })[SLOTS]
}

/** A limit on calls at once, with the calls waiting for a slot. See the module comment. */
export class Slots {
  /** The limit; after raising it, call `pump()` to start waiters. */
  concurrency: number
  /** Slots held. */
  active = 0
  /** Waiters. */
  pending = 0
  // Counts since creation, for a limiter's `stats()`: plain increments off the fast path's way.
  /** Calls that waited in line for a slot. */
  waited = 0
  /** Calls refused at once because `maxQueue` calls were waiting. */
  queueFull = 0
  /** Waiters that ran out of time (their deadline, or `maxWait`) before a slot came free. */
  timedOut = 0
  #seq = 0
  readonly #line: Line<Pending> | undefined
  readonly #queue: WaitingQueue<Pending> | undefined
  readonly #keys: Map<string, KeyState> | undefined
  readonly #waitingKeys: Set<KeyState> | undefined
  readonly #makeQueue: () => WaitingQueue<Pending>

  /**
   * @param concurrency slots at most (an integer ≥ 1, or Infinity); not validated here.
   * @param maxQueue waiters at most; one more is refused with `QueueFullError`.
   * @param perKey slots at most per key (calls then name a key), or undefined for none.
   * @param prioritized serve waiters by priority (aged by `agingMs`) instead of arrival.
   * @param agingMs each `agingMs` a waiter waits raises its priority by 1.
   * @param name shown in errors.
   * @param shared whether the owner also takes permits from a shared store (a flow cannot
   *   schedule through such slots alone).
   */
  constructor(
    concurrency: number,
    readonly maxQueue = Number.MAX_SAFE_INTEGER,
    readonly perKey: number | undefined = undefined,
    readonly prioritized = false,
    readonly agingMs = 1_000,
    readonly name = 'limit',
    readonly shared = false,
  ) {
    this.concurrency = concurrency
    this.#makeQueue = prioritized
      ? () => new PriorityQueue<Pending>()
      : () => new FifoQueue<Pending>()
    if (perKey !== undefined) {
      this.#keys = new Map()
      this.#waitingKeys = new Set()
    } else if (prioritized) this.#queue = this.#makeQueue()
    else this.#line = new Line<Pending>()
  }

  /** Gives the slot back after the run's function settled (shared: no closure per call). */
  readonly #release = (): void => this.release()

  /** Runs a granted fast-path call: the gate resolved with its function (or with `Cleared`). */
  readonly #start = (job: Job | Cleared): Promise<unknown> => {
    if (job instanceof Cleared) throw job.error
    let result: Promise<unknown>
    try {
      result = Promise.resolve(job())
    } catch (error) {
      result = Promise.reject(error)
    }
    result.then(this.#release, this.#release)
    return result
  }

  readonly #grantFast = (grant: Grant, job: Job): void => {
    this.pending--
    this.active++
    grant(job)
  }

  /**
   * Runs `fn` holding a slot, and gives the slot back when its result settles. With a slot free
   * it is called at once (with `deferStart`, in a microtask, holding the slot already); otherwise
   * it waits in line, and it runs in the caller's async context either way. Rejects with
   * `QueueFullError` when `maxQueue` calls wait already.
   */
  run<T>(fn: () => T | PromiseLike<T>, deferStart = false): Promise<T> {
    const line = this.#line
    if (
      line === undefined ||
      typeof fn !== 'function' ||
      (fn as { then?: unknown }).then !== undefined
    ) {
      // Not the fast path: the gate cannot carry `fn` (a thenable would be adopted).
      if (this.tryAcquire())
        return deferStart
          ? Promise.resolve().then(() => this.#start(fn) as Promise<T>)
          : (this.#start(fn) as Promise<T>)
      return this.wait({}).then(() => this.#start(fn) as Promise<T>)
    }
    if (this.active < this.concurrency && this.pending === 0) {
      this.active++
      return (deferStart ? Promise.resolve(fn).then(this.#start) : this.#start(fn)) as Promise<T>
    }
    if (this.pending >= this.maxQueue) return Promise.reject(this.#queueFull())
    const gate = new Promise<Job | Cleared>(capture)
    line.push(captured, fn)
    captured = undefined
    this.pending++
    this.waited++
    return gate.then(this.#start) as Promise<T>
  }

  #queueFull(): QueueFullError {
    this.queueFull++
    return new QueueFullError(
      `Limiter "${this.name}": the queue is full (${this.active} running, ${this.pending} waiting, maxQueue ${this.maxQueue}); the call was rejected, not buffered`,
      this.maxQueue,
    )
  }

  #key(name: string | undefined): KeyState | undefined {
    if (this.#keys === undefined) return undefined
    const k = name ?? ''
    let state = this.#keys.get(k)
    if (state === undefined) {
      state = { name: k, active: 0, queue: this.#makeQueue() }
      this.#keys.set(k, state)
    }
    return state
  }

  #forget(state: KeyState | undefined): void {
    if (state !== undefined && state.active === 0 && state.queue.size === 0)
      this.#keys?.delete(state.name)
  }

  /** Takes a slot now if one is free for this key (and nobody waits ahead). */
  tryAcquire(key?: string): boolean {
    if (this.active >= this.concurrency) return false
    if (this.#keys === undefined) {
      if (this.pending > 0) return false
      this.active++
      return true
    }
    const state = this.#key(key)!
    if (state.active >= this.perKey! || state.queue.size > 0) {
      this.#forget(state)
      return false
    }
    state.active++
    this.active++
    return true
  }

  /** Gives back a slot taken with `tryAcquire` or `wait` (with the same key), and starts waiters. */
  release(key?: string): void {
    this.active--
    if (this.#keys !== undefined) {
      const state = this.#keys.get(key ?? '')
      if (state !== undefined) {
        state.active--
        this.#forget(state)
      }
    }
    this.pump()
  }

  /**
   * Waits for a slot; resolves with the slot taken (give it back with `release(key)`). Rejects
   * with `QueueFullError`, the signal's reason, or a time error at `deadlineAt` on `clock`.
   */
  wait(waitOptions: WaitOptions): Promise<void> {
    const options = own(waitOptions)
    if (this.pending >= this.maxQueue) return Promise.reject(this.#queueFull())
    const signal = options.signal
    if (signal?.aborted) return Promise.reject(signal.reason)
    const clock = options.clock
    const now = clock !== undefined && this.prioritized ? clock.now() : 0
    const priority = options.priority ?? 0
    return new Promise<void>((resolve, reject) => {
      const key = this.#key(options.key)
      const waiter: Pending = {
        rank: this.prioritized ? priority - now / this.agingMs : 0,
        seq: this.#seq++,
        live: true,
        key,
        grant: resolve,
        fail: reject,
        timer: undefined,
        unsubscribe: undefined,
        clock,
      }
      if (signal !== undefined)
        waiter.unsubscribe = onAbort(signal, () => this.#drop(waiter, signal.reason))
      const deadlineAt = options.deadlineAt ?? Infinity
      if (deadlineAt !== Infinity && clock !== undefined) {
        const ms = deadlineAt - clock.now()
        if (ms <= 0) {
          waiter.unsubscribe?.()
          this.timedOut++
          reject(new DeadlineError(`Limiter "${this.name}": no time left to wait for a slot`, 0))
          this.#forget(key)
          return
        }
        waiter.timer = clock.setTimeout(() => {
          waiter.timer = undefined
          if (waiter.live) this.timedOut++
          this.#drop(
            waiter,
            options.timeoutError?.() ??
              new DeadlineError(
                `Limiter "${this.name}": the deadline passed while waiting for a slot (${this.active} running, ${this.pending} waiting)`,
                ms,
              ),
          )
        }, ms)
      }
      this.pending++
      this.waited++
      if (key !== undefined) {
        key.queue.push(waiter)
        this.#waitingKeys!.add(key)
      } else if (this.#line !== undefined) this.#line.push(waiter, undefined)
      else this.#queue!.push(waiter)
    })
  }

  #drop(waiter: Pending, error: unknown): void {
    if (!waiter.live) return
    this.#cleanup(waiter)
    const key = waiter.key
    if (key !== undefined) {
      key.queue.remove(waiter)
      if (key.queue.size === 0) this.#waitingKeys!.delete(key)
      this.#forget(key)
    } else if (this.#line !== undefined) this.#line.remove(waiter)
    else this.#queue!.remove(waiter)
    this.pending--
    waiter.fail(error)
  }

  #cleanup(waiter: Pending): void {
    if (waiter.timer !== undefined) waiter.clock!.clearTimeout(waiter.timer)
    waiter.timer = undefined
    waiter.unsubscribe?.()
    waiter.unsubscribe = undefined
  }

  /** Grants free slots to waiters, best first (after raising `concurrency`, say). */
  pump(): void {
    while (this.active < this.concurrency && this.pending > 0) {
      const waiter = this.#line !== undefined ? this.#line.shift(this.#grantFast) : this.#next()
      if (waiter === undefined) {
        // A fast call was granted (continue), or nothing live is left.
        if (this.#line !== undefined && this.#line.live > 0) continue
        return
      }
      this.pending--
      this.active++
      if (waiter.key !== undefined) waiter.key.active++
      this.#cleanup(waiter)
      waiter.grant()
    }
  }

  /**
   * Keys take turns: among the keys that may run one more call, the one whose next call has the
   * highest priority wins, and between equals the key served longest ago (`#waitingKeys` is kept
   * in that order: a key served goes to the back). So a key with a thousand calls waiting does not
   * delay one with a single call by a thousand turns when the total limit is what all wait for.
   * With priorities, "equal" means the same aged priority in whole steps of `agingMs` (a rank is
   * priority − arrival / agingMs, so exact ties would almost never happen).
   */
  #next(): Pending | undefined {
    if (this.#queue !== undefined) return this.#queue.shift()
    let best: KeyState | undefined
    let bestLevel = -Infinity
    for (const state of this.#waitingKeys!) {
      if (state.active >= this.perKey!) continue
      const head = state.queue.peek()
      if (head === undefined) continue
      const level = this.prioritized ? Math.floor(head.rank) : 0
      if (best === undefined || level > bestLevel) {
        best = state
        bestLevel = level
      }
    }
    if (best === undefined) return undefined
    const waiter = best.queue.shift()!
    this.#waitingKeys!.delete(best)
    if (best.queue.size > 0) this.#waitingKeys!.add(best)
    return waiter
  }

  /** Removes every waiter, rejecting it with `error` — or, with `settle` false, leaving its promise pending forever (p-limit's semantics). */
  clear(error: unknown, settle = true): void {
    if (this.#line !== undefined) {
      this.#line.drain((a) => {
        this.pending--
        if (typeof a === 'function') {
          if (settle) a(new Cleared(error))
          return
        }
        this.#cleanup(a)
        if (settle) a.fail(error)
      })
      return
    }
    const waiters =
      this.#queue !== undefined
        ? this.#queue.drain()
        : [...this.#waitingKeys!].flatMap((k) => k.queue.drain())
    this.#waitingKeys?.clear()
    for (const w of waiters) {
      this.pending--
      this.#cleanup(w)
      this.#forget(w.key)
      if (settle) w.fail(error)
    }
  }

  /** Keys with slots held or waiters (with `perKey`). */
  get keyCount(): number {
    return this.#keys?.size ?? 0
  }
}

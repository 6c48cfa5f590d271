/**
 * The waiting lanes of `rateLimit()`: per key, the callers waiting for their turn (first come,
 * first served) and those whose reservation is in flight. A lane exists only while someone is in it.
 */
import type { CallContext } from '../core/call.js'
import type { TimerHandle } from '../core/clock.js'
import { onAbort } from '../core/signals.js'
import { field } from '../core/own.js'
import type {
  RateLimitReservation,
  RateLimitReserveRequest,
  RateLimitStore,
} from './rate-limit-store.js'

interface Waiter {
  readonly ctx: CallContext
  readonly key: string
  readonly weight: number
  /** Clock reading when the call arrived: `maxWait` counts from here, across reschedules. */
  readonly start: number
  ticket: unknown
  timer: TimerHandle | undefined
  unsubscribe: () => void
  resolve: () => void
  reject: (reason: unknown) => void
}

interface Lane {
  /** In the order of their reservations. */
  readonly waiters: Waiter[]
  /** Callers whose (asynchronous) reservation has not been answered yet. */
  reserving: number
}

/** The bounds a refused reservation is judged against, to name the one that made the difference. */
export interface RefusalBounds {
  readonly queueFull: boolean
  readonly waitLeft: number
  readonly byDeadline: number
}

export interface LanesOptions {
  readonly store: RateLimitStore
  /** The limiter's name, for events. */
  readonly name: string
  readonly maxWait: number
  readonly maxQueue: number
  /** What the store is asked for a call of `weight` on `key` at `now`, allowed to wait `maxWaitMs`. */
  readonly request: (
    key: string,
    weight: number,
    now: number,
    maxWaitMs: number,
  ) => RateLimitReserveRequest
  /** The error for a refused reservation. */
  readonly refusal: (
    ctx: CallContext,
    result: { waitMs: number; reason: 'wait' | 'full' },
    bounds: RefusalBounds,
  ) => Error
}

export interface Lanes {
  /** Takes the call's turn: undefined when it may go now, a promise for the end of its wait otherwise. */
  admit(ctx: CallContext, key: string, weight: number): Promise<void> | undefined
  /** Makes the key's waiters follow a new rate or pause at once (with a synchronous store). */
  reschedule(key: string): void
  /** Callers of the key waiting or reserving now. */
  waiting(key: string): number
  /** Callers of every key waiting or reserving now (a sum over the keys someone is in). */
  queued(): number
  /** Calls let through after waiting for their turn, since creation. */
  readonly delayed: number
}

export function lanes(options: LanesOptions): Lanes {
  return new RateLimitLanes(options)
}

/** The lanes of one limiter, with small methods for each move a waiter can make. */
class RateLimitLanes implements Lanes {
  /** Per key: callers waiting for their turn (FIFO), and callers whose reservation is in flight. Empty lanes are deleted. */
  readonly #lanes = new Map<string, Lane>()
  readonly #options: LanesOptions
  /** A store that answers at once lets queued callers move when one leaves or the upstream pushes back. */
  readonly #synchronous: boolean
  delayed = 0

  constructor(options: LanesOptions) {
    this.#options = options
    this.#synchronous = field(options.store, 'synchronous') === true
  }

  waiting(key: string): number {
    const l = this.#lanes.get(key)
    return l === undefined ? 0 : l.waiters.length + l.reserving
  }

  queued(): number {
    let n = 0
    for (const l of this.#lanes.values()) n += l.waiters.length + l.reserving
    return n
  }

  admit(ctx: CallContext, key: string, weight: number): Promise<void> | undefined {
    const { store, maxWait, maxQueue, request } = this.#options
    const now = ctx.clock.now()
    const l = this.#lane(key)
    const queueFull = l.waiters.length + l.reserving >= maxQueue
    // A wait must end at least 1 ms before the deadline, or the call would start with no time.
    const byDeadline = ctx.deadlineAt - now - 1
    const bounds = { queueFull, waitLeft: maxWait, byDeadline }
    const settle = (result: RateLimitReservation): Promise<void> | undefined =>
      this.#settle(ctx, key, weight, now, result, bounds)
    const maxWaitMs = Math.max(0, Math.min(queueFull ? 0 : Infinity, maxWait, byDeadline))
    l.reserving++
    const done = (): void => {
      l.reserving--
      this.#tidy(key, l)
    }
    let reserved: RateLimitReservation | PromiseLike<RateLimitReservation>
    try {
      reserved = store.reserve(key, request(key, weight, now, maxWaitMs))
    } catch (error) {
      done()
      throw error
    }
    if (!isThenable(reserved)) {
      done()
      return settle(reserved)
    }
    return Promise.resolve(reserved).then(
      (result) => (done(), settle(result)),
      (error: unknown) => {
        done()
        throw error
      },
    )
  }

  /** The store answered the call's reservation: go now, wait in the lane, or fail. */
  #settle(
    ctx: CallContext,
    key: string,
    weight: number,
    now: number,
    result: RateLimitReservation,
    bounds: RefusalBounds,
  ): Promise<void> | undefined {
    if (!result.ok) throw this.#options.refusal(ctx, result, bounds)
    if (ctx.signal.aborted) {
      this.#cancel(key, result.ticket, ctx.clock.now())
      throw ctx.signal.reason
    }
    if (result.waitMs <= 0) return undefined
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        ctx,
        key,
        weight,
        start: now,
        ticket: result.ticket,
        timer: undefined,
        unsubscribe: () => {},
        resolve,
        reject,
      }
      this.#lane(key).waiters.push(w)
      w.unsubscribe = onAbort(ctx.signal, () => this.#leave(w))
      this.#schedule(w, result.waitMs, now)
    })
  }

  /**
   * Takes back the reservations of every waiter of the key (the last first, so each is given back
   * in full) and reserves again in the same order at the current rate: waiters follow a slow-down
   * or a pause at once. Only with a synchronous store.
   */
  reschedule(key: string): void {
    const l = this.#lanes.get(key)
    if (l === undefined || !this.#synchronous || l.waiters.length === 0) return
    const moving = l.waiters.slice()
    this.#stepBack(key, moving)
    this.#reserveAgain(key, l, moving)
    this.#tidy(key, l)
  }

  #lane(key: string): Lane {
    let l = this.#lanes.get(key)
    if (l === undefined) {
      l = { waiters: [], reserving: 0 }
      this.#lanes.set(key, l)
    }
    return l
  }

  #tidy(key: string, l: Lane): void {
    if (l.waiters.length === 0 && l.reserving === 0 && this.#lanes.get(key) === l)
      this.#lanes.delete(key)
  }

  #cancel(key: string, ticket: unknown, now: number): void {
    const undone = this.#options.store.cancel(key, ticket, now)
    // Nobody is left to tell if a remote store fails to take the reservation back.
    if (isThenable(undone)) undone.then(undefined, () => {})
  }

  /** Starts (or restarts) a waiter's timer for `waitMs`. */
  #schedule(w: Waiter, waitMs: number, now: number): void {
    const { ctx } = w
    if (ctx.trace.enabled)
      ctx.trace.emit({
        type: 'rate.waited',
        task: ctx.task,
        at: now,
        limiter: this.#options.name,
        waitMs,
        weight: w.weight,
      })
    w.timer = ctx.clock.setTimeout(() => this.#go(w), waitMs)
  }

  /** The waiter's turn has come. */
  #go(w: Waiter): void {
    this.delayed++
    const l = this.#lanes.get(w.key)
    if (l !== undefined) {
      const i = l.waiters.indexOf(w)
      if (i >= 0) l.waiters.splice(i, 1)
      this.#tidy(w.key, l)
    }
    w.unsubscribe()
    w.resolve()
  }

  /** Stops the waiters' timers and gives back their reservations, the last first. */
  #stepBack(key: string, waiters: readonly Waiter[]): void {
    for (const w of waiters) stopTimer(w)
    for (let i = waiters.length - 1; i >= 0; i--)
      this.#cancel(key, waiters[i]!.ticket, waiters[i]!.ctx.clock.now())
  }

  /** A waiter's caller aborted: it leaves at once and gives its turn back. */
  #leave(w: Waiter): void {
    const l = this.#lanes.get(w.key)
    stopTimer(w)
    const i = l === undefined ? -1 : l.waiters.indexOf(w)
    if (l !== undefined && i >= 0) {
      if (this.#synchronous) {
        // Those behind step back first, so the leaver's reservation is the last and returns in full;
        // then they reserve again and move up.
        const behind = l.waiters.slice(i + 1)
        this.#stepBack(w.key, behind)
        this.#cancel(w.key, w.ticket, w.ctx.clock.now())
        l.waiters.splice(i, 1)
        this.#reserveAgain(w.key, l, behind)
      } else {
        this.#cancel(w.key, w.ticket, w.ctx.clock.now())
        l.waiters.splice(i, 1)
      }
      this.#tidy(w.key, l)
    }
    w.reject(w.ctx.signal.reason)
  }

  /** Reserves again, in order, for waiters whose reservations were just taken back. */
  #reserveAgain(key: string, l: Lane, waiters: readonly Waiter[]): void {
    const { store, maxWait, request, refusal } = this.#options
    for (const w of waiters) {
      const now = w.ctx.clock.now()
      const waitLeft = maxWait - Math.max(0, now - w.start)
      const byDeadline = w.ctx.deadlineAt - now - 1
      const result = store.reserve(
        key,
        request(key, w.weight, now, Math.max(0, Math.min(waitLeft, byDeadline))),
      ) as RateLimitReservation
      if (!result.ok) {
        l.waiters.splice(l.waiters.indexOf(w), 1)
        w.unsubscribe()
        w.reject(refusal(w.ctx, result, { queueFull: false, waitLeft, byDeadline }))
        continue
      }
      w.ticket = result.ticket
      if (result.waitMs <= 0) this.#go(w)
      else this.#schedule(w, result.waitMs, now)
    }
  }
}

function stopTimer(w: Waiter): void {
  if (w.timer !== undefined) w.ctx.clock.clearTimeout(w.timer)
  w.timer = undefined
}

export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

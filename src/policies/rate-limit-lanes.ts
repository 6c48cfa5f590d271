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
}

export function lanes({ store, name, maxWait, maxQueue, request, refusal }: LanesOptions): Lanes {
  /** Per key: callers waiting for their turn (FIFO), and callers whose reservation is in flight. Empty lanes are deleted. */
  const lanes = new Map<string, Lane>()
  /** A store that answers at once lets queued callers move when one leaves or the upstream pushes back. */
  const synchronous = field(store, 'synchronous') === true

  const lane = (key: string): Lane => {
    let l = lanes.get(key)
    if (l === undefined) {
      l = { waiters: [], reserving: 0 }
      lanes.set(key, l)
    }
    return l
  }

  const tidy = (key: string, l: Lane): void => {
    if (l.waiters.length === 0 && l.reserving === 0 && lanes.get(key) === l) lanes.delete(key)
  }

  const cancel = (key: string, ticket: unknown, now: number): void => {
    const undone = store.cancel(key, ticket, now)
    // Nobody is left to tell if a remote store fails to take the reservation back.
    if (isThenable(undone)) undone.then(undefined, () => {})
  }

  /** Starts (or restarts) a waiter's timer for `waitMs`. */
  const schedule = (w: Waiter, waitMs: number, now: number): void => {
    const { ctx } = w
    if (ctx.trace.enabled)
      ctx.trace.emit({
        type: 'rate.waited',
        task: ctx.task,
        at: now,
        limiter: name,
        waitMs,
        weight: w.weight,
      })
    w.timer = ctx.clock.setTimeout(() => go(w), waitMs)
  }

  /** The waiter's turn has come. */
  const go = (w: Waiter): void => {
    const l = lanes.get(w.key)
    if (l !== undefined) {
      const i = l.waiters.indexOf(w)
      if (i >= 0) l.waiters.splice(i, 1)
      tidy(w.key, l)
    }
    w.unsubscribe()
    w.resolve()
  }

  /**
   * Takes back the reservations of every waiter of the key (the last first, so each is given back
   * in full) and reserves again in the same order at the current rate: waiters follow a slow-down
   * or a pause at once. Only with a synchronous store.
   */
  const reschedule = (key: string): void => {
    const l = lanes.get(key)
    if (l === undefined || !synchronous || l.waiters.length === 0) return
    const moving = l.waiters.slice()
    stepBack(key, moving)
    reserveAgain(key, l, moving)
    tidy(key, l)
  }

  /** Stops the waiters' timers and gives back their reservations, the last first. */
  const stepBack = (key: string, waiters: readonly Waiter[]): void => {
    for (const w of waiters) stopTimer(w)
    for (let i = waiters.length - 1; i >= 0; i--)
      cancel(key, waiters[i]!.ticket, waiters[i]!.ctx.clock.now())
  }

  const stopTimer = (w: Waiter): void => {
    if (w.timer !== undefined) w.ctx.clock.clearTimeout(w.timer)
    w.timer = undefined
  }

  /** A waiter's caller aborted: it leaves at once and gives its turn back. */
  const leave = (w: Waiter): void => {
    const l = lanes.get(w.key)
    stopTimer(w)
    const i = l === undefined ? -1 : l.waiters.indexOf(w)
    if (l !== undefined && i >= 0) {
      if (synchronous) {
        // Those behind step back first, so the leaver's reservation is the last and returns in full;
        // then they reserve again and move up.
        const behind = l.waiters.slice(i + 1)
        stepBack(w.key, behind)
        cancel(w.key, w.ticket, w.ctx.clock.now())
        l.waiters.splice(i, 1)
        reserveAgain(w.key, l, behind)
      } else {
        cancel(w.key, w.ticket, w.ctx.clock.now())
        l.waiters.splice(i, 1)
      }
      tidy(w.key, l)
    }
    w.reject(w.ctx.signal.reason)
  }

  /** Reserves again, in order, for waiters whose reservations were just taken back. */
  const reserveAgain = (key: string, l: Lane, waiters: readonly Waiter[]): void => {
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
      if (result.waitMs <= 0) go(w)
      else schedule(w, result.waitMs, now)
    }
  }

  /** Takes the call's turn: undefined when it may go now, a promise for the end of its wait otherwise. */
  const admit = (ctx: CallContext, key: string, weight: number): Promise<void> | undefined => {
    const now = ctx.clock.now()
    const l = lane(key)
    const queueFull = l.waiters.length + l.reserving >= maxQueue
    // A wait must end at least 1 ms before the deadline, or the call would start with no time.
    const byDeadline = ctx.deadlineAt - now - 1
    const bounds = { queueFull, waitLeft: maxWait, byDeadline }
    const settle = (result: RateLimitReservation): Promise<void> | undefined => {
      if (!result.ok) throw refusal(ctx, result, bounds)
      if (ctx.signal.aborted) {
        cancel(key, result.ticket, ctx.clock.now())
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
        const current = lane(key)
        current.waiters.push(w)
        w.unsubscribe = onAbort(ctx.signal, () => leave(w))
        schedule(w, result.waitMs, now)
      })
    }
    l.reserving++
    let reserved: RateLimitReservation | PromiseLike<RateLimitReservation>
    try {
      reserved = store.reserve(
        key,
        request(
          key,
          weight,
          now,
          Math.max(0, Math.min(queueFull ? 0 : Infinity, maxWait, byDeadline)),
        ),
      )
    } catch (error) {
      l.reserving--
      tidy(key, l)
      throw error
    }
    const done = (): void => {
      l.reserving--
      tidy(key, l)
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

  return {
    admit,
    reschedule,
    waiting(key) {
      const l = lanes.get(key)
      return l === undefined ? 0 : l.waiters.length + l.reserving
    },
  }
}

export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

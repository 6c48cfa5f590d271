/**
 * `singleFlight()`: concurrent calls with one key share one run of the work, the way a cache stampede
 * of identical misses should reach the upstream once.
 *
 * Invariants:
 * - while a flight for a key is in progress and not aborted, a call with that key joins it: the
 *   work runs once, and every caller gets its value or the very same error;
 * - the work's context belongs to the flight, not to any caller (see `SharedContext`): its signal
 *   aborts only when every caller has left, so the first caller giving up never fails the others;
 *   its deadline is the latest of the waiting callers'; its events reach every waiting caller;
 * - a caller whose signal aborts rejects at once with the signal's reason; the flight stays in the
 *   map while others wait, so nobody starts a duplicate;
 * - a flight that was aborted, or forgotten (`forget`, after the data changed), is never joined:
 *   the next call starts a new one; a forgotten flight still delivers to those already waiting;
 * - the map holds only flights in progress: an entry is removed when its work settles or when its
 *   last caller leaves, and no timer or listener outlives the flight or the caller.
 */
import { invoke, type CallContext } from '../core/call.js'
import { systemClock, type Clock } from '../core/clock.js'
import { AbortedError } from '../core/errors.js'
import { own } from '../core/own.js'
import {
  checkContext,
  checkSignalOrContext,
  SharedContext,
  type Joiner,
} from '../core/shared-context.js'
import { onAbort } from '../core/signals.js'
import { noopRecorder, type Recorder } from '../core/trace.js'

export interface SingleFlightOptions {
  /** Names the work in its context (`ctx.task`) when no caller brings a context. Default "singleFlight". */
  readonly name?: string
  /** The work's clock when no caller brings a context. */
  readonly clock?: Clock
  /** Hears every event of the work, whoever waits for it. */
  readonly trace?: Recorder
}

export interface SingleFlightRunOptions {
  /** Abort to stop waiting: this caller rejects with the reason; the work runs on for the others. */
  readonly signal?: AbortSignal | undefined
  /**
   * The caller's context (a flow task's `ctx`): its signal is the caller's, and the work's
   * context takes its deadline and reports to its trace while this caller waits.
   */
  readonly context?: CallContext | undefined
}

export interface SingleFlight {
  /**
   * Runs `work` under `key`, or joins the run already in progress under it. `work` is a `Call`:
   * it receives the flight's context, whose signal aborts once every caller waiting for it has
   * left and whose deadline is the latest of theirs.
   */
  run<T>(
    key: string,
    work: (ctx: CallContext) => T | PromiseLike<T>,
    options?: SingleFlightRunOptions,
  ): Promise<T>
  /**
   * Makes the next call under `key` start a new run instead of joining the one in progress (which
   * still settles for the callers already waiting). For when the data changed: a call made after
   * the change must not get an answer fetched before it. Returns whether a run was in progress.
   */
  forget(key: string): boolean
  /** Flights in progress (and in the map). */
  readonly size: number
}

interface Waiter {
  resolve(value: unknown): void
  reject(error: unknown): void
  unsubscribe: (() => void) | undefined
  joiner: Joiner
}

interface Flight {
  readonly shared: SharedContext
  readonly waiters: Set<Waiter>
}

export function singleFlight(options?: SingleFlightOptions): SingleFlight {
  const opts = own(options)
  const name = opts.name ?? 'singleFlight'
  const clock = opts.clock ?? systemClock
  const trace = opts.trace ?? noopRecorder
  const flights = new Map<string, Flight>()

  const create = (key: string): Flight => {
    const flight: Flight = { shared: new SharedContext(name, clock, trace), waiters: new Set() }
    flights.set(key, flight)
    return flight
  }

  /**
   * Starts the work of a flight whose first caller has joined: what the work does at once (an
   * event, a read of the deadline) already reaches that caller.
   */
  const start = (key: string, flight: Flight, work: (ctx: CallContext) => unknown): void => {
    const settle = (deliver: (waiter: Waiter) => void): void => {
      // A newer flight owns the key when this one was abandoned by every caller: leave it alone.
      if (flights.get(key) === flight) flights.delete(key)
      for (const waiter of flight.waiters) {
        waiter.unsubscribe?.()
        flight.shared.leave(waiter.joiner)
        deliver(waiter)
      }
      flight.waiters.clear()
    }
    // Settles asynchronously even when `work` returns at once, so the caller that started the
    // flight is registered as a waiter before the outcome is delivered.
    invoke(() => work(flight.shared.context)).then(
      (value) => settle((w) => w.resolve(value)),
      (error: unknown) => settle((w) => w.reject(error)),
    )
  }

  const leave = (key: string, flight: Flight, waiter: Waiter, reason: unknown): void => {
    if (!flight.waiters.delete(waiter)) return
    flight.shared.leave(waiter.joiner)
    waiter.reject(reason)
    if (flight.waiters.size > 0) return
    // Nobody wants the result any more: stop the work and forget the flight.
    if (flights.get(key) === flight) flights.delete(key)
    flight.shared.abort(
      new AbortedError(`singleFlight: every caller waiting for "${key}" has left`),
    )
  }

  const join = <T>(
    key: string,
    work: (ctx: CallContext) => T | PromiseLike<T>,
    signal: AbortSignal | undefined,
    context: CallContext | undefined,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const current = flights.get(key)
      const fresh = current === undefined || current.shared.signal.aborted
      const flight = fresh ? create(key) : current
      const waiter: Waiter = {
        resolve: resolve as (value: unknown) => void,
        reject,
        unsubscribe: undefined,
        joiner: flight.shared.join(context),
      }
      flight.waiters.add(waiter)
      if (signal !== undefined)
        waiter.unsubscribe = onAbort(signal, () => leave(key, flight, waiter, signal.reason))
      if (fresh) start(key, flight, work)
    })

  return {
    run<T>(
      key: string,
      work: (ctx: CallContext) => T | PromiseLike<T>,
      options?: SingleFlightRunOptions,
    ): Promise<T> {
      if (typeof key !== 'string') {
        return Promise.reject(
          new TypeError(
            `singleFlight().run(): the key must be a string, got ${typeof key}. Build one with cacheKey(...parts).`,
          ),
        )
      }
      if (typeof work !== 'function') {
        return Promise.reject(
          new TypeError(
            `singleFlight().run(): the work must be a function (ctx) => value, got ${typeof work}.`,
          ),
        )
      }
      const { signal: given, context: raw } = own(options)
      let context: CallContext | undefined
      try {
        checkSignalOrContext('singleFlight().run()', given, raw)
        context = raw === undefined ? undefined : checkContext('singleFlight().run()', raw)
      } catch (error) {
        return Promise.reject(error)
      }
      const signal = context?.signal ?? given
      if (signal?.aborted === true) return Promise.reject(signal.reason)
      return join(key, work, signal, context)
    },
    forget(key: string): boolean {
      return flights.delete(key)
    },
    get size() {
      return flights.size
    },
  }
}

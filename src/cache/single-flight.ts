/**
 * `singleFlight()`: concurrent calls with one key share one run of the work, the way a cache stampede
 * of identical misses should reach the upstream once.
 *
 * Invariants:
 * - while a flight for a key is in progress and not aborted, a call with that key joins it: the
 *   work runs once, and every caller gets its value or the very same error;
 * - the work's signal belongs to the flight, not to any caller: it aborts only when every caller
 *   has left, so the first caller giving up never fails the others;
 * - a caller whose signal aborts rejects at once with the signal's reason; the flight stays in the
 *   map while others wait, so nobody starts a duplicate;
 * - a flight that was aborted, or forgotten (`forget`, after the data changed), is never joined:
 *   the next call starts a new one; a forgotten flight still delivers to those already waiting;
 * - the map holds only flights in progress: an entry is removed when its work settles or when its
 *   last caller leaves, and no timer or listener outlives the flight or the caller.
 */
import { invoke } from '../core/call.js'
import { AbortedError } from '../core/errors.js'
import { own } from '../core/own.js'
import { onAbort } from '../core/signals.js'

export interface SingleFlightRunOptions {
  /** Abort to stop waiting: this caller rejects with the reason; the work runs on for the others. */
  readonly signal?: AbortSignal | undefined
}

export interface SingleFlight {
  /**
   * Runs `work` under `key`, or joins the run already in progress under it. `work` receives the
   * flight's signal, which aborts once every caller waiting for it has left.
   */
  run<T>(
    key: string,
    work: (signal: AbortSignal) => T | PromiseLike<T>,
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
}

interface Flight {
  readonly controller: AbortController
  readonly waiters: Set<Waiter>
}

export function singleFlight(): SingleFlight {
  const flights = new Map<string, Flight>()

  const start = (key: string, work: (signal: AbortSignal) => unknown): Flight => {
    const flight: Flight = { controller: new AbortController(), waiters: new Set() }
    flights.set(key, flight)
    const settle = (deliver: (waiter: Waiter) => void): void => {
      // A newer flight owns the key when this one was abandoned by every caller: leave it alone.
      if (flights.get(key) === flight) flights.delete(key)
      for (const waiter of flight.waiters) {
        waiter.unsubscribe?.()
        deliver(waiter)
      }
      flight.waiters.clear()
    }
    // Settles asynchronously even when `work` returns at once, so the caller that started the
    // flight is registered as a waiter before the outcome is delivered.
    invoke(() => work(flight.controller.signal)).then(
      (value) => settle((w) => w.resolve(value)),
      (error: unknown) => settle((w) => w.reject(error)),
    )
    return flight
  }

  const leave = (key: string, flight: Flight, waiter: Waiter, reason: unknown): void => {
    if (!flight.waiters.delete(waiter)) return
    waiter.reject(reason)
    if (flight.waiters.size > 0) return
    // Nobody wants the result any more: stop the work and forget the flight.
    if (flights.get(key) === flight) flights.delete(key)
    flight.controller.abort(
      new AbortedError(`singleFlight: every caller waiting for "${key}" has left`),
    )
  }

  return {
    run<T>(
      key: string,
      work: (signal: AbortSignal) => T | PromiseLike<T>,
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
            `singleFlight().run(): the work must be a function (signal) => value, got ${typeof work}.`,
          ),
        )
      }
      const signal = own(options).signal
      if (signal?.aborted === true) return Promise.reject(signal.reason)
      return new Promise<T>((resolve, reject) => {
        const current = flights.get(key)
        const flight =
          current !== undefined && !current.controller.signal.aborted ? current : start(key, work)
        const waiter: Waiter = {
          resolve: resolve as (value: unknown) => void,
          reject,
          unsubscribe: undefined,
        }
        flight.waiters.add(waiter)
        if (signal !== undefined)
          waiter.unsubscribe = onAbort(signal, () => leave(key, flight, waiter, signal.reason))
      })
    },
    forget(key: string): boolean {
      return flights.delete(key)
    },
    get size() {
      return flights.size
    },
  }
}

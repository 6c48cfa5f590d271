/**
 * The only source of time in fanout. Every timer and every timestamp goes through a `Clock`,
 * so tests can drive time by hand and production code gets a monotonic clock.
 */
import { onAbort } from './signals.js'

/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: unique symbol } | object

export interface Clock {
  /** Milliseconds on a monotonic scale. Only differences are meaningful. */
  now(): number
  /** Runs `fn` once after `ms` milliseconds. Negative, NaN and huge delays are clamped, never misfire. */
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/**
 * Node fires a timer whose delay exceeds 2^31-1 ms after about 1 ms (and warns). Longer delays are
 * split into steps of at most this size instead.
 */
export const MAX_TIMER_DELAY = 2_147_483_647

interface Chained {
  inner: unknown
}

/**
 * The real clock: `performance.now()` when the runtime has it (monotonic: a wall-clock jump moves
 * no deadline), `Date.now()` otherwise.
 *
 * The timer functions are looked up on `globalThis` at call time, not captured at import time:
 * a captured reference would bypass fake timers installed later by a test runner.
 */
export const systemClock: Clock = {
  now() {
    const perf = (globalThis as { performance?: { now(): number } }).performance
    return perf !== undefined ? perf.now() : Date.now()
  },
  setTimeout(fn, ms) {
    const handle: Chained = { inner: undefined }
    const arm = (remaining: number): void => {
      const step = Math.min(remaining, MAX_TIMER_DELAY)
      handle.inner = globalThis.setTimeout(() => {
        if (remaining > step) arm(remaining - step)
        else fn()
      }, step)
    }
    arm(sanitizeDelay(ms))
    return handle
  },
  clearTimeout(handle) {
    globalThis.clearTimeout((handle as Chained).inner as ReturnType<typeof globalThis.setTimeout>)
  },
}

/** NaN and negative delays become 0; Infinity stays Infinity only if the caller asked for it. */
export function sanitizeDelay(ms: number): number {
  if (!(ms > 0)) return 0
  return ms === Infinity ? Number.MAX_SAFE_INTEGER : Math.ceil(ms)
}

/**
 * Resolves after `ms` on `clock`, or rejects with `signal.reason` as soon as `signal` aborts.
 * Leaves no timer and no listener behind on either path.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const unsubscribe =
      signal === undefined
        ? undefined
        : onAbort(signal, () => {
            clock.clearTimeout(timer)
            reject(signal.reason)
          })
    const timer = clock.setTimeout(() => {
      unsubscribe?.()
      resolve()
    }, ms)
  })
}

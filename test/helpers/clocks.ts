/**
 * Clocks for tests that also do real I/O (loopback sockets), where vitest's fake timers would
 * freeze undici's own timers: the code under test gets one of these as its `clock`.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js'

/** Driven by hand: `advance(ms)` runs what is due; `pending` counts live timers, `nextAt` is the earliest one's time. */
export function manualClock(): Clock & {
  advance(ms: number): void
  readonly pending: number
  readonly nextAt: number
} {
  let now = 0
  const timers = new Map<object, { at: number; fn: () => void }>()
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const handle = {}
      timers.set(handle, { at: now + ms, fn })
      return handle as TimerHandle
    },
    clearTimeout(handle) {
      timers.delete(handle)
    },
    advance(ms) {
      now += ms
      for (const [handle, timer] of [...timers]) {
        if (timer.at > now || !timers.has(handle)) continue
        timers.delete(handle)
        timer.fn()
      }
    },
    get pending() {
      return timers.size
    },
    get nextAt() {
      return Math.min(...[...timers.values()].map((timer) => timer.at))
    },
  }
}

/**
 * Short waits are skipped: a timer under `below` ms (default 10 s: a backoff, a Retry-After) fires
 * on the next turn of the event loop and moves the clock on by its delay, so `waits` records what
 * was asked for without waiting it. Longer ones (the HTTP client's phase limits, 10 s and up) run
 * in real time, and are normally cleared long before. The clock follows real time too.
 */
export function skippingClock(
  options: { below?: number } = {},
): Clock & { readonly waits: readonly number[]; readonly pending: number } {
  const below = options.below ?? 10_000
  let skipped = 0
  const waits: number[] = []
  const live = new Map<object, () => void>()
  return {
    now: () => performance.now() + skipped,
    setTimeout(fn, ms) {
      const handle = {}
      if (ms < below) {
        waits.push(ms)
        const immediate = setImmediate(() => {
          live.delete(handle)
          skipped += ms
          fn()
        })
        live.set(handle, () => clearImmediate(immediate))
      } else {
        const timer = setTimeout(() => {
          live.delete(handle)
          fn()
        }, ms)
        live.set(handle, () => clearTimeout(timer))
      }
      return handle as TimerHandle
    },
    clearTimeout(handle) {
      live.get(handle)?.()
      live.delete(handle)
    },
    waits,
    get pending() {
      return live.size
    },
  }
}

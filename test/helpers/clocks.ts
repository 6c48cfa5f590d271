/**
 * Clocks for tests that also do real I/O (loopback sockets), where vitest's fake timers would
 * freeze undici's own timers: the code under test gets one of these as its `clock`.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js'

/** Driven by hand: `advance(ms)` runs what is due; `pending` counts live timers. */
export function manualClock(): Clock & { advance(ms: number): void; readonly pending: number } {
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
  }
}

/**
 * Every wait is skipped: a timer fires on the next turn of the event loop and moves the clock on
 * by its delay, so `waits` records what a backoff or a Retry-After asked for without waiting it.
 * For code whose only timers are such waits (no deadline racing them).
 */
export function skippingClock(): Clock & { readonly waits: readonly number[]; readonly pending: number } {
  let now = 0
  const waits: number[] = []
  const live = new Set<NodeJS.Immediate>()
  return {
    now: () => now,
    setTimeout(fn, ms) {
      waits.push(ms)
      const handle = setImmediate(() => {
        live.delete(handle)
        now += ms
        fn()
      })
      live.add(handle)
      return handle
    },
    clearTimeout(handle) {
      live.delete(handle as NodeJS.Immediate)
      clearImmediate(handle as NodeJS.Immediate)
    },
    waits,
    get pending() {
      return live.size
    },
  }
}

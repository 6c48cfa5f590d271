/**
 * Suite-wide hygiene: any unhandled rejection fails the test that caused it, a fake-timer test
 * must leave no timer behind, and fake timers never leak from one test into the next.
 */
import { afterEach, beforeEach, expect, vi } from 'vitest'

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason)
}

beforeEach(() => {
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})

afterEach(async () => {
  const leftTimers = vi.isFakeTimers() ? vi.getTimerCount() : 0
  vi.useRealTimers()
  // Let pending microtasks and the rejection-tracking tick run before checking.
  await new Promise<void>((resolve) => setImmediate(resolve))
  process.off('unhandledRejection', onUnhandled)
  expect(unhandled, 'unhandled rejections during the test').toEqual([])
  expect(leftTimers, 'timers left pending by the test').toBe(0)
})

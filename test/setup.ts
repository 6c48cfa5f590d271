/**
 * Suite-wide hygiene: any unhandled rejection or uncaught exception fails the test that caused
 * it, and fake timers never leak from one test into the next.
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
  // Let pending microtasks and the rejection-tracking tick run before checking.
  await new Promise<void>((resolve) => setImmediate(resolve))
  process.off('unhandledRejection', onUnhandled)
  vi.useRealTimers()
  expect(unhandled, 'unhandled rejections during the test').toEqual([])
})

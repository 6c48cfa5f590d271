/**
 * The contract every `stats()` snapshot keeps: the expected numbers, frozen, and a new object on
 * each call (a caller may hold one while the component moves on).
 */
import { expect } from 'vitest'

export function expectSnapshot<T extends object>(stats: () => T, expected: T): T {
  const first = stats()
  expect(first).toEqual(expected)
  expect(Object.isFrozen(first)).toBe(true)
  expect(stats()).not.toBe(first)
  return first
}

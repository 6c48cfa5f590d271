/**
 * `cached().stats()`: every lookup counted once, by how it was served — and the entry's status
 * (`entry()`) agrees with the count. The stores' own stats are in the store contract
 * (test/helpers/memory-store-contract.ts).
 */
import { describe, expect, it } from 'vitest'
import { manualClock } from '../../test/helpers/clocks.js'
import { expectSnapshot } from '../../test/helpers/stats.js'
import { cached } from './cached.js'
import { memoryCacheStore } from './memory-store.js'

const httpError = (status: number): Error => Object.assign(new Error(`HTTP ${status}`), { status })

/** A cache on a hand-driven clock whose upstream answers from `answers` in turn. */
function rig(
  answers: (() => string)[],
  options: { staleWhileRevalidate?: number; staleIfError?: number } = {},
) {
  const clock = manualClock()
  let call = 0
  const cache = cached((key: string) => answers[Math.min(call++, answers.length - 1)]!() + key, {
    store: memoryCacheStore({ maxEntries: 100, clock }),
    ttl: 100,
    scope: 'shared',
    clock,
    name: 'users',
    negative: { ttl: 100 },
    ...options,
  })
  return { clock, cache, calls: () => call }
}

const ok = (v: string) => (): string => v

describe('cached(): stats()', () => {
  it('starts at zero, named, frozen, and a new object each time', () => {
    const { cache } = rig([ok('v')])
    expectSnapshot(() => cache.stats(), {
      kind: 'cache',
      name: 'users',
      hits: 0,
      misses: 0,
      staleServed: 0,
      staleIfError: 0,
      hitRatio: 0,
    })
  })

  it('counts misses and hits; concurrent misses of one key are misses each, with one call', async () => {
    const { cache, calls } = rig([ok('v')])
    await Promise.all([cache('a'), cache('a')])
    expect(calls()).toBe(1)
    await cache('a')
    await cache('a')
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2, hitRatio: 0.5 })
  })

  it('a remembered failure served from the cache is a hit', async () => {
    const { cache } = rig([
      () => {
        throw httpError(404)
      },
    ])
    await expect(cache('gone')).rejects.toThrow('HTTP 404')
    await expect(cache('gone')).rejects.toMatchObject({ name: 'CachedError' })
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 })
  })

  it('stale while revalidating, and stale in place of a failed refresh, each count once', async () => {
    const { clock, cache } = rig(
      [
        ok('v1-'),
        ok('v2-'),
        () => {
          throw httpError(503)
        },
      ],
      { staleWhileRevalidate: 100, staleIfError: 1_000 },
    )
    await cache.entry('k') // miss
    clock.advance(150)
    expect(await cache.entry('k')).toMatchObject({ status: 'stale', value: 'v1-k' })
    for (let i = 0; i < 10; i++) await Promise.resolve() // the refresh runs and stores v2
    clock.advance(400) // past stale-while-revalidate, within stale-if-error
    expect(await cache.entry('k')).toMatchObject({ status: 'stale-if-error', value: 'v2-k' })
    expect(cache.stats()).toEqual({
      kind: 'cache',
      name: 'users',
      hits: 0,
      misses: 1,
      staleServed: 1,
      staleIfError: 1,
      hitRatio: 2 / 3,
    })
  })
})

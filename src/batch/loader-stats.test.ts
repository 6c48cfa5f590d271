/** `Loader.stats()`: batches and keys sent, loads that sent no key, the memo's size. */
import { describe, expect, it } from 'vitest'
import { Loader } from './loader.js'
import { manualClock } from '../../test/helpers/clocks.js'
import { expectSnapshot } from '../../test/helpers/stats.js'

const double = (keys: readonly number[]): Map<number, number> =>
  new Map(keys.map((k) => [k, k * 2]))

describe('Loader: stats()', () => {
  it('starts at zero, named, frozen, and a new object each time', () => {
    const users = new Loader(double, { name: 'users' })
    expectSnapshot(() => users.stats(), {
      kind: 'loader',
      name: 'users',
      batches: 0,
      keys: 0,
      cacheHits: 0,
      meanBatchSize: 0,
      cacheSize: 0,
    })
    expect(new Loader(double).stats().name).toBe('loader')
  })

  it('counts batches, keys, memo hits (a key asked twice in a tick, or again later) and the mean batch size', async () => {
    const loader = new Loader(double)
    await Promise.all([loader.load(1), loader.load(2), loader.load(1), loader.load(3)])
    expect(loader.stats()).toMatchObject({ batches: 1, keys: 3, cacheHits: 1, cacheSize: 3 })
    await Promise.all([loader.load(1), loader.load(4)])
    const stats = loader.stats()
    expect(stats).toMatchObject({ batches: 2, keys: 4, cacheHits: 2, cacheSize: 4 })
    expect(stats.meanBatchSize).toBe(2)
  })

  it('counts the loads with options and with the memo off the same way', async () => {
    const scoped = new Loader(double)
    const signal = new AbortController().signal
    await Promise.all([
      scoped.load(1, { scope: 'a', signal }),
      scoped.load(1, { scope: 'a' }),
      scoped.load(1, { scope: 'b' }),
    ])
    expect(scoped.stats()).toMatchObject({ batches: 2, keys: 2, cacheHits: 1 })
    const uncached = new Loader(double, { cache: false })
    await Promise.all([uncached.load(7), uncached.load(7)])
    await uncached.load(7)
    expect(uncached.stats()).toMatchObject({ batches: 2, keys: 2, cacheHits: 1, cacheSize: 0 })
  })

  it('does not count a batch every caller left before it was sent', async () => {
    const clock = manualClock()
    const loader = new Loader(double, { wait: 10, clock })
    const controller = new AbortController()
    const left = loader.load(1, { signal: controller.signal }).catch(() => 'left')
    controller.abort()
    await left
    clock.advance(10)
    expect(loader.stats()).toMatchObject({ batches: 0, keys: 0 })
    const again = loader.load(1)
    clock.advance(10)
    expect(await again).toBe(2)
    expect(loader.stats()).toMatchObject({ batches: 1, keys: 1 })
  })
})

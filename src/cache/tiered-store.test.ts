import { describe, expect, it, vi } from 'vitest'
import { InvalidOptionError } from '../core/errors.js'
import { useFakeTime } from '../../test/helpers/time.js'
import type { CacheInvalidation, CacheInvalidationListener } from './invalidation.js'
import { memoryCacheStore } from './memory-store.js'
import type { CacheEntry, CacheStore } from './store.js'
import { tieredCacheStore } from './tiered-store.js'
import { systemClock } from '../core/clock.js'

const entry = (storedAt: number, value: unknown): CacheEntry => ({
  format: 1,
  version: null,
  kind: 'value',
  value,
  storedAt,
  freshUntil: storedAt + 1000,
  staleUntil: storedAt + 1000,
  errorUntil: storedAt + 1000,
})

/** A shared store answering asynchronously, as a networked one does; `hold()` delays the next get. */
function farStore() {
  const map = new Map<string, CacheEntry>()
  let held: Promise<void> | undefined
  const store = {
    map,
    gets: 0,
    hold() {
      let release!: () => void
      held = new Promise((resolve) => (release = resolve))
      return release
    },
    async get(key: string) {
      store.gets++
      const gate = held
      held = undefined
      const value = map.get(key)
      await gate
      return value
    },
    async set(key: string, e: CacheEntry) {
      await Promise.resolve()
      map.set(key, e)
    },
    async delete(key: string) {
      await Promise.resolve()
      map.delete(key)
    },
  }
  return store
}

function fakeBus() {
  const listeners = new Set<CacheInvalidationListener>()
  const published: string[][] = []
  const bus: CacheInvalidation & { listening: boolean } = {
    listening: true,
    publish: async (keys) => {
      published.push([...keys])
    },
    listen(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  return { bus, listeners, published }
}

describe('tieredCacheStore()', () => {
  it('checks its options by name', () => {
    const l1 = memoryCacheStore({ maxEntries: 10 })
    expect(() => tieredCacheStore({ l1, l2: l1 })).toThrow(/must be two different stores/)
    expect(() => tieredCacheStore({ l1: {} as never, l2: farStore() })).toThrow(InvalidOptionError)
    expect(() => tieredCacheStore({ l1, l2: farStore(), l1Ttl: 0 })).toThrow(
      /`l1Ttl` must be within 1–86400000 ms, got 0/,
    )
    expect(() => tieredCacheStore({ l1, l2: farStore(), l2Ttl: 1 } as never)).toThrow(
      /unknown option `l2Ttl`/,
    )
  })

  it('reads L1 then L2, copies an L2 hit into L1 for at most l1Ttl, and answers an L1 hit synchronously', async () => {
    useFakeTime()
    const l2 = farStore()
    l2.map.set('k', entry(0, 'v'))
    const store = tieredCacheStore({
      l1: memoryCacheStore({ maxEntries: 10, clock: systemClock }),
      l2,
      l1Ttl: 500,
    })
    expect(await store.get('k')).toMatchObject({ value: 'v' })
    expect(store.get('k')).toMatchObject({ value: 'v' }) // not a promise
    expect(l2.gets).toBe(1)
    l2.map.set('k', entry(1, 'changed elsewhere'))
    await vi.advanceTimersByTimeAsync(500)
    expect(await store.get('k')).toMatchObject({ value: 'changed elsewhere' })
    expect(l2.gets).toBe(2)
  })

  it('E16: an L2 read overtaken by an invalidation is not copied into L1', async () => {
    const l2 = farStore()
    const l1 = memoryCacheStore({ maxEntries: 10 })
    const { bus, listeners } = fakeBus()
    const store = tieredCacheStore({ l1, l2, invalidation: bus })
    l2.map.set('k', entry(0, 'old'))
    const release = l2.hold()
    const read = store.get('k')
    for (const l of listeners) l.evict(['k'])
    release()
    expect(await read).toMatchObject({ value: 'old' })
    expect(l1.get('k')).toBeUndefined()
  })

  it('writes and deletes both tiers and announces them; a flush empties L1', async () => {
    const l2 = farStore()
    const l1 = memoryCacheStore({ maxEntries: 10 })
    const { bus, listeners, published } = fakeBus()
    const store = tieredCacheStore({ l1, l2, invalidation: bus })
    await store.set('a', entry(0, 1), 1000)
    await store.set('b', entry(0, 2), 1000)
    expect(l1.get('a')).toBeDefined()
    expect(l2.map.has('a')).toBe(true)
    await store.delete('a')
    expect(l1.get('a')).toBeUndefined()
    expect(l2.map.has('a')).toBe(false)
    expect(published).toEqual([['a'], ['b'], ['a']])
    for (const l of listeners) l.flush()
    expect(l1.size).toBe(0)
    store.close()
    expect(listeners.size).toBe(0)
  })

  it('keeps no L1 copy while the bus is not listening, nor when L2 kept a newer entry', async () => {
    const l1 = memoryCacheStore({ maxEntries: 10 })
    const { bus } = fakeBus()
    bus.listening = false
    const l2 = farStore()
    l2.map.set('k', entry(0, 'v'))
    const store = tieredCacheStore({ l1, l2, invalidation: bus })
    await store.get('k')
    await store.set('j', entry(0, 'w'), 1000)
    expect(l1.size).toBe(0)
    const newer: CacheStore & { setIfNewer(): Promise<boolean> } = {
      ...farStore(),
      setIfNewer: () => Promise.resolve(false),
    }
    const l1b = memoryCacheStore({ maxEntries: 10 })
    l1b.set('k', entry(0, 'older copy'), 1000)
    await tieredCacheStore({ l1: l1b, l2: newer }).set('k', entry(1, 'late'), 1000)
    expect(l1b.get('k')).toBeUndefined()
  })
})

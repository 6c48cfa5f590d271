import { describe, expect, it, vi } from 'vitest'
import { InvalidOptionError } from '../../src/index.js'
import { useFakeTime } from './time.js'
import { cached } from '../../src/cache/cached.js'
import type {
  MemoryCacheStore,
  MemoryCacheStoreOptions,
} from '../../src/cache/memory-store-options.js'
import type { CacheEntry } from '../../src/cache/store.js'

const entry = (value: unknown): CacheEntry => ({
  format: 1,
  version: null,
  kind: 'value',
  value,
  storedAt: 0,
  freshUntil: 1,
  staleUntil: 1,
  errorUntil: 1,
})
const valueOf = (e: CacheEntry | undefined | PromiseLike<CacheEntry | undefined>): unknown =>
  (e as CacheEntry | undefined)?.kind === 'value' ? (e as { value: unknown }).value : undefined

/**
 * The contract of the in-memory stores: `memoryCacheStore()` here and `lruCacheStore()` from
 * fanout/cache/lru-cache run the same cases, so either can replace the other.
 */
export function describeMemoryStore(
  name: string,
  memoryCacheStore: (options: MemoryCacheStoreOptions) => MemoryCacheStore,
): void {
  describe(name, () => {
    it('F15: a bound is required, and the error says which options give one', () => {
      expect(() => memoryCacheStore({})).toThrow(InvalidOptionError)
      expect(() => memoryCacheStore({})).toThrow(
        `${name}: a bound is required: \`maxEntries\` (e.g. maxEntries: 10_000) and/or \`maxBytes\` with \`sizeOf(value)\`. An unbounded cache grows until the process runs out of memory.`,
      )
      expect(() => memoryCacheStore(undefined as never)).toThrow(/a bound is required/)
      expect(() => memoryCacheStore({ maxBytes: 1_000 })).toThrow(
        `${name}: \`maxBytes\` needs \`sizeOf(value)\`, the size of a value in bytes, e.g. sizeOf: (value) => JSON.stringify(value).length.`,
      )
      expect(() => memoryCacheStore({ maxEntries: 10, maxEntrySize: 100 })).toThrow(
        /`maxEntrySize` needs `sizeOf\(value\)`/,
      )
      expect(() => memoryCacheStore({ maxEntries: 10, sizeOf: () => 1 })).toThrow(
        /`sizeOf` is used only with `maxBytes` or `maxEntrySize`/,
      )
      expect(() => memoryCacheStore({ maxEntries: 0 })).toThrow(
        /`maxEntries` must be an integer from 1 to 10000000, got 0/,
      )
      expect(() => memoryCacheStore({ maxEntries: 1.5 })).toThrow(/`maxEntries` must be an integer/)
      expect(() => memoryCacheStore({ maxBytes: 100, maxEntrySize: 200, sizeOf: () => 1 })).toThrow(
        /`maxEntrySize` must be an integer from 1 to 100 bytes, got 200/,
      )
      expect(() => memoryCacheStore({ maxEntires: 10 } as never)).toThrow(
        /unknown option `maxEntires`. Did you mean `maxEntries`\?/,
      )
    })

    it('F15: evicts the least recently used entry at maxEntries', () => {
      const store = memoryCacheStore({ maxEntries: 2 })
      store.set('a', entry('A'), 60_000)
      store.set('b', entry('B'), 60_000)
      expect(valueOf(store.get('a'))).toBe('A') // a is now the most recently used
      store.set('c', entry('C'), 60_000)
      expect(store.get('b')).toBeUndefined()
      expect(valueOf(store.get('a'))).toBe('A')
      expect(valueOf(store.get('c'))).toBe('C')
      expect(store.size).toBe(2)
    })

    it('F15: keeps the total under maxBytes as measured by sizeOf', () => {
      const store = memoryCacheStore({ maxBytes: 10, sizeOf: (v) => String(v).length })
      store.set('a', entry('aaaa'), 60_000)
      store.set('b', entry('bbbb'), 60_000)
      store.set('c', entry('cccc'), 60_000) // 12 bytes would not fit: a goes
      expect(store.get('a')).toBeUndefined()
      expect(valueOf(store.get('b'))).toBe('bbbb')
      expect(valueOf(store.get('c'))).toBe('cccc')
    })

    it('F15: does not store a value larger than maxEntrySize, and drops the old one it would replace', () => {
      const store = memoryCacheStore({
        maxEntries: 10,
        maxEntrySize: 5,
        sizeOf: (v) => String(v).length,
      })
      store.set('k', entry('small'), 60_000)
      store.set('k', entry('far too large'), 60_000)
      expect(store.get('k')).toBeUndefined()
      store.set('j', entry('x'.repeat(6)), 60_000)
      expect(store.get('j')).toBeUndefined()
      expect(store.size).toBe(0)
    })

    it('refuses a sizeOf answer that is not a size', () => {
      const store = memoryCacheStore({ maxBytes: 100, sizeOf: () => NaN })
      expect(() => store.set('k', entry('v'), 1_000)).toThrow(
        `${name}: \`sizeOf\` returned NaN; it must return a finite number of bytes, 0 or more.`,
      )
    })

    it('reclaims an entry after the ttl it was given, on its clock, with no timer', async () => {
      useFakeTime()
      const store = memoryCacheStore({ maxEntries: 10 })
      store.set('k', entry('v'), 100)
      expect(vi.getTimerCount()).toBe(0)
      await vi.advanceTimersByTimeAsync(99)
      expect(valueOf(store.get('k'))).toBe('v')
      await vi.advanceTimersByTimeAsync(1)
      expect(store.get('k')).toBeUndefined()
      expect(store.size).toBe(0)
    })

    it('stats(): entries and bytes held, reads that hit and missed, evictions, under its name', () => {
      let t = 0
      const clock = { now: () => t, setTimeout: () => ({}), clearTimeout: () => {} }
      const sizeOf = (v: unknown): number => String(v).length
      const store = memoryCacheStore({ maxEntries: 2, maxBytes: 100, sizeOf, clock, name: 'hot' })
      const empty = store.stats()
      expect(empty).toEqual({
        kind: 'cacheStore',
        name: 'hot',
        size: 0,
        bytes: 0,
        hits: 0,
        misses: 0,
        evictions: 0,
      })
      expect(Object.isFrozen(empty)).toBe(true)
      store.set('a', entry('aaaa'), 100)
      store.set('b', entry('bb'), 10)
      store.get('a')
      store.get('nothing')
      store.set('c', entry('c'), 100) // evicts b, the least recently used
      t = 50
      store.get('b')
      expect(store.stats()).toEqual({
        ...empty,
        size: 2,
        bytes: 5,
        hits: 1,
        misses: 2,
        evictions: 1,
      })
      t = 100
      store.get('a') // past its ttl: a miss, reclaimed
      expect(store.stats()).toMatchObject({ size: 1, bytes: 1, misses: 3, evictions: 1 })
      expect(memoryCacheStore({ maxEntries: 1 }).stats()).toMatchObject({ bytes: 0 })
      expect(() => memoryCacheStore({ maxEntries: 1, name: '' })).toThrow(InvalidOptionError)
    })

    it('F15: through cached(): the least recently used key is fetched again', async () => {
      const calls: string[] = []
      const users = cached(
        (id: string) => {
          calls.push(id)
          return { id }
        },
        { store: memoryCacheStore({ maxEntries: 2 }), ttl: 60_000, scope: 'shared' },
      )
      await users('a')
      await users('b')
      await users('a')
      await users('c') // evicts b
      expect((await users.entry('a')).status).toBe('hit')
      expect((await users.entry('b')).status).toBe('miss')
      expect(calls).toEqual(['a', 'b', 'c', 'b'])
    })

    it('F15: through cached(): a value over maxEntrySize is served but not kept', async () => {
      let calls = 0
      const pages = cached(
        (size: number) => {
          calls++
          return 'x'.repeat(size)
        },
        {
          store: memoryCacheStore({
            maxBytes: 1_000,
            maxEntrySize: 100,
            sizeOf: (v) => String(v).length,
          }),
          ttl: 60_000,
          scope: 'shared',
        },
      )
      expect(await pages.entry(10)).toMatchObject({ status: 'miss' })
      expect(await pages.entry(10)).toMatchObject({ status: 'hit' })
      expect((await pages.entry(500)).value).toHaveLength(500)
      expect(await pages.entry(500)).toMatchObject({ status: 'miss' })
      expect(calls).toBe(3)
    })

    it('counts a negative entry by a fixed small size, never calling sizeOf for it', async () => {
      const sizeOf = vi.fn((v: unknown) => String(v).length)
      const c = cached(
        (): string => {
          throw Object.assign(new Error('not found'), { status: 404 })
        },
        {
          store: memoryCacheStore({ maxBytes: 1_000, sizeOf }),
          ttl: 60_000,
          negative: { ttl: 1_000 },
          scope: 'shared',
        },
      )
      await expect(c('k')).rejects.toThrow('not found')
      await expect(c('k')).rejects.toMatchObject({ name: 'CachedError', status: 404 })
      expect(sizeOf).not.toHaveBeenCalled()
    })
  })
}

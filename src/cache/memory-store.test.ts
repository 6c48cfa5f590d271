import { describe, expect, it } from 'vitest'
import { describeMemoryStore } from '../../test/helpers/memory-store-contract.js'
import { memoryCacheStore } from './memory-store.js'
import type { CacheEntry } from './store.js'

describeMemoryStore('memoryCacheStore()', memoryCacheStore)

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
const has = (store: { get(key: string): unknown }, key: string): boolean =>
  store.get(key) !== undefined

describe('memoryCacheStore(): the built-in LRU', () => {
  it('F15: evicts as many of the least recently used as a large entry needs under maxBytes', () => {
    const store = memoryCacheStore({ maxBytes: 10, sizeOf: (v) => String(v).length })
    for (const key of ['a', 'b', 'c', 'd', 'e']) store.set(key, entry('xx'), 60_000)
    expect(has(store, 'a')).toBe(true) // a is now the most recently used
    store.set('big', entry('x'.repeat(7)), 60_000) // 10 - 7 = 3 bytes left: only a stays
    expect(['a', 'b', 'c', 'd', 'e', 'big'].filter((k) => has(store, k))).toEqual(['a', 'big'])
    expect(store.size).toBe(2)
  })

  it('F15: an entry the size of maxBytes fits alone; a larger one is not stored and removes the old', () => {
    const store = memoryCacheStore({ maxBytes: 4, sizeOf: (v) => String(v).length })
    store.set('a', entry('aa'), 60_000)
    store.set('b', entry('bbbb'), 60_000)
    expect([has(store, 'a'), has(store, 'b')]).toEqual([false, true])
    store.set('b', entry('bbbbb'), 60_000)
    expect(has(store, 'b')).toBe(false)
    expect(store.size).toBe(0)
  })

  it('replacing a key counts its new size only, and a sizeOf that throws changes nothing', () => {
    let fail = false
    const store = memoryCacheStore({
      maxBytes: 6,
      sizeOf: (v) => {
        if (fail) throw new Error('cannot measure')
        return String(v).length
      },
    })
    store.set('a', entry('aaa'), 60_000)
    store.set('a', entry('aaa'), 60_000)
    store.set('b', entry('bbb'), 60_000) // 3 + 3 = 6: both fit, the replaced a counted once
    expect([has(store, 'a'), has(store, 'b')]).toEqual([true, true])
    fail = true
    expect(() => store.set('a', entry('new'), 60_000)).toThrow('cannot measure')
    fail = false
    expect(store.get('a')).toMatchObject({ value: 'aaa' })
  })

  it('delete and clear release the bytes they held', () => {
    const store = memoryCacheStore({ maxBytes: 4, sizeOf: (v) => String(v).length })
    store.set('a', entry('aaaa'), 60_000)
    store.delete('a')
    store.set('b', entry('bbbb'), 60_000)
    store.clear()
    store.set('c', entry('cc'), 60_000)
    store.set('d', entry('dd'), 60_000)
    expect([has(store, 'c'), has(store, 'd'), store.size]).toEqual([true, true, 2])
  })
})

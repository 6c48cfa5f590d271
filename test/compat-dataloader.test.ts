/**
 * The DataLoader drop-in against DataLoader 2.2 itself: every documented behaviour and edge case
 * runs on both, and the drop-in must behave the same — batches, cache, errors and their
 * messages, and the order in which promises settle. A generated-scenario test then compares the
 * two event by event; the bounded default cache (the one deliberate difference) is tested last.
 */
import original from 'dataloader'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import DropIn, { type Options } from '../src/compat/dataloader.js'
import { useFakeTime } from './helpers/time.js'

type Impl = typeof DropIn
const implementations = [
  ['dataloader', original as unknown as Impl],
  ['fanout/compat/dataloader', DropIn],
] as const

/** The next macrotask: every batch of the current tick has been dispatched by then. */
const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const CONTRACT =
  'DataLoader must be constructed with a function which accepts Array<key> and returns Promise<Array<value>>, but '

describe.each(implementations)('%s', (_, DataLoader) => {
  /** A loader whose batch function answers each key with itself, recording the batches. */
  function idLoader<K, C = K>(options?: Options<K, K, C>): [DropIn<K, K, C>, K[][]] {
    const calls: K[][] = []
    const loader = new DataLoader<K, K, C>((keys) => {
      calls.push([...keys])
      return Promise.resolve(keys)
    }, options)
    return [loader, calls]
  }

  describe('loading and batching', () => {
    it('load returns a Promise of the value', async () => {
      const loader = new DataLoader<number, number>(async (keys) => keys.map((k) => k * 10))
      const promise = loader.load(1)
      expect(promise).toBeInstanceOf(Promise)
      await expect(promise).resolves.toBe(10)
    })

    it('calls the batch function with the loader as `this`, once per batch, with the keys only', async () => {
      const seen: unknown[][] = []
      const loader = new DataLoader<number, number>(async function (
        this: unknown,
        ...args: unknown[]
      ) {
        seen.push([this, ...args])
        return args[0] as number[]
      })
      await loader.load(1)
      expect(seen).toHaveLength(1)
      expect(seen[0]![0]).toBe(loader)
      expect(seen[0]!.slice(1)).toEqual([[1]])
    })

    it('batches the loads of one tick into one call, in load order', async () => {
      const [loader, calls] = idLoader<number>()
      await expect(Promise.all([loader.load(3), loader.load(1), loader.load(2)])).resolves.toEqual([
        3, 1, 2,
      ])
      expect(calls).toEqual([[3, 1, 2]])
    })

    it('maxBatchSize splits a tick into batches of at most that many keys', async () => {
      const [loader, calls] = idLoader<number>({ maxBatchSize: 2 })
      await expect(Promise.all([1, 2, 3, 4, 5].map((k) => loader.load(k)))).resolves.toEqual([
        1, 2, 3, 4, 5,
      ])
      expect(calls).toEqual([[1, 2], [3, 4], [5]])
    })

    it('a repeated key joins the earlier load across sized batches', async () => {
      const [loader, calls] = idLoader<number>({ maxBatchSize: 2 })
      await expect(
        Promise.all([loader.load(1), loader.load(2), loader.load(1), loader.load(3)]),
      ).resolves.toEqual([1, 2, 1, 3])
      expect(calls).toEqual([[1, 2], [3]])
    })

    it('batch: false calls the batch function once per key (and ignores maxBatchSize)', async () => {
      const [loader, calls] = idLoader<number>({ batch: false, maxBatchSize: 5 })
      await expect(Promise.all([loader.load(1), loader.load(2)])).resolves.toEqual([1, 2])
      expect(calls).toEqual([[1], [2]])
    })

    it('loads made in .then callbacks of the same tick join the batch', async () => {
      const [loader, calls] = idLoader<string>()
      const later: Promise<string>[] = []
      await Promise.all([
        loader.load('A'),
        Promise.resolve()
          .then(() => Promise.resolve())
          .then(() => {
            later.push(loader.load('B'))
            return Promise.resolve()
              .then(() => Promise.resolve())
              .then(() => {
                later.push(loader.load('C'))
                void Promise.resolve()
                  .then(() => Promise.resolve())
                  .then(() => later.push(loader.load('D')))
              })
          }),
      ])
      await expect(Promise.all(later)).resolves.toEqual(['B', 'C', 'D'])
      expect(calls).toEqual([['A', 'B', 'C', 'D']])
    })

    it('a load after the next macrotask goes in a new batch', async () => {
      const [loader, calls] = idLoader<string>()
      const a = loader.load('A')
      await macrotask()
      const b = loader.load('B')
      await expect(Promise.all([a, b])).resolves.toEqual(['A', 'B'])
      expect(calls).toEqual([['A'], ['B']])
    })

    it('loaders may call loaders: each batches its own keys', async () => {
      const deepCalls: unknown[] = []
      const deep = new DataLoader<readonly string[], readonly string[]>((keys) => {
        deepCalls.push(keys)
        return Promise.resolve(keys)
      })
      const aCalls: unknown[] = []
      const a = new DataLoader<string, string>((keys) => {
        aCalls.push([...keys])
        return deep.load(keys) as unknown as Promise<string[]>
      })
      const bCalls: unknown[] = []
      const b = new DataLoader<string, string>((keys) => {
        bCalls.push([...keys])
        return deep.load(keys) as unknown as Promise<string[]>
      })
      await expect(
        Promise.all([a.load('A1'), b.load('B1'), a.load('A2'), b.load('B2')]),
      ).resolves.toEqual(['A1', 'B1', 'A2', 'B2'])
      expect(aCalls).toEqual([['A1', 'A2']])
      expect(bCalls).toEqual([['B1', 'B2']])
      expect(deepCalls).toEqual([
        [
          ['A1', 'A2'],
          ['B1', 'B2'],
        ],
      ])
    })

    it('accepts an array-like result and a non-native thenable', async () => {
      const arrayLike = new DataLoader<string, string>(
        async (keys) =>
          Object.assign(
            { length: keys.length },
            keys.map((k) => k.toUpperCase()),
          ) as ArrayLike<string>,
      )
      await expect(Promise.all([arrayLike.load('a'), arrayLike.load('b')])).resolves.toEqual([
        'A',
        'B',
      ])
      // DataLoader chains `.then(…).catch(…)` on what the batch function returns: a thenable's
      // `then` must return a promise.
      const thenable = new DataLoader<string, string>(
        (keys) =>
          ({
            then: (onValues: (values: readonly string[]) => unknown) =>
              Promise.resolve(onValues(keys.map((k) => `${k}!`))),
          }) as unknown as PromiseLike<string[]>,
      )
      await expect(Promise.all([thenable.load('a'), thenable.load('b')])).resolves.toEqual([
        'a!',
        'b!',
      ])
    })

    it('accepts falsy keys other than null and undefined (0, empty string, false)', async () => {
      const [loader, calls] = idLoader<unknown>()
      await expect(
        Promise.all([loader.load(0), loader.load(''), loader.load(false)]),
      ).resolves.toEqual([0, '', false])
      expect(calls).toEqual([[0, '', false]])
    })

    it('accepts objects as keys, by identity without cacheKeyFn', async () => {
      const [loader, calls] = idLoader<object>()
      const keyA = {}
      const keyB = {}
      const [a, b] = await Promise.all([loader.load(keyA), loader.load(keyB)])
      expect(a).toBe(keyA)
      expect(b).toBe(keyB)
      expect(calls).toHaveLength(1)
      expect(calls[0]![0]).toBe(keyA)
      expect(calls[0]![1]).toBe(keyB)
      loader.clear(keyA)
      await Promise.all([loader.load(keyA), loader.load(keyB), loader.load({})])
      expect(calls).toHaveLength(2)
      expect(calls[1]).toHaveLength(2)
      expect(calls[1]![0]).toBe(keyA)
    })
  })

  describe('loadMany', () => {
    it('loads many keys in one call, in order; an empty list gives []', async () => {
      const [loader, calls] = idLoader<number>()
      const all = loader.loadMany([1, 2])
      expect(all).toBeInstanceOf(Promise)
      await expect(all).resolves.toEqual([1, 2])
      await expect(loader.loadMany([])).resolves.toEqual([])
      expect(calls).toEqual([[1, 2]])
    })

    it('puts each failing key’s Error in its place instead of rejecting', async () => {
      const bad = new Error('Bad Key')
      const loader = new DataLoader<string, string>((keys) =>
        Promise.resolve(keys.map((k) => (k === 'bad' ? bad : k))),
      )
      const values = await loader.loadMany(['a', 'bad', 'b'])
      expect(values).toEqual(['a', bad, 'b'])
      expect(values[1]).toBe(bad)
    })

    it('returns a whole-batch failure in every place', async () => {
      const boom = new Error('down')
      const loader = new DataLoader<string, string>(() => Promise.reject(boom))
      await expect(loader.loadMany(['a', 'b'])).resolves.toEqual([boom, boom])
    })

    it('accepts an array-like list of keys', async () => {
      const [loader] = idLoader<string>()
      await expect(loader.loadMany({ length: 2, 0: 'x', 1: 'y' })).resolves.toEqual(['x', 'y'])
    })

    it('throws synchronously, as load does, for a null key in the list', () => {
      const [loader] = idLoader<string | null>()
      expect(() => loader.loadMany(['a', null])).toThrow(
        new TypeError('The loader.load() function must be called with a value, but got: null.'),
      )
    })
  })

  describe('cache', () => {
    it('coalesces identical loads into one key; each cache hit is a new promise', async () => {
      const [loader, calls] = idLoader<number>()
      const first = loader.load(1)
      const second = loader.load(1)
      expect(second).not.toBe(first)
      await expect(Promise.all([first, second])).resolves.toEqual([1, 1])
      expect(calls).toEqual([[1]])
    })

    it('caches across ticks: only new keys are asked for', async () => {
      const [loader, calls] = idLoader<string>()
      await Promise.all([loader.load('A'), loader.load('B')])
      await expect(Promise.all([loader.load('A'), loader.load('C')])).resolves.toEqual(['A', 'C'])
      await expect(
        Promise.all([loader.load('A'), loader.load('B'), loader.load('C')]),
      ).resolves.toEqual(['A', 'B', 'C'])
      expect(calls).toEqual([['A', 'B'], ['C']])
    })

    it('a cache hit waits for the batch it joins, and settles with it', async () => {
      let release = (): void => {}
      const calls: number[][] = []
      const loader = new DataLoader<number, number>((keys) => {
        calls.push([...keys])
        return new Promise((resolve) => (release = () => resolve(keys)))
      })
      loader.prime(1, 1)
      const settled: number[] = []
      const one = loader.load(1).then((v) => settled.push(v))
      const two = loader.load(2).then((v) => settled.push(v))
      await macrotask()
      expect(settled).toEqual([])
      release()
      await Promise.all([one, two])
      expect(settled.sort()).toEqual([1, 2])
      expect(calls).toEqual([[2]])
    })

    it('a tick of cache hits only settles after the tick, with no batch call', async () => {
      const [loader, calls] = idLoader<string>()
      loader.prime('a', 'A')
      let settled = false
      const hit = loader.load('a').then(() => (settled = true))
      await Promise.resolve()
      await Promise.resolve()
      expect(settled).toBe(false)
      await hit
      expect(settled).toBe(true)
      expect(calls).toEqual([])
    })

    it('with maxBatchSize, a cache hit does not count toward the batch size', async () => {
      let release = (): void => {}
      const calls: number[][] = []
      const loader = new DataLoader<number, number>(
        (keys) => {
          calls.push([...keys])
          return new Promise((resolve) => (release = () => resolve(keys)))
        },
        { maxBatchSize: 1 },
      )
      loader.prime(1, 1)
      const settled: number[] = []
      const all = Promise.all(
        [loader.load(1), loader.load(2)].map((p) => p.then((v) => settled.push(v))),
      )
      await macrotask()
      // The hit joined the batch of key 2 (it holds no key), so it waits for it too.
      expect(settled).toEqual([])
      release()
      await all
      expect(calls).toEqual([[2]])
    })

    it('clear(key) forgets one key, clearAll() every key', async () => {
      const [loader, calls] = idLoader<string>()
      await Promise.all([loader.load('A'), loader.load('B')])
      loader.clear('A')
      await Promise.all([loader.load('A'), loader.load('B')])
      loader.clearAll()
      await Promise.all([loader.load('A'), loader.load('B')])
      expect(calls).toEqual([['A', 'B'], ['A'], ['A', 'B']])
    })

    it('prime adds a value without a batch call, and never overwrites', async () => {
      const [loader, calls] = idLoader<string>()
      loader.prime('A', 'X')
      await expect(Promise.all([loader.load('A'), loader.load('B')])).resolves.toEqual(['X', 'B'])
      loader.prime('A', 'Y').prime('B', 'Y')
      await expect(Promise.all([loader.load('A'), loader.load('B')])).resolves.toEqual(['X', 'B'])
      expect(calls).toEqual([['B']])
    })

    it('clear, clearAll and prime return the loader, so clear(key).prime(key, value) replaces', async () => {
      const [loader, calls] = idLoader<string>()
      expect(loader.clear('x')).toBe(loader)
      expect(loader.clearAll()).toBe(loader)
      expect(loader.prime('x', 'y')).toBe(loader)
      await loader.load('A')
      loader.clear('A').prime('A', 'Z')
      await expect(loader.load('A')).resolves.toBe('Z')
      expect(calls).toEqual([['A']])
    })

    it('prime accepts a promise for the value', async () => {
      const [loader, calls] = idLoader<string>()
      loader.prime('A', Promise.resolve('later'))
      await expect(loader.load('A')).resolves.toBe('later')
      expect(calls).toEqual([])
    })

    it('priming an Error caches a rejection (not an unhandled one while nobody loads it)', async () => {
      const [loader, calls] = idLoader<number>()
      loader.prime(1, new Error('Error: 1'))
      await macrotask()
      await expect(loader.load(1)).rejects.toThrow('Error: 1')
      expect(calls).toEqual([])
    })

    it('cache: false asks for every load, repeating keys in the batch', async () => {
      const [loader, calls] = idLoader<string>({ cache: false })
      const [a, c, d, many] = await Promise.all([
        loader.load('A'),
        loader.load('C'),
        loader.load('D'),
        loader.loadMany(['C', 'D', 'A', 'A', 'B']),
      ])
      expect([a, c, d, many]).toEqual(['A', 'C', 'D', ['C', 'D', 'A', 'A', 'B']])
      await loader.load('A')
      expect(calls).toEqual([['A', 'C', 'D', 'C', 'D', 'A', 'A', 'B'], ['A']])
    })

    it('cache: false leaves a cacheMap given alongside untouched; prime/clear/clearAll do nothing', () => {
      const x = Promise.resolve('X')
      const cacheMap = new Map([['X', x]])
      const [loader] = idLoader<string>({ cache: false, cacheMap })
      loader.prime('A', 'A').clear('X').clearAll()
      expect([...cacheMap]).toEqual([['X', x]])
    })

    it('cacheMap: null disables the cache', async () => {
      const [loader, calls] = idLoader<string>({ cacheMap: null })
      await loader.load('A')
      await loader.load('A')
      expect(calls).toEqual([['A'], ['A']])
    })

    it('a custom cacheMap gets get/set/delete/clear, keyed by the cache key', async () => {
      const log: string[] = []
      class StashMap {
        stash: Record<string, Promise<string>> = {}
        get(key: string): Promise<string> | undefined {
          log.push(`get ${key}`)
          return this.stash[key]
        }
        set(key: string, value: Promise<string>): void {
          log.push(`set ${key}`)
          this.stash[key] = value
        }
        delete(key: string): void {
          log.push(`delete ${key}`)
          delete this.stash[key]
        }
        clear(): void {
          log.push('clear')
          this.stash = {}
        }
      }
      const map = new StashMap()
      const [loader, calls] = idLoader<string>({ cacheMap: map })
      await Promise.all([loader.load('a'), loader.load('b'), loader.load('a')])
      expect(Object.keys(map.stash)).toEqual(['a', 'b'])
      loader.clear('b')
      await loader.load('b')
      expect(Object.keys(map.stash)).toEqual(['a', 'b'])
      loader.prime('c', 'C').prime('a', 'nope')
      loader.clearAll()
      expect(map.stash).toEqual({})
      expect(calls).toEqual([['a', 'b'], ['b']])
      expect(log).toEqual([
        'get a',
        'set a',
        'get b',
        'set b',
        'get a',
        'delete b',
        'get b',
        'set b',
        'get c',
        'set c',
        'get a',
        'clear',
      ])
    })

    it('a cacheMap entry that is falsy counts as a miss for load, but as present for prime', async () => {
      const cacheMap = new Map<string, Promise<string>>([['a', 0 as unknown as Promise<string>]])
      const [loader, calls] = idLoader<string>({ cacheMap })
      await expect(loader.load('a')).resolves.toBe('a')
      cacheMap.set('b', '' as unknown as Promise<string>)
      loader.prime('b', 'B')
      expect(cacheMap.get('b')).toBe('')
      expect(calls).toEqual([['a']])
    })

    it('cacheKeyFn lets equivalent object keys share one entry (load, clear, prime), called with the loader as `this`', async () => {
      const self: unknown[] = []
      const cacheKeyFn = function (this: unknown, key: Record<string, number>): string {
        self.push(this)
        return Object.keys(key)
          .sort()
          .map((k) => `${k}:${key[k]}`)
          .join()
      }
      const [loader, calls] = idLoader<Record<string, number>, string>({ cacheKeyFn })
      const keyA = { a: 1, b: 2 }
      const [a, b] = await Promise.all([loader.load(keyA), loader.load({ b: 2, a: 1 })])
      expect(a).toBe(keyA)
      expect(b).toBe(keyA)
      expect(calls).toEqual([[keyA]])
      loader.clear({ b: 2, a: 1 })
      await loader.load({ a: 1, b: 2 })
      const primed = { id: 7 }
      loader.prime(primed, primed)
      await expect(loader.load({ id: 7 })).resolves.toBe(primed)
      expect(calls).toHaveLength(2)
      expect(self.every((that) => that === loader)).toBe(true)
      expect(self.length).toBeGreaterThan(4)
    })

    it('clearAll inside the batch function: every batch gets unique keys, later loads ask again', async () => {
      const calls: string[][] = []
      const loader: DropIn<string, string> = new DataLoader<string, string>((keys) => {
        loader.clearAll()
        calls.push([...keys])
        return Promise.resolve(keys)
      })
      await expect(
        Promise.all([loader.load('A'), loader.load('B'), loader.load('A')]),
      ).resolves.toEqual(['A', 'B', 'A'])
      await expect(
        Promise.all([loader.load('A'), loader.load('B'), loader.load('A')]),
      ).resolves.toEqual(['A', 'B', 'A'])
      expect(calls).toEqual([
        ['A', 'B'],
        ['A', 'B'],
      ])
    })
  })

  describe('errors', () => {
    it('an Error value rejects its key alone; the others resolve', async () => {
      const calls: number[][] = []
      const loader = new DataLoader<number, number>((keys) => {
        calls.push([...keys])
        return Promise.resolve(keys.map((k) => (k % 2 === 0 ? k : new Error(`Odd: ${k}`))))
      })
      const [one, two] = await Promise.allSettled([loader.load(1), loader.load(2)])
      expect(one).toMatchObject({ status: 'rejected', reason: new Error('Odd: 1') })
      expect(two).toEqual({ status: 'fulfilled', value: 2 })
      expect(calls).toEqual([[1, 2]])
    })

    it('an Error value is cached (the same Error again, no new call) until cleared', async () => {
      const calls: number[][] = []
      const loader = new DataLoader<number, number>((keys) => {
        calls.push([...keys])
        return Promise.resolve(keys.map((k) => new Error(`Error: ${k}`)))
      })
      const first = await loader.load(1).catch((e: unknown) => e)
      const second = await loader.load(1).catch((e: unknown) => e)
      expect(second).toBe(first)
      expect(calls).toEqual([[1]])
      loader.clear(1)
      await expect(loader.load(1)).rejects.toThrow('Error: 1')
      expect(calls).toEqual([[1], [1]])
    })

    it('a rejected batch rejects every key with that reason and caches none of them', async () => {
      const calls: number[][] = []
      const boom = new Error('I am a terrible loader')
      const loader = new DataLoader<number, number>((keys) => {
        calls.push([...keys])
        return Promise.reject(boom)
      })
      const results = await Promise.allSettled([loader.load(1), loader.load(2)])
      expect(results).toEqual([
        { status: 'rejected', reason: boom },
        { status: 'rejected', reason: boom },
      ])
      await expect(loader.load(1)).rejects.toBe(boom)
      expect(calls).toEqual([[1, 2], [1]])
    })

    it('a whole-batch failure clears its keys through the loader’s own clear(), and still settles cache hits', async () => {
      const cleared: unknown[] = []
      class Tracking extends DataLoader<string, string> {
        override clear(key: string): this {
          cleared.push(key)
          return super.clear(key)
        }
      }
      const loader = new Tracking(() => Promise.reject(new Error('nope')))
      loader.prime('hit', 'cached')
      const [a, hit, b] = await Promise.allSettled([
        loader.load('a'),
        loader.load('hit'),
        loader.load('b'),
      ])
      expect(a).toMatchObject({ status: 'rejected' })
      expect(hit).toEqual({ status: 'fulfilled', value: 'cached' })
      expect(b).toMatchObject({ status: 'rejected' })
      expect(cleared).toEqual(['a', 'b'])
    })

    it('a batch function that throws rejects every key with DataLoader’s TypeError', async () => {
      const calls: number[][] = []
      const loader = new DataLoader<number, number>((keys) => {
        calls.push([...keys])
        throw new Error('boom')
      })
      const results = await Promise.allSettled([loader.load(1), loader.load(2)])
      const expected = new TypeError(`${CONTRACT}the function errored synchronously: Error: boom.`)
      for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: expected })
      expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError)
      expect((results[0] as PromiseRejectedResult).reason).toBe(
        (results[1] as PromiseRejectedResult).reason,
      )
      await loader.load(1).catch(() => {})
      expect(calls).toEqual([[1, 2], [1]])
    })

    it.each([
      ['null', () => null, 'null'],
      ['the keys themselves', (keys: readonly number[]) => keys, '1'],
      ['a number', () => 42, '42'],
    ])(
      'a batch function returning %s (not a promise) rejects with DataLoader’s TypeError',
      async (_label, fn, shown) => {
        const loader = new DataLoader<number, number>(fn as never)
        await expect(loader.load(1)).rejects.toThrow(
          new TypeError(`${CONTRACT}the function did not return a Promise: ${shown}.`),
        )
      },
    )

    it.each([
      ['null', null, 'null'],
      ['an object', { 0: 1 }, '[object Object]'],
      ['a string', 'abc', 'abc'],
    ])(
      'a batch promise of %s (not an array) rejects with DataLoader’s TypeError',
      async (_label, value, shown) => {
        const loader = new DataLoader<number, number>(async () => value as never)
        await expect(loader.load(1)).rejects.toThrow(
          new TypeError(`${CONTRACT}the function did not return a Promise of an Array: ${shown}.`),
        )
      },
    )

    it('an array of the wrong length rejects every key with the same TypeError, listing keys and values, and caches none', async () => {
      const calls: number[][] = []
      const loader = new DataLoader<number, number>(async (keys) => {
        calls.push([...keys])
        return keys.slice(1)
      })
      const results = await Promise.allSettled([loader.load(1), loader.load(2), loader.load(3)])
      const message = `${CONTRACT}the function did not return a Promise of an Array of the same length as the Array of keys.\n\nKeys:\n1,2,3\n\nValues:\n2,3`
      for (const r of results)
        expect(r).toMatchObject({ status: 'rejected', reason: new TypeError(message) })
      expect((results[0] as PromiseRejectedResult).reason).toBe(
        (results[2] as PromiseRejectedResult).reason,
      )
      const empty = new DataLoader<number, number>(async () => [])
      await expect(empty.load(1)).rejects.toThrow(
        `${CONTRACT}the function did not return a Promise of an Array of the same length as the Array of keys.\n\nKeys:\n1\n\nValues:\n`,
      )
      await loader.load(1).catch(() => {})
      expect(calls).toEqual([[1, 2, 3], [1]])
    })

    it('a longer array is wrong too (values are matched by position, never guessed)', async () => {
      const loader = new DataLoader<number, number>(async (keys) => [...keys, 99])
      await expect(loader.load(1)).rejects.toThrow(
        'of the same length as the Array of keys.\n\nKeys:\n1\n\nValues:\n1,99',
      )
    })
  })

  describe('scheduling', () => {
    it('batchScheduleFn decides when a batch goes; it is called with the loader as `this`', () => {
      let callbacks: (() => void)[] = []
      let that: unknown
      const [loader, calls] = idLoader<string>({
        batchScheduleFn(this: unknown, callback: () => void) {
          // eslint-disable-next-line @typescript-eslint/no-this-alias -- recorded to assert on, not an alias
          that = this
          callbacks.push(callback)
        },
      })
      const dispatch = (): void => {
        for (const callback of callbacks) callback()
        callbacks = []
      }
      void loader.load('A')
      void loader.load('B')
      dispatch()
      void loader.load('A')
      void loader.load('C')
      dispatch()
      void loader.load('D') // never dispatched
      expect(calls).toEqual([['A', 'B'], ['C']])
      expect(that).toBe(loader)
    })

    it('batchScheduleFn with a time window collects loads across ticks', async () => {
      useFakeTime()
      const [loader, calls] = idLoader<number>({
        batchScheduleFn: (callback) => setTimeout(callback, 100),
      })
      const first = loader.load(1)
      await vi.advanceTimersByTimeAsync(50)
      const second = loader.load(2)
      expect(calls).toEqual([])
      await vi.advanceTimersByTimeAsync(50)
      expect(calls).toEqual([[1, 2]])
      await expect(Promise.all([first, second])).resolves.toEqual([1, 2])
    })

    it('a batchScheduleFn that calls back at once sends an empty batch: the load is never asked for', async () => {
      const [loader, calls] = idLoader<string>({ batchScheduleFn: (callback) => callback() })
      let settled = false
      void loader.load('A').then(() => (settled = true))
      await macrotask()
      expect(calls).toEqual([])
      expect(settled).toBe(false)
    })

    it('settles in DataLoader’s order: cache hits before fresh values in a batch, Error values in place', async () => {
      const events: string[] = []
      const loader = new DataLoader<string, string>((keys) => {
        events.push(`call ${keys.join(',')}`)
        return Promise.resolve(keys.map((k) => (k === 'x' ? new Error('x') : k.toUpperCase())))
      })
      loader.prime('p', 'P')
      const track = (label: string, promise: Promise<unknown>): void =>
        void promise.then(
          (v) => events.push(`${label} ok ${String(v)}`),
          (e: unknown) => events.push(`${label} err ${(e as Error).message}`),
        )
      track('b', loader.load('b'))
      track('p', loader.load('p'))
      track('x', loader.load('x'))
      track('b2', loader.load('b'))
      track('many', loader.loadMany(['p', 'b', 'c']))
      await macrotask()
      await macrotask()
      expect(events).toEqual([
        'call b,x,c',
        'b ok B',
        'x err x',
        'p ok P',
        'b2 ok B',
        'many ok P,B,C',
      ])
    })

    it('a failed batch rejects one microtask later than a successful one would resolve', async () => {
      const order: string[] = []
      const ok = new DataLoader<string, string>(async (keys) => keys)
      const bad = new DataLoader<string, string>(() => Promise.reject(new Error('bad')))
      void bad.load('bad').catch(() => order.push('bad'))
      void ok.load('ok').then(() => order.push('ok'))
      await macrotask()
      expect(order).toEqual(['ok', 'bad'])
    })
  })

  describe('misuse', () => {
    it('needs a batch function', () => {
      expect(() => new DataLoader(undefined as never)).toThrow(
        new TypeError(`${CONTRACT}got: undefined.`),
      )
      expect(() => new DataLoader({} as never)).toThrow(
        new TypeError(`${CONTRACT}got: [object Object].`),
      )
    })

    it('load needs a key: null and undefined throw synchronously', () => {
      const [loader] = idLoader<number | null | undefined>()
      expect(() => loader.load(undefined)).toThrow(
        new TypeError(
          'The loader.load() function must be called with a value, but got: undefined.',
        ),
      )
      expect(() => loader.load(null)).toThrow(
        new TypeError('The loader.load() function must be called with a value, but got: null.'),
      )
    })

    it('loadMany needs an array-like', () => {
      const [loader] = idLoader<number>()
      expect(() => (loader.loadMany as (k?: unknown) => unknown)()).toThrow(
        new TypeError(
          'The loader.loadMany() function must be called with Array<key> but got: undefined.',
        ),
      )
      expect(() => (loader.loadMany as (k: unknown) => unknown)(1)).toThrow(
        new TypeError('The loader.loadMany() function must be called with Array<key> but got: 1.'),
      )
      expect(() => (loader.loadMany as (k: unknown) => unknown)(new Set([1]))).toThrow(
        'but got: [object Set].',
      )
    })

    it.each([
      [{ maxBatchSize: null }, 'maxBatchSize must be a positive number: null'],
      [{ maxBatchSize: 0 }, 'maxBatchSize must be a positive number: 0'],
      [{ maxBatchSize: '2' }, 'maxBatchSize must be a positive number: 2'],
      [{ cacheKeyFn: null }, 'cacheKeyFn must be a function: null'],
      [{ batchScheduleFn: null }, 'batchScheduleFn must be a function: null'],
      [{ cacheMap: { get() {} } }, 'Custom cacheMap missing methods: set, delete, clear'],
      [{ cacheMap: 5 }, 'Custom cacheMap missing methods: get, set, delete, clear'],
    ])('rejects the options %j with DataLoader’s message', (options, message) => {
      expect(() => new DataLoader(async (keys) => keys, options as never)).toThrow(
        new TypeError(message),
      )
    })

    it('validates maxBatchSize before batchScheduleFn before cacheKeyFn before cacheMap', () => {
      expect(
        () =>
          new DataLoader(async (k) => k, {
            maxBatchSize: 0,
            batchScheduleFn: null,
            cacheKeyFn: null,
          } as never),
      ).toThrow('maxBatchSize')
      expect(
        () => new DataLoader(async (k) => k, { batchScheduleFn: null, cacheKeyFn: null } as never),
      ).toThrow('batchScheduleFn')
      expect(
        () => new DataLoader(async (k) => k, { cacheKeyFn: null, cacheMap: {} } as never),
      ).toThrow('cacheKeyFn')
    })

    it('batch: false wins over an invalid maxBatchSize; cache: false skips the cacheMap check', () => {
      expect(
        () =>
          new DataLoader(async (k) => k, {
            batch: false,
            maxBatchSize: -1,
            cache: false,
            cacheMap: {},
          } as never),
      ).not.toThrow()
    })
  })

  describe('name', () => {
    it('is null unless given (an empty name too), and writable', () => {
      expect(new DataLoader(async (k) => k).name).toBeNull()
      expect(new DataLoader(async (k) => k, { name: '' }).name).toBeNull()
      const named = new DataLoader(async (k) => k, { name: 'users' })
      expect(named.name).toBe('users')
      named.name = 'people'
      expect(named.name).toBe('people')
    })
  })
})

// --- the two, event by event ------------------------------------------------------------------------

type Op =
  | { readonly op: 'load'; readonly key: string }
  | { readonly op: 'loadMany'; readonly keys: readonly string[] }
  | { readonly op: 'prime'; readonly key: string; readonly as: 'value' | 'error' | 'promise' }
  | { readonly op: 'clear'; readonly key: string }
  | { readonly op: 'clearAll' }
  | { readonly op: 'micro'; readonly n: number }
  | { readonly op: 'macro' }
  /** A load made in a `.then` callback, after n microtasks. */
  | { readonly op: 'later'; readonly key: string; readonly n: number }

type Answer =
  'ok' | 'errors' | 'reject' | 'throw' | 'short' | 'value' | 'notArray' | 'later' | 'thenable'

interface Scenario {
  readonly options: {
    maxBatchSize?: number
    batch?: false
    cache?: false
    cacheKeyFn?: true
    schedule?: 'immediate'
  }
  readonly answers: readonly Answer[]
  readonly ops: readonly Op[]
}

const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'A')
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: keyArb.map((key) => ({ op: 'load' as const, key })) },
  {
    weight: 2,
    arbitrary: fc
      .array(keyArb, { maxLength: 4 })
      .map((keys) => ({ op: 'loadMany' as const, keys })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('prime' as const),
      key: keyArb,
      as: fc.constantFrom('value' as const, 'error' as const, 'promise' as const),
    }),
  },
  { weight: 1, arbitrary: keyArb.map((key) => ({ op: 'clear' as const, key })) },
  { weight: 1, arbitrary: fc.constant({ op: 'clearAll' as const }) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 1, max: 6 }).map((n) => ({ op: 'micro' as const, n })),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'macro' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('later' as const),
      key: keyArb,
      n: fc.integer({ min: 0, max: 5 }),
    }),
  },
)
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  options: fc.record(
    {
      maxBatchSize: fc.integer({ min: 1, max: 3 }),
      batch: fc.constant(false as const),
      cache: fc.constant(false as const),
      cacheKeyFn: fc.constant(true as const),
      schedule: fc.constant('immediate' as const),
    },
    { requiredKeys: [] },
  ),
  answers: fc.array(
    fc.constantFrom<Answer>(
      'ok',
      'ok',
      'ok',
      'errors',
      'reject',
      'throw',
      'short',
      'value',
      'notArray',
      'later',
      'thenable',
    ),
    { minLength: 12, maxLength: 12 },
  ),
  ops: fc.array(opArb, { minLength: 1, maxLength: 25 }),
})

const describeError = (e: unknown): string =>
  e instanceof Error ? `${e.constructor.name}: ${e.message}` : `thrown ${String(e)}`

/** Runs a scenario; returns every event in the order it happened. */
async function run(DataLoader: Impl, scenario: Scenario): Promise<string[]> {
  const events: string[] = []
  let call = 0
  const { maxBatchSize, batch, cache, cacheKeyFn, schedule } = scenario.options
  const options: Options<string, string> = {
    ...(maxBatchSize !== undefined && { maxBatchSize }),
    ...(batch !== undefined && { batch }),
    ...(cache !== undefined && { cache }),
    ...(cacheKeyFn && { cacheKeyFn: (key: string) => key.toLowerCase() }),
    ...(schedule && { batchScheduleFn: (callback: () => void) => void setImmediate(callback) }),
  }
  const loader = new DataLoader<string, string>((keys) => {
    const answer = scenario.answers[call++ % scenario.answers.length]!
    events.push(`call ${keys.join(',')} → ${answer}`)
    const values = keys.map((k) =>
      answer === 'errors' && k === 'b' ? new Error(`no ${k}`) : `${k}${call}`,
    )
    switch (answer) {
      case 'ok':
      case 'errors':
        return Promise.resolve(values)
      case 'reject':
        return Promise.reject(new Error('rejected'))
      case 'throw':
        throw new Error('thrown')
      case 'short':
        return Promise.resolve(values.slice(1))
      case 'value':
        return values as never
      case 'notArray':
        return Promise.resolve({ values } as never)
      case 'later':
        return new Promise((resolve) => setImmediate(() => resolve(values)))
      case 'thenable':
        return {
          then: (onValues: (v: unknown) => unknown) => Promise.resolve(values).then(onValues),
        } as never
    }
  }, options)
  let id = 0
  const pending: Promise<unknown>[] = []
  const track = (label: string, promise: Promise<unknown>): void => {
    pending.push(
      promise.then(
        (value) =>
          events.push(
            `${label} ok ${JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? describeError(v) : v))}`,
          ),
        (error: unknown) => events.push(`${label} err ${describeError(error)}`),
      ),
    )
  }
  for (const op of scenario.ops) {
    const label = `#${id++} ${op.op}`
    switch (op.op) {
      case 'load':
        track(`${label} ${op.key}`, loader.load(op.key))
        break
      case 'loadMany':
        track(`${label} ${op.keys.join(',')}`, loader.loadMany(op.keys))
        break
      case 'prime':
        loader.prime(
          op.key,
          op.as === 'error'
            ? new Error(`primed ${op.key}`)
            : op.as === 'promise'
              ? Promise.resolve(`p-${op.key}`)
              : `v-${op.key}`,
        )
        break
      case 'clear':
        loader.clear(op.key)
        break
      case 'clearAll':
        loader.clearAll()
        break
      case 'micro':
        for (let i = 0; i < op.n; i++) await Promise.resolve()
        events.push(`${label} ${op.n}`)
        break
      case 'macro':
        await macrotask()
        events.push(label)
        break
      case 'later': {
        let chain = Promise.resolve()
        for (let i = 0; i < op.n; i++) chain = chain.then(() => undefined)
        pending.push(chain.then(() => track(`${label} ${op.key}`, loader.load(op.key))))
        break
      }
    }
  }
  for (let i = 0; i < 6; i++) await macrotask()
  events.push(`settled ${pending.length}`)
  return events
}

describe('fanout/compat/dataloader against dataloader, event by event', () => {
  it('generated scenarios (options, batch answers, loads, primes, clears, ticks) give the same events in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const expected = await run(original as unknown as Impl, scenario)
        const actual = await run(DropIn, scenario)
        expect(actual).toEqual(expected)
      }),
      { numRuns: 500 },
    )
  })
})

// --- the one deliberate difference: a bounded default cache -----------------------------------------

describe('fanout/compat/dataloader: the bounded default cache', () => {
  const BOUND = 10_000
  const range = (from: number, to: number): number[] =>
    Array.from({ length: to - from }, (_, i) => from + i)

  function counting(
    options?: DropIn.Options<number, number>,
  ): [DropIn<number, number>, number[][]] {
    const calls: number[][] = []
    const batch: DropIn.BatchLoadFn<number, number> = (keys) => {
      calls.push([...keys])
      return Promise.resolve(keys)
    }
    const loader = new DropIn(batch, options)
    return [loader, calls]
  }

  it('keeps 10,000 keys: below the bound nothing is forgotten', async () => {
    const [loader, calls] = counting()
    await loader.loadMany(range(0, BOUND))
    await loader.loadMany(range(0, BOUND))
    expect(calls).toHaveLength(1)
  })

  it('beyond 10,000 keys the oldest go first', async () => {
    const [loader, calls] = counting()
    await loader.loadMany(range(0, BOUND + 2))
    expect(calls).toHaveLength(1)
    // 0 and 1 were evicted by the two keys over the bound; 2 and 10,001 are still there.
    await loader.loadMany([2, BOUND + 1])
    expect(calls).toHaveLength(1)
    await loader.load(1)
    expect(calls[1]).toEqual([1])
  })

  it('counts primed keys, lets clear() free a slot, and is emptied by clearAll()', async () => {
    const [loader, calls] = counting()
    for (const k of range(0, BOUND)) loader.prime(k, k)
    loader.clear(5)
    loader.prime(-1, -1) // takes the freed slot: nothing evicted
    await expect(loader.load(0)).resolves.toBe(0)
    expect(calls).toEqual([])
    loader.prime(-2, -2) // one over: key 0, the oldest, goes
    await loader.load(0)
    expect(calls).toEqual([[0]])
    loader.clearAll()
    await loader.load(1)
    expect(calls).toEqual([[0], [1]])
  })

  it('is first-in first-out: a cache hit does not make a key young again', async () => {
    const [loader, calls] = counting()
    for (const k of range(0, BOUND)) loader.prime(k, k)
    await loader.load(0)
    loader.prime(BOUND, BOUND)
    await loader.load(0)
    expect(calls).toEqual([[0]])
  })

  it('cacheMap: new Map() restores the unbounded cache', async () => {
    const [loader, calls] = counting({ cacheMap: new Map() })
    await loader.loadMany(range(0, BOUND + 10))
    await loader.loadMany(range(0, 10))
    expect(calls).toHaveLength(1)
  })
})

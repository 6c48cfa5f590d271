import fc from 'fast-check'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import {
  AbortedError,
  limit,
  Loader,
  loader,
  NotFoundError,
  requestScoped,
  type BatchContext,
  type LoaderBatchEvent,
} from '../index.js'
import { after, settle, useFakeTime } from '../../test/helpers/time.js'

interface User {
  readonly id: number
  readonly name: string
}

/** A batch endpoint over ids: records each call's keys. */
function usersEndpoint(
  answer: (ids: readonly number[]) => Iterable<User> | Promise<Iterable<User>> = (ids) =>
    ids.map((id) => ({ id, name: `u${id}` })),
) {
  const calls: number[][] = []
  const batch = async (ids: readonly number[]) => {
    calls.push([...ids])
    return answer(ids)
  }
  return { calls, batch }
}

describe('Loader', () => {
  it('batches the loads of one tick into one call and memoizes each key', async () => {
    const { calls, batch } = usersEndpoint()
    const users = new Loader(batch, { id: (u: User) => u.id })
    const [a, b, c] = await Promise.all([users.load(1), users.load(2), users.load(3)])
    expect([a.name, b.name, c.name]).toEqual(['u1', 'u2', 'u3'])
    expect(calls).toEqual([[1, 2, 3]])
    expect((await users.load(2)).name).toBe('u2')
    expect(calls).toHaveLength(1)
  })

  it('G1: fewer, extra and reordered items are matched by id, never by position; a missing id is a NotFoundError for that key only', async () => {
    const { batch } = usersEndpoint((ids) => [
      { id: 99, name: 'extra' },
      ...[...ids]
        .reverse()
        .filter((id) => id !== 2)
        .map((id) => ({ id, name: `u${id}` })),
    ])
    const users = loader(batch, { id: (u: User) => u.id })
    const results = await Promise.allSettled([1, 2, 3].map((id) => users.load(id)))
    expect(results[0]).toEqual({ status: 'fulfilled', value: { id: 1, name: 'u1' } })
    expect(results[2]).toEqual({ status: 'fulfilled', value: { id: 3, name: 'u3' } })
    expect(results[1]!.status).toBe('rejected')
    const error = (results[1] as PromiseRejectedResult).reason as NotFoundError
    expect(error).toBeInstanceOf(NotFoundError)
    expect(error.key).toBe(2)
    expect(error.status).toBe(404)
  })

  it('G1: a Map or an object keyed by id works too; an Error value fails its key only', async () => {
    const fromMap = loader(
      async (ids: readonly string[]) =>
        new Map<string, string | Error>(
          ids.map((id) => [id, id === 'bad' ? new Error('no access') : id.toUpperCase()]),
        ),
    )
    await expect(Promise.allSettled(['a', 'bad'].map((id) => fromMap.load(id)))).resolves.toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: new Error('no access') },
    ])
    const fromObject = loader(async (ids: readonly number[]) =>
      Object.fromEntries(ids.filter((id) => id !== 2).map((id) => [String(id), id * 10])),
    )
    const settled = await Promise.allSettled([1, 2].map((id) => fromObject.load(id)))
    expect(settled[0]).toEqual({ status: 'fulfilled', value: 10 })
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError)
  })

  it('G1: a list answer without `id` fails the batch with a message saying how to match', async () => {
    const users = loader(async (ids: readonly number[]) => ids.map((id) => ({ id, name: '' })))
    await expect(users.load(1)).rejects.toThrow(
      /matched by id, never by position.*id: \(item\) => item\.id/,
    )
  })

  it('G2: a failed batch fails every caller, memoizes nothing, and the next load asks again', async () => {
    let fail = true
    const calls: number[][] = []
    const users = loader(
      async (ids: readonly number[]) => {
        calls.push([...ids])
        if (fail) throw new Error('503 from users')
        return new Map(ids.map((id) => [id, id]))
      },
      { maxBatchSize: 10 },
    )
    const results = await Promise.allSettled([users.load(1), users.load(2)])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(users.cacheSize).toBe(0)
    fail = false
    expect(await users.load(1)).toBe(1)
    expect(calls).toEqual([[1, 2], [1]])
  })

  it('G3: 10,000 ids are split within maxBatchSize and the URL budget, so no request is too long', async () => {
    const calls: number[][] = []
    const base = 'https://users.internal/users?ids='
    const urlBudget = 2_000 - base.length
    const users = loader(
      async (ids: readonly number[]) => {
        calls.push([...ids])
        return new Map(ids.map((id) => [id, id]))
      },
      { maxBatchSize: 500, maxBatchCost: urlBudget, cost: (id) => String(id).length + 1 },
    )
    const ids = Array.from({ length: 10_000 }, (_, i) => i * 7919)
    const values = await Promise.all(ids.map((id) => users.load(id)))
    expect(values).toEqual(ids)
    expect(calls.flat().sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b))
    for (const call of calls) {
      expect(call.length).toBeLessThanOrEqual(500)
      expect((base + call.join(',')).length).toBeLessThanOrEqual(2_000)
    }
  })

  it('G4: duplicate keys in one tick are asked once and every caller resolves — with and without the memo', async () => {
    for (const cache of [true, false]) {
      const { calls, batch } = usersEndpoint()
      const users = loader(batch, { id: (u: User) => u.id, cache })
      const values = await Promise.all([1, 1, 2, 1].map((id) => users.load(id)))
      expect(values.map((u) => u.id)).toEqual([1, 1, 2, 1])
      expect(calls).toEqual([[1, 2]])
    }
  })

  it('G5: loads of different scopes are never batched or memoized together; the batch knows its scope', async () => {
    const seen: [string | undefined, number[]][] = []
    const docs = loader(async (ids: readonly number[], ctx: BatchContext) => {
      seen.push([ctx.scope, [...ids]])
      return new Map(ids.map((id) => [id, `${ctx.scope}:${id}`]))
    })
    const values = await Promise.all([
      docs.load(1, { scope: 'alice' }),
      docs.load(1, { scope: 'bob' }),
      docs.load(2, { scope: 'alice' }),
    ])
    expect(values).toEqual(['alice:1', 'bob:1', 'alice:2'])
    expect(seen).toEqual([
      ['alice', [1, 2]],
      ['bob', [1]],
    ])
    // Memoized per scope: bob's value is never served to alice, and clearing one scope keeps the other.
    docs.clearAll({ scope: 'bob' })
    expect(await docs.load(1, { scope: 'alice' })).toBe('alice:1')
    expect(seen).toHaveLength(2)
    expect(await docs.load(1, { scope: 'bob' })).toBe('bob:1')
    expect(seen).toHaveLength(3)
  })

  it('G5: 0 cross-scope hits over generated (scope, key) sequences', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.constantFrom('a', 'b', 'c', undefined), fc.integer({ min: 0, max: 5 })),
          { minLength: 1, maxLength: 40 },
        ),
        fc.boolean(),
        async (loads, cache) => {
          const owners = loader(
            async (ids: readonly number[], ctx: BatchContext) =>
              new Map(ids.map((id) => [id, { scope: ctx.scope, id }])),
            { cache, maxCacheSize: 7 },
          )
          const values = await Promise.all(
            loads.map(([scope, id]) =>
              owners.load(id, scope === undefined ? undefined : { scope }),
            ),
          )
          values.forEach((value, i) =>
            expect(value).toEqual({ scope: loads[i]![0], id: loads[i]![1] }),
          )
        },
      ),
      { numRuns: 300 },
    )
  })

  it('G6: a caller that leaves rejects at once; the batch goes on for the others', async () => {
    useFakeTime()
    let batchSignal: AbortSignal | undefined
    const users = loader(async (ids: readonly number[], ctx: BatchContext) => {
      batchSignal = ctx.signal
      await after(100, undefined)
      return new Map(ids.map((id) => [id, id]))
    })
    const controller = new AbortController()
    const leaving = users.load(1, { signal: controller.signal })
    const staying = users.load(1)
    const other = users.load(2, { signal: new AbortController().signal })
    await vi.advanceTimersByTimeAsync(10)
    controller.abort(new Error('client went away'))
    await expect(leaving).rejects.toThrow('client went away')
    expect(await settle(Promise.all([staying, other]))).toEqual({ ok: true, value: [1, 2] })
    expect(batchSignal!.aborted).toBe(false)
    vi.useRealTimers()
  })

  it('G6: when every caller has left, the batch call is aborted and nothing is memoized', async () => {
    useFakeTime()
    let batchSignal: AbortSignal | undefined
    const users = loader(async (ids: readonly number[], ctx: BatchContext) => {
      batchSignal = ctx.signal
      await after(100, undefined, ctx.signal)
      return new Map(ids.map((id) => [id, id]))
    })
    const a = new AbortController()
    const b = new AbortController()
    const loads = [users.load(1, { signal: a.signal }), users.load(2, { signal: b.signal })]
    await vi.advanceTimersByTimeAsync(10)
    a.abort(new Error('a left'))
    expect(batchSignal!.aborted).toBe(false)
    b.abort(new Error('b left'))
    expect(batchSignal!.aborted).toBe(true)
    await expect(loads[0]).rejects.toThrow('a left')
    await expect(loads[1]).rejects.toThrow('b left')
    await vi.advanceTimersByTimeAsync(0)
    expect(users.cacheSize).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    vi.useRealTimers()
  })

  it('G6: when every caller leaves before the batch is sent, no call is made', async () => {
    const { calls, batch } = usersEndpoint()
    const users = loader(batch, { id: (u: User) => u.id })
    const controller = new AbortController()
    const load = users.load(1, { signal: controller.signal })
    controller.abort(new Error('gone'))
    await expect(load).rejects.toThrow('gone')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(calls).toEqual([])
    expect(users.cacheSize).toBe(0)
  })

  it('a caller without a signal keeps the batch alive even when a memo hit joins it later', async () => {
    useFakeTime()
    const users = loader(async (ids: readonly number[], ctx: BatchContext) => {
      await after(50, undefined, ctx.signal)
      return new Map(ids.map((id) => [id, id]))
    })
    const controller = new AbortController()
    const leaving = users.load(1, { signal: controller.signal })
    const joined = users.load(1) // a memo hit on the pending key
    controller.abort(new Error('left'))
    await expect(leaving).rejects.toThrow('left')
    expect(await settle(joined)).toEqual({ ok: true, value: 1 })
    vi.useRealTimers()
  })

  it('an already aborted signal rejects without loading', async () => {
    const { calls, batch } = usersEndpoint()
    const users = loader(batch, { id: (u: User) => u.id })
    await expect(users.load(1, { signal: AbortSignal.abort(new Error('late')) })).rejects.toThrow(
      'late',
    )
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(calls).toEqual([])
  })

  it('a `wait` window collects loads across ticks and dispatches a full batch at once', async () => {
    useFakeTime()
    const calls: number[][] = []
    const users = loader(
      async (ids: readonly number[]) => {
        calls.push([...ids])
        return new Map(ids.map((id) => [id, id]))
      },
      { wait: 20, maxBatchSize: 3 },
    )
    const first = users.load(1)
    await vi.advanceTimersByTimeAsync(10)
    const second = users.load(2)
    expect(calls).toEqual([])
    await vi.advanceTimersByTimeAsync(10)
    expect(calls).toEqual([[1, 2]])
    const full = [users.load(3), users.load(4), users.load(5)]
    await vi.advanceTimersByTimeAsync(0)
    expect(calls).toEqual([
      [1, 2],
      [3, 4, 5],
    ])
    expect(await settle(Promise.all([first, second, ...full]))).toEqual({
      ok: true,
      value: [1, 2, 3, 4, 5],
    })
    expect(vi.getTimerCount()).toBe(0)
    vi.useRealTimers()
  })

  it('`concurrency` bounds the batch calls running at once (a number or a shared limiter)', async () => {
    useFakeTime()
    for (const concurrency of [2, limit({ concurrency: 2 })]) {
      let running = 0
      let peak = 0
      const users = loader(
        async (ids: readonly number[]) => {
          running++
          peak = Math.max(peak, running)
          await after(10, undefined)
          running--
          return new Map(ids.map((id) => [id, id]))
        },
        { maxBatchSize: 1, concurrency },
      )
      expect(await settle(Promise.all([1, 2, 3, 4, 5].map((id) => users.load(id))))).toEqual({
        ok: true,
        value: [1, 2, 3, 4, 5],
      })
      expect(peak).toBe(2)
    }
    vi.useRealTimers()
  })

  it('reports each batch (size, outcome, timing) and never the scope itself', async () => {
    const events: LoaderBatchEvent[] = []
    const users = loader(async (ids: readonly number[]) => new Map(ids.map((id) => [id, id])), {
      name: 'users',
      onBatch: (e) => events.push(e),
    })
    await Promise.all([
      users.load(1, { scope: 'secret-tenant' }),
      users.load(2, { scope: 'secret-tenant' }),
    ])
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      loader: 'users',
      size: 2,
      scoped: true,
      outcome: 'fulfilled',
    })
    expect(JSON.stringify(events)).not.toContain('secret-tenant')
  })

  it('J4: the memo is bounded (oldest out first) and failures are never memoized', async () => {
    const { calls, batch } = usersEndpoint((ids) =>
      ids.filter((id) => id !== 13).map((id) => ({ id, name: '' })),
    )
    const users = loader(batch, { id: (u: User) => u.id, maxCacheSize: 100 })
    await Promise.allSettled(Array.from({ length: 1_000 }, (_, i) => users.load(i)))
    expect(users.cacheSize).toBeLessThanOrEqual(100)
    await users.load(999) // recent: still memoized
    expect(calls).toHaveLength(1)
    await users.load(0) // evicted: asked again
    expect(calls).toHaveLength(2)
    await expect(users.load(13)).rejects.toBeInstanceOf(NotFoundError)
    expect(calls).toHaveLength(3)
  })

  it('prime, clear and clearAll', async () => {
    const { calls, batch } = usersEndpoint()
    const users = loader(batch, { id: (u: User) => u.id })
    users.prime(7, { id: 7, name: 'primed' }).prime(7, { id: 7, name: 'ignored' })
    expect(await users.load(7)).toEqual({ id: 7, name: 'primed' })
    expect(calls).toEqual([])
    users.clear(7)
    expect((await users.load(7)).name).toBe('u7')
    users.clearAll()
    expect(users.cacheSize).toBe(0)
    users.prime(8, new Error('not memoized'))
    expect((await users.load(8)).name).toBe('u8')
  })

  it('loadMany gives each value or its Error in place', async () => {
    const { batch } = usersEndpoint((ids) =>
      ids.filter((id) => id !== 2).map((id) => ({ id, name: `u${id}` })),
    )
    const users = loader(batch, { id: (u: User) => u.id })
    const [one, two] = await users.loadMany([1, 2])
    expect(one).toEqual({ id: 1, name: 'u1' })
    expect(two).toBeInstanceOf(NotFoundError)
  })

  it('object keys are matched through `key`', async () => {
    const calls: { org: string; id: number }[][] = []
    const members = loader(
      async (keys: readonly { org: string; id: number }[]) => {
        calls.push([...keys])
        return new Map(keys.map((k) => [`${k.org}/${k.id}`, `${k.org} member ${k.id}`]))
      },
      { key: (k) => `${k.org}/${k.id}` },
    )
    const values = await Promise.all([
      members.load({ org: 'x', id: 1 }),
      members.load({ org: 'x', id: 1 }),
    ])
    expect(values).toEqual(['x member 1', 'x member 1'])
    expect(calls).toEqual([[{ org: 'x', id: 1 }]])
  })

  it('L: bad options and keys get clear errors', () => {
    const batch = async () => new Map<number, number>()
    expect(() => loader(batch, { maxBatchSize: 0 })).toThrow(/maxBatchSize/)
    expect(() => loader(batch, { maxBatchCost: 100 })).toThrow(
      /`maxBatchCost` and `cost` go together/,
    )
    expect(() => loader(batch, { wait: 10, schedule: (d) => d() })).toThrow(/not both/)
    expect(() => loader(batch, { maxBatchsize: 5 } as never)).toThrow(/maxBatchSize/)
    expect(() => loader(batch, { concurrency: 'x' as never })).toThrow(/concurrency/)
    expect(() => loader('nope' as never)).toThrow(/batch function/)
    expect(() => loader(batch).load(null as never)).toThrow(/needs a key/)
  })

  it('an answer of the wrong kind fails the batch with a clear TypeError', async () => {
    const broken = loader(async () => 42 as never)
    await expect(broken.load(1)).rejects.toThrow(
      /must return a Map, an object keyed by id or a list/,
    )
    const aborted = loader(async () => new Map(), { maxBatchSize: 1 })
    const error = await aborted.load(1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotFoundError)
    expect(AbortedError).toBeDefined()
  })

  it('requestScoped gives each request its own loaders, for as long as the request lives', async () => {
    const { calls, batch } = usersEndpoint()
    const loadersFor = requestScoped(() => ({ users: loader(batch, { id: (u: User) => u.id }) }))
    const reqA = {}
    const reqB = {}
    expect(loadersFor(reqA)).toBe(loadersFor(reqA))
    expect(loadersFor(reqA)).not.toBe(loadersFor(reqB))
    await loadersFor(reqA).users.load(1)
    await loadersFor(reqB).users.load(1)
    expect(calls).toEqual([[1], [1]])
    expect(() => loadersFor(null as never)).toThrow(/request object/)
  })

  it('a full batch with a `wait` window goes at once and its callers get their values', async () => {
    useFakeTime()
    const users = loader(async (ids: readonly number[]) => new Map(ids.map((id) => [id, id])), {
      wait: 10,
      maxBatchSize: 1,
    })
    expect(
      await settle(
        Promise.all([users.load(1), users.load(2, { signal: new AbortController().signal })]),
      ),
    ).toEqual({ ok: true, value: [1, 2] })
    vi.useRealTimers()
  })

  it('an `id` function that throws fails the batch instead of leaving its callers hanging', async () => {
    const users = loader(async (ids: readonly number[]) => ids.map((id) => ({ id })), {
      id: (item) => {
        if (item.id === 2) throw new Error('item without id')
        return item.id
      },
    })
    const results = await Promise.allSettled([users.load(1), users.load(2)])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(users.cacheSize).toBe(0)
  })

  it('an `onBatch` observer that throws changes nothing for the callers', async () => {
    const users = loader(async (ids: readonly number[]) => new Map(ids.map((id) => [id, id])), {
      onBatch: () => {
        throw new Error('observer bug')
      },
    })
    expect(await users.load(1)).toBe(1)
  })

  it('a load after every caller left a sent batch starts afresh instead of joining the abort', async () => {
    useFakeTime()
    const calls: number[][] = []
    const users = loader(async (ids: readonly number[], ctx: BatchContext) => {
      calls.push([...ids])
      await after(50, undefined, ctx.signal)
      return new Map(ids.map((id) => [id, id]))
    })
    const controller = new AbortController()
    const leaving = users.load(1, { signal: controller.signal })
    await vi.advanceTimersByTimeAsync(1)
    controller.abort(new Error('left'))
    const fresh = users.load(1) // at once: the sent batch is still settling its abort
    await expect(leaving).rejects.toThrow('left')
    expect(await settle(fresh)).toEqual({ ok: true, value: 1 })
    expect(calls).toEqual([[1], [1]])
    vi.useRealTimers()
  })

  describe('types', () => {
    it('infers keys, values and ids', () => {
      const users = loader(async (ids: readonly number[]) => ids.map((id) => ({ id, name: '' })), {
        id: (u) => u.id,
      })
      expectTypeOf(users).toEqualTypeOf<Loader<number, { id: number; name: string }, number>>()
      expectTypeOf(users.load(1)).toEqualTypeOf<Promise<{ id: number; name: string }>>()
      expectTypeOf(users.loadMany([1])).toEqualTypeOf<
        Promise<({ id: number; name: string } | Error)[]>
      >()
      const byOrg = loader(
        async (keys: readonly { org: string }[]) => new Map(keys.map((k) => [k.org, 1])),
        { key: (k) => k.org },
      )
      expectTypeOf(byOrg).toEqualTypeOf<Loader<{ org: string }, number, string>>()
      // @ts-expect-error a key of the wrong type
      void users.load('1')
      const scoped = requestScoped(() => ({ users }))
      expectTypeOf(scoped({})).toEqualTypeOf<{ users: typeof users }>()
    })
  })
})

import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { DeadlineError, flow, InvalidOptionError, LeaseLostError, limit } from '../index.js'
import { memoryConcurrencyStore, type ConcurrencyStore } from './index.js'
import { after, settle, useFakeTime } from '../../test/helpers/time.js'

/** Counts calls running at once. */
function counter() {
  let running = 0
  let peak = 0
  return {
    get peak() {
      return peak
    },
    async run<T>(work: () => Promise<T>): Promise<T> {
      running++
      peak = Math.max(peak, running)
      try {
        return await work()
      } finally {
        running--
      }
    },
  }
}

/** The memory store behind promises, as a networked store answers. */
function asyncStore(inner: ConcurrencyStore, calls: string[] = []): ConcurrencyStore {
  return {
    acquire: async (request) => (calls.push('acquire'), inner.acquire(request)),
    renew: async (keys, holder, now, leaseMs) => (
      calls.push('renew'),
      inner.renew(keys, holder, now, leaseMs)
    ),
    release: async (keys, holder, now) => {
      calls.push('release')
      await inner.release(keys, holder, now)
    },
  }
}

describe('memoryConcurrencyStore()', () => {
  it('grants at most `limit` permits per key, all keys or none, and says when to try again', () => {
    const store = memoryConcurrencyStore()
    const req = (holder: string, now = 0) => ({
      permits: [
        { key: 't', limit: 2 },
        { key: 'k', limit: 1 },
      ],
      holder,
      now,
      leaseMs: 100,
    })
    expect(store.acquire(req('a'))).toEqual({ ok: true })
    // 'k' is full: nothing is taken under 't' either.
    expect(store.acquire(req('b', 10))).toEqual({ ok: false, retryAfterMs: 90, reason: 'busy' })
    expect(
      store.acquire({ permits: [{ key: 't', limit: 2 }], holder: 'c', now: 10, leaseMs: 100 }),
    ).toEqual({ ok: true })
    store.release(['t', 'k'], 'a', 20)
    expect(store.acquire(req('b', 20))).toEqual({ ok: true })
    // 't' now holds c and b: a third holder is refused until the earliest lease ends (c's, at 110).
    expect(
      store.acquire({ permits: [{ key: 't', limit: 2 }], holder: 'd', now: 30, leaseMs: 100 }),
    ).toEqual({ ok: false, retryAfterMs: 80, reason: 'busy' })
  })

  it('a permit not renewed expires at the end of its lease (a crashed holder does not shrink the limit for ever)', () => {
    const store = memoryConcurrencyStore()
    const permits = [{ key: 'x', limit: 1 }]
    expect(store.acquire({ permits, holder: 'a', now: 0, leaseMs: 100 }).ok).toBe(true)
    expect(store.acquire({ permits, holder: 'b', now: 99, leaseMs: 100 }).ok).toBe(false)
    expect(store.renew(['x'], 'a', 50, 100)).toBe(true)
    expect(store.acquire({ permits, holder: 'b', now: 149, leaseMs: 100 }).ok).toBe(false)
    expect(store.acquire({ permits, holder: 'b', now: 150, leaseMs: 100 }).ok).toBe(true)
    // a's lease ran out and b holds the permit now: a's renewal reports the loss.
    expect(store.renew(['x'], 'a', 151, 100)).toBe(false)
  })

  it('holds at most maxKeys keys and forgets a key once its last permit is gone', () => {
    const store = memoryConcurrencyStore({ maxKeys: 2 })
    const one = (key: string, holder: string) =>
      store.acquire({ permits: [{ key, limit: 5 }], holder, now: 0, leaseMs: 1_000 })
    expect(one('a', '1').ok).toBe(true)
    expect(one('b', '2').ok).toBe(true)
    expect(one('c', '3')).toEqual({ ok: false, retryAfterMs: Infinity, reason: 'full' })
    store.release(['a'], '1', 0)
    expect(one('c', '3').ok).toBe(true)
  })

  it('announces releases to watchers of the key, and forgets a watcher that unsubscribed', () => {
    const store = memoryConcurrencyStore()
    const heard: string[] = []
    const stop = store.watch!('x', () => heard.push('x'))
    store.watch!('y', () => heard.push('y'))
    store.acquire({ permits: [{ key: 'x', limit: 1 }], holder: 'a', now: 0, leaseMs: 100 })
    store.release(['x'], 'a', 1)
    store.release(['x'], 'a', 1) // not held any more: no announcement
    stop()
    store.acquire({ permits: [{ key: 'x', limit: 1 }], holder: 'b', now: 2, leaseMs: 100 })
    store.release(['x'], 'b', 3)
    expect(heard).toEqual(['x'])
  })

  it('rejects bad options with a message that says what to pass', () => {
    expect(() => memoryConcurrencyStore({ maxKeys: 0 })).toThrow(/maxKeys/)
    expect(() => memoryConcurrencyStore({ maxkeys: 5 } as never)).toThrow(/maxKeys/)
  })
})

describe('limit({ store }): a limit shared by several limiters', () => {
  it('two limiters with one store and name stay within the limit together, over 300 completion orders', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
        async (s, concurrency, sides) => {
          const store = memoryConcurrencyStore()
          const a = limit({ concurrency, store, name: 'api' })
          const b = limit({ concurrency, store, name: 'api' })
          const c = counter()
          const results = sides.map((left, i) =>
            (left ? a : b).run(() => c.run(() => s.schedule(Promise.resolve(i)))),
          )
          await s.waitFor(Promise.all(results))
          expect(await Promise.all(results)).toEqual(sides.map((_, i) => i))
          expect(c.peak).toBeLessThanOrEqual(concurrency)
          expect(a.activeCount + b.activeCount).toBe(0)
          // Every permit was given back.
          expect(
            store.acquire({
              permits: [{ key: JSON.stringify(['api']), limit: concurrency }],
              holder: 'probe',
              now: 0,
              leaseMs: 1,
            }),
          ).toEqual({ ok: true })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('limiters with different names do not share', async () => {
    useFakeTime()
    const store = memoryConcurrencyStore()
    const a = limit({ concurrency: 1, store, name: 'a' })
    const b = limit({ concurrency: 1, store, name: 'b' })
    const c = counter()
    const both = Promise.all([
      a.run(() => c.run(() => after(100, 'a'))),
      b.run(() => c.run(() => after(100, 'b'))),
    ])
    expect(await settle(both)).toEqual({ ok: true, value: ['a', 'b'] })
    expect(c.peak).toBe(2)
    vi.useRealTimers()
  })

  it('shares per-key sub-limits too', async () => {
    useFakeTime()
    const store = memoryConcurrencyStore()
    const make = () =>
      limit({ concurrency: 10, perKey: 1, key: (ctx) => ctx.task, store, name: 'hosts' })
    const [a, b] = [make(), make()]
    const perHost = new Map<string, ReturnType<typeof counter>>([
      ['h1', counter()],
      ['h2', counter()],
    ])
    const calls = ['h1', 'h1', 'h2', 'h2'].map((host, i) =>
      (i % 2 === 0 ? a : b).run(() => perHost.get(host)!.run(() => after(50, host)), { key: host }),
    )
    expect(await settle(Promise.all(calls))).toEqual({ ok: true, value: ['h1', 'h1', 'h2', 'h2'] })
    expect(perHost.get('h1')!.peak).toBe(1)
    expect(perHost.get('h2')!.peak).toBe(1)
    vi.useRealTimers()
  })

  it('a waiter learns of a release at once when the store announces it (no polling delay)', async () => {
    useFakeTime()
    const store = memoryConcurrencyStore()
    const a = limit({ concurrency: 1, store, name: 'x', storePollMs: 60_000 })
    const b = limit({ concurrency: 1, store, name: 'x', storePollMs: 60_000 })
    const first = a.run(() => after(100, 1))
    await vi.advanceTimersByTimeAsync(0)
    const started: number[] = []
    const second = b.run(() => (started.push(performance.now()), 2))
    expect(await settle(Promise.all([first, second]))).toEqual({ ok: true, value: [1, 2] })
    expect(started).toEqual([100])
    vi.useRealTimers()
  })

  it('a long call renews its lease, so nobody else gets its permit meanwhile', async () => {
    useFakeTime()
    const calls: string[] = []
    const store = asyncStore(memoryConcurrencyStore(), calls)
    const a = limit({ concurrency: 1, store, name: 'x', leaseMs: 300, storePollMs: 50 })
    const b = limit({ concurrency: 1, store, name: 'x', leaseMs: 300, storePollMs: 50 })
    const starts: [string, number][] = []
    const long = a.run(async () => (starts.push(['long', performance.now()]), after(1_000, 'long')))
    await vi.advanceTimersByTimeAsync(1)
    const next = b.run(async () => (starts.push(['next', performance.now()]), 'next'))
    expect(await settle(Promise.all([long, next]))).toEqual({ ok: true, value: ['long', 'next'] })
    expect(starts[0]).toEqual(['long', 0])
    expect(starts[1]![1]).toBeGreaterThanOrEqual(1_000)
    expect(calls.filter((c) => c === 'renew').length).toBeGreaterThanOrEqual(3)
    expect(vi.getTimerCount()).toBe(0)
    vi.useRealTimers()
  })

  it('A3: an abort while waiting for a permit rejects with the reason at once and frees the local slot', async () => {
    useFakeTime()
    const store = memoryConcurrencyStore()
    const a = limit({ concurrency: 1, store, name: 'x' })
    const b = limit({ concurrency: 1, store, name: 'x' })
    const holding = a.run(() => after(1_000, 'a'))
    await vi.advanceTimersByTimeAsync(0)
    const controller = new AbortController()
    const fn = vi.fn(() => 'b')
    const waiting = b.run(fn, { signal: controller.signal })
    await vi.advanceTimersByTimeAsync(10)
    expect(b.activeCount).toBe(1) // holds its local slot while it waits for the shared permit
    const reason = new Error('caller left')
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
    expect(b.activeCount).toBe(0)
    expect(fn).not.toHaveBeenCalled()
    expect(await settle(holding)).toEqual({ ok: true, value: 'a' })
    vi.useRealTimers()
  })

  it('A11: the deadline bounds the wait for a permit', async () => {
    useFakeTime()
    const store = memoryConcurrencyStore()
    const a = limit({ concurrency: 1, store, name: 'x' })
    const b = limit({ concurrency: 1, store, name: 'x' })
    const holding = a.run(() => after(1_000, 'a'))
    await vi.advanceTimersByTimeAsync(0)
    const late = b.run(() => 'b', { deadline: 200 })
    const outcome = await settle(late)
    expect(outcome.ok).toBe(false)
    expect((outcome as { error: unknown }).error).toBeInstanceOf(DeadlineError)
    expect(performance.now()).toBe(200)
    expect(await settle(holding)).toEqual({ ok: true, value: 'a' })
    vi.useRealTimers()
  })

  it('a store that fails to acquire fails the call and frees the slot; one that fails to release loses nothing (the lease runs out)', async () => {
    const broken: ConcurrencyStore = {
      acquire: () => Promise.reject(new Error('store down')),
      renew: () => true,
      release: () => undefined,
    }
    const a = limit({ concurrency: 1, store: broken, name: 'x' })
    await expect(a.run(() => 1)).rejects.toThrow('store down')
    expect(a.activeCount).toBe(0)

    const inner = memoryConcurrencyStore()
    const leaky: ConcurrencyStore = {
      ...asyncStore(inner),
      release: () => Promise.reject(new Error('store down')),
    }
    const b = limit({ concurrency: 1, store: leaky, name: 'y', leaseMs: 1_000 })
    expect(await b.run(() => 2)).toBe(2)
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(b.activeCount).toBe(0)
  })

  it("the caller's result does not wait for the store to take the permit back", async () => {
    let releaseNow: (() => void) | undefined
    const inner = memoryConcurrencyStore()
    const slow: ConcurrencyStore = {
      ...asyncStore(inner),
      release: (keys, holder, now) =>
        new Promise<void>((resolve) => {
          releaseNow = () => {
            inner.release(keys, holder, now)
            resolve()
          }
        }),
    }
    const a = limit({ concurrency: 1, store: slow, name: 'x' })
    expect(await a.run(() => 'done')).toBe('done')
    expect(a.activeCount).toBe(1) // the local slot waits for the store
    releaseNow!()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(a.activeCount).toBe(0)
  })

  it('rejects a store without a name, something that is not a store, and a shared limiter as a flow limit', () => {
    const store = memoryConcurrencyStore()
    expect(() => limit({ concurrency: 2, store })).toThrow(InvalidOptionError)
    expect(() => limit({ concurrency: 2, store })).toThrow(/needs a `name`/)
    expect(() => limit({ concurrency: 2, store: {} as ConcurrencyStore, name: 'x' })).toThrow(
      /ConcurrencyStore/,
    )
    expect(() => limit({ concurrency: 2, store, name: 'x', leaseMs: -1 })).toThrow(/leaseMs/)
    expect(() => flow({ limit: limit({ concurrency: 2, store, name: 'x' }) })).toThrow(
      /cannot be a limiter with a `store`/,
    )
  })
})

describe('a lost lease is reported, never ignored', () => {
  /** A store whose renewals answer `renewed` (a value, or a rejection). */
  const renewing = (renewed: () => Promise<boolean>): ConcurrencyStore => {
    const inner = memoryConcurrencyStore()
    return { ...asyncStore(inner), renew: renewed }
  }

  it('renew false: the running call is aborted with a LeaseLostError, and its slot freed once it settles', async () => {
    useFakeTime()
    const lim = limit({
      concurrency: 1,
      store: renewing(async () => false),
      name: 'x',
      leaseMs: 300,
    })
    let seen: AbortSignal | undefined
    const call = lim.run((signal) => ((seen = signal), after(10_000, 'late', signal)))
    const { error } = (await settle(call)) as { error: unknown }
    expect(error).toBeInstanceOf(LeaseLostError)
    expect(error).toMatchObject({ code: 'FANOUT_LEASE_LOST', limiter: 'x' })
    expect(seen?.reason).toBe(error)
    expect(lim.activeCount).toBe(0)
  })

  it("a renewal that fails: the LeaseLostError carries the store's error as its cause", async () => {
    useFakeTime()
    const down = new Error('store down')
    const lim = limit({ concurrency: 1, store: renewing(() => Promise.reject(down)), name: 'x' })
    const { error } = (await settle(lim.run((signal) => after(60_000, 'late', signal)))) as {
      error: unknown
    }
    expect(error).toBeInstanceOf(LeaseLostError)
    expect((error as LeaseLostError).cause).toBe(down)
  })

  it('E18: a renewal that fails once, then succeeds, keeps the call: the lease had not run out', async () => {
    useFakeTime()
    let renewals = 0
    const down = new Error('store blip')
    const lim = limit({
      concurrency: 1,
      store: renewing(async () => {
        renewals++
        if (renewals === 1) throw down
        return true
      }),
      name: 'x',
      leaseMs: 300,
    })
    expect(await settle(lim.run((signal) => after(2_000, 'ok', signal)))).toEqual({
      ok: true,
      value: 'ok',
    })
    expect(renewals).toBeGreaterThan(3)
  })

  it('renewals that keep failing lose the lease when it runs out, not before', async () => {
    useFakeTime()
    const lim = limit({
      concurrency: 1,
      store: renewing(() => Promise.reject(new Error('down'))),
      name: 'x',
      leaseMs: 300,
    })
    const started = Date.now()
    const { error } = (await settle(lim.run((signal) => after(10_000, 'late', signal)))) as {
      error: unknown
    }
    expect(error).toBeInstanceOf(LeaseLostError)
    expect(Date.now() - started).toBe(300)
  })

  it("a kept lease leaves the call's signal alone, and the caller's own abort still reaches it", async () => {
    useFakeTime()
    const lim = limit({
      concurrency: 1,
      store: renewing(async () => true),
      name: 'x',
      leaseMs: 300,
    })
    expect(await settle(lim.run((signal) => after(2_000, 'ok', signal)))).toEqual({
      ok: true,
      value: 'ok',
    })
    const controller = new AbortController()
    const call = lim.run((signal) => after(2_000, 'ok', signal), { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('mine')), 500)
    expect(await settle(call)).toMatchObject({ ok: false, error: { message: 'mine' } })
  })
})

/**
 * `cached({ flight })` under fake time, with an in-memory `CacheFlight` standing for the lock
 * several processes share: each "process" is a `cached()` of its own over one store and one lock
 * table, so the cross-process rules can be checked tick by tick.
 */
import { describe, expect, it, vi } from 'vitest'
import type { CallContext } from '../core/call.js'
import { systemClock } from '../core/clock.js'
import { InvalidOptionError, StoreError, TimeoutError } from '../core/errors.js'
import { noopRecorder } from '../core/trace.js'
import { after, now, settle, useFakeTime } from '../../test/helpers/time.js'
import { cached, type CachedContext } from './cached.js'
import type { CacheFlight, FlightClaim } from './flight.js'
import { CACHE_ENTRY_FORMAT, type CacheEntry, type CacheStore } from './store.js'

/** One lock table shared by every "process"; `view()` is one process's CacheFlight. */
function lockTable() {
  const locks = new Map<string, { token: string; until: number }>()
  const waiting = new Map<string, Set<() => void>>()
  let tokens = 0
  const stats = { claims: 0, won: 0, renewed: 0, released: 0 }
  const held = (key: string) => {
    const lock = locks.get(key)
    if (lock !== undefined && lock.until <= now()) locks.delete(key)
    return locks.get(key)
  }
  const wake = (key: string): void => {
    for (const w of [...(waiting.get(key) ?? [])]) w()
  }
  /** `dead()`: the process is gone (SIGKILL): it renews and releases nothing any more. */
  const view = (dead: () => boolean = () => false): CacheFlight => ({
    claim(key, leaseMs): FlightClaim {
      stats.claims++
      if (held(key) !== undefined) return { won: false }
      const token = `t${++tokens}`
      locks.set(key, { token, until: now() + leaseMs })
      stats.won++
      return { won: true, token }
    },
    release(key, token) {
      if (dead()) return
      stats.released++
      if (held(key)?.token === token) locks.delete(key)
      wake(key)
    },
    renew(key, token, leaseMs) {
      if (dead() || held(key)?.token !== token) return false
      stats.renewed++
      locks.set(key, { token, until: now() + leaseMs })
      return true
    },
    waitForFill(key, { signal, maxWaitMs }) {
      return new Promise<void>((resolve) => {
        let set = waiting.get(key)
        if (set === undefined) waiting.set(key, (set = new Set()))
        const done = (): void => {
          clearTimeout(timer)
          signal.removeEventListener('abort', done)
          set.delete(done)
          if (set.size === 0) waiting.delete(key)
          resolve()
        }
        const timer = setTimeout(done, maxWaitMs)
        signal.addEventListener('abort', done)
        set.add(done)
      })
    },
  })
  return { locks, waiting, stats, view }
}

function mapStore(): CacheStore & { map: Map<string, CacheEntry> } {
  const map = new Map<string, CacheEntry>()
  return {
    map,
    get: (key) => map.get(key),
    set: (key, entry) => void map.set(key, entry),
    delete: (key) => void map.delete(key),
  }
}

/** A loader shared by every process, counting its calls. */
function loader(ms = 50) {
  const calls: string[] = []
  return {
    calls,
    fn: (key: string, ctx: CachedContext) => {
      calls.push(key)
      return after(ms, `v:${key}:${calls.length}`, ctx.signal)
    },
  }
}

function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

const base = { ttl: 1000, scope: 'shared' as const, flightLease: 300 }

describe('cached({ flight })', () => {
  it('three processes × ten concurrent misses of one key make one call to fn', async () => {
    useFakeTime()
    const store = mapStore()
    const table = lockTable()
    const up = loader()
    const processes = [0, 1, 2].map(() => cached(up.fn, { ...base, store, flight: table.view() }))
    const all = Promise.all(
      processes.flatMap((p) => Array.from({ length: 10 }, () => p.entry('k'))),
    )
    const outcome = await settle(all)
    expect(outcome).toEqual({
      ok: true,
      value: Array.from({ length: 30 }, () => ({ value: 'v:k:1', status: 'miss' })),
    })
    expect(up.calls).toEqual(['k'])
    // One claim per process: the in-process single-flight stays in front.
    expect(table.stats).toMatchObject({ claims: 3, won: 1, released: 1 })
    expect(table.locks.size).toBe(0)
    expect(table.waiting.size).toBe(0)
  })

  it('a winner that finds the key filled since its miss serves the entry without calling fn', async () => {
    useFakeTime()
    const store = mapStore()
    const table = lockTable()
    const up = loader()
    const a = cached(up.fn, { ...base, store, flight: table.view() })
    await settle(a('k'))
    const gate = deferred<void>()
    // A store whose read answers "missing" first, then (after the claim) the real entry.
    let reads = 0
    const late: CacheStore = {
      get: async (key) => {
        if (reads++ === 0) {
          await gate.promise
          return undefined
        }
        return store.get(key)
      },
      set: store.set,
      delete: store.delete,
    }
    const b = cached(up.fn, { ...base, store: late, flight: table.view() })
    const pending = b.entry('k')
    gate.resolve()
    expect(await settle(pending)).toEqual({ ok: true, value: { value: 'v:k:1', status: 'miss' } })
    expect(up.calls).toEqual(['k'])
  })

  it('a holder that died is taken over by exactly one process once its lease ends', async () => {
    useFakeTime()
    const store = mapStore()
    const table = lockTable()
    let dead = false
    const hung = deferred<string>()
    const calls: string[] = []
    const fnA = (key: string) => {
      calls.push(`A:${key}`)
      return hung.promise
    }
    const fnOthers = (key: string, ctx: CachedContext) => {
      calls.push(`other:${key}`)
      return after(20, 'taken over', ctx.signal)
    }
    const a = cached(fnA, { ...base, store, flight: table.view(() => dead) })
    const aCall = a('k')
    aCall.catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    dead = true
    const b = cached(fnOthers, { ...base, store, flight: table.view() })
    const c = cached(fnOthers, { ...base, store, flight: table.view() })
    const started = now()
    const results = Promise.all([b('k'), b('k'), c('k'), c('k')])
    const outcome = await settle(results)
    expect(outcome).toEqual({ ok: true, value: Array(4).fill('taken over') })
    expect(calls).toEqual(['A:k', 'other:k'])
    // Nobody waited much past the lease (300 ms) plus the one call (20 ms).
    expect(now() - started).toBeLessThan(300 + 20 + 50)
    hung.reject(new Error('process gone'))
    await settle(aCall.catch(() => {}))
  })

  it('a waiter gives up at its deadline, or at once when its signal aborts', async () => {
    useFakeTime()
    const store = mapStore()
    const table = lockTable()
    const hung = deferred<string>()
    const a = cached(() => hung.promise, { ...base, store, flight: table.view() })
    const aCall = a('k')
    await vi.advanceTimersByTimeAsync(0)
    const b = cached(loader().fn, { ...base, flightLease: 10_000, store, flight: table.view() })
    const ctx: CallContext = {
      signal: new AbortController().signal,
      deadlineAt: now() + 100,
      attempt: 1,
      task: 'page',
      clock: systemClock,
      trace: noopRecorder,
    }
    const started = now()
    let endedAt = 0
    const outcome = await settle(
      b('k', { context: ctx }).finally(() => {
        endedAt = now()
      }),
    )
    expect(outcome.ok).toBe(false)
    expect((outcome as { error: unknown }).error).toBeInstanceOf(TimeoutError)
    expect(endedAt - started).toBe(100)
    const controller = new AbortController()
    const leaving = b('k', { signal: controller.signal })
    await vi.advanceTimersByTimeAsync(10)
    controller.abort(new Error('left'))
    expect(await settle(leaving)).toEqual({ ok: false, error: new Error('left') })
    expect(table.waiting.size).toBe(0)
    hung.resolve('late')
    expect(await settle(aCall)).toEqual({ ok: true, value: 'late' })
  })

  it('a holder whose fn failed releases, and a waiter calls fn itself', async () => {
    useFakeTime()
    const store = mapStore()
    const table = lockTable()
    const a = cached(
      async () => {
        await after(30, undefined)
        throw new Error('upstream down')
      },
      { ...base, store, flight: table.view() },
    )
    const up = loader()
    const b = cached(up.fn, { ...base, store, flight: table.view() })
    const aCall = a('k')
    await vi.advanceTimersByTimeAsync(0)
    const bCall = b('k')
    const [ao, bo] = await Promise.all([settle(aCall), settle(bCall)])
    expect(ao).toEqual({ ok: false, error: new Error('upstream down') })
    expect(bo).toEqual({ ok: true, value: 'v:k:1' })
    // B woke at A's release (30 ms), not at the lease's end.
    expect(now()).toBeLessThan(300)
  })

  it('renews the lease while fn runs longer than it, so nobody takes over', async () => {
    useFakeTime()
    const store = mapStore()
    const table = lockTable()
    const up = loader(1000)
    const a = cached(up.fn, { ...base, store, flight: table.view() })
    const b = cached(up.fn, { ...base, store, flight: table.view() })
    const aCall = a('k')
    await vi.advanceTimersByTimeAsync(0)
    const outcome = await settle(Promise.all([aCall, b('k')]))
    expect(outcome).toEqual({ ok: true, value: ['v:k:1', 'v:k:1'] })
    expect(up.calls).toEqual(['k'])
    expect(table.stats.renewed).toBeGreaterThanOrEqual(3)
  })

  it("E19: a holder whose lease lapsed while fn ran does not overwrite its successor's entry", async () => {
    useFakeTime()
    const store = mapStore()
    const table = lockTable()
    // A stalls: its renewals never reach the lock table, so its lease lapses at 300 ms.
    const a = cached(() => after(1000, 'old'), { ...base, store, flight: table.view(() => true) })
    const b = cached(() => after(50, 'new'), { ...base, store, flight: table.view() })
    const aCall = a('k')
    await vi.advanceTimersByTimeAsync(400)
    expect(await settle(b('k'))).toEqual({ ok: true, value: 'new' })
    // A's own callers still get what A fetched.
    expect(await settle(aCall)).toEqual({ ok: true, value: 'old' })
    expect([...store.map.values()].map((e) => (e.kind === 'value' ? e.value : e.kind))).toEqual([
      'new',
    ])
  })

  describe('with a stale entry', () => {
    const plant = (store: ReturnType<typeof mapStore>, key: string, at: number) => {
      const entry: CacheEntry = {
        format: CACHE_ENTRY_FORMAT,
        version: null,
        storedAt: at,
        freshUntil: at + 1000,
        staleUntil: at + 1000 + 5000,
        errorUntil: at + 1000 + 5000,
        kind: 'value',
        value: 'old',
      }
      store.map.set(key, entry)
    }

    it('every process serves it at once, and one refresh runs', async () => {
      useFakeTime()
      const store = mapStore()
      const table = lockTable()
      const up = loader(200)
      const opts = { ...base, store, staleWhileRevalidate: 5000 }
      const processes = [0, 1, 2].map(() => cached(up.fn, { ...opts, flight: table.view() }))
      await settle(processes[0]!('k'))
      const key = [...store.map.keys()][0]!
      plant(store, key, now() - 1500)
      up.calls.length = 0
      const served = await Promise.all(
        processes.flatMap((p) => Array.from({ length: 5 }, () => p.entry('k'))),
      )
      expect(served).toEqual(Array(15).fill({ value: 'old', status: 'stale' }))
      await vi.advanceTimersByTimeAsync(200)
      expect(up.calls).toEqual(['k'])
      expect(await processes[2]!.entry('k')).toEqual({ value: 'v:k:1', status: 'hit' })
      expect(table.waiting.size).toBe(0)
    })

    it('within staleIfError, a process that finds another refreshing serves it at once', async () => {
      useFakeTime()
      const store = mapStore()
      const table = lockTable()
      const up = loader(200)
      const opts = { ...base, store, staleIfError: 5000 }
      const a = cached(up.fn, { ...opts, flight: table.view() })
      const b = cached(up.fn, { ...opts, flight: table.view() })
      await settle(a('k'))
      const key = [...store.map.keys()][0]!
      plant(store, key, now() - 1500)
      up.calls.length = 0
      const aCall = a.entry('k')
      await vi.advanceTimersByTimeAsync(0)
      expect(await b.entry('k')).toEqual({ value: 'old', status: 'stale' })
      expect(await settle(aCall)).toEqual({ ok: true, value: { value: 'v:k:1', status: 'miss' } })
      expect(up.calls).toEqual(['k'])
    })
  })

  describe('a failing flight degrades to single-flight within each process', () => {
    const broken = (claim: CacheFlight['claim']): CacheFlight => ({
      claim,
      release: () => {},
      waitForFill: () => Promise.resolve(),
    })

    it('a claim that throws: each process calls fn once', async () => {
      useFakeTime()
      const store = mapStore()
      const up = loader()
      const flight = broken(() => {
        throw new Error('connection refused')
      })
      const processes = [0, 1].map(() => cached(up.fn, { ...base, store, flight }))
      const outcome = await settle(Promise.all(processes.flatMap((p) => [p('k'), p('k'), p('k')])))
      expect(outcome.ok).toBe(true)
      expect(up.calls).toEqual(['k', 'k'])
    })

    it('a claim that never answers: fn is called after storeTimeout', async () => {
      useFakeTime()
      const up = loader()
      const flight = broken(() => new Promise<FlightClaim>(() => {}))
      const c = cached(up.fn, { ...base, store: mapStore(), storeTimeout: 40, flight })
      const started = now()
      expect(await settle(c('k'))).toEqual({ ok: true, value: 'v:k:1' })
      expect(now() - started).toBe(40 + 50)
    })

    it('a StoreError (a refused command) is not hidden', async () => {
      useFakeTime()
      const flight = broken(() => Promise.reject(new StoreError('locks', 'claim', 'refused')))
      const c = cached(loader().fn, { ...base, store: mapStore(), flight })
      const outcome = await settle(c('k'))
      expect(outcome.ok).toBe(false)
      expect((outcome as { error: Error }).error.name).toBe('StoreError')
    })
  })

  describe('options', () => {
    const store = mapStore()
    const fn = () => 1

    it('refuses a flight that is not a CacheFlight, naming what it expected', () => {
      expect(() => cached(fn, { ...base, store, flight: {} as never })).toThrow(InvalidOptionError)
      expect(() => cached(fn, { ...base, store, flight: {} as never })).toThrow(
        /`flight` must be a CacheFlight \(claim, release, waitForFill/,
      )
      expect(() =>
        cached(fn, {
          ...base,
          store,
          flight: { claim: fn, release: fn, waitForFill: fn, renew: 1 } as never,
        }),
      ).toThrow(/`flight` must be a CacheFlight/)
    })

    it('refuses flightLease without a flight, or out of range', () => {
      expect(() => cached(fn, { ttl: 1, scope: 'shared', store, flightLease: 100 })).toThrow(
        /`flightLease` applies to a `flight`/,
      )
      const flight = lockTable().view()
      expect(() => cached(fn, { ...base, store, flight, flightLease: 5 })).toThrow(
        /`flightLease` must be within 10–600000 ms, got 5/,
      )
    })
  })
})

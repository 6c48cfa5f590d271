import type { CallContext } from '../core/call.js'
import { systemClock } from '../core/clock.js'
import type { TraceEvent } from '../core/trace.js'
import { describe, expect, it, vi } from 'vitest'
import { AbortedError, TimeoutError } from '../index.js'
import { after, failAfter, settle, useFakeTime } from '../../test/helpers/time.js'
import { singleFlight } from './single-flight.js'

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Records every start of the work and the signal it got. */
function recorder<T>(work: (signal: AbortSignal) => Promise<T>) {
  const signals: AbortSignal[] = []
  return {
    signals,
    get calls() {
      return signals.length
    },
    work: ({ signal }: CallContext) => {
      signals.push(signal)
      return work(signal)
    },
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('singleFlight()', () => {
  it('F5: 10,000 concurrent runs on one key make exactly 1 call, and all get the value', async () => {
    const flights = singleFlight()
    const gate = deferred<{ id: number }>()
    const r = recorder(() => gate.promise)
    const runs = Array.from({ length: 10_000 }, () => flights.run('user:1', r.work))
    expect(flights.size).toBe(1)
    gate.resolve({ id: 1 })
    const values = await Promise.all(runs)
    expect(r.calls).toBe(1)
    expect(values.every((v) => v === values[0] && v.id === 1)).toBe(true)
    expect(flights.size).toBe(0)
  })

  it('the first caller already hears what the work does at once: its events and its deadline', async () => {
    const flights = singleFlight()
    const events: TraceEvent[] = []
    const caller: CallContext = {
      signal: new AbortController().signal,
      deadlineAt: 5_000,
      attempt: 1,
      task: 'product',
      clock: systemClock,
      trace: { enabled: true, emit: (event) => events.push(event) },
    }
    let deadlineSeen = 0
    await flights.run(
      'k',
      (ctx) => {
        deadlineSeen = ctx.deadlineAt
        ctx.trace.emit({ type: 'task.started', task: ctx.task, at: 0 })
        return 1
      },
      { context: caller },
    )
    expect(deadlineSeen).toBe(5_000)
    expect(events).toEqual([{ type: 'task.started', task: 'product', at: 0 }])
  })

  it('runs different keys separately', async () => {
    const flights = singleFlight()
    const r = recorder(async () => 'v')
    await Promise.all([
      flights.run('a', r.work),
      flights.run('b', r.work),
      flights.run('a', r.work),
    ])
    expect(r.calls).toBe(2)
  })

  it('F6: the first caller aborting fails only itself; the work runs on for the others and its signal aborts only when all have left', async () => {
    const flights = singleFlight()
    const gate = deferred<string>()
    const r = recorder(() => gate.promise)
    const leader = new AbortController()
    const follower = new AbortController()
    const first = flights.run('k', r.work, { signal: leader.signal })
    const second = flights.run('k', r.work, { signal: follower.signal })
    const third = flights.run('k', r.work)
    leader.abort(new Error('leader left'))
    await expect(first).rejects.toThrow('leader left')
    expect(r.signals[0]!.aborted).toBe(false)
    gate.resolve('value')
    await expect(second).resolves.toBe('value')
    await expect(third).resolves.toBe('value')
    expect(r.calls).toBe(1)

    // Every caller leaving aborts the work with an AbortedError.
    const lone = deferred<string>()
    const r2 = recorder(() => lone.promise)
    const a = new AbortController()
    const b = new AbortController()
    const p1 = flights.run('k2', r2.work, { signal: a.signal })
    const p2 = flights.run('k2', r2.work, { signal: b.signal })
    a.abort('a left')
    await expect(p1).rejects.toBe('a left')
    expect(r2.signals[0]!.aborted).toBe(false)
    b.abort('b left')
    await expect(p2).rejects.toBe('b left')
    expect(r2.signals[0]!.aborted).toBe(true)
    expect(r2.signals[0]!.reason).toBeInstanceOf(AbortedError)
    expect(flights.size).toBe(0)
    lone.resolve('too late') // delivered to nobody, and no unhandled rejection
    await flush()
  })

  it('F7: the failure reaches every waiter as the very same error, never undefined', async () => {
    const flights = singleFlight()
    const boom = Object.assign(new Error('503 from users'), { status: 503 })
    const gate = deferred<string>()
    const r = recorder(() => gate.promise)
    const runs = Array.from({ length: 100 }, () =>
      flights.run('k', r.work).then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    )
    gate.reject(boom)
    const outcomes = await Promise.all(runs)
    expect(outcomes.every((e) => e === boom)).toBe(true)
    expect(r.calls).toBe(1)
    expect(flights.size).toBe(0)

    // A synchronous throw is a rejection too, shared the same way.
    const sync = new Error('sync')
    const throwing = (): never => {
      throw sync
    }
    const both = [flights.run('s', throwing), flights.run('s', throwing)]
    for (const p of both) await expect(p).rejects.toBe(sync)
  })

  it('F8: a waiter that aborts rejects at once; the key stays while others wait, so nobody starts a duplicate', async () => {
    const flights = singleFlight()
    const gate = deferred<string>()
    const r = recorder(() => gate.promise)
    const quitter = new AbortController()
    const left = flights.run('k', r.work, { signal: quitter.signal })
    const stays = flights.run('k', r.work)
    let rejected: unknown
    left.catch((e: unknown) => (rejected = e))
    quitter.abort(new Error('gave up'))
    await Promise.resolve()
    await Promise.resolve()
    expect(rejected).toEqual(new Error('gave up'))
    expect(flights.size).toBe(1)
    const late = flights.run('k', r.work)
    expect(r.calls).toBe(1)
    gate.resolve('v')
    expect(await stays).toBe('v')
    expect(await late).toBe('v')
    expect(r.calls).toBe(1)
  })

  it('a caller whose signal is already aborted is rejected with its reason and starts nothing', async () => {
    const flights = singleFlight()
    const r = recorder(async () => 'v')
    await expect(flights.run('k', r.work, { signal: AbortSignal.abort('already') })).rejects.toBe(
      'already',
    )
    expect(r.calls).toBe(0)
    expect(flights.size).toBe(0)
  })

  it('a flight that was aborted is never joined: the next caller starts a new one, which the old one cannot disturb', async () => {
    const flights = singleFlight()
    const old = deferred<string>()
    const fresh = deferred<string>()
    const gates = [old, fresh]
    let started = 0
    const r = recorder(() => gates[started++]!.promise)
    const c = new AbortController()
    const abandoned = flights.run('k', r.work, { signal: c.signal })
    c.abort('left')
    await expect(abandoned).rejects.toBe('left')
    expect(r.signals[0]!.aborted).toBe(true)

    const next = flights.run('k', r.work)
    expect(r.calls).toBe(2)
    expect(r.signals[1]!.aborted).toBe(false)
    old.resolve('stale') // the abandoned work finishing must not remove the new flight
    await flush()
    expect(flights.size).toBe(1)
    expect(r.calls).toBe(2)
    fresh.resolve('fresh')
    expect(await next).toBe('fresh')
    expect(flights.size).toBe(0)
  })

  it('forget(): the next call starts a new run; the forgotten one still settles for its callers', async () => {
    useFakeTime()
    const flights = singleFlight()
    let runs = 0
    const work = ({ signal }: CallContext) => after(100, ++runs, signal)
    const first = flights.run('k', work)
    expect(flights.forget('k')).toBe(true)
    expect(flights.size).toBe(0)
    const second = flights.run('k', work)
    const third = flights.run('k', work)
    expect(await settle(Promise.all([first, second, third]))).toEqual({
      ok: true,
      value: [1, 2, 2],
    })
    expect(flights.size).toBe(0)
    expect(flights.forget('k')).toBe(false)
  })

  describe('J4: no leftover map entry, timer or listener on any path', () => {
    it('success, failure and abort', async () => {
      useFakeTime()
      const flights = singleFlight()
      const listeners = new AbortController()
      const spy = vi.spyOn(listeners.signal, 'removeEventListener')

      await settle(
        flights.run('ok', ({ signal: s }) => after(10, 'v', s), { signal: listeners.signal }),
      )
      expect(flights.size).toBe(0)
      expect(spy).toHaveBeenCalledTimes(1) // the caller's abort listener is gone

      const failed = await settle(
        flights.run('fail', ({ signal: s }) => failAfter(10, new Error('x'), s), {
          signal: listeners.signal,
        }),
      )
      expect(failed.ok).toBe(false)
      expect(flights.size).toBe(0)
      expect(spy).toHaveBeenCalledTimes(2)

      const quit = new AbortController()
      const aborted = flights.run('abort', ({ signal: s }) => after(1_000, 'v', s), {
        signal: quit.signal,
      })
      quit.abort('bye')
      expect((await settle(aborted)).ok).toBe(false)
      expect(flights.size).toBe(0)
      expect(vi.getTimerCount()).toBe(0) // the work's timer was cleared through the flight's signal
    })

    it('a caller that times out (its signal aborted by a timer) and work that times out', async () => {
      useFakeTime()
      const flights = singleFlight()
      const c = new AbortController()
      const timer = setTimeout(() => c.abort(new TimeoutError('caller timed out', 50)), 50)
      const timedOut = await settle(
        flights.run('slow', ({ signal: s }) => after(1_000, 'v', s), { signal: c.signal }),
      )
      clearTimeout(timer)
      expect(timedOut.ok === false && timedOut.error instanceof TimeoutError).toBe(true)
      expect(flights.size).toBe(0)
      expect(vi.getTimerCount()).toBe(0)

      const workTimeout = await settle(
        flights.run('slow', ({ signal: s }) =>
          failAfter(20, new TimeoutError('upstream timed out', 20), s),
        ),
      )
      expect(workTimeout.ok).toBe(false)
      expect(flights.size).toBe(0)
      expect(vi.getTimerCount()).toBe(0)
    })
  })

  it('rejects a key that is not a string', async () => {
    const flights = singleFlight()
    await expect(flights.run(1 as unknown as string, async () => 'v')).rejects.toThrow(
      /key must be a string.*cacheKey/,
    )
  })
})

/**
 * The phase limits run on the client's clock, exact to the millisecond of fake time: an
 * `Exchange` (the dispatch handler one request runs in) driven by hand as undici would drive it,
 * under vitest's fake timers and `systemClock` (which reads them). The wire-level cases are in
 * client.test.ts; how exactly they fire in real time is measured by `npm run bench -- http`.
 */
import type { Dispatcher } from 'undici'
import { describe, expect, it, vi } from 'vitest'
import { useFakeTime } from '../../test/helpers/time.js'
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js'
import { isRetryableError } from '../policies/classify.js'
import { HttpTimeoutError } from './errors.js'
import { Exchange, type ExchangeLimits } from './exchange.js'
import { PhaseTimer } from './phase-timers.js'

const limits = (over: Partial<ExchangeLimits> = {}): ExchangeLimits => ({
  maxResponseSize: 1024 * 1024,
  connectTimeout: 10_000,
  headersTimeout: 800,
  bodyTimeout: 300,
  maxHeaderSize: 16 * 1024,
  ...over,
})

/** An exchange for GET https://api.example/items, with a controller that records aborts, and its outcome. */
function exchange(l: ExchangeLimits = limits(), clock: Clock = systemClock) {
  const x = new Exchange(
    {
      url: new URL('https://api.example/items?token=secret'),
      method: 'GET',
      headers: {},
      body: undefined,
    },
    l,
    clock,
  )
  const aborted: Error[] = []
  const controller = {
    get aborted() {
      return aborted.length > 0
    },
    paused: false,
    reason: null,
    abort: (reason: Error) => void aborted.push(reason),
    pause() {},
    resume() {},
  } as Dispatcher.DispatchController
  let outcome: { ok: true } | { ok: false; error: unknown } | undefined
  x.promise.then(
    () => (outcome = { ok: true }),
    (error: unknown) => (outcome = { ok: false, error }),
  )
  return {
    x,
    controller,
    aborted,
    /** The outcome once promise callbacks have run (undefined: still pending). */
    outcome: async () => {
      await Promise.resolve()
      await Promise.resolve()
      return outcome
    },
  }
}

describe('fanout/http phase limits on the clock', () => {
  it('B1: the headers limit fires exactly when it runs out — not a millisecond early — with an error that tells the truth', async () => {
    useFakeTime()
    const { x, controller, aborted, outcome } = exchange()
    vi.advanceTimersByTime(5_000) // waiting for a connection is the connect phase: not counted
    x.onRequestStart(controller)
    vi.advanceTimersByTime(799)
    expect(await outcome()).toBeUndefined()
    vi.advanceTimersByTime(1)
    const result = await outcome()
    expect(result).toMatchObject({
      ok: false,
      error: { name: 'HttpTimeoutError', code: 'FANOUT_TIMEOUT', phase: 'headers', timeoutMs: 800 },
    })
    const error = (result as { error: HttpTimeoutError }).error
    expect(error.message).toBe(
      'GET https://api.example/items?token=REDACTED: no response headers within 800 ms of sending the request (timeouts.headers)',
    )
    expect(isRetryableError(error)).toBe(true)
    expect(aborted).toEqual([error]) // the request is aborted on the wire: its socket is destroyed
    expect(vi.getTimerCount()).toBe(0)
  })

  it('B1: a 1xx interim response restarts the headers limit, as undici’s does', async () => {
    useFakeTime()
    const { x, controller, outcome } = exchange()
    x.onRequestStart(controller)
    vi.advanceTimersByTime(700)
    x.onResponseStart(controller, 103, {})
    vi.advanceTimersByTime(799)
    expect(await outcome()).toBeUndefined()
    vi.advanceTimersByTime(1)
    expect(await outcome()).toMatchObject({ ok: false, error: { phase: 'headers' } })
  })

  it('B2: the body limit is an inactivity limit: every chunk restarts it, and it fires exactly that long after the last one', async () => {
    useFakeTime()
    const { x, controller, outcome } = exchange()
    x.onRequestStart(controller)
    vi.advanceTimersByTime(700) // headers after 700 of the 800 ms: the body limit (300) starts then
    x.onResponseStart(controller, 200, { 'content-length': '100' })
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(299)
      x.onResponseData(controller, Buffer.from('x'))
    }
    expect(await outcome()).toBeUndefined()
    vi.advanceTimersByTime(299)
    expect(await outcome()).toBeUndefined()
    vi.advanceTimersByTime(1)
    const result = await outcome()
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'FANOUT_TIMEOUT', phase: 'body', timeoutMs: 300 },
    })
    expect((result as { error: Error }).error.message).toMatch(
      /: the response body stalled: no data for 300 ms \(timeouts\.body\)$/,
    )
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a body limit longer than the headers limit is not cut short by it, and a shorter one is not stretched by it', async () => {
    useFakeTime()
    const long = exchange(limits({ headersTimeout: 100, bodyTimeout: 5_000 }))
    long.x.onRequestStart(long.controller)
    vi.advanceTimersByTime(50)
    long.x.onResponseStart(long.controller, 200, {})
    vi.advanceTimersByTime(4_999)
    expect(await long.outcome()).toBeUndefined()
    vi.advanceTimersByTime(1)
    expect(await long.outcome()).toMatchObject({
      ok: false,
      error: { phase: 'body', timeoutMs: 5_000 },
    })

    const short = exchange(limits({ headersTimeout: 30_000, bodyTimeout: 100 }))
    short.x.onRequestStart(short.controller)
    short.x.onResponseStart(short.controller, 200, {})
    vi.advanceTimersByTime(100)
    expect(await short.outcome()).toMatchObject({
      ok: false,
      error: { phase: 'body', timeoutMs: 100 },
    })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a request’s own connect limit covers the connect phase only; the headers limit replaces it', async () => {
    useFakeTime()
    const slow = exchange()
    slow.x.limitConnect(100)
    vi.advanceTimersByTime(100)
    expect(await slow.outcome()).toMatchObject({
      ok: false,
      error: { phase: 'connect', timeoutMs: 100, code: 'FANOUT_TIMEOUT' },
    })

    const connected = exchange()
    connected.x.limitConnect(100)
    vi.advanceTimersByTime(99)
    connected.x.onRequestStart(connected.controller)
    vi.advanceTimersByTime(799)
    expect(await connected.outcome()).toBeUndefined()
    vi.advanceTimersByTime(1)
    expect(await connected.outcome()).toMatchObject({
      ok: false,
      error: { phase: 'headers', timeoutMs: 800 },
    })
  })

  it('J2: one timer per exchange, released when it completes, fails or is aborted', async () => {
    useFakeTime()
    const done = exchange()
    done.x.onRequestStart(done.controller)
    expect(vi.getTimerCount()).toBe(1)
    done.x.onResponseStart(done.controller, 200, {})
    for (let i = 0; i < 100; i++) done.x.onResponseData(done.controller, Buffer.from('x'))
    expect(vi.getTimerCount()).toBe(1)
    done.x.onResponseEnd()
    expect(await done.outcome()).toEqual({ ok: true })
    expect(vi.getTimerCount()).toBe(0)

    const failed = exchange()
    failed.x.onRequestStart(failed.controller)
    failed.x.onResponseError(
      failed.controller,
      Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    )
    expect(await failed.outcome()).toMatchObject({ ok: false, error: { code: 'FANOUT_NETWORK' } })
    expect(vi.getTimerCount()).toBe(0)

    const cancelled = exchange()
    cancelled.x.limitConnect(1_000)
    cancelled.x.abort(new Error('caller left'))
    expect(await cancelled.outcome()).toMatchObject({
      ok: false,
      error: { message: 'caller left' },
    })
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('PhaseTimer', () => {
  /** A clock whose timers fire `early` ms before their time, as Node's can by up to a millisecond. */
  function earlyClock(early: number) {
    let now = 0
    const timers = new Map<object, { at: number; fn: () => void }>()
    const clock: Clock = {
      now: () => now,
      setTimeout(fn, ms) {
        const handle = {}
        timers.set(handle, { at: now + Math.max(1, ms - early), fn })
        return handle as TimerHandle
      },
      clearTimeout: (handle) => void timers.delete(handle),
    }
    const advanceTo = (t: number): void => {
      for (;;) {
        const next = [...timers]
          .filter(([, timer]) => timer.at <= t)
          .sort((a, b) => a[1].at - b[1].at)[0]
        if (next === undefined) break
        now = next[1].at
        timers.delete(next[0])
        next[1].fn()
      }
      now = t
    }
    return { clock, advanceTo, pending: () => timers.size }
  }

  it('never expires before its time, even when the timer fires early; it re-arms for the rest', () => {
    const { clock, advanceTo, pending } = earlyClock(1)
    const fired: number[] = []
    const timer = new PhaseTimer(clock, () => fired.push(clock.now()))
    timer.start(300)
    advanceTo(299.5)
    expect(fired).toEqual([])
    advanceTo(400)
    expect(fired).toEqual([300])
    expect(pending()).toBe(0)
  })

  it('touch() moves the expiry without timer work; the timer re-arms when it fires before it', () => {
    const { clock, advanceTo, pending } = earlyClock(0)
    let sets = 0
    const counting: Clock = { ...clock, setTimeout: (fn, ms) => (sets++, clock.setTimeout(fn, ms)) }
    const fired: number[] = []
    const timer = new PhaseTimer(counting, () => fired.push(clock.now()))
    timer.start(100)
    for (let t = 10; t <= 500; t += 10) {
      advanceTo(t)
      timer.touch(100)
    }
    expect(fired).toEqual([])
    // One timer, re-armed each time it came due (every 100 ms), not once per touch.
    expect(sets).toBeLessThanOrEqual(6)
    advanceTo(1_000)
    expect(fired).toEqual([600])
    timer.start(50)
    timer.stop()
    advanceTo(2_000)
    expect([fired.length, pending()]).toEqual([1, 0])
  })
})

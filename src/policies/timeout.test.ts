import { describe, expect, it, vi } from 'vitest'
import {
  pipe,
  timeout,
  TimeoutError,
  DeadlineError,
  type CallContext,
  type Policy,
  type Call,
} from '../index.js'
import { systemClock, noopRecorder } from './index.js'
import { after, now, settle, useFakeTime } from '../../test/helpers/time.js'

function context(overrides: Partial<CallContext> = {}): CallContext {
  return {
    signal: new AbortController().signal,
    deadlineAt: Infinity,
    attempt: 1,
    task: 'call',
    clock: systemClock,
    trace: noopRecorder,
    ...overrides,
  }
}

describe('timeout()', () => {
  it('aborts the call signal with a TimeoutError and rejects on time', async () => {
    useFakeTime()
    let inner: AbortSignal | undefined
    const call = timeout(100).wrap(
      (ctx) => ((inner = ctx.signal), after(1_000, 'late', ctx.signal)),
    )
    const t0 = now()
    const result = await settle(call(context()))
    expect(now() - t0).toBe(100)
    expect((result as { error: unknown }).error).toBeInstanceOf(TimeoutError)
    expect(inner!.reason).toBeInstanceOf(TimeoutError)
  })

  it('is capped by the deadline and never starts a call whose time is up', async () => {
    useFakeTime()
    const t0 = now()
    let calls = 0
    const call = timeout(1_000).wrap((ctx) => (calls++, after(5_000, 1, ctx.signal)))
    const capped = await settle(call(context({ deadlineAt: t0 + 300 })))
    expect((capped as { error: unknown }).error).toBeInstanceOf(DeadlineError)
    expect(now() - t0).toBe(300)
    await expect(call(context({ deadlineAt: now() }))).rejects.toBeInstanceOf(DeadlineError)
    expect(calls).toBe(1)
  })

  it('passes results and errors through and leaves no timer or listener', async () => {
    useFakeTime()
    const parent = new AbortController()
    const ok = await settle(
      timeout(100).wrap(() => after(10, 'v'))(context({ signal: parent.signal })),
    )
    expect(ok).toEqual({ ok: true, value: 'v' })
    const boom = new Error('boom')
    const failed = await settle(
      timeout(100).wrap(() => Promise.reject(boom))(context({ signal: parent.signal })),
    )
    expect(failed).toEqual({ ok: false, error: boom })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects with the parent reason when the caller aborts first', async () => {
    useFakeTime()
    const parent = new AbortController()
    const pending = timeout(100).wrap((ctx) => after(1_000, 1, ctx.signal))(
      context({ signal: parent.signal }),
    )
    const reason = new Error('left')
    parent.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('L3: rejects bad durations at construction', () => {
    expect(() => timeout(0)).toThrow(
      'timeout(): `ms` must be within 1–Number.MAX_SAFE_INTEGER ms, got 0. 0 does not mean "no limit": omit the option instead.',
    )
    expect(() => timeout(Number.NaN)).toThrow('got NaN')
  })
})

describe('pipe()', () => {
  const tag = (name: string, log: string[]): Policy => ({
    name,
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return async (ctx) => {
        log.push(`${name}>`)
        const value = await next(ctx)
        log.push(`<${name}`)
        return value
      }
    },
  })

  it('runs the first listed policy outermost and flattens nested pipes', async () => {
    const log: string[] = []
    const p = pipe(tag('a', log), pipe(tag('b', log), tag('c', log)))
    expect(p.name).toBe('a → b → c')
    expect(p.policies.map((x) => x.name)).toEqual(['a', 'b', 'c'])
    await p.wrap(() => (log.push('call'), Promise.resolve(1)))(context())
    expect(log).toEqual(['a>', 'b>', 'c>', 'call', '<c', '<b', '<a'])
    expect(pipe().name).toBe('identity')
  })
})

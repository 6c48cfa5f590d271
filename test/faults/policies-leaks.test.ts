/** J1/J2 for the call policies: no listener and no timer survives a call, whatever its outcome. */
import { describe, expect, it, vi } from 'vitest'
import { circuitBreaker, execute, hedge, pipe, retry, timeout } from '../../src/index.js'
import { after, failAfter, settle, useFakeTime } from '../helpers/time.js'

describe('policies: leaks', () => {
  it('J2: one long-lived signal across 1,000 calls through retry, breaker, hedge and timeout keeps no listener; J1: no timer is left', async () => {
    useFakeTime()
    const controller = new AbortController()
    const signal = controller.signal
    let net = 0
    const add = signal.addEventListener.bind(signal)
    const remove = signal.removeEventListener.bind(signal)
    signal.addEventListener = ((...args: Parameters<typeof add>) => (
      net++,
      add(...args)
    )) as typeof add
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => (
      net--,
      remove(...args)
    )) as typeof remove
    const policy = pipe(
      retry({ budget: false, baseDelay: 1 }),
      circuitBreaker({ consecutive: 1_000 }),
      hedge({ idempotent: true, delay: 5 }),
      timeout(50),
    )
    let i = 0
    const call = policy.wrap(({ signal: s }) => {
      const k = i++ % 4
      if (k === 0) return after(1, 'ok', s)
      if (k === 1) return failAfter(1, Object.assign(new Error('503'), { status: 503 }), s)
      if (k === 2) return after(200, 'slow', s) // timed out, hedged
      return failAfter(1, Object.assign(new Error('404'), { status: 404 }), s)
    })
    for (let n = 0; n < 1_000; n++) await settle(execute(call, { signal, deadline: 5_000 }))
    expect(net).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('J2: 50 parallel tasks with timeouts and retries on one request signal put one listener on it, never 50', async () => {
    useFakeTime()
    const { flow } = await import('../../src/index.js')
    const controller = new AbortController()
    const signal = controller.signal
    let live = 0
    let peak = 0
    const add = signal.addEventListener.bind(signal)
    const remove = signal.removeEventListener.bind(signal)
    signal.addEventListener = ((...args: Parameters<typeof add>) => (
      (peak = Math.max(peak, ++live)),
      add(...args)
    )) as typeof add
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => (
      live--,
      remove(...args)
    )) as typeof remove
    let f = flow('wide') as unknown as {
      task(
        name: string,
        fn: (d: unknown, c: { signal: AbortSignal }) => Promise<number>,
        o: object,
      ): typeof f
      run(i: undefined, o: object): Promise<unknown>
    }
    for (let i = 0; i < 50; i++)
      f = f.task(`t${i}`, (_, { signal: s }) => after(10, i, s), { timeout: 100, retry: true })
    const result = await settle(f.run(undefined, { signal }))
    expect(result.ok).toBe(true)
    for (let i = 0; i < 50; i++)
      await settle(
        execute(
          timeout(100).wrap(({ signal: s }) => after(10, i, s)),
          { signal },
        ),
      )
    const many = Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        execute(
          pipe(retry(), timeout(100)).wrap(({ signal: s }) => after(10, i, s)),
          { signal },
        ),
      ),
    )
    await settle(many)
    expect(peak).toBe(1)
    expect(live).toBe(0)
  })
})

/**
 * The p-limit drop-in against p-limit 7 itself: every documented behaviour runs on both, and
 * the drop-in must behave the same (timings on fake time, counts, ordering, errors, context).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import original from 'p-limit'
import { describe, expect, it, vi } from 'vitest'
import dropIn, { limitFunction } from '../src/compat/p-limit.js'
import { after, now, settle, useFakeTime } from './helpers/time.js'

const implementations = [
  ['p-limit', original as unknown as typeof dropIn],
  ['fanout/compat/p-limit', dropIn],
] as const

describe.each(implementations)('%s', (_, pLimit) => {
  it('runs at most `concurrency` at once and resolves each call with its result', async () => {
    useFakeTime()
    const limit = pLimit(2)
    let running = 0
    let peak = 0
    const t0 = now()
    const results = [30, 10, 20, 10].map((ms, i) =>
      limit(async () => {
        running++
        peak = Math.max(peak, running)
        await after(ms, null)
        running--
        return i
      }),
    )
    expect(await settle(Promise.all(results))).toEqual({ ok: true, value: [0, 1, 2, 3] })
    expect(peak).toBe(2)
    expect(now() - t0).toBe(40)
  })

  it('passes arguments through', async () => {
    const limit = pLimit(1)
    await expect(limit((a: number, b: string) => `${a}${b}`, 1, 'x')).resolves.toBe('1x')
  })

  it('counts active and pending calls the way p-limit does, and starts the function in a microtask', async () => {
    const limit = pLimit(2)
    let called = 0
    const calls = Array.from({ length: 5 }, () => limit(async () => void called++))
    expect(limit.activeCount).toBe(2)
    expect(limit.pendingCount).toBe(3)
    expect(called).toBe(0)
    await Promise.all(calls)
    expect(called).toBe(5)
    expect(limit.activeCount).toBe(0)
    expect(limit.pendingCount).toBe(0)
  })

  it('rejects with what the function threw, synchronously or not, and keeps going', async () => {
    const limit = pLimit(1)
    const sync = limit(() => {
      throw new Error('sync')
    })
    const async = limit(async () => {
      throw new Error('async')
    })
    const ok = limit(() => 'ok')
    await expect(sync).rejects.toThrow('sync')
    await expect(async).rejects.toThrow('async')
    await expect(ok).resolves.toBe('ok')
  })

  it('clearQueue discards waiting calls; with rejectOnClear they reject with an AbortError', async () => {
    const limit = pLimit(1)
    let open!: () => void
    const first = limit(() => new Promise<void>((r) => (open = r)))
    let ran = false
    void limit(() => (ran = true))
    expect(limit.pendingCount).toBe(1)
    limit.clearQueue()
    expect(limit.pendingCount).toBe(0)
    await vi.waitFor(() => expect(open).toBeTypeOf('function'))
    open()
    await first
    expect(ran).toBe(false)

    const rejecting = pLimit({ concurrency: 1, rejectOnClear: true })
    let close!: () => void
    const head = rejecting(() => new Promise<void>((r) => (close = r)))
    const queued = rejecting(() => 'never')
    rejecting.clearQueue()
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' })
    await vi.waitFor(() => expect(close).toBeTypeOf('function'))
    close()
    await head
  })

  it('raising concurrency while running starts waiting calls in a microtask', async () => {
    const limit = pLimit(1)
    const opens: Array<() => void> = []
    const calls = Array.from({ length: 3 }, () =>
      limit(() => new Promise<void>((r) => opens.push(r))),
    )
    await Promise.resolve()
    expect(limit.activeCount).toBe(1)
    limit.concurrency = 3
    expect(limit.concurrency).toBe(3)
    expect(limit.activeCount).toBe(1)
    await Promise.resolve()
    expect(limit.activeCount).toBe(3)
    for (let i = 0; i < 3; i++) {
      await vi.waitFor(() => expect(opens.length).toBeGreaterThan(i))
      opens[i]!()
    }
    await Promise.all(calls)
  })

  it('map() runs the mapper with (item, index) and keeps order', async () => {
    const limit = pLimit(2)
    await expect(limit.map([3, 1, 2], async (x, i) => `${x}@${i}`)).resolves.toEqual([
      '3@0',
      '1@1',
      '2@2',
    ])
  })

  it('preserves the async context of the caller, also for calls that waited', async () => {
    const storage = new AsyncLocalStorage<number>()
    const limit = pLimit(1)
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        storage.run(i, () => limit(async () => storage.getStore())),
      ),
    )
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it.each([0, -1, 1.5, Number.NaN, '1'])('rejects concurrency %j like p-limit', (value) => {
    expect(() => pLimit(value as number)).toThrow(
      new TypeError('Expected `concurrency` to be a number from 1 and up'),
    )
  })

  it('accepts Infinity', async () => {
    const limit = pLimit(Infinity)
    await expect(Promise.all([limit(() => 1), limit(() => 2)])).resolves.toEqual([1, 2])
  })
})

describe('fanout/compat/p-limit extras', () => {
  it('limitFunction limits a function', async () => {
    let running = 0
    let peak = 0
    const fn = limitFunction(async (x: number) => {
      running++
      peak = Math.max(peak, running)
      await Promise.resolve()
      running--
      return x * 2
    }, 2)
    await expect(Promise.all([1, 2, 3, 4].map((x) => fn(x)))).resolves.toEqual([2, 4, 6, 8])
    expect(peak).toBe(2)
  })
})

import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { QueueFullError } from '../core/errors.js'
import { limit } from './limit.js'
import { Slots, slotsOf } from './slots.js'

const gate = (): { promise: Promise<void>; open: () => void } => {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

describe('Slots', () => {
  it('serves run() calls and wait() waiters in one arrival order', async () => {
    const slots = new Slots(1)
    const order: string[] = []
    const first = gate()
    const a = slots.run(() => first.promise.then(() => order.push('a')))
    const b = slots.run(async () => order.push('b'))
    const c = slots.wait({}).then(() => {
      order.push('c')
      slots.release()
    })
    const d = slots.run(async () => order.push('d'))
    expect(slots.pending).toBe(3)
    first.open()
    await Promise.all([a, b, c, d])
    expect(order).toEqual(['a', 'b', 'c', 'd'])
    expect(slots.active).toBe(0)
  })

  it('an aborted waiter leaves the line without a slot; the calls behind it still run', async () => {
    const slots = new Slots(1)
    const first = gate()
    const a = slots.run(() => first.promise)
    const controller = new AbortController()
    const waiting = slots.wait({ signal: controller.signal })
    const b = slots.run(async () => 'b')
    controller.abort(new Error('gone'))
    await expect(waiting).rejects.toThrow('gone')
    expect(slots.pending).toBe(1)
    first.open()
    await a
    await expect(b).resolves.toBe('b')
    expect(slots.active).toBe(0)
  })

  it('clear() rejects waiting run() calls without running them, or leaves them pending', async () => {
    const slots = new Slots(1)
    const first = gate()
    const a = slots.run(() => first.promise)
    let ran = false
    const b = slots.run(() => (ran = true))
    slots.clear(new Error('cleared'))
    await expect(b).rejects.toThrow('cleared')
    expect(slots.pending).toBe(0)
    first.open()
    await a
    expect(ran).toBe(false)
    expect(slots.active).toBe(0)
  })

  it('refuses a run() beyond maxQueue with QueueFullError, and rejects what the function throws', async () => {
    const slots = new Slots(1, 1)
    const first = gate()
    const a = slots.run(() => first.promise)
    const b = slots.run(() => {
      throw new Error('sync')
    })
    await expect(slots.run(() => 1)).rejects.toBeInstanceOf(QueueFullError)
    first.open()
    await a
    await expect(b).rejects.toThrow('sync')
    expect(slots.active).toBe(0)
  })

  it('runs many calls with at most `concurrency` at once, growing its line past its first size', async () => {
    const slots = new Slots(3)
    let running = 0
    let peak = 0
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        slots.run(async () => {
          running++
          peak = Math.max(peak, running)
          await null
          running--
          return i
        }),
      ),
    )
    expect(results).toEqual(Array.from({ length: 500 }, (_, i) => i))
    expect(peak).toBe(3)
  })
})

describe('limit().run fast path', () => {
  it('runs waiting calls in the async context of their caller', async () => {
    const storage = new AsyncLocalStorage<number>()
    const limiter = limit({ concurrency: 1 })
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        storage.run(i, () => limiter.run(async () => storage.getStore())),
      ),
    )
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('shares its slots with calls that pass options, in arrival order', async () => {
    const limiter = limit({ concurrency: 1 })
    const order: number[] = []
    const first = gate()
    const calls = [
      limiter.run(() => first.promise.then(() => order.push(0))),
      limiter.run(async () => order.push(1), { signal: new AbortController().signal }),
      limiter.run(async () => order.push(2)),
    ]
    expect(slotsOf(limiter)!.pending).toBe(2)
    first.open()
    await Promise.all(calls)
    expect(order).toEqual([0, 1, 2])
  })
})

import { describe, expect, it } from 'vitest'
import { mapLimit } from '../index.js'
import { MAX_MAP_CONCURRENCY } from './map-limit.js'
import { after, settle, useFakeTime } from '../../test/helpers/time.js'
import { warningsDuring } from '../../test/helpers/warnings.js'

describe('mapLimit()', () => {
  it('keeps input order and never exceeds the concurrency', async () => {
    useFakeTime()
    let running = 0
    let peak = 0
    const result = await settle(
      mapLimit(
        [30, 10, 20, 10, 5],
        async (ms, i) => {
          running++
          peak = Math.max(peak, running)
          await after(ms, null)
          running--
          return `${ms}@${i}`
        },
        { concurrency: 2 },
      ),
    )
    expect(result).toEqual({ ok: true, value: ['30@0', '10@1', '20@2', '10@3', '5@4'] })
    expect(peak).toBe(2)
  })

  it('pulls lazily from any iterable and handles empty input', async () => {
    let pulled = 0
    function* numbers() {
      for (let i = 0; i < 5; i++) {
        pulled++
        yield i
      }
    }
    await expect(mapLimit(numbers(), (n) => n * 2, { concurrency: 3 })).resolves.toEqual([
      0, 2, 4, 6, 8,
    ])
    expect(pulled).toBe(5)
    await expect(mapLimit([], (n: number) => n, { concurrency: 3 })).resolves.toEqual([])
  })

  it('fails fast: the first error aborts running calls and starts nothing more', async () => {
    useFakeTime()
    const started: number[] = []
    const aborted: number[] = []
    const result = await settle(
      mapLimit(
        [0, 1, 2, 3, 4, 5],
        async (n, _, signal) => {
          started.push(n)
          signal.addEventListener('abort', () => aborted.push(n))
          if (n === 1) return after(5, null).then(() => Promise.reject(new Error('item 1 failed')))
          return after(50, n, signal)
        },
        { concurrency: 2 },
      ),
    )
    expect((result as { error: Error }).error.message).toBe('item 1 failed')
    expect(started).toEqual([0, 1])
    expect(aborted).toEqual([0, 1])
  })

  it('a wide map whose calls all listen to their signal trips no MaxListenersExceededWarning', async () => {
    useFakeTime()
    const failure = new Error('item 40 failed')
    const signals: AbortSignal[] = []
    const warnings = await warningsDuring('MaxListenersExceededWarning', async () => {
      const run = mapLimit(
        Array.from({ length: 50 }, (_, i) => i),
        (i, _, signal) => {
          signals.push(signal)
          return i === 40 ? Promise.reject(failure) : after(10, i, signal)
        },
        { concurrency: 32 },
      )
      expect(await settle(run)).toEqual({ ok: false, error: failure })
    })
    expect(warnings).toEqual([])
    // The calls still running when item 40 failed saw their signal abort with its error.
    const running = signals.filter((s) => s.aborted)
    expect(running.length).toBeGreaterThan(0)
    expect(running.every((s) => s.reason === failure)).toBe(true)
  })

  it('concurrency: Infinity runs at most MAX_MAP_CONCURRENCY calls at once, like the largest finite value', async () => {
    // Three times the cap: one worker per item would hold 30,000 calls at once.
    const items = new Array<number>(3 * MAX_MAP_CONCURRENCY).fill(1)
    let running = 0
    let peak = 0
    let done = 0
    await mapLimit(
      items,
      async () => {
        if (++running > peak) peak = running
        await null
        running--
        done++
      },
      { concurrency: Infinity },
    )
    expect({ peak, done }).toEqual({ peak: MAX_MAP_CONCURRENCY, done: items.length })
    // A short input still starts only as many calls as it has items.
    peak = 0
    await mapLimit(
      [1, 2, 3],
      async () => ((peak = Math.max(peak, ++running)), await null, running--),
      { concurrency: Infinity },
    )
    expect(peak).toBe(3)
  })

  it('stops on an external abort with its reason', async () => {
    useFakeTime()
    const controller = new AbortController()
    const pending = mapLimit([1, 2, 3], (n, _, signal) => after(100, n, signal), {
      concurrency: 1,
      signal: controller.signal,
    })
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
  })

  it.each([
    [{ concurrency: 0 }, '`concurrency` must be an integer from 1 to 10000 or Infinity, got 0.'],
    [
      { concurrency: 10_001 },
      '`concurrency` must be an integer from 1 to 10000 or Infinity, got 10001.',
    ],
    [{}, '`concurrency` is required (an integer ≥ 1).'],
    [{ concurency: 2 }, 'unknown option `concurency`. Did you mean `concurrency`?'],
  ])('L1/L4: mapLimit(…, %j) is rejected', async (options, message) => {
    await expect(mapLimit([1], (n) => n, options as never)).rejects.toThrow(
      `mapLimit(): ${message}`,
    )
  })
})

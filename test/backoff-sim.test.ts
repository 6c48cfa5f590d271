/**
 * The backoff contention simulation behind `npm run bench -- backoff` (bench/backoff.ts): it
 * replays exactly for a seed and every client gets its write in. Structural facts only; the
 * simulation runs on a virtual clock, and nothing here measures wall time.
 */
import { describe, expect, it } from 'vitest'
import { averaged, simulate, STRATEGIES } from '../bench/backoff.js'
import { backoffDelay } from '../src/policies/backoff.js'

const SEED = 1

describe('backoff contention simulation', () => {
  it('replays identically for the same seed', () => {
    for (const strategy of STRATEGIES) {
      const a = simulate({ clients: 10, strategy, seed: SEED, delay: backoffDelay })
      const b = simulate({ clients: 10, strategy, seed: SEED, delay: backoffDelay })
      expect(b, strategy).toEqual(a)
    }
  })

  it('depends on the seed (jittered strategies)', () => {
    const a = simulate({ clients: 10, strategy: 'full', seed: SEED, delay: backoffDelay })
    const b = simulate({ clients: 10, strategy: 'full', seed: SEED + 1, delay: backoffDelay })
    expect(b.completionMs).not.toBe(a.completionMs)
  })

  it('completes every client, with at least one call each', () => {
    for (const clients of [1, 2, 10, 25]) {
      for (const strategy of STRATEGIES) {
        const r = simulate({ clients, strategy, seed: SEED, delay: backoffDelay })
        expect(r.completed, `${strategy} N=${clients}`).toBe(clients)
        expect(r.calls).toBeGreaterThanOrEqual(clients)
        expect(r.calls).toBe(clients + r.failures)
        expect(r.attempts).toHaveLength(clients)
        expect(r.attempts.every((n) => n >= 1)).toBe(true)
        expect(r.attempts.reduce((a, b) => a + b, 0)).toBe(r.calls)
        expect(r.completionMs).toBeGreaterThan(0)
        expect(Number.isFinite(r.completionMs)).toBe(true)
      }
    }
  })

  it('a lone client needs exactly one call', () => {
    for (const strategy of STRATEGIES) {
      expect(
        simulate({ clients: 1, strategy, seed: SEED, delay: backoffDelay }).calls,
        strategy,
      ).toBe(1)
    }
  })

  it('no backoff makes more calls than full jitter at N=50', () => {
    const none = averaged('none', 50, SEED, 5, backoffDelay)
    const full = averaged('full', 50, SEED, 5, backoffDelay)
    expect(none.calls).toBeGreaterThan(full.calls)
    // And run by run, on the same seeds.
    for (const seed of [SEED, 2, 3]) {
      const n = simulate({ clients: 50, strategy: 'none', seed, delay: backoffDelay })
      const f = simulate({ clients: 50, strategy: 'full', seed, delay: backoffDelay })
      expect(n.calls, `seed ${seed}`).toBeGreaterThan(f.calls)
    }
  })

  it('rejects a client count that is not a positive integer', () => {
    expect(() =>
      simulate({ clients: 0, strategy: 'full', seed: SEED, delay: backoffDelay }),
    ).toThrow(RangeError)
    expect(() =>
      simulate({ clients: 2.5, strategy: 'full', seed: SEED, delay: backoffDelay }),
    ).toThrow(RangeError)
  })

  it('C13/R21: 100 clients failing together: full jitter lands within ±10 % of ~800 calls and ~4.9 s, > 5× faster than plain exponential', () => {
    const full = averaged('full', 100, SEED, 30, backoffDelay)
    const exponential = averaged('exponential', 100, SEED, 10, backoffDelay)
    expect(full.calls).toBeGreaterThan(720)
    expect(full.calls).toBeLessThan(880)
    expect(full.seconds).toBeGreaterThan(4.41)
    expect(full.seconds).toBeLessThan(5.5)
    expect(exponential.seconds / full.seconds).toBeGreaterThan(5)
  })
})

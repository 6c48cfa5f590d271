/**
 * Backoff strategies: how long to wait before retry number n (n = 0 for the first retry).
 * Pure functions of (n, previous delay, random), so they can be simulated, property-tested and
 * swapped. Every delay is finite, ≥ 0 and ≤ min(cap, 2^31−1): no NaN, negative or overflowing
 * timer can come out of here, whatever n is (2^n overflows to Infinity near n = 1024).
 *
 * The strategies are those of AWS's "Exponential Backoff and Jitter" study:
 * - `full` (default): uniform in [0, min(cap, base·2^n)] — the fewest calls and the fastest
 *   completion under contention;
 * - `equal`: half the exponential delay plus a uniform half;
 * - `decorrelated`: uniform in [base, min(cap, 3·previous)]. The upper bound is capped *before*
 *   sampling, so once saturated the delays stay spread over [base, cap] instead of piling up at
 *   the cap (the flaw of `min(cap, uniform(base, 3·previous))`);
 * - `exponential`: min(cap, base·2^n), no jitter (synchronised clients retry in lockstep);
 * - `none`: retry at once.
 */
import { MAX_TIMER_DELAY } from '../core/clock.js'

export type BackoffStrategy = 'full' | 'equal' | 'decorrelated' | 'exponential' | 'none'

export const BACKOFF_STRATEGIES: readonly BackoffStrategy[] = [
  'full',
  'equal',
  'decorrelated',
  'exponential',
  'none',
]

export interface BackoffParams {
  /** Base delay in ms. */
  readonly base: number
  /** Largest delay in ms. */
  readonly cap: number
  /** Uniform source in [0, 1); `Math.random` by default. Inject a seeded one for simulations. */
  readonly random: () => number
}

/** min(cap, base·2^n) without overflow. */
export function exponentialCeiling(n: number, base: number, cap: number): number {
  if (n >= 1023) return cap
  const value = base * 2 ** Math.max(0, n)
  return value < cap ? value : cap
}

/** The delay before retry `n` (0-based), given the previous delay (`base` before the first). */
export function backoffDelay(
  strategy: BackoffStrategy,
  n: number,
  previous: number,
  params: BackoffParams,
): number {
  const { base, cap, random } = params
  let delay: number
  switch (strategy) {
    case 'none':
      return 0
    case 'exponential':
      delay = exponentialCeiling(n, base, cap)
      break
    case 'full':
      delay = random() * exponentialCeiling(n, base, cap)
      break
    case 'equal': {
      const ceiling = exponentialCeiling(n, base, cap)
      delay = ceiling / 2 + random() * (ceiling / 2)
      break
    }
    case 'decorrelated': {
      const low = Math.min(base, cap)
      const high = Math.max(low, Math.min(cap, (previous > 0 ? previous : base) * 3))
      delay = low + random() * (high - low)
      break
    }
  }
  if (!(delay > 0)) return 0
  return Math.min(delay, cap, MAX_TIMER_DELAY)
}

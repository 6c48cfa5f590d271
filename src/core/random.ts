/**
 * A seedable source of uniform randomness, so simulations, benchmarks and the example replay
 * exactly for a given seed (and jittered policies can be tested deterministically).
 */

/** mulberry32: a tiny, fast 32-bit PRNG (public domain). Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

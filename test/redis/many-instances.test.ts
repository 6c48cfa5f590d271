/**
 * The two-process example (examples/many-instances.ts) against real Redis: the upstream sees the
 * limits of one instance although two run, and one price load serves both processes' callers.
 */
import { describe, expect, it } from 'vitest'
import { runManyInstances } from '../../examples/many-instances.js'
import { redisUp } from '../helpers/redis.js'

describe.runIf(redisUp)('examples/many-instances.ts', () => {
  it('E7: two processes share one rate limit, one semaphore and one cache flight', async () => {
    const seen = await runManyInstances()
    expect(seen.work).toBe(40)
    // 5 a second with a burst of 5: at most 5 + 5 in any second, +1 for a reservation at the edge.
    expect(seen.busiestSecond).toBeLessThanOrEqual(11)
    expect(seen.peakInFlight).toBeLessThanOrEqual(2)
    expect(seen.priceLoads).toBe(1)
    expect(seen.pricesServed).toBe(20)
  }, 60_000)
})

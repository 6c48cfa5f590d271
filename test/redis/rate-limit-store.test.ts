/**
 * `redisRateLimitStore()` against real Redis: the same answers as `memoryRateLimitStore()` under
 * `time: 'caller'` (generated reserve/cancel sequences, GCRA and the sliding window), the exact
 * window, `rateLimit()` end to end, and the fault cases of the catalogue (E-ids).
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreError } from '../../src/core/errors.js'
import {
  memoryRateLimitStore,
  type RateLimitParams,
  type RateLimitReservation,
} from '../../src/policies/rate-limit-store.js'
import { redisRateLimitStore } from '../../src/redis/index.js'
import {
  CLIENT_KINDS,
  connect,
  redisRequired,
  redisUp,
  removeKeys,
  testPrefix,
  type TestRedis,
} from '../helpers/redis.js'

it.runIf(redisRequired)(
  'Redis answers on 127.0.0.1:6379 (required: FANOUT_REQUIRE_REDIS=1)',
  () => {
    expect(redisUp).toBe(true)
  },
)

type Step =
  | {
      readonly op: 'reserve'
      readonly key: number
      readonly cost: number
      readonly dt: number
      readonly maxWait: number
      readonly pause: number
    }
  | { readonly op: 'cancel'; readonly pick: number; readonly dt: number }

const stepArb = (capacity: number): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('reserve' as const),
        key: fc.integer({ min: 0, max: 1 }),
        cost: fc.integer({ min: 1, max: capacity }),
        // Mostly forward, sometimes back (a clock that steps back counts it as 0 ms).
        dt: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: -200, max: 0 })),
        maxWait: fc.constantFrom(0, 100, 500, 2_000, Infinity),
        pause: fc.oneof(
          { weight: 5, arbitrary: fc.constant(0) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 600 }) },
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('cancel' as const),
        pick: fc.nat(),
        dt: fc.integer({ min: -50, max: 200 }),
      }),
    },
  )

const paramsArb: fc.Arbitrary<RateLimitParams> = fc.oneof(
  fc
    .record({ interval: fc.constantFrom(10, 50, 100, 250), burst: fc.integer({ min: 1, max: 5 }) })
    .map(({ interval, burst }) => ({
      algorithm: 'gcra' as const,
      interval,
      tolerance: interval * burst,
    })),
  fc
    .record({ limit: fc.integer({ min: 1, max: 6 }), window: fc.constantFrom(100, 400, 1000) })
    .map(({ limit, window }) => ({ algorithm: 'sliding-window' as const, limit, window })),
)

const capacityOf = (p: RateLimitParams): number =>
  p.algorithm === 'gcra' ? p.tolerance / p.interval : p.limit

/** The answer without its ticket, for comparing stores. */
const plain = (r: RateLimitReservation): unknown =>
  r.ok ? { ok: true, waitMs: r.waitMs } : { ok: false, waitMs: r.waitMs, reason: r.reason }

describe.runIf(redisUp).each(CLIENT_KINDS)('%s', (kind) => {
  let redis: TestRedis
  const prefix = testPrefix()
  beforeAll(async () => {
    redis = await connect(kind)
  })
  afterAll(async () => {
    await removeKeys(redis, prefix)
    await redis.close()
  })

  let run = 0
  const storesFor = () => {
    const memory = memoryRateLimitStore()
    const shared = redisRateLimitStore({
      redis: redis.connection,
      prefix,
      name: `p${run++}`,
      time: 'caller',
    })
    return { memory, shared }
  }

  for (const algorithm of ['gcra', 'sliding-window'] as const)
    it(`answers as memoryRateLimitStore does (${algorithm}): random reserve/cancel/clock sequences`, async () => {
      const scenario = paramsArb
        .filter((p) => p.algorithm === algorithm)
        .chain((params) =>
          fc.tuple(
            fc.constant(params),
            fc.array(stepArb(capacityOf(params)), { minLength: 1, maxLength: 40 }),
          ),
        )
      await fc.assert(
        fc.asyncProperty(scenario, async ([params, steps]) => {
          const { memory, shared } = storesFor()
          const tickets: [unknown, unknown, string][] = []
          let now = 1_000_000
          for (const step of steps) {
            now += step.dt
            if (step.op === 'cancel') {
              if (tickets.length === 0) continue
              const [m, r, key] = tickets[step.pick % tickets.length]!
              memory.cancel(key, m, now)
              await shared.cancel(key, r, now)
              continue
            }
            const key = `k${step.key}`
            const request = {
              cost: step.cost,
              now,
              maxWaitMs: step.maxWait,
              notBefore: step.pause === 0 ? -Infinity : now + step.pause,
              params,
            }
            const m = memory.reserve(key, request)
            const r = await shared.reserve(key, request)
            expect(plain(r)).toEqual(plain(m))
            if (m.ok && r.ok) tickets.push([m.ticket, r.ticket, key])
          }
        }),
        { numRuns: 60 },
      )
    })
})

/**
 * The default retry budget: it must never starve ordinary flakiness (10–40 % random errors),
 * must stop a total outage's retries quickly, must let Retry-After-paced retries through, must
 * keep origins apart, and must say so when it is why a call failed. Everything runs on fake time
 * with seeded randomness; the Monte-Carlo part drives the budget object alone.
 */
import { describe, expect, it, vi } from 'vitest'
import {
  cached,
  circuitBreaker,
  execute,
  FanoutError,
  isFanoutError,
  pipe,
  retry,
  retryBudget,
  RetryBudgetError,
  type Call,
  type Policy,
  type RetryBudget,
  type TraceEvent,
} from '../index.js'
import { isOverloadError, isRetriedError, isRetryableError } from './index.js'
import { seededRandom } from '../core/random.js'
import { memoryCacheStore } from '../cache/index.js'
import { after, failAfter, now, settle, useFakeTime } from '../../test/helpers/time.js'
import { originOf } from './budget.js'

const A = 'http://a.example'
const B = 'https://b.example:8443'

/** An error shaped like fanout/http's HttpError: status, method and the URL it came from. */
const httpError = (status: number, url = `${A}/item`, headers: Record<string, string> = {}) =>
  Object.assign(new Error(`GET ${url} responded ${status}`), {
    status,
    method: 'GET',
    url,
    headers,
  })
const netError = (code: string) => Object.assign(new Error(code), { code })

interface Upstream {
  readonly call: Call<{ url: string }>
  readonly attempts: number
}

/**
 * An upstream at `origin` that fails each attempt with probability `rate` (seeded), after 5–24 ms.
 * A success resolves with `{ url }`, like a fanout/http response; `named: false` resolves with a
 * bare value instead (like `client.json()`), which names no origin.
 */
function upstream(
  origin: string,
  rate: number,
  seed: number,
  fail: () => unknown = () => httpError(503, `${origin}/item`),
  named = true,
): Upstream {
  const random = seededRandom(seed)
  let attempts = 0
  const call: Call<{ url: string }> = ({ signal }) => {
    attempts++
    const failed = random() < rate
    const ms = 5 + Math.floor(random() * 20)
    return failed
      ? failAfter(ms, fail(), signal)
      : after(ms, named ? { url: `${origin}/item` } : ({} as { url: string }), signal)
  }
  return {
    call,
    get attempts() {
      return attempts
    },
  }
}

interface Run {
  readonly ok: number
  readonly errors: unknown[]
  readonly events: TraceEvent[]
}

/** `calls` logical calls through `policy` at `concurrency` (workers pulling the next index), on fake time. */
async function run(
  policy: Policy,
  call: Call<unknown>,
  calls: number,
  concurrency = 10,
): Promise<Run> {
  let next = 0
  let ok = 0
  const errors: unknown[] = []
  const events: TraceEvent[] = []
  const wrapped = policy.wrap(call)
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next++
      try {
        await execute(wrapped, { onEvent: (e) => events.push(e) })
        ok++
      } catch (error) {
        errors.push(error)
      }
    }
  }
  const done = await settle(Promise.all(Array.from({ length: concurrency }, worker)))
  expect(done.ok).toBe(true)
  return { ok, errors, events }
}

const refused = (r: Run) => r.events.filter((e) => e.type === 'retry.budgetExhausted').length

describe('the default retry budget', () => {
  it('C10: a total outage of 1,000 calls at concurrency 10 makes ≤ 1.5 upstream attempts per call, and the error names the budget', async () => {
    useFakeTime()
    const api = upstream(A, 1, 1)
    const r = await run(retry({ maxAttempts: 4, random: seededRandom(2) }), api.call, 1_000)
    expect(r.ok).toBe(0)
    expect(api.attempts / 1_000).toBeLessThanOrEqual(1.5)
    expect(refused(r)).toBeGreaterThan(0)
    const stopped = r.errors.filter((e) => e instanceof RetryBudgetError)
    // Every call but the few that used up maxAttempts before the bucket ran low was stopped by the budget.
    expect(stopped.length).toBe(refused(r))
    expect(stopped.length).toBeGreaterThan(900)
    // Without a budget the same outage costs maxAttempts per call.
    const free = upstream(A, 1, 1)
    await run(retry({ maxAttempts: 4, budget: false, random: seededRandom(2) }), free.call, 100)
    expect(free.attempts).toBe(400)
  })

  it('C10: the same holds one call at a time, and for failures that name no origin (network errors)', async () => {
    useFakeTime()
    const api = upstream(A, 1, 3, () => netError('ECONNREFUSED'))
    const r = await run(retry({ maxAttempts: 4 }), api.call, 1_000, 1)
    expect(api.attempts / 1_000).toBeLessThanOrEqual(1.5)
    expect(r.errors.filter((e) => isFanoutError(e, 'FANOUT_RETRY_BUDGET')).length).toBe(refused(r))
    expect(refused(r)).toBeGreaterThan(900)
  })

  it('C10: an outage answered with Retry-After still stops retrying (those failures cost a quarter token each)', async () => {
    useFakeTime()
    const api = upstream(A, 1, 4, () => httpError(503, `${A}/item`, { 'retry-after': '1' }))
    const r = await run(retry({ maxAttempts: 4 }), api.call, 1_000)
    expect(api.attempts / 1_000).toBeLessThanOrEqual(1.5)
    expect(refused(r)).toBeGreaterThan(700)
  })

  // 30 % of attempts failing: each call succeeds unless all 4 attempts fail (0.3⁴ ≈ 0.8 %), so
  // ~198.4 of 200 succeed when no retry is refused. The budget must refuse none: on every seed the
  // run equals the unbudgeted run attempt for attempt.
  it.each([0.1, 0.3])(
    '%s random 503s, 200 calls at concurrency 10, maxAttempts 4: the budget refuses no retry (10 seeds)',
    async (rate) => {
      useFakeTime()
      let succeeded = 0
      const seeds = Array.from({ length: 10 }, (_, i) => 100 + i)
      for (const seed of seeds) {
        const api = upstream(A, rate, seed)
        const r = await run(retry({ maxAttempts: 4, random: seededRandom(seed) }), api.call, 200)
        const bare = upstream(A, rate, seed)
        const unbudgeted = await run(
          retry({ maxAttempts: 4, random: seededRandom(seed), budget: false }),
          bare.call,
          200,
        )
        expect(refused(r), `seed ${seed}`).toBe(0)
        expect(
          r.errors.some((e) => e instanceof RetryBudgetError),
          `seed ${seed}`,
        ).toBe(false)
        expect([r.ok, api.attempts], `seed ${seed}`).toEqual([unbudgeted.ok, bare.attempts])
        succeeded += r.ok
      }
      expect(succeeded / seeds.length).toBeGreaterThanOrEqual(196)
    },
  )

  it('Monte-Carlo: at 10–40 % random failures over 200 calls the bucket never reaches its threshold (2,000 seeds each, failures charged before successes within every 10 concurrent attempts)', () => {
    for (const rate of [0.1, 0.3, 0.4]) {
      let lowest = Infinity
      for (let seed = 1; seed <= 2_000; seed++) {
        const r = simulate(retryBudget(), rate, seed)
        expect(r.refused, `rate ${rate} seed ${seed}`).toBe(0)
        lowest = Math.min(lowest, r.lowest)
      }
      expect(lowest, `rate ${rate}`).toBeGreaterThan(50)
    }
    // The old default (10 tokens, 0.1 per success) refuses retries on most seeds at 30 %.
    let starved = 0
    for (let seed = 1; seed <= 200; seed++)
      if (simulate(retryBudget({ maxTokens: 10, tokenRatio: 0.1 }), 0.3, seed).refused > 0)
        starved++
    expect(starved).toBeGreaterThan(150)
  })

  it('a quiet service: 10 calls during a blip, each failing 3 times before it answers, all succeed', async () => {
    useFakeTime()
    let attempts = 0
    const blip: Call<string> = ({ signal }) =>
      ++attempts % 4 === 0 ? after(5, 'ok', signal) : failAfter(5, httpError(503), signal)
    const r = await run(retry({ maxAttempts: 4 }), blip, 10, 1)
    expect([r.ok, attempts, refused(r)]).toEqual([10, 40, 0])
  })

  it('C1: 10 concurrent calls each answered 429 Retry-After: 1 once all succeed, even with the old 10-token default', async () => {
    useFakeTime()
    for (const budget of [undefined, retryBudget({ maxTokens: 10, tokenRatio: 0.1 })]) {
      let id = 0
      const t0 = now()
      const starts: number[] = []
      // The first 10 attempts (one per call) are over the limit; every later one gets through.
      const limited: Call<{ url: string }> = ({ signal }) => {
        starts.push(now() - t0)
        return ++id <= 10
          ? failAfter(1, httpError(429, `${A}/item`, { 'retry-after': '1' }), signal)
          : after(1, { url: `${A}/item` }, signal)
      }
      const policy = retry(budget === undefined ? { maxAttempts: 4 } : { maxAttempts: 4, budget })
      const r = await run(policy, limited, 10)
      expect([r.ok, id, refused(r)]).toEqual([10, 20, 0])
      expect(starts.slice(10).every((s) => s >= 1_000)).toBe(true)
    }
    // Ten blind 503s, by contrast, exhaust the old default after five.
    const old = retryBudget({ maxTokens: 10, tokenRatio: 0.1 })
    for (let i = 0; i < 10; i++) old.onFailure(httpError(503))
    expect(old.canRetry(httpError(503))).toBe(false)
  })

  it('per origin: an outage of one upstream leaves another’s retries through the same retry() untouched', async () => {
    useFakeTime()
    const down = upstream(A, 1, 5)
    const flaky = upstream(B, 0.3, 6)
    const policy = retry({ maxAttempts: 4, random: seededRandom(7) })
    const outage = await run(policy, down.call, 500)
    expect(outage.errors.filter((e) => e instanceof RetryBudgetError).length).toBeGreaterThan(400)
    const other = await run(policy, flaky.call, 200)
    expect(refused(other)).toBe(0)
    const bare = upstream(B, 0.3, 6)
    const unbudgeted = await run(
      retry({ maxAttempts: 4, random: seededRandom(7), budget: false }),
      bare.call,
      200,
    )
    expect([other.ok, flaky.attempts]).toEqual([unbudgeted.ok, bare.attempts])
    // A's bucket is still spent: B's successes name B, so they do not refill it.
    expect(
      (await run(policy, down.call, 10)).errors.every((e) => e instanceof RetryBudgetError),
    ).toBe(true)
  })

  it('per origin: successes that name no origin (client.json()) refill every bucket; isolation still holds', async () => {
    useFakeTime()
    const policy = retry({ maxAttempts: 4, random: seededRandom(8) })
    await run(policy, upstream(A, 1, 9, undefined, false).call, 300)
    const flaky = upstream(B, 0.3, 10, undefined, false)
    expect(refused(await run(policy, flaky.call, 200))).toBe(0)
  })

  it('per origin: the number of origins tracked is bounded (maxOrigins), least recently charged dropped first', () => {
    const budget = retryBudget({ maxOrigins: 2 })
    const spend = (origin: string) => {
      for (let i = 0; i < 60; i++) budget.onFailure(httpError(503, `${origin}/x`))
    }
    spend('http://one')
    expect(budget.canRetry(httpError(503, 'http://one/x'))).toBe(false)
    spend('http://two')
    spend('http://three')
    // "one" was dropped to make room: it starts again with a full bucket.
    expect(budget.canRetry(httpError(503, 'http://one/y'))).toBe(true)
    expect(budget.canRetry(httpError(503, 'http://three/y'))).toBe(false)
  })

  it('perOrigin: false keeps one bucket for every origin', () => {
    const budget = retryBudget({ perOrigin: false })
    for (let i = 0; i < 60; i++) budget.onFailure(httpError(503, `${A}/x`))
    expect(budget.canRetry(httpError(503, `${B}/x`))).toBe(false)
    for (let i = 0; i < 20; i++) budget.onSuccess({ url: `${B}/x` })
    expect(budget.canRetry(httpError(503, `${A}/x`))).toBe(true)
  })

  it('failures not worth retrying (404) are not charged; after an outage, 6 successes reopen the bucket', async () => {
    useFakeTime()
    const budget = retryBudget()
    const policy = retry({ budget })
    const missing = upstream(A, 1, 11, () => httpError(404))
    await run(policy, missing.call, 500)
    expect([missing.attempts, budget.tokens]).toEqual([500, 100])
    // However long the outage, the bucket keeps 45 of its 100 tokens: 6 successes reopen it.
    for (let i = 0; i < 1_000; i++) budget.onFailure(httpError(503))
    expect(budget.tokens).toBe(45)
    for (let i = 0; i < 5; i++) budget.onSuccess({ url: `${A}/x` })
    expect(budget.canRetry(httpError(503))).toBe(false)
    budget.onSuccess({ url: `${A}/x` })
    expect(budget.canRetry(httpError(503))).toBe(true)
  })

  it('after an outage, 200 calls at 30 % random 503s through the same retry() lose only a few retries to the budget', async () => {
    useFakeTime()
    const policy = retry({ maxAttempts: 4, random: seededRandom(12) })
    await run(policy, upstream(A, 1, 13).call, 1_000)
    const after = await run(policy, upstream(A, 0.3, 14).call, 200)
    // The bucket starts at 45 and gains ~0.57 a call: the first ~10 calls' failures are not retried.
    expect(refused(after)).toBeGreaterThan(0)
    expect(refused(after)).toBeLessThanOrEqual(10)
  })

  it('RetryBudgetError: code, attempts, the upstream error as cause, its status and Retry-After, and a message naming the budget', async () => {
    useFakeTime()
    const budget = retryBudget()
    for (let i = 0; i < 60; i++) budget.onFailure(httpError(503))
    const last = httpError(503, `${A}/item`, { 'retry-after': '2' })
    const result = await settle(
      execute(retry({ budget, maxAttempts: 4 }).wrap(({ signal }) => failAfter(5, last, signal))),
    )
    const error = (result as { error: RetryBudgetError }).error
    expect(error).toBeInstanceOf(RetryBudgetError)
    expect(error).toBeInstanceOf(FanoutError)
    expect(error).toMatchObject({
      code: 'FANOUT_RETRY_BUDGET',
      name: 'RetryBudgetError',
      attempts: 1,
      status: 503,
      retryAfterMs: 2_000,
    })
    expect(error.cause).toBe(last)
    expect(error.message).toBe(
      '"call": not retried: the retry budget is spent (too many recent attempts to this upstream failed); gave up after 1 attempt, the last failing with 503',
    )
    // Never retried again by an enclosing retry(), nor classified as retryable.
    expect(isRetriedError(error)).toBe(true)
    expect(isRetryableError(error)).toBe(false)
    let calls = 0
    const outer = pipe(retry({ budget: false }), retry({ budget })).wrap(
      ({ signal }) => (calls++, failAfter(5, httpError(503), signal)),
    )
    expect((await settle(execute(outer))).ok).toBe(false)
    expect(calls).toBe(1)
  })

  it('RetryBudgetError counts as the upstream failure it wraps: stale-if-error, circuit breakers, overload detection', async () => {
    useFakeTime()
    const budget = retryBudget()
    for (let i = 0; i < 60; i++) budget.onFailure(netError('ECONNRESET'))
    const reset = netError('ECONNRESET')
    const stopped = await settle(
      execute(retry({ budget }).wrap(({ signal }) => failAfter(1, reset, signal))),
    )
    const error = (stopped as { error: unknown }).error
    expect(error).toBeInstanceOf(RetryBudgetError)
    expect(isOverloadError(error)).toBe(true)

    let n = 0
    const fetchItem = (_: string, { signal }: { signal: AbortSignal }) =>
      ++n === 1
        ? after(1, 'v1', signal)
        : execute(
            retry({ budget }).wrap((ctx) => failAfter(1, reset, ctx.signal)),
            { signal },
          )
    const c = cached(fetchItem, {
      store: memoryCacheStore({ maxEntries: 10 }),
      ttl: 100,
      staleIfError: 10_000,
      scope: 'shared',
    })
    await settle(c('k'))
    await vi.advanceTimersByTimeAsync(200)
    expect(await settle(c.entry('k'))).toEqual({
      ok: true,
      value: { value: 'v1', status: 'stale-if-error' },
    })

    const breaker = circuitBreaker({ consecutive: 2 })
    const guarded = pipe(breaker, retry({ budget })).wrap(({ signal }) =>
      failAfter(1, httpError(503), signal),
    )
    for (let i = 0; i < 2; i++) await settle(execute(guarded))
    expect(breaker.state).toBe('open')
  })

  it('L1/L4: retryBudget() options are validated', () => {
    expect(() => retryBudget({ retryAfterCost: 2 })).toThrow(
      'retryBudget(): `retryAfterCost` must be a number from 0 to 1, got 2.',
    )
    expect(() => retryBudget({ maxOrigins: 0 })).toThrow(
      'retryBudget(): `maxOrigins` must be an integer from 1 to 10000, got 0.',
    )
    expect(() => retryBudget({ perOrigin: 'yes' as never })).toThrow('retryBudget(): `perOrigin`')
    expect(() => retryBudget({ maxToken: 5 } as never)).toThrow('Did you mean `maxTokens`?')
  })

  it('originOf: scheme, host and port, lower-case, without userinfo or a default port', () => {
    expect(originOf({ url: 'HTTPS://User:secret@API.example.com:443/v1?q=1' })).toBe(
      'https://api.example.com',
    )
    expect(originOf({ url: 'http://[::1]:8080/x' })).toBe('http://[::1]:8080')
    expect(originOf({ response: { url: 'http://a.example/x#f' } })).toBe('http://a.example')
    expect(originOf({ url: new URL('http://a.example:80/') })).toBe('http://a.example')
    for (const source of [
      { url: '/relative' },
      { url: '' },
      { url: 42 },
      null,
      'http://a.example',
      {},
    ])
      expect(originOf(source)).toBeUndefined()
  })
})

/**
 * One run of 200 calls (maxAttempts 4) through `budget`, without timers: attempts go in rounds of
 * 10 (the concurrency), and within a round every failure is charged before any success refunds,
 * the worst order concurrency can produce. Counts the retries the budget refused.
 */
function simulate(
  budget: RetryBudget,
  rate: number,
  seed: number,
  calls = 200,
  concurrency = 10,
  maxAttempts = 4,
) {
  const random = seededRandom(seed)
  const attempt = new Array<number>(calls).fill(0)
  let pending = Array.from({ length: calls }, (_, i) => i)
  let refused = 0
  let lowest = budget.tokens
  const error = httpError(503)
  while (pending.length > 0) {
    const round = pending.slice(0, concurrency)
    const outcomes = round.map((i) => ({ i, failed: random() < rate }))
    const retrying: number[] = []
    for (const { i, failed } of outcomes) {
      if (!failed) continue
      attempt[i]!++
      budget.onFailure(error)
      lowest = Math.min(lowest, budget.tokens)
      if (attempt[i]! >= maxAttempts) continue
      if (budget.canRetry(error)) retrying.push(i)
      else refused++
    }
    for (const { failed } of outcomes) if (!failed) budget.onSuccess({ url: `${A}/item` })
    pending = [...retrying, ...pending.slice(concurrency)]
  }
  return { refused, lowest }
}

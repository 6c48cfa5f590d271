import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import {
  execute,
  flow,
  pipe,
  retry,
  retryBudget,
  timeout,
  RateLimitedError,
  RetryBudgetError,
  isFanoutError,
  type Call,
  type TraceEvent,
} from '../index.js'
import { isRetriedError } from './index.js'
import { after, failAfter, now, settle, useFakeTime } from '../../test/helpers/time.js'

/** An upstream that answers from a script of outcomes and counts its calls. */
function scripted(script: Array<{ fail?: () => unknown; value?: unknown; ms?: number }>) {
  let calls = 0
  const starts: number[] = []
  const call: Call<unknown> = ({ signal }) => {
    const step = script[Math.min(calls, script.length - 1)]!
    calls++
    starts.push(now())
    return step.fail !== undefined
      ? failAfter(step.ms ?? 0, step.fail(), signal)
      : after(step.ms ?? 0, step.value, signal)
  }
  return {
    call,
    get calls() {
      return calls
    },
    starts,
  }
}

const httpError = (status: number, headers: Record<string, string> = {}, method = 'GET') =>
  Object.assign(new Error(`HTTP ${status}`), { status, headers, method })
const netError = (code: string) => Object.assign(new Error(code), { code })

describe('retry()', () => {
  it('C6: retries a 503 without Retry-After with jittered exponential backoff', async () => {
    useFakeTime()
    const api = scripted([
      { fail: () => httpError(503) },
      { fail: () => httpError(503) },
      { value: 'ok' },
    ])
    const events: TraceEvent[] = []
    const t0 = now()
    const result = await settle(
      execute(retry({ random: () => 0.5 }).wrap(api.call), { onEvent: (e) => events.push(e) }),
    )
    expect(result).toEqual({ ok: true, value: 'ok' })
    expect(api.calls).toBe(3)
    // full jitter with random 0.5: 0.5·100, then 0.5·200
    expect(api.starts.map((s) => s - t0)).toEqual([0, 50, 150])
    expect(events.filter((e) => e.type === 'retry.scheduled')).toEqual([
      {
        type: 'retry.scheduled',
        task: 'call',
        at: t0,
        attempt: 1,
        delayMs: 50,
        reason: 'backoff',
        cause: '503',
      },
      {
        type: 'retry.scheduled',
        task: 'call',
        at: t0 + 50,
        attempt: 2,
        delayMs: 100,
        reason: 'backoff',
        cause: '503',
      },
    ])
  })

  it('stops after maxAttempts (3 by default) and rethrows the last error', async () => {
    useFakeTime()
    const api = scripted([{ fail: () => httpError(502) }])
    const result = await settle(execute(retry().wrap(api.call)))
    expect(api.calls).toBe(3)
    expect((result as { error: unknown }).error).toMatchObject({ status: 502 })
  })

  it('C1: 429 with Retry-After: 2 waits at least 2 s; jitter only adds; the wait counts against the deadline', async () => {
    useFakeTime()
    const api = scripted([{ fail: () => httpError(429, { 'Retry-After': '2' }) }, { value: 'ok' }])
    const t0 = now()
    await settle(execute(retry().wrap(api.call), { deadline: 10_000 }))
    expect(api.starts[1]! - t0).toBeGreaterThanOrEqual(2_000)
    expect(api.starts[1]! - t0).toBeLessThanOrEqual(2_000 + 100)
    const tooTight = scripted([
      { fail: () => httpError(429, { 'retry-after': '2' }) },
      { value: 'ok' },
    ])
    const failed = await settle(execute(retry().wrap(tooTight.call), { deadline: 1_500 }))
    expect((failed as { error: RateLimitedError }).error).toBeInstanceOf(RateLimitedError)
    expect((failed as { error: RateLimitedError }).error.retryAfterMs).toBe(2_000)
    expect(tooTight.calls).toBe(1)
  })

  it('C2: Retry-After as an HTTP-date is honoured, a past date floored at 0', async () => {
    useFakeTime()
    const inFive = new Date(Date.now() + 5_000).toUTCString()
    const api = scripted([
      { fail: () => httpError(503, { 'retry-after': inFive }) },
      { value: 'ok' },
    ])
    const t0 = now()
    await settle(execute(retry({ random: () => 0 }).wrap(api.call)))
    // toUTCString drops milliseconds, so the wait is between 4 and 5 s.
    expect(api.starts[1]! - t0).toBeGreaterThan(4_000)
    expect(api.starts[1]! - t0).toBeLessThanOrEqual(5_000)
    const past = scripted([
      {
        fail: () => httpError(503, { 'retry-after': new Date(Date.now() - 60_000).toUTCString() }),
      },
      { value: 'ok' },
    ])
    const t1 = now()
    await settle(execute(retry({ random: () => 0 }).wrap(past.call)))
    expect(past.starts[1]! - t1).toBe(0)
  })

  it('C3: Retry-After beyond maxRetryAfter fails fast with the wait in the error, without sleeping', async () => {
    useFakeTime()
    const api = scripted([
      { fail: () => httpError(429, { 'retry-after': '86400' }) },
      { value: 'ok' },
    ])
    const t0 = now()
    const result = await settle(execute(retry().wrap(api.call)))
    const error = (result as { error: RateLimitedError }).error
    expect(error).toBeInstanceOf(RateLimitedError)
    expect(error.retryAfterMs).toBe(86_400_000)
    expect(error.message).toBe(
      '"call": the upstream asked to wait 86400000 ms, more than maxRetryAfter (60000 ms)',
    )
    expect(now() - t0).toBe(0)
    expect(api.calls).toBe(1)
  })

  it.each(['-5', '1.5', 'abc', '1e400', '', '   ', 'Infinity', 'NaN'])(
    'C4: Retry-After %j falls back to normal backoff (never a NaN or negative timer)',
    async (value) => {
      useFakeTime()
      const delays: number[] = []
      const api = scripted([
        { fail: () => httpError(503, { 'retry-after': value }) },
        { value: 'ok' },
      ])
      await settle(
        execute(retry({ random: () => 1 - Number.EPSILON }).wrap(api.call), {
          onEvent: (e) => e.type === 'retry.scheduled' && delays.push(e.delayMs),
        }),
      )
      expect(api.calls).toBe(2)
      expect(delays).toHaveLength(1)
      expect(delays[0]).toBeGreaterThanOrEqual(0)
      expect(delays[0]).toBeLessThanOrEqual(100)
    },
  )

  it('C5: a Retry-After above 2^31-1 ms never becomes a ~1 ms timer', async () => {
    useFakeTime()
    const api = scripted([
      { fail: () => httpError(503, { 'retry-after': '99999999' }) },
      { value: 'ok' },
    ])
    const result = await settle(execute(retry({ maxRetryAfter: 2_147_483_647 }).wrap(api.call)))
    expect((result as { error: unknown }).error).toBeInstanceOf(RateLimitedError)
    expect(api.calls).toBe(1)
  })

  it('C7: a POST that got a 503 or ECONNRESET is not retried unless marked idempotent', async () => {
    useFakeTime()
    const post = scripted([{ fail: () => httpError(503, {}, 'POST') }, { value: 'ok' }])
    await settle(execute(retry().wrap(post.call)))
    expect(post.calls).toBe(1)
    const reset = scripted([
      { fail: () => Object.assign(netError('ECONNRESET'), { method: 'post' }) },
      { value: 'ok' },
    ])
    await settle(execute(retry().wrap(reset.call)))
    expect(reset.calls).toBe(1)
    const keyed = scripted([{ fail: () => httpError(503, {}, 'POST') }, { value: 'ok' }])
    await settle(execute(retry({ idempotent: true }).wrap(keyed.call)))
    expect(keyed.calls).toBe(2)
    const never = scripted([{ fail: () => httpError(503) }, { value: 'ok' }])
    await settle(execute(retry({ idempotent: false }).wrap(never.call)))
    expect(never.calls).toBe(1)
  })

  it.each([400, 401, 403, 404, 409, 422])('C9: status %i is not retried', async (status) => {
    useFakeTime()
    const api = scripted([{ fail: () => httpError(status) }, { value: 'ok' }])
    await settle(execute(retry().wrap(api.call)))
    expect(api.calls).toBe(1)
  })

  it('B10/B11: transient network errors and 408/502/504 are retried; an attempt timeout too', async () => {
    useFakeTime()
    for (const failure of [
      netError('ENOTFOUND'),
      netError('EAI_AGAIN'),
      Object.assign(new TypeError('fetch failed'), { cause: netError('ECONNREFUSED') }),
      httpError(408),
      httpError(502),
      httpError(504),
    ]) {
      const api = scripted([{ fail: () => failure }, { value: 'ok' }])
      expect(await settle(execute(retry().wrap(api.call)))).toEqual({ ok: true, value: 'ok' })
    }
    const slow = scripted([
      { value: 'late', ms: 1_000 },
      { value: 'ok', ms: 10 },
    ])
    expect(await settle(execute(pipe(retry(), timeout(100)).wrap(slow.call)))).toEqual({
      ok: true,
      value: 'ok',
    })
    expect(slow.calls).toBe(2)
  })

  it('A5: an abort during a backoff sleep clears the timer and makes no further attempt', async () => {
    useFakeTime()
    const controller = new AbortController()
    const api = scripted([{ fail: () => httpError(503) }, { value: 'ok' }])
    const pending = execute(retry({ random: () => 0.9 }).wrap(api.call), {
      signal: controller.signal,
    })
    await vi.advanceTimersByTimeAsync(10)
    expect(vi.getTimerCount()).toBe(1)
    const reason = new Error('client left')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(api.calls).toBe(1)
  })

  it('A11: the deadline covers every attempt and wait; no attempt starts after it', async () => {
    useFakeTime()
    const api = scripted([{ fail: () => httpError(503), ms: 100 }])
    const t0 = now()
    const result = await settle(
      execute(retry({ maxAttempts: 10, backoff: 'exponential' }).wrap(api.call), { deadline: 500 }),
    )
    expect(result.ok).toBe(false)
    expect(now() - t0).toBeLessThanOrEqual(500)
    for (const start of api.starts) expect(start - t0).toBeLessThan(500)
  })

  it('C10: under a total outage the default budget keeps attempts per call ≤ 1.2 over 1,000 calls, and says it stopped them', async () => {
    useFakeTime()
    const api = scripted([{ fail: () => httpError(503) }])
    const events: TraceEvent[] = []
    const policy = retry()
    let last: unknown
    for (let i = 0; i < 1_000; i++)
      last = (
        (await settle(execute(policy.wrap(api.call), { onEvent: (e) => events.push(e) }))) as {
          error: unknown
        }
      ).error
    expect(api.calls / 1_000).toBeLessThanOrEqual(1.2)
    expect(events.some((e) => e.type === 'retry.budgetExhausted')).toBe(true)
    expect(last).toBeInstanceOf(RetryBudgetError)
    expect(last).toMatchObject({ code: 'FANOUT_RETRY_BUDGET', attempts: 1, status: 503 })
    // Without a budget it would be maxAttempts per call.
    const unbudgeted = scripted([{ fail: () => httpError(503) }])
    const free = retry({ budget: false })
    for (let i = 0; i < 100; i++) await settle(execute(free.wrap(unbudgeted.call)))
    expect(unbudgeted.calls).toBe(300)
  })

  it('C10: the budget refills with successes', () => {
    const budget = retryBudget({ maxTokens: 10, tokenRatio: 0.5 })
    for (let i = 0; i < 6; i++) budget.onFailure()
    expect(budget.canRetry()).toBe(false)
    for (let i = 0; i < 4; i++) budget.onSuccess()
    expect(budget.canRetry()).toBe(true)
  })

  it('C11: three nested retry layers hit the upstream 3 times, not 27', async () => {
    useFakeTime()
    const api = scripted([{ fail: () => httpError(503) }])
    const nested = pipe(
      retry({ budget: false }),
      retry({ budget: false }),
      retry({ budget: false }),
    ).wrap(api.call)
    const result = await settle(execute(nested))
    expect(api.calls).toBe(3)
    expect(isRetriedError((result as { error: unknown }).error)).toBe(true)
  })

  it('C11: an inner retry(3) inside retry({ maxAttempts: 4 }) counts against the outer layer: one more round, 6 attempts at most, not 12', async () => {
    useFakeTime()
    const api = scripted([{ fail: () => httpError(503) }])
    const nested = pipe(
      retry({ maxAttempts: 4, budget: false }),
      retry({ maxAttempts: 3, budget: false }),
    ).wrap(api.call)
    await settle(execute(nested))
    expect(api.calls).toBe(6)
    // The outer layer sees the inner's attempts: with 4 to spare and the inner making 4, none more.
    const api4 = scripted([{ fail: () => httpError(503) }])
    await settle(
      execute(
        pipe(
          retry({ maxAttempts: 4, budget: false }),
          retry({ maxAttempts: 4, budget: false }),
        ).wrap(api4.call),
      ),
    )
    expect(api4.calls).toBe(4)
  })

  it('C11: an inner layer that succeeds on its second round is not retried further; a 404 behind an inner layer is not retried by the outer one', async () => {
    useFakeTime()
    const api = scripted([
      { fail: () => httpError(503) },
      { fail: () => httpError(503) },
      { fail: () => httpError(503) },
      { value: 'ok' },
    ])
    const result = await settle(
      execute(
        pipe(
          retry({ maxAttempts: 4, budget: false }),
          retry({ maxAttempts: 3, budget: false }),
        ).wrap(api.call),
      ),
    )
    expect(result).toEqual({ ok: true, value: 'ok' })
    expect(api.calls).toBe(4)
    const notFound = scripted([{ fail: () => httpError(503) }, { fail: () => httpError(404) }])
    await settle(
      execute(
        pipe(
          retry({ maxAttempts: 4, budget: false }),
          retry({ maxAttempts: 3, budget: false }),
        ).wrap(notFound.call),
      ),
    )
    expect(notFound.calls).toBe(2)
  })

  it('C11: an error an older copy marked as given up (a mark without a count) is not retried, nor one an inner budget stopped', async () => {
    useFakeTime()
    const old = scripted([
      {
        fail: () =>
          Object.defineProperty(httpError(503), Symbol.for('fanout.retry.gaveUp'), { value: true }),
      },
    ])
    await settle(execute(retry({ budget: false }).wrap(old.call)))
    expect(old.calls).toBe(1)
    const spent = retryBudget({ maxTokens: 2 })
    spent.onFailure()
    spent.onFailure()
    const api = scripted([{ fail: () => httpError(503) }])
    const result = await settle(
      execute(
        pipe(retry({ budget: false, shouldRetry: () => true }), retry({ budget: spent })).wrap(
          api.call,
        ),
      ),
    )
    expect(api.calls).toBe(1)
    expect(isFanoutError((result as { error: unknown }).error, 'FANOUT_RETRY_BUDGET')).toBe(true)
  })

  it('C14: a retry never fires after the call settled or was aborted', async () => {
    useFakeTime()
    const api = scripted([{ fail: () => httpError(503) }, { value: 'ok' }])
    await settle(execute(retry().wrap(api.call)))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(api.calls).toBe(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does not retry when the caller aborted, and does not charge the budget', async () => {
    useFakeTime()
    const controller = new AbortController()
    const budget = retryBudget()
    const api = scripted([{ fail: () => httpError(503), ms: 50 }])
    const pending = execute(retry({ budget }).wrap(api.call), { signal: controller.signal })
    await vi.advanceTimersByTimeAsync(10)
    controller.abort(new Error('gone'))
    await expect(pending).rejects.toThrow('gone')
    expect(budget.tokens).toBe(100)
    expect(api.calls).toBe(1)
  })

  it('works as a flow task option: retries the task, records its events in the trace', async () => {
    useFakeTime()
    const api = scripted([{ fail: () => httpError(503) }, { value: { id: 1 } }])
    let events: readonly TraceEvent[] = []
    const f = flow('r').task('user', (_, ctx) => api.call(ctx), {
      retry: { random: () => 0 },
      timeout: 100,
    })
    expect(f.describe().tasks[0]!.policies).toEqual(['retry(3)', 'timeout(100)'])
    const result = await settle(f.run(undefined, { onTrace: (t) => (events = t.events) }))
    expect(result).toEqual({ ok: true, value: { user: { id: 1 } } })
    expect(events.map((e) => e.type)).toEqual([
      'attempt.started',
      'retry.scheduled',
      'attempt.started',
    ])
  })

  it.each([
    [{ maxAttempts: 0 }, '`maxAttempts` must be an integer from 1 to 10, got 0.'],
    [{ maxAttempts: 1.5 }, '`maxAttempts` must be an integer from 1 to 10, got 1.5.'],
    [{ maxAttempts: Number.NaN }, '`maxAttempts` must be an integer from 1 to 10, got NaN.'],
    [{ maxAttempts: 1e9 }, '`maxAttempts` must be an integer from 1 to 10, got 1000000000.'],
    [{ baseDelay: -1 }, '`baseDelay` must be within 1–3600000 ms, got -1.'],
    [
      { baseDelay: 500, maxDelay: 100 },
      '`maxDelay` (100 ms) must be at least `baseDelay` (500 ms).',
    ],
    [
      { backoff: 'jitter' },
      '`backoff` must be one of "full", "equal", "decorrelated", "exponential", "none", got "jitter".',
    ],
    [{ maxAttempt: 3 }, 'unknown option `maxAttempt`. Did you mean `maxAttempts`?'],
    [{ budget: {} }, '`budget` must be a retryBudget() or false, got an object (Object).'],
  ])('L2/L4: retry(%j) is rejected at construction', (options, message) => {
    expect(() => retry(options as never)).toThrow(`retry(): ${message}`)
  })
})

describe('backoff and Retry-After properties', () => {
  it('C12/R5: every full-jitter delay lies in [0, min(cap, base·2^n)] for n up to 2000, never NaN', async () => {
    const { backoffDelay } = await import('./index.js')
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        (n, r, base) => {
          const cap = base * 200
          const d = backoffDelay('full', n, base, { base, cap, random: () => r })
          expect(Number.isFinite(d)).toBe(true)
          expect(d).toBeGreaterThanOrEqual(0)
          expect(d).toBeLessThanOrEqual(Math.min(cap, base * 2 ** Math.min(n, 1100)))
        },
      ),
    )
  })

  it('C12: full jitter is uniform (±15 % per bucket over 10 k seeded samples); decorrelated does not pile up at the cap', async () => {
    const { backoffDelay } = await import('./index.js')
    const { seededRandom } = await import('../core/random.js')
    const random = seededRandom(42)
    const buckets = new Array<number>(10).fill(0)
    for (let i = 0; i < 10_000; i++)
      buckets[
        Math.min(
          9,
          Math.floor(backoffDelay('full', 20, 100, { base: 100, cap: 1_000, random }) / 100),
        )
      ]!++
    for (const count of buckets) expect(Math.abs(count - 1_000)).toBeLessThanOrEqual(150)
    let previous = 100
    let atCap = 0
    for (let i = 0; i < 10_000; i++) {
      previous = backoffDelay('decorrelated', i, previous, { base: 100, cap: 1_000, random })
      if (previous >= 990) atCap++
    }
    expect(atCap / 10_000).toBeLessThan(0.05)
  })

  it('R4: no Retry-After value in a fuzzed corpus creates a NaN, negative or overflowing timer', async () => {
    const { parseRetryAfter } = await import('./index.js')
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.integer().map(String),
          fc.double().map(String),
          fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
        ),
        (value) => {
          const ms = parseRetryAfter(value, 0)
          if (ms !== undefined) {
            expect(Number.isNaN(ms)).toBe(false)
            expect(ms).toBeGreaterThanOrEqual(0)
          }
        },
      ),
    )
    await Promise.resolve()
  })

  it('R19: Retry-After parsing of 50 k adversarial characters is linear', async () => {
    const { parseRetryAfter } = await import('./index.js')
    expect(parseRetryAfter('1'.repeat(50_000))).toBeUndefined()
    expect(parseRetryAfter(`Mon, ${' '.repeat(50_000)}`)).toBeUndefined()
  })

  it('parseRateLimitHeader reads both draft forms of the combined RateLimit header, and ignores what is not a whole number', async () => {
    const { parseRateLimitHeader } = await import('./index.js')
    expect(parseRateLimitHeader('limit=100, remaining=0, reset=7')).toEqual({
      remaining: 0,
      resetSeconds: 7,
    })
    expect(parseRateLimitHeader('"default";r=0;t=30')).toEqual({ remaining: 0, resetSeconds: 30 })
    // Several policies: the first item is the one that applies.
    expect(parseRateLimitHeader('"burst";r=4;t=1, "daily";r=0;t=3600')).toEqual({
      remaining: 4,
      resetSeconds: 1,
    })
    expect(parseRateLimitHeader('limit=10, reset=5')).toEqual({
      remaining: undefined,
      resetSeconds: 5,
    })
    for (const odd of [
      '',
      'limit=10',
      'remaining=-1, reset=1.5',
      'r=abc;t=',
      `remaining=0, reset=1${' '.repeat(600)}`,
      null,
      undefined,
    ]) {
      const parsed = parseRateLimitHeader(odd)
      expect(parsed?.resetSeconds === undefined || Number.isInteger(parsed.resetSeconds)).toBe(true)
      expect(parsed?.remaining === undefined || parsed.remaining >= 0).toBe(true)
    }
    expect(parseRateLimitHeader('remaining=-1, reset=1.5')).toBeUndefined()
    expect(parseRateLimitHeader('x'.repeat(50_000))).toBeUndefined()
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (value) => {
        const parsed = parseRateLimitHeader(value)
        if (parsed === undefined) return
        for (const n of [parsed.remaining, parsed.resetSeconds])
          if (n !== undefined) expect(Number.isSafeInteger(n) && n >= 0).toBe(true)
      }),
    )
  })

  it('R2/C14: attempts never exceed maxAttempts and nothing is left scheduled, over generated failure scripts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.constantFrom(503, 429, 500, 404, 0), { minLength: 1, maxLength: 12 }),
        fc.constantFrom('full', 'equal', 'decorrelated', 'exponential', 'none' as const),
        async (maxAttempts, statuses, backoff) => {
          useFakeTime()
          try {
            const api = scripted(
              statuses.map((status) =>
                status === 0
                  ? { value: 'ok' }
                  : { fail: () => httpError(status, status === 429 ? { 'retry-after': '1' } : {}) },
              ),
            )
            await settle(
              execute(retry({ maxAttempts, backoff, budget: false }).wrap(api.call), {
                deadline: 600_000,
              }),
            )
            expect(api.calls).toBeLessThanOrEqual(maxAttempts)
            expect(vi.getTimerCount()).toBe(0)
          } finally {
            vi.useRealTimers()
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})

/**
 * The default retry budget with fanout/http against real loopback servers: the origin comes from
 * the client's own errors and responses. Assertions are on counts only. Backoff is shortened
 * (baseDelay 1 ms) and Retry-After waits run on a clock that skips them, so nothing waits in
 * real time; the default backoff's behaviour is covered on fake time in budget.test.ts.
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { Clock, TimerHandle } from '../core/clock.js'
import { execute } from '../core/execute.js'
import { RetryBudgetError } from '../core/errors.js'
import { seededRandom } from '../core/random.js'
import { retry } from '../policies/retry.js'
import type { Policy } from '../core/call.js'
import { createHttpClient, HttpError, type HttpClient } from './index.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A loopback server whose n-th request (from 1) is answered by `answer`. */
async function serve(
  answer: (n: number, res: ServerResponse) => void,
): Promise<{ url: string; readonly requests: number }> {
  let requests = 0
  const server = createServer((req, res) => {
    req.resume()
    answer(++requests, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/item`
  return {
    url,
    get requests() {
      return requests
    },
  }
}

/** Without the client's own retries: the retry() under test is the one wrapped around it. */
function client(): HttpClient {
  const c = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
  cleanups.push(() => c.close())
  return c
}

/** A clock whose timers fire on the next macrotask, moving its time forward by their delay. */
function skippingClock(): Clock {
  let skipped = 0
  return {
    now: () => performance.now() + skipped,
    setTimeout(fn, ms) {
      return setTimeout(() => {
        skipped += Math.max(0, ms)
        fn()
      }, 0) as unknown as TimerHandle
    },
    clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
  }
}

/** `calls` GETs of `url` through `policy`, `concurrency` at a time: the errors, and the attempts each failed call made. */
async function getAll(
  http: HttpClient,
  policy: Policy,
  url: string,
  calls: number,
  concurrency = 10,
  clock?: Clock,
) {
  const errors: unknown[] = []
  const attemptsOfFailed: number[] = []
  let ok = 0
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        next++
        let attempts = 0
        const get = policy.wrap(({ signal }) => (attempts++, http.get(url, { signal })))
        try {
          await execute(get, clock === undefined ? {} : { clock })
          ok++
        } catch (error) {
          errors.push(error)
          attemptsOfFailed.push(attempts)
        }
      }
    }),
  )
  return { ok, errors, attemptsOfFailed }
}

const unavailable = (res: ServerResponse) => {
  res.writeHead(503)
  res.end('unavailable')
}

describe('the default retry budget with fanout/http', () => {
  it('C10: 1,000 GETs at concurrency 10 to an upstream that always answers 503: ≤ 1.5 requests per call, and the error names the budget', async () => {
    const down = await serve((_, res) => unavailable(res))
    const { ok, errors } = await getAll(
      client(),
      retry({ maxAttempts: 4, baseDelay: 1 }),
      down.url,
      1_000,
    )
    expect(ok).toBe(0)
    expect(down.requests / 1_000).toBeLessThanOrEqual(1.5)
    const stopped = errors.filter((e): e is RetryBudgetError => e instanceof RetryBudgetError)
    expect(stopped.length).toBeGreaterThan(900)
    for (const e of stopped) {
      expect(e).toMatchObject({ code: 'FANOUT_RETRY_BUDGET', status: 503 })
      expect(e.cause).toBeInstanceOf(HttpError)
      expect(e.attempts).toBeGreaterThanOrEqual(1)
      expect(e.attempts).toBeLessThan(4)
    }
  })

  it('30 % random 503s, 200 GETs at concurrency 10, maxAttempts 4: no retry refused, even right after another origin’s outage through the same retry()', async () => {
    const random = seededRandom(21)
    const flaky = await serve((_, res) =>
      random() < 0.3 ? unavailable(res) : res.end('{"ok":true}'),
    )
    const down = await serve((_, res) => unavailable(res))
    const http = client()
    const policy = retry({ maxAttempts: 4, baseDelay: 1 })
    await getAll(http, policy, down.url, 300)
    const { ok, errors, attemptsOfFailed } = await getAll(http, policy, flaky.url, 200)
    // A call fails only when all 4 of its attempts got a 503 (0.3⁴ ≈ 0.8 % of calls): ~198 succeed.
    expect(ok + errors.length).toBe(200)
    expect(errors.some((e) => e instanceof RetryBudgetError)).toBe(false)
    for (const e of errors) expect(e).toMatchObject({ status: 503 })
    expect(attemptsOfFailed.every((n) => n === 4)).toBe(true)
  })

  it('C1: 10 concurrent GETs, each first answered 429 Retry-After: 1 (as nginx limit_req can), all succeed', async () => {
    const limited = await serve((n, res) => {
      if (n <= 10) {
        res.writeHead(429, { 'retry-after': '1' })
        res.end()
      } else res.end('{"ok":true}')
    })
    const { ok, errors } = await getAll(
      client(),
      retry({ maxAttempts: 4 }),
      limited.url,
      10,
      10,
      skippingClock(),
    )
    expect([ok, errors.length, limited.requests]).toEqual([10, 0, 20])
  })
})

/**
 * fanout/http, what users of ky and got reach for first: method helpers, the client's `retry`
 * option (defaults decided per method), `beforeRequest` hooks and streamed response bodies —
 * against real loopback servers. Waits are skipped or driven by an injected clock, never timed.
 */
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import type { Clock } from '../core/clock.js'
import {
  AbortedError,
  InvalidOptionError,
  RateLimitedError,
  RetryBudgetError,
} from '../core/errors.js'
import { execute } from '../core/execute.js'
import type { TraceEvent } from '../core/trace.js'
import { flow } from '../flow/define.js'
import type { FlowTrace } from '../flow/trace.js'
import { isIdempotentError } from '../policies/classify.js'
import { limit } from '../policies/limit.js'
import { retry } from '../policies/retry.js'
import { manualClock, skippingClock } from '../../test/helpers/clocks.js'
import {
  closeAll,
  failure,
  serve,
  waitFor,
  type Seen,
  type Upstream,
} from '../../test/helpers/upstream.js'
import {
  createHttpClient,
  HttpError,
  HttpTimeoutError,
  ResponseTooLargeError,
  type HttpClient,
  type HttpClientOptions,
} from './index.js'

const clients: HttpClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await closeAll()
})

/** A client for loopback upstreams, with the client's default retries unless told otherwise. */
function client(options: HttpClientOptions = {}): HttpClient {
  const c = createHttpClient({ ssrf: { allow: ['loopback'] }, ...options })
  clients.push(c)
  return c
}

const echo = (_req: unknown, res: import('node:http').ServerResponse, seen: Seen): void => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify(seen))
}

/** An upstream that answers `failures` requests with `status` (or resets them), then 200 "ok". */
async function flaky(
  failures: number,
  status: number | 'reset' = 503,
): Promise<Upstream & { readonly calls: number }> {
  let calls = 0
  const up = await serve((_req, res) => {
    if (++calls > failures) return void res.end('ok')
    if (status === 'reset') return void res.socket!.resetAndDestroy()
    res.writeHead(status).end(`failure ${calls}`)
  })
  return Object.defineProperty(up, 'calls', { get: () => calls }) as Upstream & {
    readonly calls: number
  }
}

/** The attempt numbers of `attempt.started` events. */
const attemptsOf = (events: readonly TraceEvent[]): number[] =>
  events.flatMap((e) => (e.type === 'attempt.started' ? [e.attempt] : []))

// --- method helpers -------------------------------------------------------------------------------

describe('fanout/http: method helpers', () => {
  it('post, put, patch and delete send their method and a json or raw body; head sends HEAD', async () => {
    const up = await serve(echo)
    const c = client()
    const posted = (await c.post(up.url('/items'), { json: { name: 'a' } })).json<Seen>()
    expect(posted).toMatchObject({
      method: 'POST',
      url: '/items',
      body: '{"name":"a"}',
      headers: { 'content-type': 'application/json' },
    })
    expect(
      (
        await c.put(up.url('/items/1'), { body: 'raw', headers: { 'content-type': 'text/plain' } })
      ).json<Seen>(),
    ).toMatchObject({
      method: 'PUT',
      body: 'raw',
      headers: { 'content-type': 'text/plain' },
    })
    expect((await c.patch(up.url('/items/1'), { json: [1] })).json<Seen>()).toMatchObject({
      method: 'PATCH',
      body: '[1]',
    })
    expect((await c.delete(up.url('/items/1'))).json<Seen>()).toMatchObject({
      method: 'DELETE',
      body: '',
    })
    const head = await c.head(up.url('/items'))
    expect([head.status, head.body.length, up.seen.at(-1)!.method]).toEqual([200, 0, 'HEAD'])
    // A helper's own method, in any case, is accepted.
    expect((await c.post(up.url(), { method: 'post' } as never)).json<Seen>().method).toBe('POST')
  })

  it('get(url, { method: "POST" }) is refused before anything is sent, as is a body on get() or head()', async () => {
    const up = await serve(echo)
    const c = client()
    const refused = await failure(c.get(up.url(), { method: 'POST' } as never))
    expect(refused).toBeInstanceOf(InvalidOptionError)
    expect(refused.message).toBe(
      'client.get(): sends GET, but `method` is "POST". Use client.request(url, { method: "POST" }) for another method.',
    )
    expect(await failure(c.post(up.url(), { method: 'DELETE' } as never))).toBeInstanceOf(
      InvalidOptionError,
    )
    expect((await failure(c.get(up.url(), { json: {} } as never))).message).toMatch(
      /client\.get\(\): a GET request has no body/,
    )
    expect((await failure(c.head(up.url(), { body: 'x' } as never))).message).toMatch(
      /client\.head\(\): a HEAD request has no body/,
    )
    expect(up.seen).toHaveLength(0)
  })

  it('the helpers reject a status outside 2xx with HttpError naming their method', async () => {
    const up = await serve((_req, res) => res.writeHead(409).end('taken'))
    const error = await failure(client().post(up.url('/users'), { json: { name: 'ada' } }))
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({ status: 409, method: 'POST' })
  })
})

// --- retry ------------------------------------------------------------------------------------------

describe('fanout/http: the retry option', () => {
  it('C6: GET, HEAD, PUT and DELETE answered 503 are retried by default — 3 attempts, numbered in the events', async () => {
    const clock = skippingClock()
    const events: TraceEvent[] = []
    const c = client({ clock, onEvent: (e) => events.push(e) })
    for (const method of ['get', 'head', 'put', 'delete'] as const) {
      const up = await flaky(2)
      const res = await c[method](up.url('/thing'))
      expect([res.status, up.calls]).toEqual([200, 3])
    }
    // The retry layer's events (each hop's request.started / request.finished come in between).
    const first = events.filter((e) => !e.type.startsWith('request.')).slice(0, 5)
    expect(first.map((e) => e.type)).toEqual([
      'attempt.started',
      'retry.scheduled',
      'attempt.started',
      'retry.scheduled',
      'attempt.started',
    ])
    expect(attemptsOf(first)).toEqual([1, 2, 3])
    expect(first[1]).toMatchObject({
      attempt: 1,
      cause: '503',
      reason: 'backoff',
      task: expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+$/) as unknown,
    })
    // The task label names the origin only: a path can carry ids or tokens.
    for (const e of events) expect(e.task).not.toContain('/thing')
    expect(clock.pending).toBe(0)
  })

  it('C7: POST and PATCH answered 503, or reset after sending, are sent once; the error says they are not idempotent', async () => {
    const c = client({ clock: skippingClock() })
    for (const status of [503, 'reset'] as const) {
      const up = await flaky(100, status)
      const post = await failure(c.post(up.url(), { json: { order: 1 } }))
      expect(isIdempotentError(post)).toBe(false)
      expect(isIdempotentError(await failure(c.patch(up.url(), { json: { order: 1 } })))).toBe(
        false,
      )
      // request() hands back the 503 at once; the reset rejects.
      await c.request(up.url(), { method: 'POST', body: 'x' }).catch(() => undefined)
      expect(up.calls).toBe(3)
    }
  })

  it('C7: a POST with an Idempotency-Key header, or idempotent: true, is retried', async () => {
    const c = client({ clock: skippingClock() })
    const keyed = await flaky(1)
    expect(
      (
        await c.post(keyed.url(), { json: { order: 1 }, headers: { 'Idempotency-Key': 'order-1' } })
      ).text(),
    ).toBe('ok')
    expect(keyed.seen.map((s) => s.headers['idempotency-key'])).toEqual(['order-1', 'order-1'])
    const declared = await flaky(1, 'reset')
    expect((await c.patch(declared.url(), { json: { n: 1 }, idempotent: true })).text()).toBe('ok')
    expect(declared.calls).toBe(2)
    // …and idempotent: false keeps a GET from being repeated.
    const get = await flaky(1)
    expect(await failure(c.get(get.url(), { idempotent: false }))).toBeInstanceOf(HttpError)
    expect(get.calls).toBe(1)
  })

  it('C7: a POST answered 303, whose GET then fails with 503, is not repeated: the error carries the POST’s idempotency', async () => {
    let gets = 0
    const up = await serve((req, res) => {
      if (req.method === 'POST') return void res.writeHead(303, { location: '/result' }).end()
      gets++
      res.writeHead(503).end()
    })
    const error = await failure(
      client({ clock: skippingClock() }).post(up.url('/orders'), { json: { n: 1 } }),
    )
    expect(error).toMatchObject({ status: 503, method: 'GET' })
    expect(isIdempotentError(error)).toBe(false)
    expect([up.seen.length, gets]).toEqual([2, 1])
    // A retry() the caller wraps around the client reads the same flag.
    const outer = retry({ baseDelay: 1, maxDelay: 2 }).wrap(() =>
      client({ retry: false }).post(up.url('/orders'), { json: { n: 1 } }),
    )
    await failure(execute(outer))
    expect(gets).toBe(2)
  })

  it('request() retries a 503 and resolves with the last response; a 404 is not retried', async () => {
    const c = client({ clock: skippingClock() })
    const down = await flaky(5)
    const last = await c.request(down.url())
    expect([last.status, last.text(), down.calls]).toEqual([503, 'failure 3', 3])
    const recovering = await flaky(1)
    expect((await c.request(recovering.url())).status).toBe(200)
    const missing = await serve((_req, res) => res.writeHead(404).end('no'))
    expect((await c.request(missing.url())).status).toBe(404)
    expect(missing.seen).toHaveLength(1)
  })

  it('retry: false, 1, a number, options, per request, or a shared policy', async () => {
    const clock = skippingClock()
    const up = await flaky(100)
    const calls = async (
      c: HttpClient,
      options?: Parameters<HttpClient['get']>[1],
    ): Promise<number> => {
      const before = up.calls
      await failure(c.get(up.url(), options))
      return up.calls - before
    }
    expect(await calls(client({ clock, retry: false }))).toBe(1)
    expect(await calls(client({ clock, retry: 1 }))).toBe(1)
    expect(await calls(client({ clock, retry: 5 }))).toBe(5)
    expect(await calls(client({ clock, retry: { maxAttempts: 2, budget: false } }))).toBe(2)
    const c = client({ clock })
    expect(await calls(c)).toBe(3)
    expect(await calls(c, { retry: false })).toBe(1)
    expect(await calls(c, { retry: 4 })).toBe(4)
    // One policy for two clients: the same retry() instance, hence one budget.
    const shared = retry({ maxAttempts: 2, baseDelay: 1, maxDelay: 1 })
    expect(await calls(client({ clock, retry: shared }))).toBe(2)
    expect(await calls(client({ clock }), { retry: shared })).toBe(2)
  })

  it('L1, L4: a bad retry option fails at construction (or rejects per request), naming it', async () => {
    expect(() => createHttpClient({ retry: 0 })).toThrow(
      'createHttpClient(): `retry` as a number is the attempts in total, the first included: an integer from 1 to 10, got 0. Use false for none.',
    )
    expect(() => createHttpClient({ retry: 2.5 })).toThrow(/an integer from 1 to 10, got 2\.5/)
    expect(() => createHttpClient({ retry: { maxAtempts: 2 } as never })).toThrow(
      /createHttpClient\(\): in `retry`, retry\(\): unknown option `maxAtempts`.*Did you mean `maxAttempts`\?/,
    )
    expect(() => createHttpClient({ retry: 'yes' as never })).toThrow(
      /`retry` must be true, false, a number of attempts, retry\(\) options or a policy/,
    )
    expect(() => createHttpClient({ beforeRequest: ['x'] as never })).toThrow(
      /`beforeRequest` must be a function/,
    )
    expect(() => createHttpClient({ onEvent: 1 as never })).toThrow(/`onEvent`/)
    expect(() => createHttpClient({ retyr: 2 } as never)).toThrow(/Did you mean `retry`\?/)
    const c = client()
    await expect(c.get('http://127.0.0.1/', { retry: 11 })).rejects.toThrow(
      /client\.get\(\): `retry` as a number/,
    )
    await expect(c.get('http://127.0.0.1/', { idempotent: 'yes' as never })).rejects.toThrow(
      /`idempotent` must be a boolean/,
    )
    await expect(c.get('http://127.0.0.1/', { trace: {} as never })).rejects.toThrow(
      /`trace` must be a Recorder/,
    )
  })

  it('A11, C3: retries stay inside the deadline — a backoff or a Retry-After that does not fit fails now, leaving no timer', async () => {
    const clock = manualClock()
    const c = client({
      clock,
      retry: { baseDelay: 5_000, maxDelay: 5_000, backoff: 'exponential' },
    })
    const slow = await flaky(5)
    expect(await failure(c.get(slow.url(), { deadline: 1_000 }))).toMatchObject({ status: 503 })
    expect(slow.calls).toBe(1)
    expect(clock.pending).toBe(0)

    const limited = await serve((_req, res) => res.writeHead(429, { 'retry-after': '5' }).end())
    const error = await failure(client({ clock }).get(limited.url(), { deadline: 1_000 }))
    expect(error).toBeInstanceOf(RateLimitedError)
    expect(error).toMatchObject({ retryAfterMs: 5_000, cause: { status: 429 } })
    expect(limited.seen).toHaveLength(1)
    expect(clock.pending).toBe(0)
    // request() hands the 429 back instead.
    expect((await client({ clock }).request(limited.url(), { deadline: 1_000 })).status).toBe(429)
  })

  it('B1, B2: the client does not retry its own headers and body limits — one request, then the error; a retry rule of the caller’s own still may', async () => {
    const clock = manualClock()
    /** Moves the clock on in 100 ms steps, letting I/O run between them, until `pending` settles. */
    const drive = async (pending: Promise<Error>): Promise<Error> => {
      let settled: Error | undefined
      void pending.then((e) => (settled = e))
      while (settled === undefined) {
        clock.advance(100)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      return settled
    }
    const silent = await serve(() => {})
    const events: TraceEvent[] = []
    const c = client({ clock, timeouts: { headers: 300 }, onEvent: (e) => events.push(e) })
    expect(await drive(failure(c.get(silent.url())))).toMatchObject({
      phase: 'headers',
      code: 'FANOUT_TIMEOUT',
    })
    expect(silent.seen).toHaveLength(1)
    expect(attemptsOf(events)).toEqual([1])

    const stalled = await serve((_req, res) => res.writeHead(200).write('first'))
    expect(
      await drive(failure(client({ clock, timeouts: { body: 300 } }).get(stalled.url()))),
    ).toMatchObject({ phase: 'body', code: 'FANOUT_TIMEOUT' })
    expect(stalled.seen).toHaveLength(1)

    const again = await serve(() => {})
    const own = client({
      clock,
      timeouts: { headers: 300 },
      retry: { maxAttempts: 2, baseDelay: 1, maxDelay: 1, shouldRetry: () => true },
    })
    expect(await drive(failure(own.get(again.url())))).toMatchObject({ phase: 'headers' })
    expect(again.seen).toHaveLength(2)
    // undici dials a spare connection when a request is aborted; its connect timer goes once it connects.
    await waitFor(() => clock.pending === 0, 'every timer to be released')
  })

  it('A5: aborting during the backoff rejects with the reason at once: no further attempt, no timer left', async () => {
    const clock = manualClock()
    const up = await flaky(5)
    const controller = new AbortController()
    let waiting = false
    const c = client({
      clock,
      retry: { baseDelay: 1_000, maxDelay: 1_000, backoff: 'exponential' },
      onEvent: (e) => (waiting ||= e.type === 'retry.scheduled'),
    })
    const pending = failure(c.get(up.url(), { signal: controller.signal }))
    await waitFor(() => waiting, 'the backoff to start')
    const reason = new Error('caller left')
    controller.abort(reason)
    expect(await pending).toBe(reason)
    expect([up.calls, clock.pending]).toEqual([1, 0])
  })

  it('C10: an origin in an outage stops being retried (RetryBudgetError); another origin of the same client still is', async () => {
    const c = client({ clock: skippingClock() })
    const down = await flaky(Number.MAX_SAFE_INTEGER)
    let last: unknown
    for (let i = 0; i < 60; i++) last = await c.get(down.url()).catch((error: unknown) => error)
    expect(last).toBeInstanceOf(RetryBudgetError)
    expect(last).toMatchObject({ attempts: 1, status: 503, cause: { status: 503 } })
    // ~50 failed attempts are retried, then one attempt per call: far from 60 × 3.
    expect(down.calls).toBeLessThan(60 + 60)
    // request() hands the last response back, whatever stopped the retries.
    expect((await c.request(down.url())).status).toBe(503)
    const other = await flaky(1)
    expect((await c.get(other.url())).text()).toBe('ok')
    expect(other.calls).toBe(2)
  })

  it('C11: a retry() wrapped around the client does not multiply its attempts (3, not 9)', async () => {
    const up = await flaky(100)
    const c = client({ clock: skippingClock() })
    const outer = retry({ maxAttempts: 3, baseDelay: 1, maxDelay: 2 }).wrap(({ signal }) =>
      c.get(up.url(), { signal }),
    )
    await failure(execute(outer))
    expect(up.calls).toBe(3)
  })

  it('C15: redirects inside an attempt are not retries — two hops per attempt, attempts numbered 1 and 2 in a flow’s trace', async () => {
    let finals = 0
    const up = await serve((req, res) => {
      if (req.url === '/start') return void res.writeHead(302, { location: '/middle' }).end()
      if (req.url === '/middle') return void res.writeHead(307, { location: '/end' }).end()
      res.writeHead(++finals === 1 ? 503 : 200).end('done')
    })
    const c = client({ clock: skippingClock() })
    let trace: FlowTrace | undefined
    const page = flow().task('report', async (_, ctx) =>
      (
        await c.get(up.url('/start'), {
          signal: ctx.signal,
          deadlineAt: ctx.deadlineAt,
          trace: ctx.trace,
        })
      ).text(),
    )
    const result = await page.run(undefined, { onTrace: (t) => (trace = t) })
    expect(result.report).toBe('done')
    expect(up.seen.map((r) => r.url)).toEqual([
      '/start',
      '/middle',
      '/end',
      '/start',
      '/middle',
      '/end',
    ])
    expect(attemptsOf(trace!.events)).toEqual([1, 2])
    expect(trace!.events.find((e) => e.type === 'retry.scheduled')).toMatchObject({
      attempt: 1,
      cause: '503',
    })
  })

  it('the limiter gives each attempt its own slot: none is held during a backoff', async () => {
    const limiter = limit({ concurrency: 1 })
    const clock = skippingClock()
    const down = await flaky(2)
    // The backoff's waits are the short timers (the phase limits, 10 s and up, run while a slot is held).
    let heldDuringWait = false
    const watching: Clock = {
      now: clock.now,
      clearTimeout: clock.clearTimeout,
      setTimeout: (fn, ms) => (
        (heldDuringWait ||= ms < 10_000 && limiter.activeCount > 0),
        clock.setTimeout(fn, ms)
      ),
    }
    const c = client({ clock: watching, limit: limiter })
    expect((await c.get(down.url())).text()).toBe('ok')
    expect([down.calls, clock.waits.length, heldDuringWait]).toEqual([3, 2, false])
    expect([limiter.activeCount, limiter.pendingCount]).toEqual([0, 0])
  })
})

// --- hooks ------------------------------------------------------------------------------------------

describe('fanout/http: beforeRequest hooks', () => {
  it('a hook runs once per attempt, so a token refreshed between attempts is sent by the retry', async () => {
    let token = 0
    const seenAttempts: number[] = []
    const up = await serve((req, res) =>
      req.headers.authorization === 'Bearer token-2' ? res.end('ok') : res.writeHead(503).end(),
    )
    const c = client({
      clock: skippingClock(),
      headers: { 'x-app': 'shop' },
      beforeRequest: [
        async (req) => {
          seenAttempts.push(req.attempt)
          req.headers.authorization = `Bearer token-${++token}`
          await Promise.resolve()
        },
        (req) => {
          req.headers['X-Signed-Method'] = req.method
          delete req.headers['x-app']
        },
      ],
    })
    expect((await c.get(up.url('/me'))).text()).toBe('ok')
    expect(seenAttempts).toEqual([1, 2])
    expect(up.seen.map((s) => s.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ])
    expect(up.seen[1]!.headers).toMatchObject({ 'x-signed-method': 'GET' })
    expect(up.seen[1]!.headers['x-app']).toBeUndefined()
  })

  it('I5: a credential a hook added is dropped on a cross-origin redirect; hooks do not run on redirect hops', async () => {
    const other = await serve(echo)
    const main = await serve((req, res) =>
      req.url === '/away'
        ? res.writeHead(302, { location: other.url('/landing') }).end()
        : echo(req, res, { method: req.method!, url: req.url!, headers: req.headers, body: '' }),
    )
    const calls: string[] = []
    const c = client({
      credentialHeaders: ['x-api-key'],
      beforeRequest: (req) => {
        calls.push(req.url)
        req.headers.authorization = 'Bearer CANARY-HOOK'
        req.headers['x-api-key'] = 'CANARY-KEY'
      },
    })
    const landed = (await c.get(main.url('/away'))).json<Seen>()
    expect(landed.url).toBe('/landing')
    expect(landed.headers.authorization).toBeUndefined()
    expect(landed.headers['x-api-key']).toBeUndefined()
    expect(calls).toEqual([main.url('/away')])
    // Same origin: kept.
    expect((await c.get(main.url('/here'))).json<Seen>().headers.authorization).toBe(
      'Bearer CANARY-HOOK',
    )
  })

  it('I9, I12: a header value a hook leaves with CR/LF fails before sending, without the value in the message; a throwing hook rejects, not retried', async () => {
    const up = await serve(echo)
    const bad = client({
      beforeRequest: (req) => void (req.headers.authorization = 'Bearer CANARY\r\nx-injected: 1'),
    })
    const error = await failure(bad.get(up.url()))
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect(error.message).toMatch(/a beforeRequest hook left: header "authorization" has a CR, LF/)
    expect(error.message).not.toContain('CANARY')
    const broken = new Error('token store down')
    let runs = 0
    const throwing = client({
      clock: skippingClock(),
      beforeRequest: () => {
        runs++
        throw broken
      },
    })
    expect(await failure(throwing.get(up.url()))).toBe(broken)
    expect([runs, up.seen.length]).toEqual([1, 0])
  })

  it('a hook that never settles is cut off by the deadline', async () => {
    const clock = manualClock()
    const up = await serve(echo)
    const c = client({ clock, beforeRequest: () => new Promise<void>(() => {}) })
    const pending = failure(c.get(up.url(), { deadline: 500 }))
    clock.advance(500)
    const error = await pending
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ code: 'FANOUT_DEADLINE' })
    expect([up.seen.length, clock.pending]).toEqual([0, 0])
  })
})

// --- streaming ------------------------------------------------------------------------------------

/** An upstream streaming `total` bytes in 64 KiB writes, honouring backpressure: with a content-length, chunked, or gzipped whole first. */
async function bigBody(
  total: number,
  coding?: 'gzip' | 'chunked',
): Promise<Upstream & { readonly written: number }> {
  let written = 0
  const up = await serve((_req, res) => {
    if (coding === 'gzip') {
      res.writeHead(200, { 'content-encoding': 'gzip' })
      return void res.end(gzipSync(Buffer.alloc(total, 'z')))
    }
    res.writeHead(200, coding === 'chunked' ? {} : { 'content-length': String(total) })
    const chunk = Buffer.alloc(64 * 1024, 'a')
    let sent = 0
    const pump = (): void => {
      while (sent < total && !res.destroyed) {
        const n = Math.min(chunk.length, total - sent)
        sent += n
        written += n
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void res.once('drain', pump)
      }
      if (sent >= total) res.end()
    }
    pump()
  })
  return Object.defineProperty(up, 'written', { get: () => written }) as Upstream & {
    readonly written: number
  }
}

async function readAll(
  body: AsyncIterable<Uint8Array>,
): Promise<{ bytes: number; chunks: number }> {
  let bytes = 0
  let chunks = 0
  for await (const chunk of body) {
    bytes += chunk.byteLength
    chunks++
  }
  return { bytes, chunks }
}

describe('fanout/http: streamed response bodies', () => {
  it('a 24 MiB body within the limit arrives in chunks while it is read; the connection is then reused', async () => {
    const up = await bigBody(24 * 1024 * 1024)
    const c = client({ maxResponseSize: 32 * 1024 * 1024 })
    const res = await c.stream(up.url('/big'))
    expect([res.status, res.headers['content-length']]).toEqual([200, String(24 * 1024 * 1024)])
    // Resolved at the headers: the server has not written the whole body yet (backpressure).
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(up.written).toBeLessThan(24 * 1024 * 1024)
    const { bytes, chunks } = await readAll(res.body)
    expect(bytes).toBe(24 * 1024 * 1024)
    expect(chunks).toBeGreaterThan(1)
    // Read to the end, the connection goes back to the pool (undici frees it a tick later).
    await new Promise((resolve) => setImmediate(resolve))
    expect((await c.get(up.url('/again'))).status).toBe(200)
    expect(up.sockets[1]).toBe(up.sockets[0])
  })

  it('B7: past maxResponseSize the stream errors mid-way with ResponseTooLargeError and the socket is destroyed', async () => {
    const up = await bigBody(8 * 1024 * 1024, 'chunked')
    const res = await client({ maxResponseSize: 1024 * 1024 }).stream(up.url('/big'), {
      maxResponseSize: 512 * 1024,
    })
    let received = 0
    const error = await failure(
      (async () => {
        for await (const chunk of res.body) received += chunk.byteLength
      })(),
    )
    expect(error).toBeInstanceOf(ResponseTooLargeError)
    expect(error).toMatchObject({ part: 'body', limit: 512 * 1024 })
    expect(received).toBeGreaterThan(0)
    expect(received).toBeLessThanOrEqual(512 * 1024)
    await waitFor(() => up.sockets[0]!.destroyed, 'the server to see the socket closed')
  })

  it('B8: a gzip body is streamed decoded, and the limit counts decoded bytes', async () => {
    const fits = await bigBody(2 * 1024 * 1024, 'gzip')
    const c = client({ maxResponseSize: 4 * 1024 * 1024 })
    const res = await c.stream(fits.url())
    expect((await readAll(res.body)).bytes).toBe(2 * 1024 * 1024)
    const bomb = await bigBody(32 * 1024 * 1024, 'gzip')
    const big = await c.stream(bomb.url())
    const error = await failure(readAll(big.body))
    expect(error).toBeInstanceOf(ResponseTooLargeError)
    expect(error.message).toContain('counted after decoding gzip')
  })

  it('A4: aborting mid-stream errors the reader with the reason and destroys the socket; so does a reader that cancels', async () => {
    const up = await bigBody(64 * 1024 * 1024)
    const c = client({ maxResponseSize: 128 * 1024 * 1024 })
    const controller = new AbortController()
    const res = await c.stream(up.url('/abort'), { signal: controller.signal })
    const reader = res.body.getReader()
    expect((await reader.read()).done).toBe(false)
    const reason = new Error('caller left')
    controller.abort(reason)
    expect(await failure(reader.read())).toBe(reason)
    await waitFor(() => up.sockets[0]!.destroyed, 'the aborted socket to close')

    const cancelled = await c.stream(up.url('/cancel'))
    for await (const chunk of cancelled.body) {
      expect(chunk.byteLength).toBeGreaterThan(0)
      break // leaving the loop cancels the stream
    }
    await waitFor(() => up.sockets[1]!.destroyed, 'the cancelled socket to close')
    await waitFor(() => up.open === 0, 'every connection to close')
  })

  it('J1: streams read, cancelled, aborted and timed out, then close(): sockets and timers back to their baseline', async () => {
    const count = (): Record<string, number> => {
      const out: Record<string, number> = {}
      for (const r of process.getActiveResourcesInfo())
        if (r === 'TCPSocketWrap' || r === 'Timeout') out[r] = (out[r] ?? 0) + 1
      return out
    }
    const up = await bigBody(256 * 1024)
    const baseline = count()
    const c = createHttpClient({ ssrf: { allow: ['loopback'] }, connections: 8 })
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const controller = new AbortController()
        const res = await c.stream(up.url(`/${i}`), { signal: controller.signal, deadline: 10_000 })
        const reader = res.body.getReader()
        await reader.read()
        if (i % 4 === 0) return reader.cancel()
        if (i % 4 === 1) return controller.abort(new Error('left'))
        if (i % 4 === 2)
          return void (await failure(
            reader
              .read()
              .then(() => controller.abort(new AbortedError('stop')))
              .then(() => reader.read()),
          ))
        while (!(await reader.read()).done);
      }),
    )
    await c.close()
    const settled = (): boolean => {
      const now = count()
      return (
        (now['TCPSocketWrap'] ?? 0) <= (baseline['TCPSocketWrap'] ?? 0) &&
        (now['Timeout'] ?? 0) <= (baseline['Timeout'] ?? 0)
      )
    }
    await waitFor(
      settled,
      `sockets and timers to return to ${JSON.stringify(baseline)} (now ${JSON.stringify(count())})`,
      2_000,
    )
  })

  it('B3: the deadline covers the body while it is read, on the client clock; nothing is left behind', async () => {
    const clock = manualClock()
    const up = await bigBody(8 * 1024 * 1024)
    const res = await client({ clock, maxResponseSize: 16 * 1024 * 1024 }).stream(up.url(), {
      deadline: 1_000,
    })
    const reader = res.body.getReader()
    await reader.read()
    clock.advance(1_000)
    const error = await failure(
      (async () => {
        while (!(await reader.read()).done);
      })(),
    )
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ code: 'FANOUT_DEADLINE', phase: 'body' })
    expect(clock.pending).toBe(0)
    await waitFor(() => up.sockets[0]!.destroyed, 'the socket to close')
  })

  it('B2: a streamed body that stalls fails with the body timeout', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(200)
      res.write('first')
    })
    const res = await client({ timeouts: { body: 150 } }).stream(up.url())
    const error = await failure(readAll(res.body))
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ phase: 'body', code: 'FANOUT_TIMEOUT' })
  })

  it('B2: a slow reader does not trip the body timeout — the pause is the reader’s, not the upstream’s', async () => {
    const up = await bigBody(8 * 1024 * 1024)
    const res = await client({ timeouts: { body: 100 }, maxResponseSize: 16 * 1024 * 1024 }).stream(
      up.url(),
    )
    const reader = res.body.getReader()
    await reader.read()
    // Long enough for the queue to fill, the socket to be paused, and an unpaused timer to fire thrice.
    await new Promise((resolve) => setTimeout(resolve, 350))
    let bytes = 0
    for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength
    expect(bytes).toBeGreaterThan(7 * 1024 * 1024)
  })

  it('a status outside 2xx rejects with HttpError (its body read); a 503 is retried before the stream is handed out; POST streams work', async () => {
    const clock = skippingClock()
    const missing = await serve((_req, res) => res.writeHead(404).end('no such thing'))
    const error = await failure(client({ clock }).stream(missing.url()))
    expect(error).toBeInstanceOf(HttpError)
    expect(Buffer.from((error as HttpError).body).toString()).toBe('no such thing')
    const flakyUp = await flaky(1)
    const res = await client({ clock }).stream(flakyUp.url())
    expect(Buffer.from(await new Response(res.body as never).arrayBuffer()).toString()).toBe('ok')
    expect(flakyUp.calls).toBe(2)
    const events = await serve((req, res) =>
      Readable.from(['data: 1\n\n', 'data: 2\n\n']).pipe(
        res.writeHead(200, { 'content-type': 'text/event-stream' }),
      ),
    )
    const sse = await client().stream(events.url('/chat'), {
      method: 'POST',
      json: { prompt: 'hi' },
    })
    expect(Buffer.from(await new Response(sse.body as never).arrayBuffer()).toString()).toBe(
      'data: 1\n\ndata: 2\n\n',
    )
    expect(events.seen[0]).toMatchObject({ method: 'POST', body: '{"prompt":"hi"}' })
  })

  it('a streamed body keeps its limit slot until it is read to the end', async () => {
    const up = await bigBody(1024 * 1024)
    const limiter = limit({ concurrency: 1 })
    const c = client({ limit: limiter })
    const res = await c.stream(up.url('/1'))
    expect(limiter.activeCount).toBe(1)
    const second = c.get(up.url('/2'))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(limiter.pendingCount).toBe(1)
    await readAll(res.body)
    expect((await second).status).toBe(200)
    expect([limiter.activeCount, limiter.pendingCount]).toEqual([0, 0])
  })
})

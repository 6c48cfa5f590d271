/**
 * fanout/next's `withFanout()`, called the way Next calls an exported `GET`: with a `Request`
 * whose signal the test aborts (a client disconnect) and a fake `after()`. The upstream is a real
 * loopback server, reached through fanout/http with the task's context.
 */
import { getEventListeners } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentRequest } from '../../src/core/request-context.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { flow, type TraceEvent } from '../../src/index.js'
import { withFanout } from '../../src/next/index.js'
import { closeAll, failure, serve, waitFor, type Upstream } from '../helpers/upstream.js'
import { client, fakeAfter, resources } from './helpers.js'

let upstream: Upstream
let http: HttpClient
const closedAt: number[] = []

const page = flow<{ url: string }>('page')
  .task(
    'hold',
    (_, ctx) => http.get(ctx.input.url, { context: ctx }).then((r) => r.text()),
    // Retried on any failure: only the request's own abort may stop it.
    {
      retry: { maxAttempts: 5, baseDelay: 1, maxDelay: 5, shouldRetry: () => true, budget: false },
    },
  )
  .task('after', async ($) => `after ${await $.hold}`)

const product = flow<{ fast: string; slow: string }>('product')
  .task('details', (_, ctx) => http.json<{ at: string }>(ctx.input.fast, { context: ctx }))
  .task(
    'recommendations',
    (_, ctx) => http.json<{ at: string }>(ctx.input.slow, { context: ctx }),
    { fallback: null },
  )

beforeAll(async () => {
  upstream = await serve((req, res) => {
    if (req.url === '/hold') {
      // Never answered: only a disconnect ends it. Watched here only: a kept-alive socket serves
      // many requests, and a listener per request would pile up on it.
      req.socket.once('close', () => closedAt.push(performance.now()))
      return
    }
    const ms = req.url === '/slow' ? 3_000 : 5
    const timer = setTimeout(() => res.end(JSON.stringify({ at: req.url })), ms)
    res.on('close', () => clearTimeout(timer))
  })
  http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
})

afterAll(async () => {
  await http.close()
  await closeAll()
})

describe('withFanout(): a client disconnect', () => {
  it('aborts the outbound call with ClientClosedError: no retry, no later task, no listener left', async () => {
    const events: { at: number; event: TraceEvent }[] = []
    const GET = withFanout(
      async () => Response.json(await page.run({ url: upstream.url('/hold') })),
      {
        after: fakeAfter().after,
        onEvent: (event) => events.push({ at: performance.now(), event }),
      },
    )
    const seen = upstream.seen.length
    const closed = closedAt.length
    const { request, disconnect } = client('http://localhost/api/page')
    const response = GET(request, {})
    await waitFor(() => upstream.seen.length === seen + 1, 'the upstream request')
    const cutAt = performance.now()
    disconnect()

    const error = await failure(response)
    expect(error).toMatchObject({ name: 'ClientClosedError', code: 'FANOUT_CLIENT_CLOSED' })
    await waitFor(() => closedAt.length === closed + 1, 'the upstream socket to close')
    expect(closedAt[closed]! - cutAt).toBeLessThan(1_000) // real time on a busy machine

    // Give a retry every chance to show up (its backoff is ≤ 5 ms).
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(upstream.seen.length).toBe(seen + 1)
    const late = events.filter(
      ({ at, event }) =>
        at > cutAt && (event.type === 'task.started' || event.type === 'attempt.started'),
    )
    expect(late).toEqual([])
    expect(events.filter(({ event }) => event.type === 'retry.scheduled')).toEqual([])
    expect(getEventListeners(request.signal, 'abort')).toHaveLength(0)
    expect(GET.contexts.pending).toBe(0)
  })

  it('closes the upstream connection within 50 ms of the disconnect (median of 10)', async () => {
    const GET = withFanout(
      async () => Response.json(await page.run({ url: upstream.url('/hold') })),
      {
        after: fakeAfter().after,
      },
    )
    const delays: number[] = []
    for (let i = 0; i < 10; i++) {
      const seen = upstream.seen.length
      const closed = closedAt.length
      const { request, disconnect } = client('http://localhost/api/page')
      const response = GET(request, {}).catch(() => undefined)
      await waitFor(() => upstream.seen.length === seen + 1, 'the upstream request')
      const cutAt = performance.now()
      disconnect()
      await waitFor(() => closedAt.length === closed + 1, 'the upstream socket to close')
      delays.push(closedAt[closed]! - cutAt)
      await response
    }
    const sorted = [...delays].sort((a, b) => a - b)
    // The median: one run the machine's load delayed must not fail the bar; most must meet it.
    expect(sorted[5], delays.map((d) => d.toFixed(1)).join(', ')).toBeLessThanOrEqual(50)
  })

  it('a client gone before the handler starts: the context is born aborted', async () => {
    const GET = withFanout(
      (_request, _context, fanout) =>
        Response.json({
          aborted: fanout.signal.aborted,
          reason: (fanout.signal.reason as Error).name,
        }),
      { after: fakeAfter().after },
    )
    const { request, disconnect } = client('http://localhost/api/page')
    disconnect()
    expect(await (await GET(request, {})).json()).toEqual({
      aborted: true,
      reason: 'ClientClosedError',
    })
  })

  it('a disconnect after the handler returned aborts nothing (the context has ended)', async () => {
    let signal: AbortSignal | undefined
    const GET = withFanout(
      (_request, _context, fanout) => ((signal = fanout.signal), new Response('ok')),
      { after: fakeAfter().after },
    )
    const { request, disconnect } = client('http://localhost/api/page')
    await GET(request, {})
    disconnect()
    expect(signal!.aborted).toBe(false)
  })
})

describe('withFanout(): the deadline header', () => {
  const GET = withFanout(
    async (_request, _context, fanout) => {
      // Rounded: two clock readings in floating point (240.00000000000045).
      const budget = Math.round(fanout.deadlineAt - fanout.startedAt)
      return Response.json({
        budget,
        ...(await product.run({ fast: upstream.url('/fast'), slow: upstream.url('/slow') })),
      })
    },
    { maxBudget: 10_000, after: fakeAfter().after },
  )

  it.each([
    ['grpc-timeout', '250m'],
    ['x-request-timeout-ms', '250'],
  ])('%s: %s shortens the budget; partial results come back in time', async (name, value) => {
    const startedAt = performance.now()
    const response = await GET(
      client('http://localhost/p', { headers: { [name]: value } }).request,
      {},
    )
    const ms = performance.now() - startedAt
    // 250 ms less the 10 ms margin; the optional part, still waiting upstream, fell back.
    expect(await response.json()).toEqual({
      budget: 240,
      details: { at: '/fast' },
      recommendations: null,
    })
    expect(ms).toBeGreaterThanOrEqual(200)
    expect(ms).toBeLessThan(2_000) // the slow upstream answers at 3 s: a generous bound
  })
})

describe('withFanout(): post-response work', () => {
  it('goes to after(), runs once the response is out, and is not aborted by the client leaving', async () => {
    const fake = fakeAfter()
    const ran: { aborted: boolean; user: string | undefined; ended: boolean }[] = []
    const GET = withFanout(
      (request) => {
        currentRequest()!.waitUntil(async () => {
          await new Promise((resolve) => setTimeout(resolve, 20))
          const ctx = currentRequest()!
          ran.push({ aborted: ctx.signal.aborted, user: ctx.user, ended: request.signal.aborted })
        })
        return new Response('ok')
      },
      { after: fake.after, user: (request) => request.headers.get('x-user') ?? undefined },
    )
    const { request, disconnect } = client('http://localhost/p', { headers: { 'x-user': 'ann' } })
    expect(await (await GET(request, {})).text()).toBe('ok')
    expect(ran).toEqual([]) // handed to after(), not run inside the handler
    expect(fake.queued).toBe(1)
    disconnect() // the connection closes once the response is out
    await fake.flush()
    expect(ran).toEqual([{ aborted: false, user: 'ann', ended: true }])
    expect(GET.contexts.pending).toBe(0)
  })

  it('a failure in it goes to onError, not to the response', async () => {
    const fake = fakeAfter()
    const errors: unknown[] = []
    const GET = withFanout(
      () => {
        currentRequest()!.waitUntil(() => Promise.reject(new Error('audit write failed')))
        return new Response('ok')
      },
      { after: fake.after, onError: (error) => errors.push(error) },
    )
    expect((await GET(new Request('http://localhost/p'), {})).status).toBe(200)
    await fake.flush()
    expect(errors).toMatchObject([{ message: 'audit write failed' }])
  })
})

function lasting(counts: Record<string, number>): Record<string, number> {
  const { TCPSocketWrap: _a, TCPWRAP: _b, Immediate: _c, ...rest } = counts
  return rest
}

describe('withFanout(): under load', () => {
  it('200 concurrent requests leave no listener, no timer, no pending work', async () => {
    const fake = fakeAfter()
    const GET = withFanout(
      async () => {
        currentRequest()!.waitUntil(() => undefined)
        return Response.json(
          await product.run({ fast: upstream.url('/fast'), slow: upstream.url('/fast') }),
        )
      },
      { after: fake.after, budget: 60_000 },
    )
    // Warm up: the HTTP client's pool and the first-use paths open resources of their own.
    await GET(new Request('http://localhost/p'), {})
    await fake.flush()
    const before = resources()
    const clients = Array.from({ length: 200 }, (_, i) =>
      client(`http://localhost/p?i=${i}`, { headers: { 'x-request-timeout-ms': '50000' } }),
    )
    const responses = await Promise.all(clients.map(({ request }) => GET(request, {})))
    expect(responses.map((r) => r.status)).toEqual(clients.map(() => 200))
    expect(fake.queued).toBe(200)
    await fake.flush()
    for (const { request } of clients)
      expect(getEventListeners(request.signal, 'abort')).toHaveLength(0)
    expect(GET.contexts.pending).toBe(0)
    // Sockets the pool keeps alive and immediates in passing may differ; timers must not grow,
    // and everything else must be back as it was.
    const { Timeout: timersBefore = 0, ...restBefore } = lasting(before)
    await waitFor(
      () => {
        const { Timeout: timers = 0, ...rest } = lasting(resources())
        return timers <= timersBefore && JSON.stringify(rest) === JSON.stringify(restBefore)
      },
      `the resources to settle (${JSON.stringify(before)})`,
    )
  })
})

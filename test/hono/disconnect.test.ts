/**
 * A client that disconnects mid-request aborts the outbound calls made for it: the upstream sees
 * its connection closed at once, no retry and no later task follow, and nothing the adapter added
 * stays attached — on a real @hono/node-server, through fanout/http.
 */
import { getEventListeners } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fanout, type FanoutEnv } from '../../src/hono/index.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { flow } from '../../src/index.js'
import type { TraceEvent } from '../../src/index.js'
import { closeAll, serve, waitFor, type Upstream } from '../helpers/upstream.js'
import { listen, measureWindow, sendThenCut, type Served, type Window } from './helpers.js'

type NodeBindings = { Bindings: { incoming: IncomingMessage; outgoing: ServerResponse } }

let upstream: Upstream
let http: HttpClient
let served: Served
/** When each upstream socket closed, and how much of the time before it the machine took. */
const closedAt: number[] = []
const starved: number[] = []
let window: Window | undefined
const events: { at: number; event: TraceEvent }[] = []
const outcomes: unknown[] = []
const signals: AbortSignal[] = []
/** Listeners on the request, the response and the socket once the chain is done, by route. */
const listenerCounts: Record<string, number[][]> = { '/page': [], '/control': [] }
const mw = fanout<NodeBindings>({
  onEvent: (event) => events.push({ at: performance.now(), event }),
})

function counts(c: { env: NodeBindings['Bindings'] }): number[] {
  const { incoming, outgoing } = c.env
  const socket = incoming.socket
  return [
    incoming.listenerCount('close'),
    incoming.listenerCount('aborted'),
    incoming.listenerCount('error'),
    outgoing.listenerCount('close'),
    outgoing.listenerCount('finish'),
    outgoing.listenerCount('error'),
    socket.listenerCount('close'),
    socket.listenerCount('end'),
    socket.listenerCount('error'),
  ]
}

const page = flow<{ http: HttpClient; url: string }>('page')
  .task(
    'hold',
    (_, ctx) =>
      // Retried on any failure: only the request's own abort may stop it.
      ctx.input.http.get(ctx.input.url, { context: ctx }).then((r) => r.text()),
    {
      retry: { maxAttempts: 5, baseDelay: 1, maxDelay: 5, shouldRetry: () => true, budget: false },
    },
  )
  .task('after', async ($) => `after ${await $.hold}`)

beforeAll(async () => {
  upstream = await serve((req) => {
    // Holds the request (5 s would be the answer); records when its socket closes.
    req.socket.once('close', () => {
      closedAt.push(performance.now())
      starved.push(window?.stop().starvedMs ?? 0)
      window = undefined
    })
  })
  http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
  const app = new Hono<FanoutEnv & NodeBindings>()
  // A client that left is no server error: answered quietly (the status is never sent anyway).
  app.onError((error, c) => c.text(error.name, 500))
  app.use(async (c, next) => {
    await next()
    listenerCounts[c.req.path]?.push(counts(c))
  })
  // The same page without fanout: what @hono/node-server itself attaches, to compare with.
  app.get('/control', async (c) => {
    const run = page.run({ http, url: upstream.url('/hold') }, { signal: c.req.raw.signal })
    return c.json(await run.catch(() => null))
  })
  app.use('/page', mw)
  app.get('/page', async (c) => {
    signals.push(c.req.raw.signal)
    try {
      return c.json(await page.run({ http, url: upstream.url('/hold') }))
    } catch (error) {
      outcomes.push(error)
      throw error
    }
  })
  served = await listen(app)
})

afterAll(async () => {
  await served.close()
  await http.close()
  await closeAll()
})

/**
 * Requests `path`, waits for its upstream request, cuts the client off: the ms from the cut to
 * the upstream's close, and the part of them the machine's load took (see measureWindow()).
 */
async function disconnect(
  path: string,
): Promise<{ destroyedAt: number; delay: number; starved: number }> {
  const seen = upstream.seen.length
  const closed = closedAt.length
  const cut = sendThenCut(`${served.origin}${path}`)
  await waitFor(() => upstream.seen.length === seen + 1, 'the upstream request')
  window = measureWindow()
  const destroyedAt = cut.destroy()
  await cut.done
  await waitFor(() => closedAt.length === closed + 1, 'the upstream socket to close')
  return { destroyedAt, delay: closedAt[closed]! - destroyedAt, starved: starved[closed]! }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

describe('fanout/hono: a client disconnect', () => {
  it('aborts the flow with ClientClosedError: no retry, no later task, nothing left attached', async () => {
    // The first abort in a process is the slow one (the abort path is compiled, and Node's stream
    // destroy reads an error's stack, which the test runner source-maps): measured 30–80 ms here,
    // 1–10 ms after. So the 50 ms bar is asserted on the disconnects that follow.
    const { destroyedAt, delay } = await disconnect('/page')
    expect(delay).toBeLessThan(1_000)

    await waitFor(() => outcomes.length === 1, 'the flow to reject')
    expect(outcomes[0]).toMatchObject({ code: 'FANOUT_CLIENT_CLOSED', name: 'ClientClosedError' })

    // Give a retry every chance to show up (its backoff is ≤ 5 ms).
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(upstream.seen).toHaveLength(1)
    const late = events.filter(
      ({ at, event }) =>
        at > destroyedAt && (event.type === 'task.started' || event.type === 'attempt.started'),
    )
    expect(late).toEqual([])
    expect(events.filter(({ event }) => event.type === 'retry.scheduled')).toEqual([])
    expect(events.some(({ event }) => event.type === 'task.started')).toBe(true)

    await waitFor(() => listenerCounts['/page']!.length === 1, 'the middleware chain to finish')
    expect(getEventListeners(signals[0]!, 'abort')).toHaveLength(0)
    expect(mw.contexts.pending).toBe(0)
  })

  it('closes the upstream connection within 50 ms of the disconnect, every time (20 runs)', async () => {
    // On a loaded machine (load average 10 on 2 cores, seen here) a process can wait 200 ms for
    // the CPU; that wait, when the event loop shows it and the process did not spend it computing,
    // is taken off. The code's own delay must meet the bar every time.
    const runs: { delay: number; starved: number }[] = []
    for (let i = 0; i < 20; i++) runs.push(await disconnect('/page'))
    const shown = runs.map(
      (r) => `${r.delay.toFixed(1)}${r.starved > 0 ? ` (starved ${r.starved.toFixed(1)})` : ''}`,
    )
    const own = runs.map((r) => r.delay - r.starved)
    expect(
      Math.max(...own),
      `ms from the cut to the upstream's close: ${shown.join(', ')}`,
    ).toBeLessThanOrEqual(50)
    expect(median(runs.map((r) => r.delay))).toBeLessThanOrEqual(50)
    expect(upstream.seen.filter((s) => s.url === '/hold')).toHaveLength(21)
  })

  it('leaves on the request, the response and the socket only what the server itself attaches', async () => {
    await disconnect('/control')
    const pages = listenerCounts['/page']!
    await waitFor(() => pages.length === 21, 'the middleware chains to finish')
    await waitFor(() => listenerCounts['/control']!.length === 1, 'the control chain to finish')
    const control = listenerCounts['/control']![0]!
    for (const counted of pages) expect(counted).toEqual(control)
    for (const signal of signals) expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })
})

/**
 * fanout/profile on the demo's product page (src/demo/page.ts) against the demo's own upstreams
 * (six real servers on 127.0.0.1, no failures, no slow tail), served as a route of a real HTTP
 * server: the sequential way is reported with its two chains and what a Promise.all would save,
 * the fanout way with none.
 *
 * The expected savings are computed from durations the test records itself, two ways that
 * bracket the profiler's: around each call of the page (which includes the client's own work) and
 * on undici's channels, listening to the request's creation after the profiler and to its end
 * before it. Each call the profiler times lies within the page's and contains the channels', and
 * "sum minus the longest" grows with every duration, so the profiler's savings (median and total)
 * lie between the two — whatever the machine's load does to the durations themselves.
 */
import diagnostics from 'node:diagnostics_channel'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBackground, type Background } from '../../src/demo/background.js'
import { fanoutPage, sequentialPage, type LoadPage, type PageHttp } from '../../src/demo/page.js'
import { DEMO_TOKEN, startUpstreams, type Upstreams } from '../../src/demo/upstreams.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { profile, type ChainReport, type ProfileReport } from '../../src/profile/index.js'
import { serveApp } from './serve.js'

const PRODUCTS = [1, 3, 7, 12, 15, 18, 20]

interface Timed {
  readonly method: string
  readonly path: string
  ms: number
}

let upstreams: Upstreams
let client: HttpClient
let background: Background
/** The calls of the load in progress, as the page made them, timed from outside the client. */
let calls: Timed[] = []

const timedHttp = (): PageHttp => ({
  json: async <T>(url: string, options?: Parameters<PageHttp['json']>[1]): Promise<T> => {
    const started = performance.now()
    try {
      return await client.json<T>(url, options)
    } finally {
      calls.push({
        method: options?.method ?? 'GET',
        path: new URL(url).pathname,
        ms: performance.now() - started,
      })
    }
  },
})

beforeAll(async () => {
  upstreams = await startUpstreams({ seed: 4, failureRate: 0, slowRate: 0, latencyScale: 0.3 })
  client = createHttpClient({ ssrf: { allow: ['loopback'] }, connections: 16, retry: false })
  background = startBackground(client, upstreams.urls)
})

afterAll(async () => {
  await background.close()
  await client.close()
  await upstreams.close()
})

const pageRoute = (page: LoadPage) => async (req: IncomingMessage, res: ServerResponse) => {
  const productId = Number(/^\/page\/(\d+)$/.exec(req.url ?? '')?.[1])
  const view = await page({ productId, token: DEMO_TOKEN })
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ name: view.product.name, available: view.available }))
}

interface Loads {
  /** Each load's calls, timed around the page's calls to the client. */
  readonly page: Timed[][]
  /** Each load's calls, timed on undici's channels. */
  readonly wire: Timed[][]
}

/** Loads the page once per product, one load at a time, under a profiler; the calls of each load. */
async function profiled(page: LoadPage): Promise<{ report: ProfileReport; loads: Loads }> {
  const app = await serveApp(pageRoute(page))
  const loads: Loads = { page: [], wire: [] }
  let wire: Timed[] = []
  const open = new Map<object, { timed: Timed; at: number }>()
  type Message = { request: { origin: string; path: string; method: string } }
  const onCreate = (message: unknown): void => {
    const { request } = message as Message
    if (String(request.origin) === app.origin) return // the test's own visit
    const timed = { method: request.method, path: request.path.split('?')[0]!, ms: NaN }
    wire.push(timed)
    open.set(request, { timed, at: performance.now() })
  }
  const onEnd = (message: unknown): void => {
    const entry = open.get((message as Message).request)
    if (entry !== undefined) entry.timed.ms = performance.now() - entry.at
  }
  // Listeners run in the order they subscribed: the end before the profiler's, the start after.
  diagnostics.subscribe('undici:request:trailers', onEnd)
  const profiler = profile({ unscoped: 'ignore' })
  diagnostics.subscribe('undici:request:create', onCreate)
  try {
    for (const id of PRODUCTS) {
      calls = []
      wire = []
      await app.get(`/page/${id}`)
      loads.page.push(calls)
      loads.wire.push(wire)
    }
  } finally {
    diagnostics.unsubscribe('undici:request:create', onCreate)
    diagnostics.unsubscribe('undici:request:trailers', onEnd)
    profiler.stop()
    await app.close()
  }
  return { report: profiler.report(), loads }
}

const savedOf = (chain: readonly Timed[]): number =>
  chain.reduce((sum, c) => sum + c.ms, 0) - Math.max(...chain.map((c) => c.ms))

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0)

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const targets = (chain: ChainReport): string[] =>
  chain.steps.map(
    (s) => `${s.method} ${s.target.replace(/^http:\/\/127\.0\.0\.1:\d+/, '')} ×${s.times}`,
  )

describe('profile() on the demo page', () => {
  it('the sequential way: two chains, with what a Promise.all would save', async () => {
    const { report, loads } = await profiled(sequentialPage(timedHttp(), upstreams.urls))
    const route = report.routes.find((r) => r.route === 'GET /page/:id')!
    expect(route.requests).toBe(PRODUCTS.length)
    // Every load made the same 14 calls: auth, product, stock, reviews, 8 reviewers,
    // recommendations, recompute.
    for (const load of [...loads.page, ...loads.wire])
      expect(load.map((c) => c.path.split('/')[1])).toEqual([
        'session',
        'products',
        'stock',
        'products',
        ...Array<string>(8).fill('users'),
        'recommendations',
        'recommendations',
      ])
    // The auth check is a gate (never proposed for a Promise.all); the reviewers need the
    // reviews' author ids, so the first chain ends at the reviews.
    const byTargets = new Map(route.chains.map((c) => [targets(c).join(' → '), c]))
    expect([...byTargets.keys()].sort()).toEqual([
      'GET /products/:id ×1 → GET /stock/:id ×1 → GET /products/:id/reviews ×1',
      'GET /users/:id ×8 → GET /recommendations?product=* ×1 → POST /recommendations/recompute?product=* ×1',
    ])
    const expected = [
      {
        chain: route.chains.find((c) => c.steps[0]!.target.endsWith('/products/:id'))!,
        at: [1, 4],
      },
      { chain: route.chains.find((c) => c.steps[0]!.target.endsWith('/users/:id'))!, at: [4, 14] },
    ]
    // The report rounds to 0.1 ms.
    const rounding = 0.051
    const between = (value: number, low: number, high: number): void => {
      expect(value).toBeGreaterThanOrEqual(low - rounding)
      expect(value).toBeLessThanOrEqual(high + rounding)
    }
    for (const { chain, at } of expected) {
      expect(chain.occurrences).toBe(PRODUCTS.length)
      expect(chain.requests).toBe(PRODUCTS.length)
      const onWire = loads.wire.map((load) => savedOf(load.slice(at[0], at[1])))
      const onPage = loads.page.map((load) => savedOf(load.slice(at[0], at[1])))
      between(chain.savedMs.median, median(onWire), median(onPage))
      between(chain.savedMs.total, sum(onWire), sum(onPage))
      expect(chain.savedMs.median).toBeGreaterThan(0)
      // Where each call was made: the first frame of the application's code, here the test's
      // timing wrapper around the client (the page's own line is the frame after it).
      for (const step of chain.steps)
        expect(step.location).toMatch(/^test\/profile\/demo\.test\.ts:\d+:\d+$/)
    }
    // The route's own saving per request is the two chains' together.
    const perLoad = (loads: readonly Timed[][]): number[] =>
      loads.map((l) => savedOf(l.slice(1, 4)) + savedOf(l.slice(4, 14)))
    between(route.savedMs.median, median(perLoad(loads.wire)), median(perLoad(loads.page)))
    between(route.savedMs.total, sum(perLoad(loads.wire)), sum(perLoad(loads.page)))
  }, 30_000)

  it('the fanout way: no chain', async () => {
    const { report } = await profiled(fanoutPage(client, upstreams.urls, background.jobs))
    const route = report.routes.find((r) => r.route === 'GET /page/:id')!
    expect(route.requests).toBe(PRODUCTS.length)
    expect(route.calls).toBeGreaterThanOrEqual(PRODUCTS.length * 4)
    expect(route.chains).toEqual([])
    expect(report.routes.flatMap((r) => r.chains)).toEqual([])
    await background.settle(10_000)
  }, 30_000)
})

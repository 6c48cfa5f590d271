/**
 * fanout/otel under the OpenTelemetry SDK with in-memory exporters: the exact span tree of the
 * demo's product page (fanout's way) with fanout's own HTTP spans, and with
 * @opentelemetry/instrumentation-undici making them instead — one client span per upstream
 * request either way, none twice — plus nesting under an incoming request, propagation, errors
 * without messages, metrics, and the options.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fanoutPage } from '../../src/demo/page.js'
import { DEMO_TOKEN, startUpstreams, type Upstreams } from '../../src/demo/upstreams.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { execute, flow, hedge, pipe, retry } from '../../src/index.js'
import { instrumentFanout, type FanoutInstrumentation } from '../../src/otel/index.js'
import { memoryQueue } from '../../src/queue/index.js'
import { closeAll, serve } from '../helpers/upstream.js'
import { spanTree, startSdk, type Sdk } from './helpers.js'

let sdk: Sdk
let otel: FanoutInstrumentation | undefined
const cleanups: (() => Promise<void> | void)[] = []

beforeEach(() => {
  sdk = startSdk()
})
afterEach(async () => {
  otel?.stop()
  otel = undefined
  for (const fn of cleanups.splice(0).reverse()) await fn()
  await closeAll()
  await sdk.shutdown()
})

const KIND = ['internal', 'server', 'client', 'producer', 'consumer']
const label = (s: ReadableSpan): string => `${s.name} (${KIND[s.kind]})`

/** The demo's upstreams (no failures, no slow tail) and fanout's page over them. */
async function productPage(): Promise<{
  upstreams: Upstreams
  load: () => Promise<unknown>
  client: HttpClient
}> {
  const upstreams = await startUpstreams({ seed: 1, failureRate: 0, slowRate: 0 })
  const client = createHttpClient({ ssrf: { allow: ['loopback'] }, connections: 32, retry: false })
  const queue = memoryQueue()
  cleanups.push(
    () => upstreams.close(),
    () => client.close(),
    () => queue.close(),
  )
  const page = fanoutPage(client, upstreams.urls, { queue })
  return { upstreams, client, load: () => page({ productId: 3, token: DEMO_TOKEN }) }
}

/** The product reads the page made: 1, or 2 when its hedge fired. */
function hedgesOf(u: Upstreams): number {
  const reads = u.counts.requests.products
  expect([1, 2]).toContain(reads)
  return reads
}

const upstreamRequests = (u: Upstreams): number =>
  Object.values(u.counts.requests).reduce((a, b) => a + b, 0)

/**
 * The page's tree. The product read is hedged: on a slow machine the hedge fires and a second
 * `hedge products` attempt (with its own request) runs beside the primary — `hedges` of them.
 */
const PAGE_TREE = (http: string, hedges = 1): string[] => [
  'flow fanout (internal)',
  '  task auth (internal)',
  `    ${http}`,
  '  task authors (internal)',
  '    batch profiles (internal)',
  '      attempt profiles (internal)',
  `        ${http}`,
  ...Array.from({ length: 8 }, () => '    cache profiles (internal)'),
  '  task product (internal)',
  '    attempt products (internal)',
  ...Array.from({ length: hedges }, () => [
    '      hedge products (internal)',
    `        ${http}`,
  ]).flat(),
  '    cache products (internal)',
  '  task recommendations (internal)',
  `    ${http}`,
  '  task recompute (internal)',
  '  task reviews (internal)',
  '    attempt reviews (internal)',
  `      ${http}`,
  '  task stock (internal)',
  '    attempt stock (internal)',
  `      ${http}`,
]

describe('fanout/otel', () => {
  it('makes the product page’s exact span tree, with one client span per upstream request', async () => {
    otel = instrumentFanout()
    const { upstreams, load } = await productPage()
    await load()
    const hedges = hedgesOf(upstreams)
    expect(spanTree(sdk.spans(), label)).toEqual(PAGE_TREE('GET (client)', hedges))
    const clients = sdk.spans().filter((s) => s.kind === SpanKind.CLIENT)
    expect(clients).toHaveLength(upstreamRequests(upstreams))
    expect(clients.map((s) => s.attributes['url.full']).sort()).toEqual(
      [
        `${upstreams.urls.auth}/session`,
        `${upstreams.urls.inventory}/stock/3`,
        ...Array.from({ length: hedges }, () => `${upstreams.urls.products}/products/3`),
        `${upstreams.urls.recommendations}/recommendations`,
        `${upstreams.urls.reviews}/products/3/reviews`,
        `${upstreams.urls.users}/users`,
      ].sort(),
    )
    for (const s of clients) {
      expect(s.attributes['http.request.method']).toBe('GET')
      // A 200, or the losing hedge of the product read, cut off (ERROR with its code).
      if (s.attributes['http.response.status_code'] !== 200) {
        expect(s.attributes['url.full']).toBe(`${upstreams.urls.products}/products/3`)
        expect(s.attributes['error.type']).toBeTypeOf('string')
      }
      expect(s.attributes['server.address']).toBe('127.0.0.1')
      expect(typeof s.attributes['server.port']).toBe('number')
    }
    // One trace: everything under the run.
    expect(new Set(sdk.spans().map((s) => s.spanContext().traceId)).size).toBe(1)
  })

  it('leaves the client spans to instrumentation-undici when it is active, nested under fanout’s', async () => {
    const undici = new UndiciInstrumentation()
    undici.setTracerProvider(sdk.tracerProvider)
    undici.enable()
    cleanups.push(() => undici.disable())
    otel = instrumentFanout()
    const { upstreams, load } = await productPage()
    await load()
    const clients = sdk.spans().filter((s) => s.kind === SpanKind.CLIENT)
    expect(clients).toHaveLength(upstreamRequests(upstreams))
    const hedges = hedgesOf(upstreams)
    // Only undici's: they carry its instrumentation scope, not fanout's.
    expect(new Set(clients.map((s) => s.instrumentationScope.name))).toEqual(
      new Set(['@opentelemetry/instrumentation-undici']),
    )
    expect(spanTree(sdk.spans(), label)).toEqual(PAGE_TREE('GET (client)', hedges))
  })

  it('nests the run under the incoming request’s span and sends its context upstream', async () => {
    otel = instrumentFanout()
    const upstream = await serve((_req, res) => res.end('{"ok":true}'))
    const client = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
    cleanups.push(() => client.close())
    const server = trace.getTracer('app').startSpan('GET /page', { kind: SpanKind.SERVER })
    await context.with(trace.setSpan(context.active(), server), () =>
      flow('page')
        .task('data', (_, ctx) => client.json(upstream.url('/data?token=s3cr3t'), { context: ctx }))
        .run(),
    )
    server.end()
    expect(spanTree(sdk.spans(), label)).toEqual([
      'GET /page (server)',
      '  flow page (internal)',
      '    task data (internal)',
      '      GET (client)',
    ])
    const client_ = sdk.spans().find((s) => s.kind === SpanKind.CLIENT)!
    const header = upstream.seen[0]!.headers['traceparent']
    expect(header).toBe(`00-${client_.spanContext().traceId}-${client_.spanContext().spanId}-01`)
    expect(client_.attributes['url.full']).toBe(upstream.url('/data'))
  })

  it('marks failures with error.type, never the message, and counts retries', async () => {
    otel = instrumentFanout()
    let calls = 0
    const call = pipe(retry({ maxAttempts: 2, baseDelay: 1 })).wrap(async () => {
      calls++
      throw Object.assign(new Error('GET https://u:pw@host/?key=s3cr3t failed'), {
        code: 'ECONNRESET',
      })
    })
    await expect(execute(call, { name: 'lookup' })).rejects.toThrow()
    expect(calls).toBe(2)
    const spans = sdk.spans()
    expect(spanTree(spans, label)).toEqual([
      'call lookup (internal)',
      '  attempt lookup (internal)',
      '  attempt lookup (internal)',
    ])
    for (const s of spans) {
      expect(s.status.code).toBe(SpanStatusCode.ERROR)
      expect(s.status.message ?? '').toBe('')
      expect(s.attributes['error.type']).toBe('ECONNRESET')
      expect(s.events.filter((e) => e.name === 'exception')).toEqual([])
      expect(JSON.stringify([s.attributes, s.events])).not.toContain('s3cr3t')
    }
    const run = spans.find((s) => s.name === 'call lookup')!
    expect(run.events.map((e) => e.name)).toEqual(['fanout.retry.scheduled'])
    expect(await sdk.metric('fanout.retries')).toEqual([
      { attributes: { 'fanout.retry.reason': 'backoff' }, value: 1 },
    ])
    expect(await sdk.metric('fanout.policy.events')).toEqual([
      { attributes: { 'fanout.event': 'retry.scheduled' }, value: 1 },
    ])
  })

  it('ends a losing hedge as aborted, not as an error', async () => {
    otel = instrumentFanout()
    let n = 0
    const call = pipe(hedge({ idempotent: true, delay: 10 })).wrap(
      ({ signal }) =>
        new Promise<string>((resolve, reject) => {
          if (++n > 1) return resolve('hedge')
          const timer = setTimeout(() => resolve('primary'), 2_000)
          signal.addEventListener('abort', () => {
            clearTimeout(timer)
            reject(signal.reason)
          })
        }),
    )
    expect(await execute(call, { name: 'search' })).toBe('hedge')
    await new Promise((resolve) => setTimeout(resolve, 0))
    const hedges = sdk.spans().filter((s) => s.name === 'hedge search')
    expect(hedges.map((s) => s.attributes['fanout.hedge']).sort()).toEqual([0, 1])
    const primary = hedges.find((s) => s.attributes['fanout.hedge'] === 0)!
    expect(primary.attributes['fanout.outcome']).toBe('aborted')
    expect(primary.status.code).toBe(SpanStatusCode.UNSET)
    const call_ = sdk.spans().find((s) => s.name === 'call search')!
    expect(call_.events.map((e) => e.name)).toEqual(['fanout.hedge.fired', 'fanout.hedge.won'])
  })

  it('records http.client.request.duration, cache results and in-flight tasks', async () => {
    otel = instrumentFanout()
    const { load } = await productPage()
    await load()
    await load()
    const durations = await sdk.metric('http.client.request.duration')
    expect(durations.length).toBeGreaterThan(0)
    for (const point of durations) {
      expect(point.attributes['http.request.method']).toBe('GET')
      // A 200, or a hedge's losing request, cut off once the other won.
      if (point.attributes['http.response.status_code'] !== 200)
        expect(point.attributes['error.type']).toBeTypeOf('string')
    }
    const cache = await sdk.metric('fanout.cache.requests')
    const products = cache.filter((p) => p.attributes['fanout.cache.name'] === 'products')
    expect(products).toEqual(
      expect.arrayContaining([
        {
          attributes: { 'fanout.cache.name': 'products', 'fanout.cache.result': 'miss' },
          value: 1,
        },
        { attributes: { 'fanout.cache.name': 'products', 'fanout.cache.result': 'hit' }, value: 1 },
      ]),
    )
    expect(await sdk.metric('fanout.task.active')).toEqual([
      { attributes: { 'fanout.flow.name': 'fanout' }, value: 0 },
    ])
  })

  it('stops: no more spans, and fanout publishes nothing', async () => {
    otel = instrumentFanout()
    otel.stop()
    await flow('quiet')
      .task('a', async () => 1)
      .run()
    expect(sdk.spans()).toEqual([])
  })

  it('refuses a second instrumentation and bad options', () => {
    otel = instrumentFanout()
    expect(() => instrumentFanout()).toThrow(/already instrumented/)
    otel.stop()
    otel = undefined
    expect(() => instrumentFanout({ httpSpans: 'yes' as never })).toThrow(/httpSpans/)
    expect(() => instrumentFanout({ tracerProvider: {} as never })).toThrow(/TracerProvider/)
    expect(() => instrumentFanout({ metric: false } as never)).toThrow(/metric/)
  })

  it('makes no client span with httpSpans: false, and metrics can be off', async () => {
    otel = instrumentFanout({ httpSpans: false, metrics: false })
    const { load } = await productPage()
    await load()
    expect(sdk.spans().filter((s) => s.kind === SpanKind.CLIENT)).toEqual([])
    expect(await sdk.metric('fanout.task.active')).toEqual([])
  })
})

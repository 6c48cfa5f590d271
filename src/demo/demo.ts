/**
 * `fanout demo`: starts the simulated upstreams, loads the product page N times each way, and
 * reports what each way cost — latency percentiles, upstream calls, 429s, errors absorbed and
 * surfaced — with the waterfall of one typical load per way.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { createHttpClient, type HttpClient } from '../http/index.js'
import { mapLimit, renderWaterfall, type FlowTrace } from '../index.js'
import { seededRandom } from '../core/random.js'
import { startBackground, type BackgroundReport } from './background.js'
import { fanoutPage, naivePage, sequentialPage, type LoadPage, type PageHttp } from './page.js'
import {
  DEMO_TOKEN,
  PRODUCT_COUNT,
  startUpstreams,
  UPSTREAMS,
  type Upstreams,
} from './upstreams.js'

export interface DemoOptions {
  /** Page loads per way. Default 100. */
  readonly loads?: number
  /** Page loads in progress at once (concurrent visitors). Default 8. */
  readonly concurrency?: number
  /** Share of upstream answers that are a 5xx. Default 0.02. */
  readonly failureRate?: number
  readonly seed?: number
  /** Multiplies every upstream latency (tests use a small one). Default 1. */
  readonly latencyScale?: number
  /** Where the report goes, a line at a time. */
  readonly print?: (line: string) => void
  /** Progress updates for long runs (e.g. a status line on a terminal); called at most every 100 ms after the first second. */
  readonly progress?: ((text: string | undefined) => void) | undefined
  readonly color?: boolean
  /** Width of the waterfalls. Default 60. */
  readonly width?: number
}

export interface WayReport {
  readonly way: string
  readonly loads: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  /** Requests the upstreams received. */
  readonly upstreamCalls: number
  /** 429s the upstreams answered. */
  readonly throttled: number
  /** 5xx and 429 answers the upstreams gave. */
  readonly upstreamErrors: number
  /** Page loads that failed: the error reached the visitor. */
  readonly surfaced: number
  /** Failed upstream calls (an error status, a network error, a timeout) in page loads that still rendered: retried, or an optional part fell back. */
  readonly absorbed: number
  /** The load whose time was closest to the median. */
  readonly typical: FlowTrace | undefined
  /** The work this way offloaded, once settled (fanout only; its upstream calls are counted). */
  readonly background?: BackgroundReport
}

export interface DemoReport {
  readonly ways: readonly WayReport[]
  readonly seconds: number
}

const WAYS = ['sequential', 'naive Promise.all', 'fanout'] as const

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const loads = options.loads ?? 100
  const concurrency = options.concurrency ?? 8
  const seed = options.seed ?? 1
  const print = options.print ?? (() => {})
  const started = performance.now()
  const upstreams = await startUpstreams({
    seed,
    failureRate: options.failureRate ?? 0.02,
    latencyScale: options.latencyScale ?? 1,
  })
  // One client for every way (the same keep-alive pools): only the orchestration differs, so the
  // client itself does not retry — the fanout way's retries are its policies'.
  const client = createHttpClient({ ssrf: { allow: ['loopback'] }, connections: 32, retry: false })
  const http = countingFailures(client)
  const background = startBackground(http, upstreams.urls)
  const reports: WayReport[] = []
  try {
    const pages: Record<(typeof WAYS)[number], LoadPage> = {
      sequential: sequentialPage(http, upstreams.urls),
      'naive Promise.all': naivePage(http, upstreams.urls),
      fanout: fanoutPage(http, upstreams.urls, background.jobs),
    }
    // The same visitors, in the same order, for each way.
    const random = seededRandom(seed)
    const products = Array.from({ length: loads }, () => 1 + Math.floor(random() * PRODUCT_COUNT))
    // Warm the sockets once, uncounted.
    await Promise.allSettled(WAYS.map((way) => pages[way]({ productId: 1, token: DEMO_TOKEN })))
    for (const way of WAYS) {
      upstreams.reset()
      background.begin()
      // The offloaded recomputes are part of fanout's cost: they are waited for (after the
      // page loads were timed) so the upstream counts include them.
      const settle = way === 'fanout' ? () => background.settle(30_000) : undefined
      reports.push(
        await measure(way, pages[way], products, concurrency, upstreams, options.progress, settle),
      )
    }
  } finally {
    options.progress?.(undefined)
    await background.close()
    await client.close()
    await upstreams.close()
  }
  const report: DemoReport = { ways: reports, seconds: (performance.now() - started) / 1000 }
  for (const line of formatReport(report, {
    loads,
    concurrency,
    failureRate: options.failureRate ?? 0.02,
    seed,
    color: options.color ?? false,
    width: options.width ?? 60,
  }))
    print(line)
  return report
}

/** The failed calls of the page load in progress (work a load starts, like a batch, counts for it). */
const currentLoad = new AsyncLocalStorage<{ failedCalls: number }>()

function countingFailures(client: HttpClient): PageHttp {
  return {
    json: <T>(url: string, options?: Parameters<PageHttp['json']>[1]) =>
      client.json<T>(url, options).catch((error: unknown) => {
        const load = currentLoad.getStore()
        if (load !== undefined) load.failedCalls++
        throw error
      }),
  }
}

async function measure(
  way: string,
  load: LoadPage,
  products: readonly number[],
  concurrency: number,
  upstreams: Upstreams,
  progress: DemoOptions['progress'],
  settle?: () => Promise<BackgroundReport>,
): Promise<WayReport> {
  const times: number[] = []
  const traces: FlowTrace[] = []
  let surfaced = 0
  let absorbed = 0
  let done = 0
  const t0 = performance.now()
  let shownAt = 0
  await mapLimit(
    products,
    async (productId) => {
      const start = performance.now()
      let trace: FlowTrace | undefined
      const calls = { failedCalls: 0 }
      try {
        await currentLoad.run(calls, () =>
          load({ productId, token: DEMO_TOKEN }, (t) => (trace = t)),
        )
        times.push(performance.now() - start)
        if (trace !== undefined) traces.push(trace)
        absorbed += calls.failedCalls
      } catch {
        surfaced++
      }
      done++
      const now = performance.now()
      if (progress !== undefined && now - t0 > 1_000 && now - shownAt > 100) {
        shownAt = now
        progress(`loading the page ${way}: ${done}/${products.length}`)
      }
    },
    { concurrency },
  )
  const background = await settle?.()
  const sorted = [...times].sort((a, b) => a - b)
  const p50 = percentile(sorted, 0.5)
  const counts = upstreams.counts
  const upstreamErrors = counts.failed + counts.throttled
  return {
    way,
    loads: products.length,
    p50,
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    upstreamCalls: UPSTREAMS.reduce((sum, name) => sum + counts.requests[name], 0),
    throttled: counts.throttled,
    upstreamErrors,
    surfaced,
    absorbed,
    typical: traces.reduce<FlowTrace | undefined>(
      (best, t) =>
        best === undefined || Math.abs(t.duration - p50) < Math.abs(best.duration - p50) ? t : best,
      undefined,
    ),
    ...(background === undefined ? {} : { background }),
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}

interface FormatOptions {
  readonly loads: number
  readonly concurrency: number
  readonly failureRate: number
  readonly seed: number
  readonly color: boolean
  readonly width: number
}

export function formatReport(report: DemoReport, o: FormatOptions): string[] {
  const lines: string[] = []
  lines.push(
    `fanout demo — a product page over 6 simulated upstreams (auth, products, inventory, reviews, users with a batch endpoint and a rate limit, recommendations)`,
  )
  lines.push(
    `${o.loads} page loads per way, ${o.concurrency} at a time, ${(o.failureRate * 100).toFixed(1)} % of upstream answers a 5xx, 5 % in a slow tail, seed ${o.seed}`,
  )
  for (const way of report.ways) {
    lines.push('')
    lines.push(`── ${way.way}: one typical load ──`)
    if (way.typical === undefined) lines.push('(every load failed)')
    else lines.push(...renderWaterfall(way.typical, { width: o.width, color: o.color }).split('\n'))
  }
  lines.push('')
  const header = [
    'way',
    'p50',
    'p95',
    'p99',
    'upstream calls',
    '429s received',
    '5xx/429 answered',
    'errors absorbed',
    'pages failed',
  ]
  const rows = report.ways.map((w) => [
    w.way,
    ms(w.p50),
    ms(w.p95),
    ms(w.p99),
    String(w.upstreamCalls),
    String(w.throttled),
    String(w.upstreamErrors),
    String(w.absorbed),
    `${w.surfaced} of ${w.loads}`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  lines.push(line(header))
  lines.push(widths.map((w) => '─'.repeat(w)).join('  '))
  for (const row of rows) lines.push(line(row))
  const [seq, naive, fan] = report.ways
  if (seq !== undefined && naive !== undefined && fan !== undefined) {
    lines.push('')
    lines.push(
      `fanout: ${compareP50(fan, seq)} and ${compareP50(fan, naive)}; ` +
        `${fan.upstreamCalls} upstream calls vs ${naive.upstreamCalls} (batching and caching); ${fan.throttled} 429s received, ${fan.surfaced} page loads failed.`,
    )
  }
  for (const w of report.ways)
    if (w.background !== undefined) lines.push(backgroundLine(w.background))
  lines.push(
    'errors absorbed: failed upstream calls in page loads that still rendered (retried, or an optional part fell back); pages failed: loads whose error reached the visitor.',
  )
  lines.push(`(${report.seconds.toFixed(1)} s in all)`)
  return lines
}

/** What fanout did with the slow recompute instead of waiting for it. */
export function backgroundLine(b: BackgroundReport): string {
  const answer = b.firstAnswer === undefined ? '' : ` (${b.firstAnswer})`
  const unfinished =
    b.unfinished > 0 ? `, ${b.unfinished} still running when the demo stopped waiting` : ''
  return (
    `recompute recommendations: the hand-written ways wait for it in the request; fanout offloaded it ${b.offloads} times${answer}, ` +
    `${b.deduplicated} found their product's job already there (Idempotency-Key), and worker() ran ${b.jobs} jobs in the background: ` +
    `${b.completed} completed, ${b.failed} failed${unfinished}.`
  )
}

/**
 * "p50 2.1× faster than sequential", or why there is no ratio: a way whose every load failed has
 * no p50 (a ratio of it would print NaN×).
 */
export function compareP50(fan: WayReport, other: WayReport): string {
  if (Number.isNaN(other.p50))
    return `p50 not comparable with ${other.way} (all ${other.loads} of its loads failed)`
  if (Number.isNaN(fan.p50))
    return `p50 not comparable with ${other.way} (all ${fan.loads} of fanout's loads failed)`
  const ratio = other.p50 / fan.p50
  return ratio >= 1
    ? `p50 ${ratio.toFixed(1)}× faster than ${other.way}`
    : `p50 ${(1 / ratio).toFixed(1)}× slower than ${other.way}`
}

const ms = (x: number): string => (Number.isNaN(x) ? '—' : `${x.toFixed(0)} ms`)

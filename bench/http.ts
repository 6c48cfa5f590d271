/**
 * `http`: what does fanout's HTTP client cost per request against the clients people use?
 *
 * 5,000 GETs of a small JSON body (about 50 bytes) at concurrency 64 against one in-process
 * node:http server on 127.0.0.1 with keep-alive; every contender reads the body and parses the
 * JSON. Contenders:
 *
 * - `fanout`: `createHttpClient({ ssrf: { allow: ['loopback'] } })` from the built dist,
 *   `(await client.get(url)).json()` (64 keep-alive connections per origin, its default; every
 *   GET goes through its default `retry()`, which never fires here);
 * - `fanout-no-retry`: the same with `retry: false`, so the retry wrapper's cost shows;
 * - `fanout-stream`: `client.stream(url)`, the body read with `for await` and parsed;
 * - `fetch`: Node's global `fetch`, `(await fetch(url)).json()`;
 * - `undici-pool`: `undici.request(url, { dispatcher: new Pool(origin, { connections: 64 }) })`,
 *   then `body.json()` — undici's own fast path, the floor fanout builds on;
 * - `node-http`: `http.get` with a keep-alive `Agent({ maxSockets: 64 })`, chunks collected,
 *   `JSON.parse`.
 *
 * Each run is 64 async loops pulling the next index; a request's latency is from its call to its
 * parsed body. 1 warm-up run per contender, then 7 interleaved measured runs; medians of the
 * runs' req/s, p50 and p99. Every run's results (request i answers with id i) are checked after
 * the clock stops. Then how exactly the headers and body limits fire (`phase-timeouts.ts`).
 */
import { Agent as NodeAgent, createServer, get as nodeGet, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool, request as undiciRequest } from 'undici'
import type * as FanoutHttp from '../src/http/index.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'
import { PHASE_TIMEOUT_METRICS, phaseTimeoutBar, phaseTimeouts } from './phase-timeouts.js'

/** fanout/http, compiled (see `fanout.ts` for why dist/ and not src/). */
const { createHttpClient } = (await import(
  new URL('../dist/http/index.js', import.meta.url).href
)) as typeof FanoutHttp

const REQUESTS = 5_000
const CONCURRENCY = 64
const WARMUP = 1
const RUNS = 7

interface Item {
  readonly id: number
}

type Get = (i: number) => Promise<Item>

interface Contender {
  readonly name: string
  readonly get: Get
  close(): Promise<void>
}

function contenders(origin: string): Contender[] {
  const fanout = createHttpClient({ ssrf: { allow: ['loopback'] }, connections: CONCURRENCY })
  const bare = createHttpClient({
    ssrf: { allow: ['loopback'] },
    connections: CONCURRENCY,
    retry: false,
  })
  const pool = new Pool(origin, { connections: CONCURRENCY })
  const agent = new NodeAgent({ keepAlive: true, maxSockets: CONCURRENCY })
  const url = (i: number): string => `${origin}/item?id=${i}`
  return [
    {
      name: 'fanout',
      get: async (i) => (await fanout.get(url(i))).json<Item>(),
      close: () => fanout.close(),
    },
    {
      name: 'fanout-no-retry',
      get: async (i) => (await bare.get(url(i))).json<Item>(),
      close: () => bare.close(),
    },
    {
      name: 'fanout-stream',
      get: async (i) => {
        const res = await fanout.stream(url(i))
        const chunks: Uint8Array[] = []
        for await (const chunk of res.body) chunks.push(chunk)
        return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Item
      },
      close: async () => {},
    },
    {
      name: 'fetch',
      get: async (i) => (await fetch(url(i))).json() as Promise<Item>,
      close: async () => {},
    },
    {
      name: 'undici-pool',
      get: async (i) =>
        (await undiciRequest(url(i), { dispatcher: pool })).body.json() as Promise<Item>,
      close: () => pool.close(),
    },
    {
      name: 'node-http',
      get: (i) =>
        new Promise<Item>((resolve, reject) => {
          nodeGet(url(i), { agent }, (res: IncomingMessage) => {
            const chunks: Buffer[] = []
            res.on('data', (chunk: Buffer) => chunks.push(chunk))
            res.on('end', () => {
              try {
                resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Item)
              } catch (error) {
                reject(error)
              }
            })
            res.on('error', reject)
          }).on('error', reject)
        }),
      close: async () => agent.destroy(),
    },
  ]
}

interface RunResult {
  readonly ms: number
  readonly latencies: Float64Array
  readonly ids: Int32Array
}

async function timeRun(get: Get): Promise<RunResult> {
  const latencies = new Float64Array(REQUESTS)
  const ids = new Int32Array(REQUESTS)
  let next = 0
  const loop = async (): Promise<void> => {
    while (next < REQUESTS) {
      const i = next++
      const t = performance.now()
      const item = await get(i)
      latencies[i] = performance.now() - t
      ids[i] = item.id
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, loop))
  const ms = performance.now() - start
  return { ms, latencies, ids }
}

function check(name: string, ids: Int32Array): void {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== i) throw new Error(`${name}: request ${i} answered with id ${ids[i]}`)
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function percentile(values: Float64Array, p: number): number {
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

async function startServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const id = Number((req.url ?? '').slice('/item?id='.length))
    const body = `{"id":${id},"name":"item-${id}","ok":true}`
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    })
    res.end(body)
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export const http: Benchmark = {
  name: 'http',
  description: `HTTP clients: ${REQUESTS.toLocaleString('en-US')} loopback GETs of a small JSON body at concurrency ${CONCURRENCY} (keep-alive)`,
  async run(ctx: BenchContext): Promise<BenchReport> {
    const server = await startServer()
    const list = contenders(server.origin)
    const rates = new Map<string, number[]>(list.map((c) => [c.name, []]))
    const p50 = new Map<string, number[]>(list.map((c) => [c.name, []]))
    const p99 = new Map<string, number[]>(list.map((c) => [c.name, []]))
    try {
      for (let round = 0; round < WARMUP + RUNS; round++) {
        ctx.progress(`round ${round + 1}/${WARMUP + RUNS}${round < WARMUP ? ' (warm-up)' : ''}`)
        // Rotate the order so no contender always runs right after the same one.
        const order = list.map((_, k) => list[(k + round) % list.length]!)
        for (const c of order) {
          const result = await timeRun(c.get)
          check(c.name, result.ids)
          if (round < WARMUP) continue
          rates.get(c.name)!.push((REQUESTS / result.ms) * 1000)
          p50.get(c.name)!.push(percentile(result.latencies, 50))
          p99.get(c.name)!.push(percentile(result.latencies, 99))
        }
      }
    } finally {
      for (const c of list) await c.close()
      await server.close()
    }
    const measurements: Measurement[] = []
    for (const c of list) {
      measurements.push({
        contender: c.name,
        metric: 'req_per_s',
        value: median(rates.get(c.name)!),
        unit: 'req/s',
      })
      measurements.push({
        contender: c.name,
        metric: 'p50_ms',
        value: median(p50.get(c.name)!),
        unit: 'ms',
      })
      measurements.push({
        contender: c.name,
        metric: 'p99_ms',
        value: median(p99.get(c.name)!),
        unit: 'ms',
      })
    }
    const timeouts = await phaseTimeouts(createHttpClient, (line) => ctx.progress(line))
    measurements.push(...timeouts)
    const timeoutBar = phaseTimeoutBar(timeouts)
    const rate = (name: string): number => median(rates.get(name)!)
    const vsPool = rate('fanout') / rate('undici-pool')
    const vsFetch = rate('fanout') / rate('fetch')
    const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED')
    return {
      measurements,
      notes: [
        `${REQUESTS.toLocaleString('en-US')} GETs per run, ${CONCURRENCY} at a time, against one in-process node:http server on 127.0.0.1 (keep-alive); ` +
          `the body is {"id":i,"name":"item-i","ok":true} and every contender parses it. ${WARMUP} warm-up run per contender, then ${RUNS} interleaved runs; medians. ` +
          "Server and client share the process, so every contender's numbers include the same server cost.",
      ],
      tables: [
        {
          title: `Throughput and latency (median of ${RUNS} runs); req/s higher is better, "vs fanout" = row's req/s ÷ fanout's`,
          metrics: ['req_per_s', 'p50_ms', 'p99_ms'],
          notes: [
            `bar "fanout ≥ 0.95× undici-pool req/s": ${verdict(vsPool >= 0.95)} (${vsPool.toFixed(2)}×).`,
            `bar "fanout ≥ 1.5× fetch req/s": ${verdict(vsFetch >= 1.5)} (${vsFetch.toFixed(2)}×).`,
          ],
        },
        {
          title:
            'Phase timeouts: ms from the call to the rejection for a headers or body limit of 300 / 800 ms (min and max of 20 concurrent requests)',
          metrics: PHASE_TIMEOUT_METRICS,
          notes: [
            `bar "every limit fires within max(25 ms, 5 %) after its value, never before": ${verdict(timeoutBar.met)}${timeoutBar.met ? '' : ` (${timeoutBar.detail})`}.`,
          ],
        },
      ],
    }
  },
}

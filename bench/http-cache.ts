/**
 * `http-cache`: which HTTP caches do what a shared cache must (RFC 9111)?
 *
 * Not a speed benchmark: the scenario table of `http-cache-cases.ts` (freshness, no-store,
 * private, Authorization, Set-Cookie, s-maxage, Vary, 304s, must-revalidate, stale-if-error,
 * stale-while-revalidate, unsafe-method invalidation, Expires) runs through each contender with a
 * fresh cache per case, against one in-process node:http upstream on 127.0.0.1. A case is
 * correct when every step's status and body, and the number of requests the upstream saw, are
 * what the RFC asks of a shared cache. Contenders:
 *
 * - `fanout`: `createHttpClient({ cache: { store: memoryCacheStore(...) } })` (shared by default);
 * - `undici-cache`: undici 7's `interceptors.cache({ store: new cacheStores.MemoryCacheStore(),
 *   type: 'shared' })` composed on an `Agent`, with `undici.request`;
 * - `got-cache`: got 14 with `cache: new Map()` (cacheable-request over http-cache-semantics,
 *   `cacheOptions: { shared: true }`).
 *
 * Time: `Date.now` is moved forward by the steps' `advance` (every contender reads it; fanout gets
 * a clock on it), and the upstream's `Date` header follows it. Real waits happen only where a
 * background revalidation must land (`settle`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, cacheStores, interceptors, request as undiciRequest } from 'undici'
import got from 'got'
import type * as FanoutHttp from '../src/http/index.js'
import type * as FanoutCache from '../src/cache/index.js'
import type { BenchReport, Benchmark, Measurement } from './harness.js'
import { CASES, type CacheCase, type SeenRequest, type Step } from './http-cache-cases.js'

/** fanout, compiled (see `fanout.ts` for why dist/ and not src/). */
const { createHttpClient } = (await import(
  new URL('../dist/http/index.js', import.meta.url).href
)) as typeof FanoutHttp
const { memoryCacheStore } = (await import(
  new URL('../dist/cache/index.js', import.meta.url).href
)) as typeof FanoutCache

interface Answer {
  readonly status: number
  readonly body: string
  readonly headers: Readonly<Record<string, unknown>>
}

interface CacheClient {
  send(url: string, step: Step): Promise<Answer>
  close(): Promise<void>
}

interface Contender {
  readonly name: string
  /** A client with an empty cache. */
  make(): CacheClient
}

const realNow = Date.now.bind(Date)
let offset = 0
const virtualNow = (): number => realNow() + offset

const virtualClock = {
  now: virtualNow,
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
}

const bodyOf = (step: Step): string | undefined => (step.method === 'POST' ? '{}' : undefined)

const CONTENDERS: readonly Contender[] = [
  {
    name: 'fanout',
    make() {
      const client = createHttpClient({
        ssrf: { allow: ['loopback'] },
        retry: false,
        clock: virtualClock,
        cache: { store: memoryCacheStore({ maxEntries: 1_000, clock: virtualClock }) },
      })
      return {
        async send(url, step) {
          const body = bodyOf(step)
          const r = await client.request(url, {
            method: step.method ?? 'GET',
            headers: step.headers ?? {},
            ...(body !== undefined ? { body } : {}),
          })
          return { status: r.status, body: r.text(), headers: r.headers }
        },
        close: () => client.close(),
      }
    },
  },
  {
    name: 'undici-cache',
    make() {
      const agent = new Agent()
      const dispatcher = agent.compose(
        interceptors.cache({ store: new cacheStores.MemoryCacheStore(), type: 'shared' }),
      )
      return {
        async send(url, step) {
          const r = await undiciRequest(url, {
            dispatcher,
            method: (step.method ?? 'GET') as 'GET',
            headers: step.headers ?? {},
            body: bodyOf(step) ?? null,
          })
          return { status: r.statusCode, body: await r.body.text(), headers: r.headers }
        },
        close: () => agent.close(),
      }
    },
  },
  {
    name: 'got-cache',
    make() {
      const client = got.extend({
        cache: new Map(),
        cacheOptions: { shared: true },
        retry: { limit: 0 },
        throwHttpErrors: false,
      })
      return {
        async send(url, step) {
          const r = await client(url, {
            method: (step.method ?? 'GET') as 'GET',
            headers: step.headers ?? {},
            body: bodyOf(step),
          })
          return { status: r.statusCode, body: r.body, headers: r.headers }
        },
        close: () => Promise.resolve(),
      }
    },
  },
]

/** The upstream: each path is one (contender, case) pair with its own request count. */
async function startUpstream(): Promise<{
  origin: string
  calls(path: string): number
  close(): Promise<void>
}> {
  const calls = new Map<string, number>()
  const cases = new Map(CASES.map((c) => [c.id, c]))
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on('end', () => {
      const path = req.url ?? '/'
      const n = (calls.get(path) ?? 0) + 1
      calls.set(path, n)
      const spec = cases.get(path.split('/')[2] ?? '')
      if (spec === undefined) return void res.writeHead(404).end()
      const seen: SeenRequest = { method: req.method ?? 'GET', headers: req.headers }
      const reply = spec.reply(seen, n)
      if (reply.reset === true) return void res.socket?.resetAndDestroy()
      const headers = { date: new Date(virtualNow()).toUTCString(), ...reply.headers }
      res.writeHead(reply.status ?? 200, headers).end(reply.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: (path) => calls.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Runs one case through a fresh client; undefined when correct, else what went wrong. */
async function runCase(
  contender: Contender,
  spec: CacheCase,
  upstream: Awaited<ReturnType<typeof startUpstream>>,
): Promise<string | undefined> {
  const path = `/${contender.name}/${spec.id}`
  const client = contender.make()
  offset = 0
  try {
    for (const [i, step] of spec.steps.entries()) {
      offset += step.advance ?? 0
      if (step.settle !== undefined) await new Promise((r) => setTimeout(r, step.settle))
      let answer: Answer
      try {
        answer = await client.send(upstream.origin + path, step)
      } catch (error) {
        return `step ${i + 1}: threw ${error instanceof Error ? error.name : String(error)}`
      }
      const calls = upstream.calls(path)
      const wanted = step.status ?? 200
      if (answer.status !== wanted)
        return `step ${i + 1}: status ${answer.status} (body ${JSON.stringify(answer.body)}), want ${wanted}`
      if (step.body !== undefined && answer.body !== step.body)
        return `step ${i + 1}: body ${JSON.stringify(answer.body)}, want ${JSON.stringify(step.body)}`
      if (step.calls !== undefined && calls !== step.calls)
        return `step ${i + 1}: upstream saw ${calls} requests, want ${step.calls}`
    }
    return undefined
  } finally {
    offset = 0
    await client.close()
  }
}

export const httpCache: Benchmark = {
  name: 'http-cache',
  description: `HTTP caches: ${CASES.length} RFC 9111 scenarios for a shared cache (a BFF), judged from the outside`,
  async run(ctx): Promise<BenchReport> {
    const upstream = await startUpstream()
    const measurements: Measurement[] = []
    const notes: string[] = []
    Date.now = virtualNow
    try {
      for (const contender of CONTENDERS) {
        ctx.progress(contender.name)
        let correct = 0
        let shared = 0
        for (const spec of CASES) {
          const wrong = await runCase(contender, spec, upstream)
          if (wrong === undefined) {
            correct++
            if (spec.shared) shared++
          } else
            notes.push(`${contender.name} ✗ ${spec.id}${spec.shared ? ' [shared]' : ''}: ${wrong}`)
        }
        measurements.push(
          { contender: contender.name, metric: 'cases_correct', value: correct, unit: 'cases' },
          {
            contender: contender.name,
            metric: 'shared_cases_correct',
            value: shared,
            unit: 'cases',
          },
        )
      }
    } finally {
      Date.now = realNow
      await upstream.close()
    }
    const sharedTotal = CASES.filter((c) => c.shared).length
    return {
      measurements,
      notes: [
        `${CASES.length} cases (${sharedTotal} about shared-store correctness: private, Authorization, Set-Cookie, s-maxage, Vary); a fresh cache per case`,
        ...CASES.map((c) => `${c.id}${c.shared ? ' [shared]' : ''}: ${c.title}`),
      ],
      tables: [
        {
          title: 'cases handled correctly (higher is better)',
          metrics: ['cases_correct', 'shared_cases_correct'],
          notes: notes.length > 0 ? notes : ['every contender handled every case'],
        },
      ],
    }
  },
}

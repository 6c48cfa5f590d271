/**
 * `otel`: what observing costs.
 *
 * 1. Diagnostics compiled in, nobody subscribed: fanout as built (`fanout`) against the same
 *    build with its diagnostics module replaced by an inert one (`without-diagnostics`, a copy
 *    of dist/ made here), on the `dag` bench's overhead workload (10,000 zero-latency tasks), on
 *    a policy-wrapped call (`execute(pipe(retry(), timeout()))`), and on the `http` bench's
 *    workload (loopback GETs through fanout/http). The ratio is the price of having the channels.
 * 2. OpenTelemetry on: a retried call whose one attempt succeeds makes two spans (the call and
 *    its attempt). Its cost over the same call uninstrumented, per span, minus what the SDK
 *    itself charges for a span made current around an async function (`sdk-span`), is fanout's
 *    own cost per attempt span (`per_attempt_over_sdk_ns`).
 *
 * Rounds interleave the contenders so drift in the machine's speed hits both alike, each run after
 * a full garbage collection.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { context, trace, type Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type * as Fanout from '../src/index.js'
import type * as FanoutHttp from '../src/http/index.js'
import type * as FanoutOtel from '../src/otel/index.js'
import { median, randomDag, body, type Dag } from './dag-shape.js'
import { gc } from './gc.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'

const DAG_TASKS = 10_000
const CALLS = 20_000
const REQUESTS = 2_000
const CONCURRENCY = 32
/** Rounds per contender: the ratios sought are a few percent, so more than the other benches take. */
const ROUNDS = 15
const SPAN_CALLS = 20_000

interface Build {
  readonly name: string
  readonly core: typeof Fanout
  readonly http: typeof FanoutHttp
}

/** The inert diagnostics module: the exports of src/core/diagnostics.ts, with no channel. */
const INERT = `
const INERT = Object.freeze({ hasSubscribers: false, publish() {} })
export const eventChannel = INERT
export const runChannel = undefined
export const taskChannel = undefined
export const attemptChannel = undefined
export const requestChannel = undefined
export const batchChannel = undefined
export function traced(_channel, _message, fn) { return fn() }
export function subscribed() { return false }
`

/** A copy of dist/ without diagnostics, under node_modules so it resolves the same peers. */
async function withoutDiagnostics(): Promise<Build> {
  const dist = fileURLToPath(new URL('../dist', import.meta.url))
  const root = fileURLToPath(new URL('../node_modules/.cache/fanout-bench-otel', import.meta.url))
  rmSync(root, { recursive: true, force: true })
  mkdirSync(root, { recursive: true })
  cpSync(dist, `${root}/dist`, { recursive: true })
  writeFileSync(`${root}/dist/core/diagnostics.js`, INERT)
  return {
    name: 'without-diagnostics',
    core: (await import(`${root}/dist/index.js`)) as typeof Fanout,
    http: (await import(`${root}/dist/http/index.js`)) as typeof FanoutHttp,
  }
}

async function built(): Promise<Build> {
  return {
    name: 'fanout',
    core: (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof Fanout,
    http: (await import(
      new URL('../dist/http/index.js', import.meta.url).href
    )) as typeof FanoutHttp,
  }
}

interface LooseFlow {
  task(
    name: string,
    fn: ($: Readonly<Record<string, Promise<number>>>) => Promise<number>,
  ): LooseFlow
  run(): Promise<unknown>
}

/** The dag bench's overhead workload on one build: ms for one run. */
function dagRun(build: Build, dag: Dag): () => Promise<number> {
  let f = build.core.flow(`dag-${dag.size}`) as unknown as LooseFlow
  for (let i = 0; i < dag.size; i++)
    f = f.task(dag.names[i]!, ($) => body(dag, i, (j) => $[dag.names[j]!]!))
  return async () => {
    const started = performance.now()
    await f.run()
    return performance.now() - started
  }
}

/** CALLS policy-wrapped calls, one after another: ms. */
function policyRun(build: Build): () => Promise<number> {
  const { execute, pipe, retry, timeout } = build.core
  const call = pipe(retry(), timeout(1_000)).wrap(async () => 1)
  return async () => {
    const started = performance.now()
    for (let i = 0; i < CALLS; i++) await execute(call)
    return performance.now() - started
  }
}

/** REQUESTS loopback GETs at CONCURRENCY through fanout/http: ms. */
function httpRun(
  build: Build,
  origin: string,
): { run: () => Promise<number>; close(): Promise<void> } {
  const client = build.http.createHttpClient({
    ssrf: { allow: ['loopback'] },
    retry: false,
    connections: CONCURRENCY,
  })
  return {
    async run() {
      let next = 0
      const started = performance.now()
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < REQUESTS) {
            const id = next++
            await client.json(`${origin}/item?id=${id}`)
          }
        }),
      )
      return performance.now() - started
    },
    close: () => client.close(),
  }
}

async function server(): Promise<{ origin: string; close(): Promise<void> }> {
  const s = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(`{"url":${JSON.stringify(req.url)}}`)
  })
  s.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        s.closeAllConnections()
        s.close(() => resolve())
      }),
  }
}

/** Runs each contender ROUNDS times (after one warm-up), interleaved; median ms per contender. */
async function interleaved(
  ctx: BenchContext,
  label: string,
  runs: Readonly<Record<string, () => Promise<number>>>,
): Promise<Map<string, number>> {
  const names = Object.keys(runs)
  const times = new Map<string, number[]>(names.map((n) => [n, []]))
  for (const n of names) await runs[n]!()
  for (let round = 0; round < ROUNDS; round++) {
    ctx.progress(`${label}: round ${round + 1}/${ROUNDS}`)
    const order = names.map((_, k) => names[(k + round) % names.length]!)
    for (const n of order) {
      // A full collection first, so no run pays for the garbage of the one before.
      gc?.()
      times.get(n)!.push(await runs[n]!())
    }
  }
  return new Map(names.map((n) => [n, median(times.get(n)!)]))
}

async function compiledIn(ctx: BenchContext, out: Measurement[]): Promise<string[]> {
  const builds = [await built(), await withoutDiagnostics()]
  const dag = randomDag(DAG_TASKS, ctx.seed, 0, 0)
  const dagTimes = await interleaved(
    ctx,
    'no subscriber: dag',
    Object.fromEntries(builds.map((b) => [b.name, dagRun(b, dag)])),
  )
  const policyTimes = await interleaved(
    ctx,
    'no subscriber: policies',
    Object.fromEntries(builds.map((b) => [b.name, policyRun(b)])),
  )
  const upstream = await server()
  const clients = builds.map((b) => [b.name, httpRun(b, upstream.origin)] as const)
  let httpTimes: Map<string, number>
  try {
    httpTimes = await interleaved(
      ctx,
      'no subscriber: http',
      Object.fromEntries(clients.map(([n, c]) => [n, c.run])),
    )
  } finally {
    for (const [, c] of clients) await c.close()
    await upstream.close()
  }
  for (const b of builds) {
    out.push(
      {
        contender: b.name,
        metric: 'dag_ns_per_task',
        value: (dagTimes.get(b.name)! * 1e6) / DAG_TASKS,
        unit: 'ns',
      },
      {
        contender: b.name,
        metric: 'policy_ns_per_call',
        value: (policyTimes.get(b.name)! * 1e6) / CALLS,
        unit: 'ns',
      },
      {
        contender: b.name,
        metric: 'http_req_per_s',
        value: (REQUESTS / httpTimes.get(b.name)!) * 1000,
        unit: 'req/s',
      },
    )
  }
  const ratio = (m: Map<string, number>): string =>
    (m.get('fanout')! / m.get('without-diagnostics')!).toFixed(3)
  out.push(
    {
      contender: 'fanout',
      metric: 'dag_time_vs_without',
      value: Number(ratio(dagTimes)),
      unit: 'x',
    },
    {
      contender: 'fanout',
      metric: 'policy_time_vs_without',
      value: Number(ratio(policyTimes)),
      unit: 'x',
    },
    {
      contender: 'fanout',
      metric: 'http_time_vs_without',
      value: Number(ratio(httpTimes)),
      unit: 'x',
    },
  )
  return [
    `Diagnostics compiled in, no subscriber: time ÷ the same build without them: dag ${ratio(dagTimes)}, policies ${ratio(policyTimes)}, http ${ratio(httpTimes)} (1.00 = free; the bar is ≤ 1.02).`,
  ]
}

/** A span processor that keeps nothing: the cost measured is making spans, not exporting them. */
const dropAll: SpanProcessor = {
  onStart() {},
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
}

/** The SDK alone: a span made current around an async function, as fanout makes each. */
function sdkSpans(tracer: Tracer): () => Promise<number> {
  const work = async (): Promise<number> => 1
  return async () => {
    const started = performance.now()
    for (let i = 0; i < SPAN_CALLS; i++) {
      const parent = context.active()
      const span = tracer.startSpan('attempt x', { attributes: { 'fanout.attempt': 1 } }, parent)
      await context.with(trace.setSpan(parent, span), work)
      span.end()
    }
    return performance.now() - started
  }
}

async function withOtel(ctx: BenchContext, out: Measurement[]): Promise<string[]> {
  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  const provider = new BasicTracerProvider({ spanProcessors: [dropAll] })
  const tracer = provider.getTracer('bench')
  const fanout = await built()
  const otel = (await import(
    new URL('../dist/otel/index.js', import.meta.url).href
  )) as typeof FanoutOtel
  const { execute, pipe, retry } = fanout.core
  const call = pipe(retry()).wrap(async () => 1)
  const calls = async (): Promise<number> => {
    const started = performance.now()
    for (let i = 0; i < SPAN_CALLS; i++) await execute(call)
    return performance.now() - started
  }
  let instrumentation: FanoutOtel.FanoutInstrumentation | undefined
  const on = async (): Promise<number> => {
    instrumentation = otel.instrumentFanout({ tracerProvider: provider, metrics: false })
    try {
      return await calls()
    } finally {
      instrumentation.stop()
    }
  }
  const times = await interleaved(ctx, 'OpenTelemetry', {
    'sdk-span': sdkSpans(tracer),
    'fanout-off': calls,
    'fanout-otel': on,
  })
  await provider.shutdown()
  context.disable()
  const perCall = (n: string): number => (times.get(n)! * 1e6) / SPAN_CALLS
  // Two spans per call: the call's and its attempt's.
  const perSpan = (perCall('fanout-otel') - perCall('fanout-off')) / 2
  const sdk = perCall('sdk-span')
  out.push(
    { contender: 'sdk-span', metric: 'span_ns', value: sdk, unit: 'ns' },
    {
      contender: 'fanout',
      metric: 'call_ns_uninstrumented',
      value: perCall('fanout-off'),
      unit: 'ns',
    },
    { contender: 'fanout', metric: 'call_ns_with_otel', value: perCall('fanout-otel'), unit: 'ns' },
    { contender: 'fanout', metric: 'per_attempt_span_ns', value: perSpan, unit: 'ns' },
    { contender: 'fanout', metric: 'per_attempt_over_sdk_ns', value: perSpan - sdk, unit: 'ns' },
  )
  return [
    `OpenTelemetry on: each attempt span costs ${(perSpan / 1000).toFixed(2)} µs, of which the SDK's own span ${(sdk / 1000).toFixed(2)} µs: fanout adds ${((perSpan - sdk) / 1000).toFixed(2)} µs (the bar is ≤ 2 µs).`,
  ]
}

export const otel: Benchmark = {
  name: 'otel',
  description:
    'the cost of diagnostics with no subscriber (dag, policies, http vs a build without them) and of OpenTelemetry spans per attempt over the SDK’s own',
  async run(ctx): Promise<BenchReport> {
    const measurements: Measurement[] = []
    const notes = [...(await compiledIn(ctx, measurements)), ...(await withOtel(ctx, measurements))]
    return {
      measurements,
      notes,
      tables: [
        {
          title: 'Diagnostics compiled in, no subscriber (fanout vs the same build without them)',
          metrics: ['dag_ns_per_task', 'policy_ns_per_call', 'http_req_per_s'],
          baseline: 'fanout',
        },
        {
          title: 'OpenTelemetry on: per call (two spans) and per attempt span',
          metrics: [
            'span_ns',
            'call_ns_uninstrumented',
            'call_ns_with_otel',
            'per_attempt_span_ns',
            'per_attempt_over_sdk_ns',
          ],
          baseline: 'fanout',
        },
      ],
    }
  },
}

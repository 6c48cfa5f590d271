/**
 * `adapters`: what the request context costs per request, in each framework.
 *
 * One route, `GET /page/:id`, in each framework twice: through fanout's adapter (the flow
 * inherits the request's signal and deadline without being passed anything) and wired by hand
 * the way a careful user would (an AbortController fed by `res` closing before it ended, the
 * budget passed as `deadline`, the listener removed at the end). The route runs the same flow
 * either way: an auth gate, then three data tasks, one reading another, all answering at once,
 * so the framework and the wiring are all there is to measure: the adapter's worst case.
 *
 * Express, Fastify and Hono (@hono/node-server) serve real HTTP on 127.0.0.1, driven by an undici
 * Pool (32 keep-alive connections, 32 loops). Next.js's route handler is called directly with a
 * `Request` (its server cannot run in this process), `withFanout()` against the same handler
 * wired by hand.
 *
 * Why the hand-wired rounds run with AsyncLocalStorage switched off: on Node 20 an enabled
 * AsyncLocalStorage installs async hooks that charge every promise in the process, and the
 * adapters enable it. Disabling fanout's storage before each hand-wired round removes those hooks
 * (when nothing else in the process enabled one), so the ratio includes that cost honestly.
 * `hand+als` is the hand-wired route with the storage enabled, as in an application that already
 * uses one (OpenTelemetry's context manager, an APM, Next.js itself).
 *
 * Rounds interleave the contenders, each after a full garbage collection; the ratio is the median
 * of the rounds' ratios (adapter req/s ÷ hand-wired req/s in the same pair of rounds).
 */
import { createServer as createNodeServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import type * as Core from '../src/index.js'
import type * as Ambient from '../src/core/ambient.js'
import type * as FanoutExpress from '../src/express/index.js'
import type * as FanoutFastify from '../src/fastify/index.js'
import type * as FanoutHono from '../src/hono/index.js'
import type * as FanoutNext from '../src/next/index.js'
import { gc } from './gc.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'

const dist = (path: string): string => new URL(`../dist/${path}`, import.meta.url).href
const core = (await import(dist('index.js'))) as typeof Core
const ambient = (await import(dist('core/ambient.js'))) as typeof Ambient

const REQUESTS = 4_000
const CONCURRENCY = 32
const ROUNDS = 9
const BUDGET = 2_000
const FRAMEWORKS = ['express', 'fastify', 'hono', 'next'] as const

interface PageInput {
  readonly id: string
  readonly token: string | undefined
}

const page = core
  .flow<PageInput>('page')
  .gate('auth', (_, { input }) => {
    if (input.token !== 'Bearer t') throw new Error('unauthorized')
    return { account: 'a1' }
  })
  .tasks({
    product: (_, { input }) => ({ id: input.id, name: `product ${input.id}` }),
    stock: () => ({ available: 3 }),
  })
  .task('reviews', async ($) => [{ product: (await $.product).id, rating: 5 }])

/** A server on 127.0.0.1 that answers `GET /page/:id`. */
interface Served {
  readonly origin: string
  close(): Promise<void>
}

function listen(server: Server): Promise<Served> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}

/** The careful hand-wired context: abort only if the response closed before it ended. */
function handSignal(res: import('node:http').ServerResponse): {
  signal: AbortSignal
  done(): void
} {
  const controller = new AbortController()
  const onClose = (): void => {
    if (!res.writableEnded) controller.abort(new Error('client closed'))
  }
  res.once('close', onClose)
  return { signal: controller.signal, done: () => res.off('close', onClose) }
}

async function expressServers(): Promise<{ hand: Served; adapter: Served }> {
  const express = (await import('express')).default
  const { fanout } = (await import(dist('express/index.js'))) as typeof FanoutExpress
  const hand = express()
  hand.get('/page/:id', async (req, res) => {
    const wired = handSignal(res)
    try {
      const input = { id: req.params.id, token: req.headers.authorization }
      res.json(await page.run(input, { signal: wired.signal, deadline: BUDGET }))
    } finally {
      wired.done()
    }
  })
  const adapted = express()
  adapted.use(fanout({ budget: BUDGET }))
  adapted.get('/page/:id', async (req, res) => {
    res.json(await page.run({ id: req.params.id, token: req.headers.authorization }))
  })
  return {
    hand: await listen(createNodeServer(hand)),
    adapter: await listen(createNodeServer(adapted)),
  }
}

async function fastifyServers(): Promise<{ hand: Served; adapter: Served }> {
  const Fastify = (await import('fastify')).default
  const { fanoutPlugin } = (await import(dist('fastify/index.js'))) as typeof FanoutFastify
  const start = async (app: ReturnType<typeof Fastify>): Promise<Served> => {
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    return { origin: `http://127.0.0.1:${port}`, close: () => app.close() }
  }
  const hand = Fastify()
  hand.get<{ Params: { id: string } }>('/page/:id', async (request, reply) => {
    const wired = handSignal(reply.raw)
    try {
      const input = { id: request.params.id, token: request.headers.authorization }
      return await page.run(input, { signal: wired.signal, deadline: BUDGET })
    } finally {
      wired.done()
    }
  })
  const adapted = Fastify()
  await adapted.register(fanoutPlugin, { budget: BUDGET })
  adapted.get<{ Params: { id: string } }>('/page/:id', async (request) =>
    page.run({ id: request.params.id, token: request.headers.authorization }),
  )
  return { hand: await start(hand), adapter: await start(adapted) }
}

async function honoServers(): Promise<{ hand: Served; adapter: Served }> {
  const { Hono } = await import('hono')
  const { createAdaptorServer } = await import('@hono/node-server')
  const { fanout } = (await import(dist('hono/index.js'))) as typeof FanoutHono
  const hand = new Hono()
  hand.get('/page/:id', async (c) => {
    const input = { id: c.req.param('id'), token: c.req.header('authorization') }
    return c.json(await page.run(input, { signal: c.req.raw.signal, deadline: BUDGET }))
  })
  const adapted = new Hono()
  adapted.use(fanout({ budget: BUDGET }))
  adapted.get('/page/:id', async (c) =>
    c.json(await page.run({ id: c.req.param('id'), token: c.req.header('authorization') })),
  )
  const serve = (app: { fetch: (request: Request) => Response | Promise<Response> }) =>
    listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  return { hand: await serve(hand), adapter: await serve(adapted) }
}

/** Drives `origin` with REQUESTS GETs from CONCURRENCY loops; returns req/s. */
async function drive(pool: Pool): Promise<number> {
  let next = 0
  let failed = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const id = next++
        const res = await pool.request({
          path: `/page/${id % 50}`,
          method: 'GET',
          headers: { authorization: 'Bearer t' },
        })
        const body = (await res.body.json()) as { product?: { id: string } }
        if (res.statusCode !== 200 || body.product?.id !== String(id % 50)) failed++
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  if (failed > 0) throw new Error(`${failed} requests got a wrong answer`)
  return REQUESTS / seconds
}

/** Switches fanout's AsyncLocalStorage off (its hooks go when no other storage is on). */
function alsOff(): void {
  const storage = ambient.ambientStorage() as { disable?: () => void } | undefined
  storage?.disable?.()
}

/** Enables the storage the way an application that already uses one has it. */
function alsOn(): void {
  ambient.ambientStorage()?.run({}, () => {})
}

interface Pair {
  readonly hand: () => Promise<number>
  readonly adapter: () => Promise<number>
}

async function measurePair(
  framework: string,
  pair: Pair,
  ctx: BenchContext,
  out: Measurement[],
): Promise<string> {
  // Warm-up: both paths compiled and their sockets open.
  alsOff()
  await pair.hand()
  await pair.adapter()
  const hand: number[] = []
  const handAls: number[] = []
  const adapter: number[] = []
  const ratios: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    ctx.progress(`adapters: ${framework} round ${round + 1}/${ROUNDS}`)
    alsOff()
    gc?.()
    const h = await pair.hand()
    gc?.()
    const a = await pair.adapter()
    alsOn()
    gc?.()
    const ha = await pair.hand()
    hand.push(h)
    adapter.push(a)
    handAls.push(ha)
    ratios.push(a / h)
  }
  const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!
  out.push(
    { contender: `${framework} hand`, metric: 'req_per_s', value: med(hand), unit: 'req/s' },
    { contender: `${framework} hand+als`, metric: 'req_per_s', value: med(handAls), unit: 'req/s' },
    { contender: `fanout/${framework}`, metric: 'req_per_s', value: med(adapter), unit: 'req/s' },
    { contender: `fanout/${framework}`, metric: 'ratio_vs_hand', value: med(ratios), unit: 'x' },
    {
      contender: `fanout/${framework}`,
      metric: 'ratio_vs_hand_als',
      value: med(adapter) / med(handAls),
      unit: 'x',
    },
  )
  return `${framework}: adapter ÷ hand-wired = ${med(ratios).toFixed(3)} (bar ≥ 0.97)`
}

async function serverPair(
  framework: string,
  make: () => Promise<{ hand: Served; adapter: Served }>,
  ctx: BenchContext,
  out: Measurement[],
): Promise<string> {
  const { hand, adapter } = await make()
  const pools = [hand, adapter].map(
    (s) => new Pool(s.origin, { connections: CONCURRENCY, pipelining: 1 }),
  )
  try {
    return await measurePair(
      framework,
      { hand: () => drive(pools[0]!), adapter: () => drive(pools[1]!) },
      ctx,
      out,
    )
  } finally {
    await Promise.all(pools.map((p) => p.close()))
    await Promise.all([hand.close(), adapter.close()])
  }
}

/** Next.js: the route handler called directly, `withFanout()` against the hand-wired handler. */
async function nextPair(ctx: BenchContext, out: Measurement[]): Promise<string> {
  const { withFanout } = (await import(dist('next/index.js'))) as typeof FanoutNext
  const respond = async (request: Request, run: (input: PageInput) => Promise<unknown>) => {
    const id = new URL(request.url).pathname.split('/').pop()!
    return Response.json(
      await run({ id, token: request.headers.get('authorization') ?? undefined }),
    )
  }
  const hand = (request: Request): Promise<Response> =>
    respond(request, (input) => page.run(input, { signal: request.signal, deadline: BUDGET }))
  const adapted = withFanout((request: Request) => respond(request, (input) => page.run(input)), {
    budget: BUDGET,
    after: (work: () => unknown) => void work(),
  })
  const loop = async (
    handler: (request: Request, context: unknown) => Promise<Response>,
  ): Promise<number> => {
    let next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const id = next++ % 50
          const res = await handler(
            new Request(`http://127.0.0.1/page/${id}`, { headers: { authorization: 'Bearer t' } }),
            undefined,
          )
          const body = (await res.json()) as { product?: { id: string } }
          if (body.product?.id !== String(id)) throw new Error('wrong answer')
        }
      }),
    )
    return REQUESTS / ((performance.now() - started) / 1000)
  }
  return measurePair('next', { hand: () => loop(hand), adapter: () => loop(adapted) }, ctx, out)
}

export const adapters: Benchmark = {
  name: 'adapters',
  description:
    'requests/s of one route through fanout/express, fanout/fastify, fanout/hono and fanout/next against the same route wired by hand',
  async run(ctx): Promise<BenchReport> {
    const measurements: Measurement[] = []
    const notes = [
      `${REQUESTS} GET /page/:id per round, ${CONCURRENCY} keep-alive connections, ${ROUNDS} interleaved rounds; Node ${process.version}`,
      await serverPair('express', expressServers, ctx, measurements),
      await serverPair('fastify', fastifyServers, ctx, measurements),
      await serverPair('hono', honoServers, ctx, measurements),
      await nextPair(ctx, measurements),
    ]
    return {
      measurements,
      notes,
      tables: FRAMEWORKS.map((framework) => ({
        title: `${framework}: requests/s through fanout/${framework} and wired by hand`,
        metrics: ['req_per_s', 'ratio_vs_hand', 'ratio_vs_hand_als'],
        ratioOf: 'req_per_s',
        baseline: `${framework} hand`,
      })),
    }
  },
}

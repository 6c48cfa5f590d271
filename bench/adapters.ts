/**
 * `adapters`: what the request context costs per request, in each framework.
 *
 * One route, `GET /page/:id`, in each framework four ways:
 *
 * - `hand`: wired by hand the way a careful user would: an AbortController fed by `res` closing
 *   before it ended (Hono: `c.req.raw.signal`), the budget passed as `deadline`, the listener
 *   removed at the end; the signal and deadline passed to the flow explicitly;
 * - `hand+als`: the same, with the request's signal and deadline also kept in an
 *   AsyncLocalStorage of the route's own around the handler, as code that wants them inherited
 *   without passing must do by hand;
 * - `fanout/<framework>`: through fanout's adapter; the flow inherits the request's signal and
 *   deadline without being passed anything;
 * - `fanout/<framework> explicit`: the adapter with `ambient: false`, the flow given
 *   `ctx.runOptions`.
 *
 * The route runs the same flow every way: an auth gate, then three data tasks, one reading
 * another, all answering at once, so the framework and the wiring are all there is to measure:
 * the adapters' worst case. Express, Fastify and Hono (@hono/node-server) serve real HTTP on
 * 127.0.0.1, driven by an undici Pool (32 keep-alive connections, 32 loops). Next.js's route
 * handler is called directly with a `Request` (its server cannot run in this process).
 *
 * Why the storage is switched off before the rounds without one: on Node 20 an AsyncLocalStorage
 * in use installs async hooks that charge every promise in the process. Disabling the storages
 * before those rounds removes the hooks (when nothing else in the process enabled one), so each
 * contender pays for exactly what it uses.
 *
 * Rounds interleave the contenders, each after a full garbage collection; a ratio is the median
 * of the rounds' ratios (that contender's req/s ÷ the baseline's in the same round).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
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

/** The four ways of one framework, each a server on 127.0.0.1 (or a handler, for Next). */
type Ways<T> = Readonly<Record<Way, T>>
const WAYS = ['hand', 'hand+als', 'adapter', 'explicit'] as const
type Way = (typeof WAYS)[number]

/** The route's own storage for `hand+als`: what the request's work reads its signal from. */
const routeStorage = new AsyncLocalStorage<{ signal: AbortSignal }>()
const inStore = <T>(signal: AbortSignal, fn: () => T): T => routeStorage.run({ signal }, fn)

async function expressServers(): Promise<Ways<Served>> {
  const express = (await import('express')).default
  const { fanout } = (await import(dist('express/index.js'))) as typeof FanoutExpress
  const handApp = (als: boolean) => {
    const app = express()
    app.get('/page/:id', async (req, res) => {
      const wired = handSignal(res)
      try {
        const input = { id: req.params.id, token: req.headers.authorization }
        const run = () => page.run(input, { signal: wired.signal, deadline: BUDGET })
        res.json(await (als ? inStore(wired.signal, run) : run()))
      } finally {
        wired.done()
      }
    })
    return app
  }
  const adapterApp = (ambient: boolean) => {
    const app = express()
    app.use(fanout({ budget: BUDGET, ambient }))
    app.get('/page/:id', async (req, res) => {
      const input = { id: req.params.id, token: req.headers.authorization }
      res.json(await page.run(input, ambient ? {} : req.fanout.runOptions))
    })
    return app
  }
  return {
    hand: await listen(createNodeServer(handApp(false))),
    'hand+als': await listen(createNodeServer(handApp(true))),
    adapter: await listen(createNodeServer(adapterApp(true))),
    explicit: await listen(createNodeServer(adapterApp(false))),
  }
}

async function fastifyServers(): Promise<Ways<Served>> {
  const Fastify = (await import('fastify')).default
  const { fanoutPlugin } = (await import(dist('fastify/index.js'))) as typeof FanoutFastify
  const start = async (app: ReturnType<typeof Fastify>): Promise<Served> => {
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    return { origin: `http://127.0.0.1:${port}`, close: () => app.close() }
  }
  const handApp = (als: boolean) => {
    const app = Fastify()
    app.get<{ Params: { id: string } }>('/page/:id', async (request, reply) => {
      const wired = handSignal(reply.raw)
      try {
        const input = { id: request.params.id, token: request.headers.authorization }
        const run = () => page.run(input, { signal: wired.signal, deadline: BUDGET })
        return await (als ? inStore(wired.signal, run) : run())
      } finally {
        wired.done()
      }
    })
    return app
  }
  const adapterApp = async (ambient: boolean) => {
    const app = Fastify()
    await app.register(fanoutPlugin, { budget: BUDGET, ambient })
    app.get<{ Params: { id: string } }>('/page/:id', async (request) => {
      const input = { id: request.params.id, token: request.headers.authorization }
      return page.run(input, ambient ? {} : request.fanout.runOptions)
    })
    return app
  }
  return {
    hand: await start(handApp(false)),
    'hand+als': await start(handApp(true)),
    adapter: await start(await adapterApp(true)),
    explicit: await start(await adapterApp(false)),
  }
}

async function honoServers(): Promise<Ways<Served>> {
  const { Hono } = await import('hono')
  const { createAdaptorServer } = await import('@hono/node-server')
  const { fanout } = (await import(dist('hono/index.js'))) as typeof FanoutHono
  const serve = (app: { fetch: (request: Request) => Response | Promise<Response> }) =>
    listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  const handApp = (als: boolean) => {
    const app = new Hono()
    app.get('/page/:id', async (c) => {
      const input = { id: c.req.param('id'), token: c.req.header('authorization') }
      const signal = c.req.raw.signal
      const run = () => page.run(input, { signal, deadline: BUDGET })
      return c.json(await (als ? inStore(signal, run) : run()))
    })
    return app
  }
  const adapterApp = (ambient: boolean) => {
    const app = new Hono<FanoutHono.FanoutEnv>()
    app.use(fanout({ budget: BUDGET, ambient }))
    app.get('/page/:id', async (c) => {
      const input = { id: c.req.param('id'), token: c.req.header('authorization') }
      return c.json(await page.run(input, ambient ? {} : c.get('fanout').runOptions))
    })
    return app
  }
  return {
    hand: await serve(handApp(false)),
    'hand+als': await serve(handApp(true)),
    adapter: await serve(adapterApp(true)),
    explicit: await serve(adapterApp(false)),
  }
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

/** Switches both storages off (their hooks go when no other storage is on). */
function storagesOff(): void {
  const storage = ambient.ambientStorage() as { disable?: () => void } | undefined
  storage?.disable?.()
  routeStorage.disable()
}

const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!

async function measureWays(
  framework: string,
  ways: Ways<() => Promise<number>>,
  ctx: BenchContext,
  out: Measurement[],
): Promise<string> {
  const rates = new Map<Way, number[]>(WAYS.map((way) => [way, []]))
  const ratios = new Map<Way, number[]>(WAYS.map((way) => [way, []]))
  for (let round = 0; round <= ROUNDS; round++) {
    if (round > 0) ctx.progress(`adapters: ${framework} round ${round}/${ROUNDS}`)
    const got = new Map<Way, number>()
    for (const way of WAYS) {
      // The ways without a storage run with none enabled; the others enable theirs as they go.
      if (way === 'hand' || way === 'explicit') storagesOff()
      gc?.()
      got.set(way, await ways[way]())
    }
    if (round === 0) continue // the warm-up: code compiled, sockets open
    for (const way of WAYS) {
      rates.get(way)!.push(got.get(way)!)
      ratios.get(way)!.push(got.get(way)! / got.get('hand')!)
    }
  }
  const name = (way: Way): string =>
    way === 'adapter'
      ? `fanout/${framework}`
      : way === 'explicit'
        ? `fanout/${framework} explicit`
        : `${framework} ${way}`
  for (const way of WAYS) {
    out.push({
      contender: name(way),
      metric: 'req_per_s',
      value: median(rates.get(way)!),
      unit: 'req/s',
    })
    if (way !== 'hand')
      out.push({
        contender: name(way),
        metric: 'ratio_vs_hand',
        value: median(ratios.get(way)!),
        unit: 'x',
      })
  }
  const adapterOverAls = median(
    ratios.get('adapter')!.map((r, i) => r / ratios.get('hand+als')![i]!),
  )
  out.push({
    contender: name('adapter'),
    metric: 'ratio_vs_hand_als',
    value: adapterOverAls,
    unit: 'x',
  })
  const fixed = (way: Way): string => median(ratios.get(way)!).toFixed(3)
  return `${framework}: ÷ hand-wired: fanout/${framework} ${fixed('adapter')}, explicit ${fixed('explicit')}, hand+als ${fixed('hand+als')}; fanout/${framework} ÷ hand+als ${adapterOverAls.toFixed(3)}`
}

async function serverWays(
  framework: string,
  make: () => Promise<Ways<Served>>,
  ctx: BenchContext,
  out: Measurement[],
): Promise<string> {
  const servers = await make()
  const pools = new Map(
    WAYS.map((way) => [way, new Pool(servers[way].origin, { connections: CONCURRENCY })]),
  )
  const drives = Object.fromEntries(WAYS.map((way) => [way, () => drive(pools.get(way)!)])) as Ways<
    () => Promise<number>
  >
  try {
    return await measureWays(framework, drives, ctx, out)
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()))
    await Promise.all(WAYS.map((way) => servers[way].close()))
  }
}

/** Next.js: the route handler called directly, `withFanout()` against the handler wired by hand. */
async function nextWays(ctx: BenchContext, out: Measurement[]): Promise<string> {
  const { withFanout } = (await import(dist('next/index.js'))) as typeof FanoutNext
  type Run = (input: PageInput) => Promise<unknown>
  const respond = async (request: Request, run: Run): Promise<Response> => {
    const id = new URL(request.url).pathname.split('/').pop()!
    return Response.json(
      await run({ id, token: request.headers.get('authorization') ?? undefined }),
    )
  }
  const hand =
    (als: boolean) =>
    (request: Request): Promise<Response> => {
      const run = () =>
        respond(request, (input) => page.run(input, { signal: request.signal, deadline: BUDGET }))
      return als ? inStore(request.signal, run) : run()
    }
  const adapted = (ambient: boolean) =>
    withFanout(
      (request: Request, _context: unknown, fanout) =>
        respond(request, (input) => page.run(input, ambient ? {} : fanout.runOptions)),
      { budget: BUDGET, ambient, after: (work: () => unknown) => void work() },
    )
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
  const handlers = {
    hand: hand(false),
    'hand+als': hand(true),
    adapter: adapted(true),
    explicit: adapted(false),
  }
  const ways = Object.fromEntries(WAYS.map((way) => [way, () => loop(handlers[way])])) as Ways<
    () => Promise<number>
  >
  return measureWays('next', ways, ctx, out)
}

export const adapters: Benchmark = {
  name: 'adapters',
  description:
    'requests/s of one route through fanout/express, fanout/fastify, fanout/hono and fanout/next against the same route wired by hand',
  async run(ctx): Promise<BenchReport> {
    const measurements: Measurement[] = []
    const notes = [
      `${REQUESTS} GET /page/:id per round, ${CONCURRENCY} keep-alive connections, ${ROUNDS} interleaved rounds; Node ${process.version}`,
      await serverWays('express', expressServers, ctx, measurements),
      await serverWays('fastify', fastifyServers, ctx, measurements),
      await serverWays('hono', honoServers, ctx, measurements),
      await nextWays(ctx, measurements),
    ]
    return {
      measurements,
      notes,
      tables: [
        {
          title:
            'Requests/s of one route: by hand, by hand with an AsyncLocalStorage, through the adapter',
          metrics: ['req_per_s', 'ratio_vs_hand', 'ratio_vs_hand_als'],
        },
      ],
    }
  },
}

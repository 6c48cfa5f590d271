/**
 * What counts as "used the previous response", on a hand-made application over real HTTP on
 * 127.0.0.1, through each client the profiler hears: Node's fetch (the undici inside Node),
 * the undici package's `request`, and `node:http`. Upstreams answer after fixed delays; the
 * assertions are about which chains are reported, never about milliseconds.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { request as undiciRequest } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  formatReport,
  profile,
  UNSCOPED,
  withRequest,
  type ProfileReport,
  type RouteReport,
} from '../../src/profile/index.js'
import { answer, serveApp, type App } from './serve.js'

const TEAM = 'team-4217'
const ORDER = 'ord-9931'
const CURSOR = 'c-8812'

let upstream: App
let flaky = 0

function upstreamRoutes(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/'
  if (url === '/user') answer(res, { id: 'u-1', teamId: TEAM, logins: 3 }, 12)
  else if (url === `/teams/${TEAM}`) answer(res, { name: 'Platform', size: 7 }, 12)
  else if (url === '/weather') answer(res, { temp: 21.5 }, 12)
  else if (url === '/news') answer(res, { items: ['a', 'b'] }, 12)
  else if (url === '/auth/verify') answer(res, { ok: true }, 5)
  else if (url === '/orders' && req.method === 'POST')
    setTimeout(() => {
      res.writeHead(201, { location: `/orders/${ORDER}` })
      res.end()
    }, 10)
  else if (url === `/orders/${ORDER}`) answer(res, { status: 'new' }, 10)
  else if (url === '/search') {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { cursor?: string }
      answer(res, body.cursor === undefined ? { hits: [1, 2], next: CURSOR } : { hits: [3] }, 10)
    })
  } else if (url === '/flaky') {
    if (flaky++ % 2 === 0)
      setTimeout(() => {
        res.writeHead(503)
        res.end()
      }, 5)
    else answer(res, { ok: true }, 5)
  } else {
    res.writeHead(404)
    res.end()
  }
  return Promise.resolve()
}

const json = async (path: string, init?: RequestInit): Promise<Record<string, unknown>> => {
  const response = await fetch(`${upstream.origin}${path}`, init)
  return response.status === 204 || response.status === 503
    ? {}
    : ((await response.json()) as Record<string, unknown>)
}

/** A GET through node:http, its body read to the end. */
const nodeGet = (path: string): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    httpRequest(`${upstream.origin}${path}`, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as never))
    })
      .on('error', reject)
      .end()
  })

/** The application under test: one handler per route. */
const ROUTES: Record<string, () => Promise<unknown>> = {
  // A true dependency: the team's id comes from the user's response (node:http).
  '/team': async () => {
    const user = await nodeGet('/user')
    return nodeGet(`/teams/${String(user.teamId)}`)
  },
  // An independent pair (fetch).
  '/home': async () => {
    const weather = await json('/weather')
    const news = await json('/news')
    return { weather, news }
  },
  // The created order's URL comes from the Location header (undici's request).
  '/checkout': async () => {
    const created = await undiciRequest(`${upstream.origin}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'sku-77' }),
    })
    await created.body.dump()
    const order = await undiciRequest(new URL(created.headers.location as string, upstream.origin))
    return order.body.json()
  },
  // The second page's cursor comes from the first page's body, sent in the request body (fetch).
  '/search': async () => {
    const post = (body: unknown) =>
      json('/search', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const first = await post({ q: 'shoes' })
    return post({ q: 'shoes', cursor: first.next })
  },
  // Two searches that share nothing: the same URL, other bodies (fetch's body is read as sent).
  '/compare': async () => {
    const post = (body: unknown) =>
      json('/search', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    await post({ q: 'shoes' })
    return post({ q: 'boots' })
  },
  // Two orders (undici's request): neither uses the other's Location.
  '/reorder': async () => {
    for (const sku of ['sku-1', 'sku-2']) {
      const created = await undiciRequest(`${upstream.origin}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku }),
      })
      await created.body.dump()
    }
    return {}
  },
  // An auth check first (a gate), then an independent pair.
  '/secure': async () => {
    await json('/auth/verify')
    await json('/weather')
    return json('/news')
  },
  // A failure and its retry: the same request twice, not a chain.
  '/retry': async () => {
    await json('/flaky')
    return json('/flaky')
  },
}

let app: App

beforeAll(async () => {
  upstream = await serveApp(upstreamRoutes)
  app = await serveApp(async (req, res) => {
    const result = await ROUTES[req.url ?? '']!()
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(result))
  })
})

afterAll(async () => {
  await app.close()
  await upstream.close()
})

async function profiled(paths: readonly string[], times = 3): Promise<ProfileReport> {
  const profiler = profile({ unscoped: 'ignore' })
  try {
    for (let i = 0; i < times; i++) for (const path of paths) await app.get(path)
  } finally {
    profiler.stop()
  }
  return profiler.report()
}

const routeOf = (report: ProfileReport, route: string): RouteReport => {
  const found = report.routes.find((r) => r.route === route)
  if (found === undefined) throw new Error(`no route ${route} in ${formatReport(report)}`)
  return found
}

const chainsOf = (route: RouteReport): string[][] =>
  route.chains.map((c) =>
    c.steps.map(
      (s) => `${s.method} ${new URL(s.target).pathname}${s.times > 1 ? ` ×${s.times}` : ''}`,
    ),
  )

describe('profile(): what counts as using the previous response', () => {
  it('a value of the first response in the next URL is a dependency; an independent pair in the same app is reported', async () => {
    const report = await profiled(['/team', '/home'])
    const team = routeOf(report, 'GET /team')
    expect(team.requests).toBe(3)
    expect(team.calls).toBe(6)
    expect(team.chains).toEqual([])
    const home = routeOf(report, 'GET /home')
    expect(chainsOf(home)).toEqual([['GET /weather', 'GET /news']])
    expect(home.chains[0]!.occurrences).toBe(3)
    expect(home.chains[0]!.requests).toBe(3)
    // Each call ~12 ms: a Promise.all saves about one of them.
    expect(home.chains[0]!.savedMs.median).toBeGreaterThan(5)
    expect(home.chains[0]!.steps.map((s) => s.location)).toEqual([
      expect.stringMatching(/^test\/profile\/dependency\.test\.ts:\d+:\d+$/),
      expect.stringMatching(/^test\/profile\/dependency\.test\.ts:\d+:\d+$/),
    ])
    // The report names no value: the team's id is `:id` in the target.
    expect(JSON.stringify(report)).not.toContain(TEAM)
  })

  it('a Location header, and a value sent back in a request body, are dependencies', async () => {
    const report = await profiled(['/checkout', '/search'])
    expect(routeOf(report, 'GET /checkout').calls).toBe(6)
    expect(routeOf(report, 'GET /checkout').chains).toEqual([])
    expect(routeOf(report, 'GET /search').calls).toBe(6)
    expect(routeOf(report, 'GET /search').chains).toEqual([])
    expect(JSON.stringify(report)).not.toContain(ORDER)
  })

  it('the same URL with another body is another request, not a retry', async () => {
    const report = await profiled(['/compare', '/reorder'])
    expect(chainsOf(routeOf(report, 'GET /compare'))).toEqual([['POST /search ×2']])
    expect(chainsOf(routeOf(report, 'GET /reorder'))).toEqual([['POST /orders ×2']])
  })

  it('an auth check is a gate, not part of a chain; a retry after a failure is not a chain', async () => {
    const report = await profiled(['/secure', '/retry'])
    expect(chainsOf(routeOf(report, 'GET /secure'))).toEqual([['GET /weather', 'GET /news']])
    expect(routeOf(report, 'GET /retry').calls).toBe(6)
    expect(routeOf(report, 'GET /retry').chains).toEqual([])
  })

  it('the `gate` option decides which calls are gates', async () => {
    // /news made a gate, /auth/verify not: the chain is the check and the weather.
    const profiler = profile({ unscoped: 'ignore', gate: (call) => call.path === '/news' })
    try {
      await app.get('/secure')
    } finally {
      profiler.stop()
    }
    expect(chainsOf(routeOf(profiler.report(), 'GET /secure'))).toEqual([
      ['GET /auth/verify', 'GET /weather'],
    ])
  })

  it('without the bodies (maxBodyBytes 0) the dependency through the body is not seen', async () => {
    const profiler = profile({ unscoped: 'ignore', maxBodyBytes: 0 })
    try {
      await app.get('/team')
    } finally {
      profiler.stop()
    }
    expect(chainsOf(routeOf(profiler.report(), 'GET /team'))).toEqual([
      ['GET /user', 'GET /teams/:id'],
    ])
  })

  it('run() and withRequest() mark a unit of work by hand; calls outside any are grouped', async () => {
    const profiler = profile()
    try {
      await profiler.run('nightly sync', async () => {
        await json('/weather')
        await json('/news')
      })
      await withRequest('team sync', async () => {
        const user = await json('/user')
        await json(`/teams/${String(user.teamId)}`)
      })
      await json('/weather')
      await json('/news')
    } finally {
      profiler.stop()
    }
    const report = profiler.report()
    expect(chainsOf(routeOf(report, 'nightly sync'))).toEqual([['GET /weather', 'GET /news']])
    expect(routeOf(report, 'team sync').chains).toEqual([])
    expect(routeOf(report, 'team sync').calls).toBe(2)
    expect(chainsOf(routeOf(report, UNSCOPED))).toEqual([['GET /weather', 'GET /news']])
  })
})

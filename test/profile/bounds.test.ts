/**
 * profile()'s options are checked at construction, its bounds hold (requests in progress, calls
 * per request, routes, body bytes), and stop() leaves no listener on any channel.
 */
import diagnostics from 'node:diagnostics_channel'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/errors.js'
import {
  formatReport,
  profile,
  withRequest,
  type ProfileOptions,
  type ProfileReport,
} from '../../src/profile/index.js'
import { answer, serveApp, type App } from './serve.js'

const CHANNELS = [
  'undici:request:create',
  'undici:request:headers',
  'undici:request:trailers',
  'undici:request:error',
  'undici:request:bodyChunkSent',
  'undici:request:bodyChunkReceived',
  'http.client.request.start',
  'http.client.response.finish',
  'http.server.request.start',
  'http.server.response.finish',
]

let upstream: App
let app: App
/** Lets the /slow route's requests go on. */
let release: () => void = () => {}

beforeAll(async () => {
  upstream = await serveApp(async (req, res) => {
    const url = req.url ?? '/'
    if (url.startsWith('/big')) {
      // The team's id after `pad` bytes of other values: seen only within maxBodyBytes.
      const pad = Number(new URL(url, 'http://x').searchParams.get('pad'))
      const body = JSON.stringify({ filler: 'x'.repeat(pad), teamId: 'team-5150' })
      const gzip = url.includes('gzip')
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      })
      res.end(gzip ? gzipSync(body) : body)
    } else answer(res, { ok: true, path: url }, 3)
  })
  app = await serveApp(async (req, res) => {
    const url = req.url ?? '/'
    const get = async (path: string) => (await fetch(`${upstream.origin}${path}`)).json()
    if (url === '/slow') await new Promise<void>((resolve) => (release = resolve))
    if (url.startsWith('/many')) for (let i = 0; i < 5; i++) await get(`/item/${i}`)
    else if (url.startsWith('/big')) {
      const team = (await get(`/big${url.slice(4)}`)) as { teamId: string }
      await get(`/teams/${team.teamId}`)
    } else {
      await get('/a')
      await get('/b')
    }
    res.end('ok')
  })
})

afterAll(async () => {
  await app.close()
  await upstream.close()
})

async function profiled(options: ProfileOptions, run: () => Promise<void>): Promise<ProfileReport> {
  const profiler = profile({ unscoped: 'ignore', ...options })
  try {
    await run()
  } finally {
    profiler.stop()
  }
  return profiler.report()
}

describe('profile() options', () => {
  it.each([
    [{ maxRequests: 0 }, /`maxRequests` must be an integer from 1 to 100000, got 0/],
    [{ maxCallsPerRequest: 1.5 }, /`maxCallsPerRequest` must be an integer from 2 to 10000/],
    [{ maxRoutes: '10' }, /`maxRoutes` must be an integer .* Pass a number, not a string/],
    [{ maxBodyBytes: -1 }, /`maxBodyBytes` must be an integer from 0 to 1048576/],
    [{ unscoped: 'drop' }, /`unscoped` must be 'group' or 'ignore', got "drop"/],
    [{ gate: /auth/ }, /`gate` must be a function \(call\) => boolean/],
    [{ maxRequest: 10 }, /unknown option `maxRequest`. Did you mean `maxRequests`\?/],
  ])('%o is refused with an InvalidOptionError', (options, message) => {
    const start = () => profile(options as ProfileOptions)
    expect(start).toThrow(InvalidOptionError)
    expect(start).toThrow(message)
    for (const name of CHANNELS) expect(diagnostics.channel(name).hasSubscribers, name).toBe(false)
  })

  it('options must be an object; run() needs a label and a function', () => {
    expect(() => profile(7 as never)).toThrow(/options must be a plain object, got 7/)
    const profiler = profile()
    try {
      expect(() => profiler.run('', () => 1)).toThrow(InvalidArgumentError)
      expect(() => profiler.run('job', 'fn' as never)).toThrow(/`fn` must be a function/)
      expect(() => withRequest(3 as never, () => 1)).toThrow(/`label` must be a non-empty string/)
      expect(profiler.run('sync job', () => 42)).toBe(42)
    } finally {
      profiler.stop()
    }
  })
})

describe('profile() bounds', () => {
  it('a `gate` that throws makes no call a gate, and never reaches the application', async () => {
    const report = await profiled(
      {
        gate: () => {
          throw new Error('a bug in the gate')
        },
      },
      () => app.get('/pair').then(() => undefined),
    )
    const route = report.routes.find((r) => r.route === 'GET /pair')!
    expect(route.chains.map((c) => c.steps.length)).toEqual([2])
  })

  it('stop() unsubscribes every listener; nothing is recorded after it', async () => {
    const profiler = profile({ unscoped: 'ignore' })
    for (const name of CHANNELS.filter((n) => !n.includes('bodyChunk')))
      expect(diagnostics.channel(name).hasSubscribers, name).toBe(true)
    await app.get('/pair')
    profiler.stop()
    expect(profiler.stopped).toBe(true)
    for (const name of CHANNELS) expect(diagnostics.channel(name).hasSubscribers, name).toBe(false)
    const before = profiler.report()
    await app.get('/pair')
    expect(profiler.report()).toEqual(before)
    expect(before.routes.find((r) => r.route === 'GET /pair')?.requests).toBe(1)
  })

  it('maxCallsPerRequest: later calls of a request are not recorded, and the report says so', async () => {
    const report = await profiled({ maxCallsPerRequest: 3 }, async () => {
      await app.get('/many')
    })
    const route = report.routes.find((r) => r.route === 'GET /many')!
    expect(route.calls).toBe(3)
    expect(route.truncated).toBe(1)
    expect(report.untracked.calls).toBe(2)
    expect(route.chains[0]!.steps[0]!.times).toBe(3)
    expect(formatReport(report)).toContain('made more calls than maxCallsPerRequest')
  })

  it('maxRoutes: requests of further routes are counted, not analysed', async () => {
    const report = await profiled({ maxRoutes: 1 }, async () => {
      await app.get('/pair')
      await app.get('/many')
      await app.get('/many')
    })
    // 3 requests of the app and 12 of the upstream. The first to end takes the one place: the
    // upstream's GET /a, which makes no call of its own (so no route is listed).
    expect(report.requests + report.untracked.requests).toBe(15)
    expect(report.requests).toBe(1)
    expect(report.untracked.routes).toBe(4) // GET /b, GET /pair, GET /item/:id, GET /many
    expect(report.routes).toEqual([])
  })

  it('maxRequests: a request beyond the bound in progress is not tracked, nor its calls', async () => {
    const report = await profiled({ maxRequests: 1 }, async () => {
      const slow = app.get('/slow') // holds the one place until released
      await new Promise((resolve) => setTimeout(resolve, 20))
      await app.get('/pair') // beyond the bound, and so are the upstream's requests meanwhile
      release()
      await slow
    })
    expect(report.untracked.requests).toBeGreaterThanOrEqual(1)
    expect(report.routes.find((r) => r.route === 'GET /pair')).toBeUndefined()
    expect(report.routes.find((r) => r.route === 'GET /slow')?.requests).toBe(1)
  })

  it('maxBodyBytes: a value past the first bytes of a body is not seen (plain and gzip)', async () => {
    const chains = async (path: string): Promise<number> => {
      const report = await profiled({ maxBodyBytes: 1_024 }, async () => {
        await app.get(path)
      })
      return report.routes.find((r) => r.route === 'GET /big')!.chains.length
    }
    // Within the first KiB: the team's id is seen, the second call used the first's response.
    expect(await chains('/big?pad=100')).toBe(0)
    expect(await chains('/big?pad=100&gzip=1')).toBe(0)
    // Beyond it: unseen, so the pair looks independent (the limit is a trade of memory for sight).
    expect(await chains('/big?pad=5000')).toBe(1)
    expect(await chains('/big?pad=5000&gzip=1')).toBe(1)
  })
})

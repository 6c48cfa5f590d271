/**
 * fanout/next on a real Next.js server: the example app (examples/next) built with `next build`
 * and served by `next start` on 127.0.0.1, in front of a loopback upstream the test holds.
 *
 * - a client that disconnects mid-request aborts the upstream call (its socket closes) and no
 *   retry follows;
 * - POSTs whose client waits (JSON, urlencoded, 1 MiB) are never aborted;
 * - work handed to `after()` runs once the response is out;
 * - the seed 000 and 001 routes answer; React's `cache()` memoizes nothing in a route handler.
 *
 * The cold build takes 25–40 s on a 2-core machine (a rebuild, with Turbopack's cache, ~10 s).
 */
import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_TOKEN } from '../../examples/lib/backends.js'
import { closeAll, serve, waitFor, type Seen, type Upstream } from '../helpers/upstream.js'
import { build, pool, send, sendThenCut, start, type NextServer } from './next-server.js'

let upstream: Upstream
let next: NextServer | undefined
/** When each held upstream request's socket closed. */
const closedAt: number[] = []
/** What reached the upstream's /after, with when. */
const afters: { at: number; body: string }[] = []

const relays = (): Seen[] => upstream.seen.filter((s) => s.url === '/relay')

beforeAll(async () => {
  upstream = await serve((req: IncomingMessage, res, seen) => {
    if (req.url === '/after') {
      afters.push({ at: performance.now(), body: seen.body })
      res.end()
    } else if (req.method === 'GET') {
      // Held: only the relay's abort ends it.
      req.socket.once('close', () => closedAt.push(performance.now()))
    } else {
      const timer = setTimeout(() => res.end(`got ${seen.body.length}`), 20)
      res.on('close', () => clearTimeout(timer))
    }
  })
  const built = await build(240_000)
  console.log(`next build: ${(built.ms / 1_000).toFixed(1)} s`)
  next = await start({ UPSTREAM_URL: upstream.origin, LATENCY_SCALE: '0.2' }, 60_000)
}, 320_000)

afterAll(async () => {
  await next?.close()
  await closeAll()
})

function url(path: string): string {
  return `${next!.origin}${path}`
}

describe('fanout/next on next start: the two pages', () => {
  it('seed 000: GET /api/dashboard answers the user’s data, and 401 without a valid token', async () => {
    const reply = await send(url('/api/dashboard'), {
      headers: { authorization: `Bearer ${DEMO_TOKEN}` },
    })
    expect(reply.status).toBe(200)
    expect(Object.keys(JSON.parse(reply.body) as object).sort()).toEqual([
      'access',
      'balance',
      'settings',
      'user',
    ])
    expect((await send(url('/api/dashboard'))).status).toBe(401)
    expect(
      (await send(url('/api/dashboard'), { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401)
  })

  it('seed 001: GET /api/products/1 answers the product page, in time under a short deadline', async () => {
    const reply = await send(url('/api/products/1'))
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toMatchObject({ product: { id: 1 } })
    const startedAt = performance.now()
    const short = await send(url('/api/products/2'), { headers: { 'grpc-timeout': '250m' } })
    expect(short.status).toBe(200)
    expect(JSON.parse(short.body)).toMatchObject({ product: { id: 2 } })
    expect(performance.now() - startedAt).toBeLessThan(2_000)
  })

  it("React's cache() memoizes nothing in a route handler", async () => {
    expect(JSON.parse((await send(url('/api/react-cache'))).body)).toEqual({ memoized: false })
  })
})

describe('fanout/next on next start: a client disconnect', () => {
  /** Requests the held relay, cuts the client off once the upstream has it: ms to the close. */
  async function disconnect(): Promise<number> {
    const seen = relays().length
    const closed = closedAt.length
    const cut = sendThenCut(url('/api/relay'))
    await waitFor(() => relays().length === seen + 1, 'the upstream request', 10_000)
    const destroyedAt = cut.destroy()
    await cut.done
    await waitFor(() => closedAt.length === closed + 1, 'the upstream socket to close', 10_000)
    return closedAt[closed]! - destroyedAt
  }

  it('aborts the upstream call: its socket closes, and no retry follows', async () => {
    const delays: number[] = []
    for (let i = 0; i < 10; i++) delays.push(await disconnect())
    // Give a retry every chance to show up (the relay's backoff is ≤ 5 ms).
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(relays().filter((s) => s.method === 'GET')).toHaveLength(10)
    const sorted = [...delays].sort((a, b) => a - b)
    const shown = delays.map((d) => d.toFixed(1)).join(', ')
    console.log(`next start: ms from the client's cut to the upstream's close: ${shown}`)
    // The server is another process, whose CPU waits this one cannot see: the 50 ms bar on the
    // median, and a generous bound on every one.
    expect(sorted[Math.floor(sorted.length / 2)], shown).toBeLessThanOrEqual(50)
    expect(sorted.at(-1), shown).toBeLessThan(2_000)
    // A request cut off never reaches after(): its handler failed before handing any work.
    expect(afters).toHaveLength(0)
  })
})

describe('fanout/next on next start: requests whose client waits', () => {
  it.each([
    [
      'JSON',
      'application/json',
      JSON.stringify({ items: Array.from({ length: 100 }, (_, i) => i) }),
    ],
    ['urlencoded', 'application/x-www-form-urlencoded', 'a=1&b=two&c=%20three'],
    ['1 MiB', 'application/octet-stream', 'x'.repeat(1024 * 1024)],
  ])('a POST with a %s body is never aborted, and its after() work runs', async (_, type, body) => {
    const before = afters.length
    const reply = await send(url('/api/relay'), {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    })
    const answeredAt = performance.now()
    expect(reply.status, reply.body).toBe(200)
    expect(JSON.parse(reply.body)).toEqual({ reply: `got ${body.length}`, bytes: body.length })
    await waitFor(() => afters.length === before + 1, 'the after() work', 10_000)
    expect(afters[before]!.body).toBe(String(body.length))
    expect(afters[before]!.at).toBeGreaterThan(answeredAt - 50) // after the response, not before it
  })

  it('200 POSTs, 20 at a time: none aborted, every after() ran', async () => {
    const before = afters.length
    const replies = await pool(200, 20, (i) =>
      send(url('/api/relay'), { method: 'POST', body: JSON.stringify({ i }) }),
    )
    expect(replies.filter((r) => r.status !== 200).map((r) => r.body)).toEqual([])
    await waitFor(() => afters.length === before + 200, 'every after() work', 20_000)
  })
})

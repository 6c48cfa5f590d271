/**
 * The simulated upstreams of the demo's product page: six small HTTP servers on 127.0.0.1 (free
 * ports, so six origins), each answering after a seeded, realistic latency — mostly near its
 * typical value, with a slow tail — and failing now and then with a 5xx. The users service also
 * enforces a rate limit (a token bucket) and answers 429 with `Retry-After` beyond it, and it has
 * a batch endpoint (`/users?ids=1,2,3`). The recommendations service also takes
 * `POST /recommendations/recompute?product=N`: slow work (RECOMPUTE_FACTOR × its typical latency)
 * that a page should not wait for.
 *
 * Every server counts what it received and what it answered, per demo "way", so the summary can
 * say how many upstream calls and 429s each way caused.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { seededRandom } from '../core/random.js'

export const UPSTREAMS = [
  'auth',
  'products',
  'inventory',
  'reviews',
  'users',
  'recommendations',
] as const
export type Upstream = (typeof UPSTREAMS)[number]
export type UpstreamUrls = Readonly<Record<Upstream, string>>

/** Typical latency in ms of each upstream (the median of its distribution). */
export const TYPICAL_MS: Readonly<Record<Upstream, number>> = {
  auth: 25,
  products: 45,
  inventory: 35,
  reviews: 55,
  users: 20,
  recommendations: 70,
}

/** How much slower a recompute is than a recommendations read. */
export const RECOMPUTE_FACTOR = 4

export const DEMO_TOKEN = 'demo-session-4b1d'
export const PRODUCT_COUNT = 20
export const USER_COUNT = 60
export const REVIEWS_PER_PRODUCT = 8

export interface UpstreamOptions {
  readonly seed?: number
  /** Share of responses that are a 5xx (503 or 500). Default 0.02. */
  readonly failureRate?: number
  /** Share of responses in the slow tail (5× to 10× the typical latency). Default 0.05. */
  readonly slowRate?: number
  /** Multiplies every latency. Default 1. */
  readonly latencyScale?: number
  /** The users service's rate limit: requests per second, and burst. Default 250/s, burst 50. */
  readonly usersRate?: { readonly perSecond: number; readonly burst: number }
}

export interface UpstreamCounts {
  /** Requests received, per upstream. */
  requests: Record<Upstream, number>
  /** 429s answered. */
  throttled: number
  /** 5xx answered. */
  failed: number
}

export interface Upstreams {
  readonly urls: UpstreamUrls
  /** Counts since the last `reset()`. */
  readonly counts: UpstreamCounts
  /** Zeroes the counts and refills the rate limiter (between two ways of loading the page). */
  reset(): void
  close(): Promise<void>
}

export interface Product {
  readonly id: number
  readonly name: string
  readonly priceCents: number
}
export interface Review {
  readonly id: string
  readonly authorId: number
  readonly rating: number
}
export interface Profile {
  readonly id: number
  readonly name: string
}

interface Reply {
  readonly status: number
  readonly body: unknown
  readonly headers?: Readonly<Record<string, string>>
}

const json = (body: unknown): Reply => ({ status: 200, body })
const notFound: Reply = { status: 404, body: { error: 'not found' } }

function product(id: number): Product {
  return { id, name: `Product ${id}`, priceCents: 999 + ((id * 3_733) % 40_000) }
}
function reviewsOf(id: number): Review[] {
  return Array.from({ length: REVIEWS_PER_PRODUCT }, (_, i) => ({
    id: `${id}-${i}`,
    authorId: 1 + ((id * 7 + i * 13) % USER_COUNT),
    rating: 1 + ((id + i) % 5),
  }))
}
function profile(id: number): Profile {
  return { id, name: `Reviewer ${id}` }
}
const idIn = (text: string | undefined, max: number): number | undefined => {
  const n = Number(text)
  return Number.isInteger(n) && n >= 1 && n <= max ? n : undefined
}

/** The answers; each a pure function of the request. */
const ROUTES: Record<Upstream, (url: URL, req: IncomingMessage) => Reply> = {
  auth: (url, req) =>
    url.pathname !== '/session'
      ? notFound
      : req.headers.authorization === `Bearer ${DEMO_TOKEN}`
        ? json({ userId: 7 })
        : { status: 401, body: { error: 'bad session' } },
  products: (url) => {
    const id = idIn(/^\/products\/(\d+)$/.exec(url.pathname)?.[1], PRODUCT_COUNT)
    return id === undefined ? notFound : json(product(id))
  },
  inventory: (url) => {
    const id = idIn(/^\/stock\/(\d+)$/.exec(url.pathname)?.[1], PRODUCT_COUNT)
    return id === undefined ? notFound : json({ productId: id, available: (id * 11) % 17 })
  },
  reviews: (url) => {
    const id = idIn(/^\/products\/(\d+)\/reviews$/.exec(url.pathname)?.[1], PRODUCT_COUNT)
    return id === undefined ? notFound : json({ reviews: reviewsOf(id) })
  },
  users: (url) => {
    if (url.pathname === '/users') {
      const ids = (url.searchParams.get('ids') ?? '').split(',').map((s) => idIn(s, USER_COUNT))
      // Unknown ids are left out, as real batch endpoints do.
      return json({ users: ids.filter((id): id is number => id !== undefined).map(profile) })
    }
    const id = idIn(/^\/users\/(\d+)$/.exec(url.pathname)?.[1], USER_COUNT)
    return id === undefined ? notFound : json(profile(id))
  },
  recommendations: (url, req) => {
    const id = idIn(url.searchParams.get('product') ?? undefined, PRODUCT_COUNT)
    if (id === undefined) return notFound
    if (isRecompute(url, req)) return json({ productId: id, recomputed: true })
    return url.pathname === '/recommendations'
      ? json({ productIds: [1, 2, 3].map((k) => 1 + ((id + k * 5) % PRODUCT_COUNT)) })
      : notFound
  },
}

const isRecompute = (url: URL, req: IncomingMessage): boolean =>
  url.pathname === '/recommendations/recompute' && req.method === 'POST'

/** A latency draw: log-normal around the typical value, and a slow tail. */
function latency(random: () => number, typical: number, slowRate: number): number {
  // Box–Muller from two uniform draws; sigma 0.25 keeps most answers within ±30 %.
  const u = Math.max(random(), 1e-9)
  const v = random()
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  const base = typical * Math.exp(0.25 * normal)
  return random() < slowRate ? base * (5 + 5 * random()) : base
}

export async function startUpstreams(options: UpstreamOptions = {}): Promise<Upstreams> {
  const seed = options.seed ?? 1
  const failureRate = options.failureRate ?? 0.02
  const slowRate = options.slowRate ?? 0.05
  const scale = options.latencyScale ?? 1
  const rate = options.usersRate ?? { perSecond: 250, burst: 50 }
  const counts: UpstreamCounts = { requests: zeroCounts(), throttled: 0, failed: 0 }
  let tokens = rate.burst
  let refilledAt = performance.now()

  const takeToken = (): number => {
    const now = performance.now()
    tokens = Math.min(rate.burst, tokens + ((now - refilledAt) / 1000) * rate.perSecond)
    refilledAt = now
    if (tokens >= 1) {
      tokens -= 1
      return 0
    }
    return Math.ceil((1 - tokens) / rate.perSecond) // seconds until a token, for Retry-After
  }

  const servers: Server[] = []
  const sockets = new Set<Socket>()
  const urls = {} as Record<Upstream, string>
  let index = 0
  for (const name of UPSTREAMS) {
    const random = seededRandom(seed * 101 + index++)
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      counts.requests[name]++
      const url = new URL(req.url ?? '/', 'http://upstream')
      let reply: Reply
      const wait = name === 'users' ? takeToken() : 0
      if (wait > 0) {
        counts.throttled++
        reply = {
          status: 429,
          body: { error: 'rate limited' },
          headers: { 'retry-after': String(wait) },
        }
      } else if (name !== 'auth' && random() < failureRate) {
        counts.failed++
        reply = { status: random() < 0.7 ? 503 : 500, body: { error: 'upstream failure' } }
      } else reply = ROUTES[name](url, req)
      const typical = TYPICAL_MS[name] * (isRecompute(url, req) ? RECOMPUTE_FACTOR : 1)
      const delay = latency(random, typical * scale, slowRate)
      const timer = setTimeout(() => {
        const body = JSON.stringify(reply.body)
        res.writeHead(reply.status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...reply.headers,
        })
        res.end(body)
      }, delay)
      res.on('close', () => clearTimeout(timer))
    })
    server.keepAliveTimeout = 30_000
    server.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    servers.push(server)
  }

  return {
    urls,
    counts,
    reset() {
      counts.requests = zeroCounts()
      counts.throttled = 0
      counts.failed = 0
      tokens = rate.burst
      refilledAt = performance.now()
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await Promise.all(
        servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      )
    },
  }
}

function zeroCounts(): Record<Upstream, number> {
  return Object.fromEntries(UPSTREAMS.map((n) => [n, 0])) as Record<Upstream, number>
}

/**
 * Simulated backend services for the example: five small HTTP servers on 127.0.0.1 (random free
 * ports) that answer after a realistic, seeded latency.
 *
 * Latencies come from a schedule per service: the n-th request to a service gets the n-th latency
 * of that service's schedule, drawn from a seeded PRNG. `replay()` restarts every schedule, so
 * three implementations of the same route can be measured against exactly the same latencies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { seededRandom } from '../../src/core/random.js'

export const SERVICES = ['auth', 'user', 'settings', 'balance', 'access'] as const
export type ServiceName = (typeof SERVICES)[number]
export type ServiceUrls = Readonly<Record<ServiceName, string>>

/** Typical latency of each service in ms, before `latencyScale`. */
export const TYPICAL_LATENCY: Readonly<Record<ServiceName, number>> = {
  auth: 40,
  user: 60,
  settings: 30,
  balance: 90,
  access: 50,
}

/** The one token the auth service accepts, and the account it belongs to. */
export const DEMO_TOKEN = 'demo-token-7f3a'
const ACCOUNT = 'acc_1024'
const USER = { id: 'u_7', name: 'Ada Lovelace', plan: 'pro' }

export interface ServiceOptions {
  /** Seed of the latency schedules. Default 1. */
  readonly seed?: number
  /** Multiplies every latency (0.1 = ten times faster). Default 1. */
  readonly latencyScale?: number
  /** Overrides the typical latency (ms, before `latencyScale`) of some services. */
  readonly latency?: Partial<Record<ServiceName, number>>
  /** Each latency is the typical one times a uniform factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  readonly jitter?: number
  /** Share of responses that are `slowFactor` times slower. Default 0.08. */
  readonly slowRate?: number
  /** Default 3. */
  readonly slowFactor?: number
}

export interface Services {
  readonly urls: ServiceUrls
  /** Requests each service has received (warm-up requests excluded). */
  readonly requests: Readonly<Record<ServiceName, number>>
  /** The latency (ms) each service will use for its requests, in order, as drawn so far. */
  readonly latencies: Readonly<Record<ServiceName, readonly number[]>>
  /** Restarts every latency schedule: the next request to each service gets its first latency again. */
  replay(): void
  /** Opens a keep-alive connection to each service, so that no measured request pays for one. */
  warmUp(): Promise<void>
  /** Closes every server and connection. */
  close(): Promise<void>
}

interface Reply {
  readonly status: number
  readonly body: unknown
}

/** What each service answers; every answer is a pure function of the request. */
const HANDLERS: Record<ServiceName, (url: URL, req: IncomingMessage) => Reply> = {
  auth(url, req) {
    if (url.pathname !== '/verify') return notFound()
    return req.headers.authorization === `Bearer ${DEMO_TOKEN}`
      ? ok({ accountId: ACCOUNT })
      : { status: 401, body: { error: 'invalid token' } }
  },
  user(url) {
    if (url.pathname !== '/me') return notFound()
    return url.searchParams.get('account') === ACCOUNT ? ok(USER) : notFound()
  },
  settings(url) {
    if (url.pathname !== '/settings') return notFound()
    return url.searchParams.get('account') === ACCOUNT
      ? ok({ theme: 'dark', locale: 'en-GB' })
      : notFound()
  },
  balance(url) {
    if (url.pathname !== '/balance') return notFound()
    return url.searchParams.get('account') === ACCOUNT
      ? ok({ currency: 'EUR', cents: 1_234_56 })
      : notFound()
  },
  access(url) {
    if (url.pathname !== '/access') return notFound()
    const user = url.searchParams.get('user')
    if (user === null) return { status: 400, body: { error: 'user is required' } }
    return ok({ user, resource: url.searchParams.get('resource'), allowed: user === USER.id })
  },
}

export async function startServices(options: ServiceOptions = {}): Promise<Services> {
  const seed = options.seed ?? 1
  const scale = options.latencyScale ?? 1
  const jitter = options.jitter ?? 0.2
  const slowRate = options.slowRate ?? 0.08
  const slowFactor = options.slowFactor ?? 3
  if (
    !(scale >= 0) ||
    !(jitter >= 0 && jitter <= 1) ||
    !(slowRate >= 0 && slowRate <= 1) ||
    !(slowFactor >= 1)
  ) {
    throw new RangeError(
      'startServices(): need latencyScale >= 0, 0 <= jitter <= 1, 0 <= slowRate <= 1 and slowFactor >= 1',
    )
  }

  const requests = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<ServiceName, number>
  const latencies = Object.fromEntries(SERVICES.map((s) => [s, [] as number[]])) as Record<
    ServiceName,
    number[]
  >
  const cursor = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<ServiceName, number>
  const random = Object.fromEntries(
    SERVICES.map((s, i) => [s, seededRandom(seed * 1_000 + i)]),
  ) as Record<ServiceName, () => number>

  const nextLatency = (service: ServiceName): number => {
    const schedule = latencies[service]
    const n = cursor[service]++
    while (schedule.length <= n) {
      const rnd = random[service]
      const typical = options.latency?.[service] ?? TYPICAL_LATENCY[service]
      const spread = 1 + jitter * (2 * rnd() - 1)
      const slow = rnd() < slowRate ? slowFactor : 1
      schedule.push(Math.round(typical * spread * slow * scale * 10) / 10)
    }
    return schedule[n]!
  }

  const servers: Server[] = []
  const urls = {} as Record<ServiceName, string>
  try {
    for (const service of SERVICES) {
      const server = createServer((req, res) => serve(service, req, res))
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
      urls[service] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    }
  } catch (error) {
    await closeAll(servers)
    throw error
  }

  function serve(service: ServiceName, req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname === '/health') {
      send(res, ok('ok'))
      return
    }
    requests[service]++
    const reply = HANDLERS[service](url, req)
    const timer = setTimeout(() => send(res, reply), nextLatency(service))
    // A client that gives up (its signal aborted) closes the connection: stop working for it.
    res.once('close', () => clearTimeout(timer))
  }

  return {
    urls,
    requests,
    latencies,
    replay() {
      for (const s of SERVICES) cursor[s] = 0
    },
    async warmUp() {
      await Promise.all(
        SERVICES.map(async (s) => {
          const res = await fetch(`${urls[s]}/health`)
          await res.text()
        }),
      )
    },
    close: () => closeAll(servers),
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return
  const body = JSON.stringify(reply.body)
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

function ok(body: unknown): Reply {
  return { status: 200, body }
}

function notFound(): Reply {
  return { status: 404, body: { error: 'not found' } }
}

async function closeAll(servers: readonly Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          if (!server.listening) return resolve()
          server.close(() => resolve())
          // Keep-alive connections from fetch would otherwise hold the server open.
          server.closeAllConnections()
        }),
    ),
  )
}

/**
 * Part of the `http` benchmark: how exactly do the phase limits fire? A loopback server that
 * accepts requests and never answers (`/hang`), or sends the headers and then nothing (`/stall`);
 * a request with `timeouts.headers` or `timeouts.body` of 300 and 800 ms, 20 at once per case,
 * timed with `performance.now()` from the call to the rejection. The same with undici.request's
 * `headersTimeout` / `bodyTimeout` on a Pool, the timers fanout used to hand these limits to; and
 * `setTimeout`, 20 bare timers of the same lengths: the floor this machine's event loop allows.
 *
 * The headers limit counts from the moment the request is sent, so each batch first opens its 20
 * keep-alive connections (a timed-out request's connection is destroyed): the call is then the
 * send, give or take a fraction of a millisecond. A request on a new connection adds its connect.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool, request as undiciRequest } from 'undici'
import type * as FanoutHttp from '../src/http/index.js'
import type { Measurement } from './harness.js'

const LIMITS = [300, 800] as const
const PHASES = ['headers', 'body'] as const
const RUNS = 20

type Phase = (typeof PHASES)[number]
type Attempt = (phase: Phase, limit: number) => Promise<void>
type Warm = () => Promise<void>

async function startServer(): Promise<{ origin: string; server: Server }> {
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': '100' })
      res.write('x')
    } else if (req.url === '/ok') res.end('ok')
    // /hang: no answer at all
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

/** Fire times of `RUNS` concurrent requests, in ms from each call to its rejection. */
async function fireTimes(
  attempt: Attempt,
  warm: Warm,
  phase: Phase,
  limit: number,
): Promise<number[]> {
  await Promise.all(Array.from({ length: RUNS }, warm))
  return Promise.all(
    Array.from({ length: RUNS }, async () => {
      const start = performance.now()
      try {
        await attempt(phase, limit)
      } catch {
        return performance.now() - start
      }
      throw new Error(`a ${phase} limit of ${limit} ms did not fire`)
    }),
  )
}

export const metricName = (phase: Phase, limit: number, which: 'min' | 'max'): string =>
  `${phase}_${limit}_${which}_ms`
export const PHASE_TIMEOUT_METRICS: readonly string[] = PHASES.flatMap((phase) =>
  LIMITS.flatMap((limit) => [metricName(phase, limit, 'min'), metricName(phase, limit, 'max')]),
)

/** Min and max fire times per phase and limit, for fanout and for undici's own timers. */
export async function phaseTimeouts(
  createHttpClient: typeof FanoutHttp.createHttpClient,
  progress: (line: string) => void,
): Promise<Measurement[]> {
  const { origin, server } = await startServer()
  const client = createHttpClient({ ssrf: { allow: ['loopback'] } })
  const pool = new Pool(origin, { connections: RUNS })
  const path = (phase: Phase): string => (phase === 'headers' ? '/hang' : '/stall')
  const contenders: ReadonlyArray<[string, Attempt, Warm]> = [
    [
      'fanout',
      async (phase, limit) =>
        void (await client.get(`${origin}${path(phase)}`, { timeouts: { [phase]: limit } })),
      async () => void (await client.get(`${origin}/ok`)),
    ],
    [
      'undici-pool',
      async (phase, limit) => {
        const { body } = await undiciRequest(`${origin}${path(phase)}`, {
          dispatcher: pool,
          [phase === 'headers' ? 'headersTimeout' : 'bodyTimeout']: limit,
        })
        await body.arrayBuffer()
      },
      async () =>
        void (await (await undiciRequest(`${origin}/ok`, { dispatcher: pool })).body.text()),
    ],
    [
      'setTimeout',
      (_phase, limit) => new Promise((_resolve, reject) => setTimeout(reject, limit)),
      async () => {},
    ],
  ]
  const measurements: Measurement[] = []
  try {
    // A warm-up batch each (the error paths run for the first time), then every case contender
    // after contender, so a pause of the process (a GC) does not fall on one contender's cases only.
    for (const [name, attempt, warm] of contenders) {
      progress(`phase timeouts: ${name} warm-up`)
      await fireTimes(attempt, warm, 'headers', 50)
    }
    for (const phase of PHASES) {
      for (const limit of LIMITS) {
        for (const [name, attempt, warm] of contenders) {
          progress(`phase timeouts: ${name} ${phase} ${limit} ms`)
          const times = await fireTimes(attempt, warm, phase, limit)
          measurements.push({
            contender: name,
            metric: metricName(phase, limit, 'min'),
            value: Math.min(...times),
            unit: 'ms',
          })
          measurements.push({
            contender: name,
            metric: metricName(phase, limit, 'max'),
            value: Math.max(...times),
            unit: 'ms',
          })
        }
      }
    }
  } finally {
    await client.close()
    await pool.destroy()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return measurements
}

/** Whether every fanout fire time is within max(25 ms, 5 %) after its limit, and none before. */
export function phaseTimeoutBar(measurements: readonly Measurement[]): {
  met: boolean
  detail: string
} {
  const misses: string[] = []
  for (const phase of PHASES) {
    for (const limit of LIMITS) {
      const value = (which: 'min' | 'max'): number =>
        measurements.find(
          (m) => m.contender === 'fanout' && m.metric === metricName(phase, limit, which),
        )!.value
      const [min, max] = [value('min'), value('max')]
      if (min < limit || max > limit + Math.max(25, limit * 0.05))
        misses.push(`${phase} ${limit} ms fired at ${min.toFixed(1)}–${max.toFixed(1)} ms`)
    }
  }
  return { met: misses.length === 0, detail: misses.join('; ') }
}

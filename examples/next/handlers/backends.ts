/**
 * The simulated services both pages call (examples/lib/backends.ts), started by the first request
 * that needs them: `next build` loads every route module, and must not start servers.
 */
import { startBackends, type Backends } from '../../lib/backends.js'

let started: Promise<Backends> | undefined

export function backends(): Promise<Backends> {
  // LATENCY_SCALE=0.2 makes every simulated latency five times shorter (the tests use it).
  started ??= startBackends({ latencyScale: Number(process.env.LATENCY_SCALE ?? '1') })
  return started
}

/** The bearer token of `authorization: Bearer <token>`, or undefined. */
export function bearer(request: Request): string | undefined {
  const match = /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')
  return match?.[1]
}

/** The HTTP status an upstream answered with, for an error or its cause; undefined for others. */
export function statusOf(error: unknown): number | undefined {
  for (let e = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const status = (e as { status?: unknown }).status
    if (typeof status === 'number') return status
  }
  return undefined
}

/** What the single-flight suite and its worker processes share: the input, the result, the cache's options. */
import type { ClientKind } from '../helpers/redis.js'

export interface WorkerInput {
  readonly kind: ClientKind
  readonly port: number
  readonly prefix: string
  readonly workers: number
  readonly callers: number
  readonly lease: number
  readonly loaderMs: number
  readonly deadlineMs: number
  readonly mode: 'miss' | 'stale' | 'kill'
  /** Ms the process stays up after its calls returned (a background refresh runs on). */
  readonly lingerMs: number
}

export interface CallOutcome {
  readonly ok: boolean
  readonly value?: string
  readonly status?: string
  readonly error?: string
}

export interface WorkerResult {
  readonly pid: number
  readonly outcomes: readonly CallOutcome[]
  /** The `store.failed` events of the flight (a fallback to in-process single-flight). */
  readonly fallbacks: readonly string[]
}

/** The options both this worker and the parent's planting of a stale entry use. */
export const CACHE = { name: 'sf', ttl: 10_000, staleWhileRevalidate: 60_000 }

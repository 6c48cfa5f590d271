/**
 * `bullmqQueue()`'s options, checked once at construction. Defaults are chosen for a request path
 * (an enqueue gives up within half a second) and for a worker fleet on one Redis (a crashed
 * worker's jobs run again within about fifteen seconds).
 */
import { InvalidOptionError } from '../core/errors.js'
import { checkDuration, checkKnownKeys, checkNumber, show, snapshot } from '../core/validate.js'
import { clientKind, type BullmqRedisClient, type ClientKind } from './clients.js'

export interface BullmqQueueOptions {
  /**
   * The application's Redis client: node-redis (`createClient()` from `redis` 5+, recommended)
   * or ioredis. fanout never closes or reconfigures it: it opens duplicates of its own (one for
   * producing, without an offline queue, and one per consumer) and closes those.
   */
  readonly connection: BullmqRedisClient
  /** Prefix of every key BullMQ and fanout write. Default `'fanout'`. */
  readonly prefix?: string
  /**
   * How long `enqueue()` waits for Redis before rejecting with `QueueUnavailableError`
   * (`reason: 'timeout'`). Default 500 ms.
   */
  readonly enqueueTimeoutMs?: number
  /** The same bound for `status()`, `cancel()`, `dead()` and `requeueDead()`. Default 2000 ms. */
  readonly operationTimeoutMs?: number
  /**
   * How long a worker's hold on a running job lasts without renewal (renewed every half of it).
   * A worker that dies leaves its jobs to run again once this has passed and a stalled check
   * finds them. Default 10 000 ms.
   */
  readonly lockDurationMs?: number
  /** How often a consumer looks for jobs whose worker died. Default 5000 ms. */
  readonly stalledIntervalMs?: number
  /**
   * How many times a job may lose its worker before it fails for good (a job that crashes every
   * process it runs in must not cycle forever). Default 5.
   */
  readonly maxStalledCount?: number
  /** Completed jobs kept per name (older ones are removed; their ids are forgotten). Default 1000. */
  readonly removeOnComplete?: number
  /** Failed and dead jobs kept per name. Default 10 000. */
  readonly removeOnFail?: number
  /** Dead-letter records kept per name (oldest dropped first). Default 10 000. */
  readonly maxDead?: number
  /**
   * Waiting and delayed jobs a name may hold: past it `enqueue()` rejects with `QueueFullError`.
   * Checked before the add, so concurrent producers can overshoot it by their number. Default none.
   */
  readonly maxQueued?: number
}

export interface ResolvedOptions {
  readonly client: BullmqRedisClient
  readonly kind: ClientKind
  readonly prefix: string
  readonly enqueueTimeoutMs: number
  readonly operationTimeoutMs: number
  readonly lockDurationMs: number
  readonly stalledIntervalMs: number
  readonly maxStalledCount: number
  readonly removeOnComplete: number
  readonly removeOnFail: number
  readonly maxDead: number
  readonly maxQueued: number
}

const WHERE = 'bullmqQueue()'
const KNOWN = [
  'connection',
  'prefix',
  'enqueueTimeoutMs',
  'operationTimeoutMs',
  'lockDurationMs',
  'stalledIntervalMs',
  'maxStalledCount',
  'removeOnComplete',
  'removeOnFail',
  'maxDead',
  'maxQueued',
] as const

const count = (name: string, value: unknown, fallback: number, min = 0): number =>
  value === undefined ? fallback : checkNumber(WHERE, name, value, { min, max: 1e9, integer: true })

const duration = (name: string, value: unknown, fallback: number, min = 1): number =>
  value === undefined ? fallback : checkDuration(WHERE, name, value, { min, max: 3_600_000 })

export function resolveOptions(raw: BullmqQueueOptions): ResolvedOptions {
  const options = snapshot(WHERE, raw)
  checkKnownKeys(WHERE, options, KNOWN)
  const client = options.connection
  const kind = clientKind(client)
  if (kind === undefined)
    throw new InvalidOptionError(
      `${WHERE}: \`connection\` must be a node-redis client (createClient() from 'redis') or an ioredis client, got ${show(client)}.`,
    )
  const prefix = options.prefix ?? 'fanout'
  if (typeof prefix !== 'string' || prefix === '' || prefix.includes('{'))
    throw new InvalidOptionError(
      `${WHERE}: \`prefix\` must be a non-empty string without "{", got ${show(prefix)}.`,
    )
  const lockDurationMs = duration('lockDurationMs', options.lockDurationMs, 10_000, 100)
  return {
    client: client as BullmqRedisClient,
    kind,
    prefix,
    enqueueTimeoutMs: duration('enqueueTimeoutMs', options.enqueueTimeoutMs, 500),
    operationTimeoutMs: duration('operationTimeoutMs', options.operationTimeoutMs, 2000),
    lockDurationMs,
    stalledIntervalMs: duration('stalledIntervalMs', options.stalledIntervalMs, 5000, 50),
    maxStalledCount: count('maxStalledCount', options.maxStalledCount, 5, 1),
    removeOnComplete: count('removeOnComplete', options.removeOnComplete, 1000),
    removeOnFail: count('removeOnFail', options.removeOnFail, 10_000),
    maxDead: count('maxDead', options.maxDead, 10_000, 1),
    maxQueued:
      options.maxQueued === undefined ? Infinity : count('maxQueued', options.maxQueued, 0, 1),
  }
}

/** The options of `worker()`, checked once when the worker starts. */
import type { Policy } from '../core/call.js'
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import type { TraceEvent } from '../core/trace.js'
import {
  checkClock,
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  show,
  snapshot,
} from '../core/validate.js'
import { BACKOFF_STRATEGIES, type BackoffStrategy } from '../policies/backoff.js'

/** The wait between queue-level attempts (in-process `retry()` waits are the policy's own). */
export interface QueueBackoffOptions {
  /** Default `full` jitter (see `retry()`). */
  readonly strategy?: BackoffStrategy
  /** Base delay in ms. Default 1,000. */
  readonly baseDelay?: number
  /** Largest delay in ms. Default 300,000 (five minutes). */
  readonly maxDelay?: number
  /** Uniform random source in [0, 1). Default `Math.random`. */
  readonly random?: () => number
}

export interface QueueBackoff {
  readonly strategy: BackoffStrategy
  readonly baseDelay: number
  readonly maxDelay: number
  readonly random: () => number
}

export interface WorkerOptions {
  /**
   * Policies around the handler, first listed = outermost (`retry()`, `circuitBreaker()`,
   * `limit()`…): they handle short transients inside one queue-level attempt.
   */
  readonly policies?: readonly Policy[]
  /** Jobs run at once by this worker. Default 1. */
  readonly concurrency?: number
  /** Queue-level attempts, overriding the count each job was enqueued with. */
  readonly attempts?: number
  /** The wait before a queue-level retry of a transient failure. */
  readonly backoff?: QueueBackoffOptions
  /** How long `close()` lets running jobs finish before taking them back. Default 30,000 ms. */
  readonly graceMs?: number
  /** Source of time for the jobs' deadlines and policies. Default the system clock. */
  readonly clock?: Clock
  /** Receives every event the policies emit while a job runs. */
  readonly onEvent?: (event: TraceEvent) => void
}

export interface WorkerSettings {
  readonly policies: readonly Policy[]
  readonly concurrency: number
  readonly attempts: number | undefined
  readonly backoff: QueueBackoff
  readonly graceMs: number
  readonly clock: Clock
  readonly onEvent: ((event: TraceEvent) => void) | undefined
}

const WHERE = 'worker()'
const KNOWN = [
  'policies',
  'concurrency',
  'attempts',
  'backoff',
  'graceMs',
  'clock',
  'onEvent',
] as const

export function workerSettings(options: WorkerOptions | undefined): WorkerSettings {
  const opts = snapshot(WHERE, options)
  checkKnownKeys(WHERE, opts, KNOWN)
  if (opts.clock !== undefined) checkClock(WHERE, opts.clock)
  return {
    policies: checkPolicies(opts.policies),
    concurrency:
      opts.concurrency === undefined
        ? 1
        : checkNumber(WHERE, 'concurrency', opts.concurrency, {
            min: 1,
            max: 10_000,
            integer: true,
          }),
    attempts:
      opts.attempts === undefined
        ? undefined
        : checkNumber(WHERE, 'attempts', opts.attempts, { min: 1, max: 1_000, integer: true }),
    backoff: backoffSettings(opts.backoff),
    graceMs:
      opts.graceMs === undefined
        ? 30_000
        : checkDuration(WHERE, 'graceMs', opts.graceMs, { min: 0, allowInfinity: true }),
    clock: opts.clock ?? systemClock,
    onEvent:
      opts.onEvent === undefined
        ? undefined
        : checkFunction(WHERE, 'onEvent', opts.onEvent, '(event) => void'),
  }
}

function checkPolicies(value: unknown): readonly Policy[] {
  if (value === undefined) return []
  if (!Array.isArray(value))
    throw new InvalidOptionError(
      `${WHERE}: \`policies\` must be an array of policies, e.g. [retry()], got ${show(value)}.`,
    )
  for (const p of value as unknown[]) {
    const wrap = typeof p === 'object' && p !== null ? (p as { wrap?: unknown }).wrap : undefined
    if (typeof wrap !== 'function')
      throw new InvalidOptionError(
        `${WHERE}: every entry of \`policies\` must be a policy (retry(), limit()…), got ${show(p)}.`,
      )
  }
  return Object.freeze([...(value as Policy[])])
}

function backoffSettings(value: QueueBackoffOptions | undefined): QueueBackoff {
  const where = `${WHERE} backoff`
  const b = snapshot(where, value)
  checkKnownKeys(where, b, ['strategy', 'baseDelay', 'maxDelay', 'random'])
  if (b.strategy !== undefined && !BACKOFF_STRATEGIES.includes(b.strategy))
    throw new InvalidOptionError(
      `${where}: \`strategy\` must be one of ${BACKOFF_STRATEGIES.join(', ')}, got ${show(b.strategy)}.`,
    )
  const baseDelay =
    b.baseDelay === undefined ? 1_000 : checkDuration(where, 'baseDelay', b.baseDelay, { min: 0 })
  const maxDelay =
    b.maxDelay === undefined
      ? Math.max(300_000, baseDelay)
      : checkDuration(where, 'maxDelay', b.maxDelay, { min: 0 })
  if (maxDelay < baseDelay)
    throw new InvalidOptionError(
      `${where}: \`maxDelay\` (${maxDelay}) must be at least \`baseDelay\` (${baseDelay}).`,
    )
  return {
    strategy: b.strategy ?? 'full',
    baseDelay,
    maxDelay,
    random:
      b.random === undefined
        ? Math.random
        : checkFunction(where, 'random', b.random, '() => number in [0, 1)'),
  }
}

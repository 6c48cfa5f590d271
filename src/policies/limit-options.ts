/** `limit()`'s options: their types, and reading them (own properties only, each checked by name). */
import type { CallContext } from '../core/call.js'
import { InvalidOptionError } from '../core/errors.js'
import {
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkName,
  checkNumber,
  snapshot,
} from '../core/validate.js'
import type { ConcurrencyStore } from './concurrency-store.js'

export interface LimitOptions {
  /** Calls allowed to run at once. An integer ≥ 1 (or Infinity). Required. */
  readonly concurrency: number
  /** Waiting calls allowed; one more is rejected at once with `QueueFullError`. Default 10,000. */
  readonly maxQueue?: number
  /** Longest wait for a slot in ms (the deadline applies too); then the call fails with `TimeoutError`. */
  readonly maxWait?: number
  /** Calls allowed to run at once per key (e.g. per host); needs `key`. */
  readonly perKey?: number
  /** The key of a call, for `perKey` (e.g. the upstream host). */
  readonly key?: (ctx: CallContext) => string
  /**
   * A call's priority (higher runs first; FIFO within a priority). `true` turns on the priority
   * queue with priorities given by `run({ priority })` and by flows (critical path first).
   */
  readonly priority?: ((ctx: CallContext) => number) | true
  /** Aging: each `agingMs` a call waits raises its priority by 1, so low priority still progresses. Default 1,000. */
  readonly agingMs?: number
  /** Shown in errors and `describe()`; with a `store`, the name under which limiters share a limit. */
  readonly name?: string
  /**
   * Shares the limit: every limiter with this store and `name` stays within `concurrency` (and
   * `perKey`) together — in one process with `memoryConcurrencyStore()`, across processes with a
   * shared store. Each call takes a permit before it runs; the queue stays local.
   */
  readonly store?: ConcurrencyStore
  /** With a `store`: a permit expires this long after it was last renewed (running calls renew it every third). Default 30,000 ms. */
  readonly leaseMs?: number
  /** With a `store`: the longest pause between two tries for a permit when the store does not announce releases. Default 1,000 ms. */
  readonly storePollMs?: number
}

const KNOWN = [
  'concurrency',
  'maxQueue',
  'maxWait',
  'perKey',
  'key',
  'priority',
  'agingMs',
  'name',
  'store',
  'leaseMs',
  'storePollMs',
] as const

export function checkConcurrency(where: string, name: string, value: unknown): number {
  if (value === Infinity) return value
  return checkNumber(where, name, value, {
    min: 1,
    max: 1_000_000,
    integer: true,
    allowInfinity: true,
  })
}

/** The options, checked, with their defaults filled in. */
export interface LimitConfig {
  readonly concurrency: number
  readonly maxQueue: number
  readonly maxWait: number | undefined
  readonly perKey: number | undefined
  readonly keyOf: ((ctx: CallContext) => string) | undefined
  /** Whether waiters are served by priority (`priority` given, as a function or `true`). */
  readonly prioritized: boolean
  readonly priorityOf: ((ctx: CallContext) => number) | undefined
  readonly agingMs: number
  readonly name: string
  readonly store: ConcurrencyStore | undefined
  readonly leaseMs: number
  readonly storePollMs: number
}

export const LIMIT_WHERE = 'limit()'

export function readLimitOptions(options: LimitOptions | number): LimitConfig {
  const where = LIMIT_WHERE
  const opts: Partial<LimitOptions> = snapshot(
    where,
    typeof options === 'number' ? { concurrency: options } : options,
  )
  checkKnownKeys(where, opts, KNOWN)
  if (opts.concurrency === undefined)
    throw new InvalidOptionError(
      `${where}: \`concurrency\` is required (an integer ≥ 1), e.g. limit({ concurrency: 8 }).`,
    )
  const perKey =
    opts.perKey === undefined ? undefined : checkConcurrency(where, 'perKey', opts.perKey)
  const keyOf =
    opts.key === undefined
      ? undefined
      : checkFunction<(ctx: CallContext) => string>(where, 'key', opts.key, '(ctx) => string')
  if ((perKey === undefined) !== (keyOf === undefined)) {
    throw new InvalidOptionError(
      `${where}: \`perKey\` and \`key\` go together: \`key\` says which key a call belongs to, \`perKey\` how many calls per key may run.`,
    )
  }
  const store = opts.store === undefined ? undefined : checkStore(where, opts.store)
  if (store !== undefined && opts.name === undefined) {
    throw new InvalidOptionError(
      `${where}: a limiter with a \`store\` needs a \`name\`: limiters share a store's limit by name, e.g. limit({ concurrency: 8, store, name: 'payments-api' }).`,
    )
  }
  return {
    concurrency: checkConcurrency(where, 'concurrency', opts.concurrency),
    maxQueue:
      opts.maxQueue === undefined
        ? 10_000
        : checkNumber(where, 'maxQueue', opts.maxQueue, { min: 0, max: 10_000_000, integer: true }),
    maxWait: opts.maxWait === undefined ? undefined : checkDuration(where, 'maxWait', opts.maxWait),
    perKey,
    keyOf,
    prioritized: opts.priority !== undefined,
    priorityOf:
      opts.priority === undefined || opts.priority === true
        ? undefined
        : checkFunction<(ctx: CallContext) => number>(
            where,
            'priority',
            opts.priority,
            '(ctx) => number or true',
          ),
    agingMs: opts.agingMs === undefined ? 1_000 : checkDuration(where, 'agingMs', opts.agingMs),
    name: opts.name === undefined ? 'limit' : checkName(where, opts.name),
    store,
    leaseMs: opts.leaseMs === undefined ? 30_000 : checkDuration(where, 'leaseMs', opts.leaseMs),
    storePollMs:
      opts.storePollMs === undefined
        ? 1_000
        : checkDuration(where, 'storePollMs', opts.storePollMs),
  }
}

function checkStore(where: string, store: unknown): ConcurrencyStore {
  const s = store as Partial<ConcurrencyStore> | null
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.acquire !== 'function' ||
    typeof s.renew !== 'function' ||
    typeof s.release !== 'function'
  ) {
    throw new InvalidOptionError(
      `${where}: \`store\` must be a ConcurrencyStore (acquire, renew and release), e.g. memoryConcurrencyStore().`,
    )
  }
  return s as ConcurrencyStore
}

/**
 * `redisRateLimitStore()`: the `RateLimitStore` of `rateLimit()` kept in Redis, so every process
 * of a service shares one limit. One round trip per `reserve` (one Lua script, EVALSHA), on the
 * server's clock by default, with the semantics of `memoryRateLimitStore()` (GCRA and the exact
 * sliding window, weights, `notBefore`, `maxWaitMs`, cancel giving back only what no later
 * reservation depends on).
 *
 * When Redis cannot answer within `timeout` (down, partitioned, slow, read-only after a failover),
 * the store follows `onStoreError`:
 * - `local` (default): a per-process `memoryRateLimitStore()` allowing `localShare` of the limit;
 * - `fail-open`: the call goes at once;
 * - `fail-closed`: `reserve` rejects with `StoreUnavailableError` (never a fake rate-limit error).
 * Each fallback emits `store.failed`. Once Redis answers again (the breaker lets a probe through
 * after `breaker.halfOpenAfter`), it is used again at once; what was counted locally meanwhile is
 * not carried over (Redis never learns of it, and the local counts are simply left to expire).
 * A `StoreError` (the key holds another type: the prefix is shared with another application) is
 * never hidden by the fallback.
 *
 * Keys: `${prefix}:rate:{${name}:${key}}` (GCRA, a string) and the same with `:w` (a sorted set)
 * and `:m` (a string) for the sliding window; each with a PX of "until forgetting it loses
 * nothing" plus 1 s, so idle keys expire. A key lost early (evicted under `allkeys-lru`, deleted)
 * is a fresh key: the limiter admits one more burst, never more (fail-open by nature); run Redis
 * with `noeviction` or a `volatile-*` policy to avoid it.
 *
 * The sliding window also holds at most `limit` entries in any window, whatever their weights
 * (weights of 1 or more imply it anyway), so a script run reads O(limit) entries at worst.
 */
import { StoreUnavailableError } from '../core/errors.js'
import {
  memoryRateLimitStore,
  type MemoryRateLimitStore,
  type RateLimitParams,
  type RateLimitReservation,
  type RateLimitReserveRequest,
  type RateLimitStore,
} from '../policies/rate-limit-store.js'
import type { RedisArgument } from './connection.js'
import type { OnStoreError } from './guard.js'
import { Batches, type Pending } from './rate-limit-batch.js'
import { gcraScript, windowScript } from './rate-limit-scripts.js'
import { readLimitStoreOptions, type RedisStoreOptions, type StoreSetup } from './store-options.js'

/** Options of `redisRateLimitStore()`: the shared Redis store options, plus the clock and the fallback. */
export interface RedisRateLimitStoreOptions extends RedisStoreOptions {
  /**
   * Whose clock the limit runs on. `redis` (default): the server's (`TIME` inside the script), so
   * the processes' clocks may disagree by any amount. `caller`: the `now` each call passes in
   * (`ctx.clock`), for deterministic tests with a fake clock; all processes must then share one clock.
   */
  readonly time?: 'redis' | 'caller'
  /** What `reserve` does when Redis cannot answer. Default `local`. */
  readonly onStoreError?: OnStoreError
  /**
   * With `onStoreError: 'local'`: the share of the limit each process may use on its own while
   * Redis is unavailable, more than 0 and at most 1. Default 0.25: up to 4 processes together
   * stay within the limit; with more, set it to 1 / (number of processes). The burst (GCRA) and
   * the limit per window are scaled alike; a call heavier than the local share counts as all of it.
   */
  readonly localShare?: number
  /** With `onStoreError: 'local'`: most keys the local fallback holds. Integer 1–10 000 000, default 10 000. */
  readonly localMaxKeys?: number
}

/**
 * A `RateLimitStore` in Redis. Asynchronous: a caller that leaves has its reservation cancelled,
 * and those queued behind it keep their turns (they do not move up as with the memory store).
 */
export interface RedisRateLimitStore extends RateLimitStore {
  reserve(key: string, request: RateLimitReserveRequest): Promise<RateLimitReservation>
  cancel(key: string, ticket: unknown, now: number): Promise<void>
  readonly synchronous: false
  /** The store's name (part of every key). */
  readonly name: string
  /** The Redis key(s) of a limiter key, for inspection: GCRA uses the first, the window both. */
  keysOf(key: string): { readonly gcra: string; readonly log: string; readonly meta: string }
}

const WHERE = 'redisRateLimitStore()'

interface GcraTicket {
  readonly kind: 'gcra'
  readonly end: string
  readonly shift: string
  readonly epoch: string
  span: number
}

interface WindowTicket {
  readonly kind: 'window'
  readonly id: string
  readonly score: string
  readonly epoch: string
  cost: number
}

/** A reservation the local fallback made: cancelled there. */
interface LocalTicket {
  readonly kind: 'local'
  readonly ticket: unknown
}

/**
 * A rate-limit store in Redis, shared by every process that uses the same `prefix` and `name`.
 *
 * @example
 * const client = await createClient().connect()
 * const store = redisRateLimitStore({ redis: fromNodeRedis(client), name: 'github' })
 * const github = rateLimit({ rate: 50, per: 1_000, burst: 10, maxWait: 2_000, store })
 */
export function redisRateLimitStore(options: RedisRateLimitStoreOptions): RedisRateLimitStore {
  const { setup, time, policy, share, localMaxKeys } = readLimitStoreOptions(
    WHERE,
    options,
    'rate',
    'local',
  )
  const local = policy === 'local' ? memoryRateLimitStore({ maxKeys: localMaxKeys }) : undefined
  const store = new Store(setup, time === 'caller', policy, share, local)
  return {
    synchronous: false,
    name: setup.name,
    keysOf: (key) => store.keysOf(key),
    reserve: (key, request) => store.reserve(key, request),
    cancel: (key, ticket, now) => store.cancel(key, ticket, now),
  }
}

/** Numbers as the scripts read them (decimal text, `inf` and `x` for the infinities). */
const arg = (n: number): RedisArgument =>
  n === Infinity ? 'inf' : n === -Infinity ? 'x' : Number.isFinite(n) ? n : 'x'

class Store {
  readonly #setup: StoreSetup
  readonly #caller: boolean
  readonly #policy: OnStoreError
  readonly #share: number
  readonly #local: MemoryRateLimitStore | undefined
  readonly #base: string
  readonly #batches: Batches

  constructor(
    setup: StoreSetup,
    caller: boolean,
    policy: OnStoreError,
    share: number,
    local: MemoryRateLimitStore | undefined,
  ) {
    this.#setup = setup
    this.#caller = caller
    this.#policy = policy
    this.#share = share
    this.#local = local
    this.#base = `${setup.prefix}:rate:{${setup.name}:`
    this.#batches = new Batches(setup.redis.cluster, (batch) => this.#sendGcra(batch))
  }

  /** The GCRA key is `${base}${key}}`, built inline on the hot path (see #sendGcra). */
  keysOf(key: string): { gcra: string; log: string; meta: string } {
    const k = `${this.#base}${key}}`
    return { gcra: k, log: `${k}:w`, meta: `${k}:m` }
  }

  reserve(key: string, request: RateLimitReserveRequest): Promise<RateLimitReservation> {
    return request.params.algorithm === 'gcra'
      ? this.#batches.add(key, request)
      : this.#reserveWindow(key, request)
  }

  /** With the server's clock a pause travels as "this many ms from now". */
  #pause({ notBefore, now }: RateLimitReserveRequest): RedisArgument {
    return arg(this.#caller || notBefore === -Infinity ? notBefore : notBefore - now)
  }

  /** One script run for a batch of GCRA reservations, each answered on its own. */
  #sendGcra(batch: readonly Pending[]): void {
    const keys: string[] = []
    const index = new Map<string, number>()
    const sets: GcraSet[] = []
    const head: RedisArgument[] = ['r', this.#caller ? batch[0]!.request.now : '', batch.length, 0]
    const tail: RedisArgument[] = []
    for (const { key, request } of batch) {
      let k = index.get(key)
      if (k === undefined) {
        k = keys.push(`${this.#base}${key}}`)
        index.set(key, k)
      }
      const set = this.#setOf(sets, request)
      if (this.#caller) tail.push(k, set, request.now)
      else tail.push(k, set)
    }
    head[3] = sets.length
    for (const s of sets) head.push(s.cost, s.maxWait, s.pause, s.interval, s.tolerance)
    this.#setup.guard
      .run('reserve', () => this.#setup.redis.evalScript(gcraScript, keys, head.concat(tail)))
      .then(
        (reply) => {
          const r = reply as string[]
          batch.forEach(({ request, resolve }, i) => resolve(gcraAnswer(r[i]!, request)))
        },
        (error: unknown) => {
          for (const { key, request, resolve, reject } of batch) {
            try {
              resolve(this.#fallback(key, request, error))
            } catch (e) {
              reject(e)
            }
          }
        },
      )
  }

  /**
   * The 1-based index of `request`'s parameter set in `sets`, added if new. A batch's
   * reservations mostly come from one limiter with one cost, so the last few sets are searched.
   */
  #setOf(sets: GcraSet[], request: RateLimitReserveRequest): number {
    const p = request.params as Extract<RateLimitParams, { algorithm: 'gcra' }>
    const maxWait = arg(request.maxWaitMs)
    const pause = this.#pause(request)
    for (let j = sets.length - 1; j >= Math.max(0, sets.length - 4); j--) {
      const s = sets[j]!
      if (
        s.cost === request.cost &&
        s.interval === p.interval &&
        s.tolerance === p.tolerance &&
        s.maxWait === maxWait &&
        s.pause === pause
      )
        return j + 1
    }
    return sets.push({
      cost: request.cost,
      maxWait,
      pause,
      interval: p.interval,
      tolerance: p.tolerance,
    })
  }

  async #reserveWindow(
    key: string,
    request: RateLimitReserveRequest,
  ): Promise<RateLimitReservation> {
    const { params, cost, now, maxWaitMs } = request
    const p = params as Extract<RateLimitParams, { algorithm: 'sliding-window' }>
    const keys = this.keysOf(key)
    try {
      const reply = (await this.#setup.guard.run('reserve', () =>
        this.#setup.redis.evalScript(
          windowScript,
          [keys.log, keys.meta],
          [
            'r',
            this.#caller ? now : '',
            cost,
            arg(maxWaitMs),
            this.#pause(request),
            p.limit,
            p.window,
          ],
        ),
      )) as string[]
      const waitMs = Number(reply[1])
      if (reply[0] !== '1') return { ok: false, waitMs, reason: 'wait' }
      const ticket: WindowTicket = {
        kind: 'window',
        id: reply[2]!,
        score: reply[3]!,
        epoch: reply[4]!,
        cost,
      }
      return { ok: true, waitMs, ticket }
    } catch (error) {
      return this.#fallback(key, request, error)
    }
  }

  async cancel(key: string, ticket: unknown, now: number): Promise<void> {
    const t = ticket as Partial<GcraTicket | WindowTicket | LocalTicket> | null
    if (typeof t !== 'object' || t === null) return
    if (t.kind === 'local') {
      this.#local?.cancel(key, t.ticket, now)
      return
    }
    const clock = this.#caller ? now : ''
    const keys = this.keysOf(key)
    if (t.kind === 'gcra') {
      // Even a spent ticket moves the key's clock, as in memory (a clock stepping back shifts it).
      const g = t as GcraTicket
      const span = g.span
      g.span = 0 // a second cancel of the same ticket gives nothing back
      await this.#setup.guard.run('cancel', () =>
        this.#setup.redis.evalScript(
          gcraScript,
          [keys.gcra],
          ['c', clock, g.end, g.shift, span, g.epoch],
        ),
      )
    } else if (t.kind === 'window') {
      const w = t as WindowTicket
      const cost = w.cost
      w.cost = 0
      await this.#setup.guard.run('cancel', () =>
        this.#setup.redis.evalScript(
          windowScript,
          [keys.log, keys.meta],
          ['c', clock, w.id, w.score, cost, w.epoch],
        ),
      )
    }
  }

  /** Redis did not answer: the policy decides. A `StoreError` is never hidden. */
  #fallback(key: string, request: RateLimitReserveRequest, error: unknown): RateLimitReservation {
    if (!(error instanceof StoreUnavailableError)) throw error
    const guard = this.#setup.guard
    guard.reportFallback(error, this.#policy)
    if (this.#policy === 'fail-closed') throw error
    if (this.#policy === 'fail-open') return { ok: true, waitMs: 0, ticket: null }
    const params = localParams(request.params, this.#share)
    const capacity = params.algorithm === 'gcra' ? params.tolerance / params.interval : params.limit
    const result = this.#local!.reserve(key, {
      ...request,
      cost: Math.min(request.cost, capacity),
      params,
    })
    return result.ok ? { ...result, ticket: { kind: 'local', ticket: result.ticket } } : result
  }
}

/** The limit scaled to a local share: the rate and the burst (or the limit per window) alike. */
function localParams(params: RateLimitParams, share: number): RateLimitParams {
  return params.algorithm === 'gcra'
    ? { algorithm: 'gcra', interval: params.interval / share, tolerance: params.tolerance }
    : { algorithm: 'sliding-window', limit: params.limit * share, window: params.window }
}

/** One reservation's reply, "wait end shift epoch" or "wait"; the ticket holds what `cancel` must send back. */
function gcraAnswer(
  reply: string,
  { params, cost }: RateLimitReserveRequest,
): RateLimitReservation {
  const [wait, end, shift, epoch] = reply.split(' ')
  const waitMs = Number(wait)
  if (epoch === undefined) return { ok: false, waitMs, reason: 'wait' }
  const interval = (params as Extract<RateLimitParams, { algorithm: 'gcra' }>).interval
  const ticket: GcraTicket = {
    kind: 'gcra',
    end: end!,
    shift: shift!,
    epoch,
    span: cost * interval,
  }
  return { ok: true, waitMs, ticket }
}

/** One parameter set of a GCRA batch, as sent. */
interface GcraSet {
  readonly cost: number
  readonly maxWait: RedisArgument
  readonly pause: RedisArgument
  readonly interval: number
  readonly tolerance: number
}

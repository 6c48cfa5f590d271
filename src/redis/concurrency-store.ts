/**
 * `redisConcurrencyStore()`: a `ConcurrencyStore` on Redis, so `limit({ concurrency, store })`
 * holds one limit across every process of a service — a distributed semaphore with leases.
 *
 * Invariants (those of `memoryConcurrencyStore()`, across processes):
 * - under each key at most `limit` unexpired permits are held; one script per acquire drops the
 *   expired leases, checks every key and takes a permit under all of them or none;
 * - an acquire applied twice for one holder (a re-sent command) holds one permit, not two;
 * - a lease ends `leaseMs` after its last renewal on one clock (the server's by default), so a
 *   process that dies holding permits gives them back when its leases run out;
 * - `renew` is true only while the holder still holds every key unexpired: a lost lease is never
 *   renewed back to life;
 * - a release publishes what it freed; waiters in any process try again at once (`watch`), and
 *   poll anyway, since pub/sub may drop messages;
 * - every key of one store shares the hash tag `{name}` (Redis Cluster runs the script on one
 *   slot) and carries a PX of its last lease end, so idle keys disappear.
 *
 * When Redis cannot answer (`onStoreError`): `fail-closed` (default) refuses the call with
 * `StoreUnavailableError`; `local` admits it against a per-process share of the limit; `fail-open`
 * admits it unlimited. A `StoreError` (a key of another type: WRONGTYPE) is raised whatever the
 * policy.
 */
import { StoreUnavailableError } from '../core/errors.js'
import type {
  ConcurrencyAcquireRequest,
  ConcurrencyGrant,
  ConcurrencyStore,
} from '../policies/concurrency-store.js'
import { memoryConcurrencyStore } from '../policies/concurrency-store.js'
import { ACQUIRE, RELEASE, RENEW } from './concurrency-scripts.js'
import type { RedisArgument } from './connection.js'
import type { OnStoreError } from './guard.js'
import { readLimitStoreOptions, type RedisStoreOptions } from './store-options.js'

const WHERE = 'redisConcurrencyStore()'

/** Options of `redisConcurrencyStore()`: the shared store options, and the semaphore's own. */
export interface RedisConcurrencyStoreOptions extends RedisStoreOptions {
  /**
   * Whose clock leases run on. `redis` (default): the server's (`TIME` inside each script), so the
   * processes' clocks may disagree by any amount. `caller`: the `now` the limiter passes (its
   * `clock`), for deterministic tests with a fake clock; all processes must then share one clock.
   */
  readonly time?: 'redis' | 'caller'
  /** What `acquire` does when Redis cannot answer. Default `fail-closed`. */
  readonly onStoreError?: OnStoreError
  /**
   * With `onStoreError: 'local'`: the share of each limit a process may use on its own while
   * Redis is unavailable (at least one permit), more than 0 and at most 1. Default 0.25: up to 4
   * processes together stay within the limit; with more, set it to 1 / (number of processes).
   */
  readonly localShare?: number
  /** With `onStoreError: 'local'`: most keys the local fallback holds. Integer 1–10 000 000, default 10 000. */
  readonly localMaxKeys?: number
}

/** A `ConcurrencyStore` on Redis; every operation answers asynchronously. */
export interface RedisConcurrencyStore extends ConcurrencyStore {
  acquire(request: ConcurrencyAcquireRequest): Promise<ConcurrencyGrant>
  renew(keys: readonly string[], holder: string, now: number, leaseMs: number): Promise<boolean>
  release(keys: readonly string[], holder: string, now: number): Promise<void>
  /**
   * Calls `listener` when a permit under `key` is released by any process sharing the store (one
   * subscription per store, opened on first use), and for every key when the subscriber
   * reconnects (releases in between were missed). Returns the function that stops listening.
   */
  watch(key: string, listener: () => void): () => void
  /** Stops listening for releases (the subscription); the Redis client stays open. */
  close(): Promise<void>
}

/** Holders admitted without Redis, by the policy that admitted them; a bound, though each is released. */
const MAX_FALLBACK_HOLDERS = 100_000
/** Extra key lifetime under `time: 'caller'` (see `slack` below). */
const CALLER_TTL_SLACK_MS = 3_600_000

/**
 * A `ConcurrencyStore` on Redis: limiters given this store and one `name` share their
 * `concurrency` (and `perKey`) across every process. Permits are leases on the server's clock,
 * taken all-or-nothing in one script, renewed by running calls and given back on release, which
 * wakes waiters in every process. Redis unavailable: `onStoreError` (default `fail-closed`).
 *
 * @example
 * const client = await createClient().connect()
 * const store = redisConcurrencyStore({ redis: fromNodeRedis(client), name: 'payments' })
 * const payments = limit({ concurrency: 20, perKey: 5, key: (ctx) => ctx.task, store, name: 'payments-api' })
 */
export function redisConcurrencyStore(
  options: RedisConcurrencyStoreOptions,
): RedisConcurrencyStore {
  const { setup, time, policy, share, localMaxKeys } = readOptions(options)
  const { redis, guard, prefix, name } = setup
  const local = memoryConcurrencyStore({ maxKeys: localMaxKeys })
  /** holder → how it was admitted without Redis (its renew and release never go to Redis). */
  const fallbackHolders = new Map<string, 'local' | 'fail-open'>()
  // One hash tag for the whole store: every script's keys land on one cluster slot.
  const base = `${prefix}:sem:{${name}}`
  const keyOf = (permit: string): string => `${base}:${permit}`
  const channel = `${base}:released`
  const nowArg = (now: number): RedisArgument => (time === 'caller' ? now : '')
  // With the caller's clock (fake in tests), real time and lease time need not agree: keys live
  // a margin longer than their last lease end, so Redis never drops a lease the caller holds.
  const slack = time === 'caller' ? CALLER_TTL_SLACK_MS : 0
  const leaseArg = (leaseMs: number): RedisArgument => (leaseMs === Infinity ? -1 : leaseMs)
  const localLimit = (limit: number): number =>
    limit === Infinity ? limit : Math.max(1, Math.floor(limit * share))

  /** Follows the policy after an unavailable Redis; anything else (StoreError) is raised. */
  const fallback = <T>(error: unknown, local: () => T, open: T): T => {
    if (!(error instanceof StoreUnavailableError) || policy === 'fail-closed') throw error
    guard.reportFallback(error, policy)
    return policy === 'local' ? local() : open
  }
  const admitted = (holder: string, how: 'local' | 'fail-open'): void => {
    if (fallbackHolders.size >= MAX_FALLBACK_HOLDERS)
      fallbackHolders.delete(fallbackHolders.keys().next().value!)
    fallbackHolders.set(holder, how)
  }
  const run = (operation: string, script: typeof ACQUIRE, keys: string[], args: RedisArgument[]) =>
    guard.run(operation, () => redis.evalScript(script, keys, args))

  /** Takes back a permit an acquire whose reply was lost may have taken (its outcome is unknown). */
  const forget = (permits: readonly string[], holder: string, error: unknown): void => {
    if (!(error instanceof StoreUnavailableError) || error.reason === 'circuit-open') return
    run('release', RELEASE, permits.map(keyOf), [holder, channel, ...permits]).then(
      undefined,
      () => {},
    )
  }

  const watch = createWatchers(redis, channel)

  return {
    async acquire(request) {
      const { permits, holder, now, leaseMs } = request
      const names = permits.map((p) => p.key)
      const args: RedisArgument[] = [holder, leaseArg(leaseMs), nowArg(now), slack]
      for (const p of permits) args.push(p.limit === Infinity ? -1 : p.limit)
      try {
        return grantOf(await run('acquire', ACQUIRE, names.map(keyOf), args))
      } catch (error) {
        forget(names, holder, error)
        const grant = fallback<ConcurrencyGrant>(
          error,
          () =>
            local.acquire({
              ...request,
              permits: permits.map((p) => ({ key: p.key, limit: localLimit(p.limit) })),
            }),
          { ok: true },
        )
        if (grant.ok) admitted(holder, policy === 'local' ? 'local' : 'fail-open')
        return grant
      }
    },
    async renew(names, holder, now, leaseMs) {
      const how = fallbackHolders.get(holder)
      if (how === 'fail-open') return true
      if (how === 'local') return local.renew(names, holder, now, leaseMs)
      try {
        const args = [holder, leaseArg(leaseMs), nowArg(now), slack]
        return String(await run('renew', RENEW, names.map(keyOf), args)) === '1'
      } catch (error) {
        // Redis's lease lasts until its end whatever happens here; only fail-closed reports it.
        return fallback(error, () => true, true)
      }
    },
    async release(names, holder, now) {
      const how = fallbackHolders.get(holder)
      if (how !== undefined) {
        fallbackHolders.delete(holder)
        if (how === 'local') local.release(names, holder, now)
        return
      }
      try {
        await run('release', RELEASE, names.map(keyOf), [holder, channel, ...names])
      } catch (error) {
        // Nothing is lost when a release fails: the lease runs out.
        fallback(error, () => undefined, undefined)
      }
    },
    watch(key, listener) {
      const stopRemote = watch.add(key, listener)
      const stopLocal = policy === 'local' ? local.watch(key, listener) : undefined
      return () => {
        stopRemote()
        stopLocal?.()
      }
    },
    close: () => watch.close(),
  }
}

/** Reads and checks the options (own properties only). */
const readOptions = (options: RedisConcurrencyStoreOptions) =>
  readLimitStoreOptions(WHERE, options, 'semaphore', 'fail-closed')

function grantOf(reply: unknown): ConcurrencyGrant {
  const parts = Array.isArray(reply) ? reply.map(String) : []
  if (parts[0] === '1') return { ok: true }
  const ms = Number(parts[1])
  return {
    ok: false,
    retryAfterMs: Number.isFinite(ms) && ms >= 0 ? ms : Infinity,
    reason: 'busy',
  }
}

/**
 * The `watch` side: listeners by permit name, woken by the release channel. One subscription for
 * the store, opened on the first watch and kept until `close()` (waiters come and go every poll;
 * subscribing for each would cost a round trip per wait). A failed subscribe is tried again on a
 * later watch; meanwhile waiters poll.
 */
function createWatchers(redis: RedisStoreOptions['redis'], channel: string) {
  const listeners = new Map<string, Set<() => void>>()
  let stop: (() => Promise<void>) | undefined
  let subscribing = false
  let closed = false
  const wake = (key: string): void => {
    const set = listeners.get(key)
    if (set !== undefined) for (const listener of [...set]) listener()
  }
  const onMessage = (message: string): void => {
    let names: unknown
    try {
      names = JSON.parse(message)
    } catch {
      return
    }
    if (Array.isArray(names)) for (const key of names) if (typeof key === 'string') wake(key)
  }
  // Releases published while the subscriber was away are lost: every waiter tries again.
  const stopReconnects = redis.onReconnect(() => {
    for (const key of [...listeners.keys()]) wake(key)
  })
  const subscribe = (): void => {
    if (subscribing || stop !== undefined || closed) return
    subscribing = true
    redis.subscribe(channel, onMessage).then(
      (unsubscribe) => {
        subscribing = false
        if (closed) unsubscribe().catch(() => {})
        else stop = unsubscribe
      },
      () => {
        subscribing = false
      },
    )
  }
  return {
    add(key: string, listener: () => void): () => void {
      subscribe()
      let set = listeners.get(key)
      if (set === undefined) listeners.set(key, (set = new Set()))
      set.add(listener)
      return () => {
        set.delete(listener)
        if (set.size === 0 && listeners.get(key) === set) listeners.delete(key)
      }
    },
    async close(): Promise<void> {
      closed = true
      stopReconnects()
      listeners.clear()
      const unsubscribe = stop
      stop = undefined
      await unsubscribe?.().catch(() => {})
    },
  }
}

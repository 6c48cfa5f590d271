/**
 * `tieredCacheStore({ l1, l2, l1Ttl, invalidation })`: a local store (L1, e.g.
 * `memoryCacheStore()`) in front of a shared one (L2, e.g. `redisCacheStore()` from
 * 'fanout/redis'), so a hot key is served from memory without a round trip.
 *
 * - A read tries L1, then L2; an L2 hit is copied into L1 for at most `l1Ttl` ms.
 * - A write goes to L2, then to L1 (unless L2 kept a newer entry: then L1 drops its copy); a
 *   delete removes both.
 * - How stale an L1 copy can be, after another process changed the key: without `invalidation`,
 *   up to `l1Ttl`. With it, about one pub/sub delivery, since every write and delete is announced
 *   and other processes drop their copy; when messages may have been lost (the subscriber
 *   reconnected, a sequence number skipped) L1 is emptied. While the subscriber is down and has not
 *   yet reconnected, nothing tells this process it missed a message: the bound is `l1Ttl` again.
 *   It is eventual consistency with that bound, never a guarantee that a read sees the latest
 *   write.
 * - An L1 copy is judged by `cached()` like any entry (its own times), so L1 never makes a value
 *   live longer than its lifetime; `l1Ttl` only limits how long another process's newer write can
 *   go unseen.
 */
import { checkDuration, checkFunction, checkKnownKeys, show, snapshot } from '../core/validate.js'
import { InvalidOptionError } from '../core/errors.js'
import { field } from '../core/own.js'
import type { CacheInvalidation } from './invalidation.js'
import { readEntry, type CacheEntry, type CacheStore } from './store.js'

/** An L1: a store that can be emptied at once (`memoryCacheStore()` is one). */
export interface LocalCacheStore extends CacheStore {
  clear(): void
}

export interface TieredCacheStoreOptions {
  /** The local store, e.g. `memoryCacheStore({ maxEntries: 10_000 })`; it must drop entries at the `ttlMs` it is given. */
  readonly l1: LocalCacheStore
  /** The shared store, e.g. `redisCacheStore({ redis })`. */
  readonly l2: CacheStore
  /**
   * Ms an L1 copy is kept at most: how long another process's write can go unseen when
   * invalidation messages are not heard. 1 ms – 1 day, default 1000.
   */
  readonly l1Ttl?: number
  /** Hears other processes' writes and announces this one's, e.g. `redisInvalidation({ redis })`. */
  readonly invalidation?: CacheInvalidation
}

export interface TieredCacheStore extends CacheStore {
  /** Empties L1 (L2 is untouched). */
  clear(): void
  /** Stops listening for invalidations (the bus itself stays open). */
  close(): void
}

/** An L2 that says whether a write was kept (see `redisCacheStore().setIfNewer`). */
type SetIfNewer = (key: string, entry: CacheEntry, ttlMs: number) => PromiseLike<boolean>

export function tieredCacheStore(options: TieredCacheStoreOptions): TieredCacheStore {
  const where = 'tieredCacheStore()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, ['l1', 'l2', 'l1Ttl', 'invalidation'])
  const l1 = checkStore(where, 'l1', opts.l1, ['get', 'set', 'delete', 'clear'])
  const l2 = checkStore(where, 'l2', opts.l2, ['get', 'set', 'delete'])
  if (l1 === l2)
    throw new InvalidOptionError(`${where}: \`l1\` and \`l2\` must be two different stores.`)
  const l1Ttl =
    opts.l1Ttl === undefined ? 1000 : checkDuration(where, 'l1Ttl', opts.l1Ttl, { max: 86_400_000 })
  const bus = opts.invalidation
  if (bus !== undefined) {
    if (typeof bus !== 'object' || bus === null)
      throw new InvalidOptionError(
        `${where}: \`invalidation\` must be a bus such as redisInvalidation({ redis }), got ${show(bus)}.`,
      )
    checkFunction(where, 'invalidation.publish', field(bus, 'publish'), '(keys) => Promise<void>')
    checkFunction(where, 'invalidation.listen', field(bus, 'listen'), '(listener) => stop')
  }
  return new Tiered(l1 as LocalCacheStore, l2, l1Ttl, bus)
}

function checkStore(where: string, name: string, store: unknown, methods: string[]): CacheStore {
  for (const method of methods)
    if (typeof store !== 'object' || store === null || typeof field(store, method) !== 'function')
      throw new InvalidOptionError(
        `${where}: \`${name}\` must be a cache store with ${methods.map((m) => `${m}()`).join(', ')}, got ${show(store)}.`,
      )
  return store as CacheStore
}

class Tiered implements TieredCacheStore {
  /**
   * Bumped by every local write, delete and heard invalidation. An L2 read that began before a
   * bump may carry what the bump replaced, so its answer is not copied into L1.
   */
  #epoch = 0
  readonly #stop: (() => void) | undefined
  readonly #setIfNewer: SetIfNewer | undefined

  constructor(
    readonly l1: LocalCacheStore,
    readonly l2: CacheStore,
    readonly l1Ttl: number,
    readonly bus: CacheInvalidation | undefined,
  ) {
    const setIfNewer = field(l2, 'setIfNewer')
    this.#setIfNewer =
      typeof setIfNewer === 'function' ? (setIfNewer as SetIfNewer).bind(l2) : undefined
    this.#stop = bus?.listen({
      evict: (keys) => {
        this.#epoch++
        for (const key of keys) void settle(() => l1.delete(key))
      },
      flush: () => this.clear(),
    })
  }

  /** Whether L1 may hold copies now: always without a bus, while it listens with one. */
  get #local(): boolean {
    return this.bus === undefined || this.bus.listening
  }

  get(key: string): CacheEntry | undefined | PromiseLike<CacheEntry | undefined> {
    if (!this.#local) return this.l2.get(key)
    const near = this.l1.get(key)
    if (isThenable(near)) return Promise.resolve(near).then((e) => e ?? this.#far(key))
    // A synchronous L1 hit answers without a tick.
    return near ?? this.#far(key)
  }

  async #far(key: string): Promise<CacheEntry | undefined> {
    const epoch = this.#epoch
    const raw = await this.l2.get(key)
    const entry = raw === undefined || raw === null ? undefined : readEntry(raw)
    if (entry !== undefined && epoch === this.#epoch && this.#local)
      await settle(() => this.l1.set(key, entry, this.l1Ttl))
    return raw ?? undefined
  }

  async set(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    const epoch = ++this.#epoch
    let kept: boolean
    try {
      kept = await this.#writeFar(key, entry, ttlMs)
    } catch (error) {
      await settle(() => this.l1.delete(key))
      throw error
    }
    // Another process's write heard meanwhile may be newer than this one: keep no copy then.
    const copy = kept && epoch === this.#epoch && this.#local
    this.#epoch++
    await settle(() =>
      copy ? this.l1.set(key, entry, Math.min(ttlMs, this.l1Ttl)) : this.l1.delete(key),
    )
    // Not awaited: the callers of this value need not wait for the others to hear of it.
    if (kept) void this.bus?.publish([key])
  }

  async #writeFar(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    if (this.#setIfNewer !== undefined) return this.#setIfNewer(key, entry, ttlMs)
    await this.l2.set(key, entry, ttlMs)
    return true
  }

  async delete(key: string): Promise<void> {
    this.#epoch++
    await settle(() => this.l1.delete(key))
    await this.l2.delete(key)
    this.#epoch++
    await settle(() => this.l1.delete(key))
    await this.bus?.publish([key])
  }

  clear(): void {
    this.#epoch++
    try {
      this.l1.clear()
    } catch {
      // An L1 that cannot be emptied still is not read past l1Ttl.
    }
  }

  close(): void {
    this.#stop?.()
  }
}

/** Runs an L1 operation; L1 failing must not fail the shared store's answer. */
async function settle(op: () => unknown): Promise<void> {
  try {
    await op()
  } catch {
    // L1 is an optimisation: a failed copy is only a later L2 read.
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

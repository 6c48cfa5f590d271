/**
 * Where a concurrency limiter's permits live when its limit is shared — by several limiters in
 * one process (`memoryConcurrencyStore()`), or by every process of a service (a Redis store, with
 * the same semantics, in a later subpath). `limit({ concurrency, store })` keeps its own queue,
 * priorities and deadlines locally and takes a permit from the store before each call runs.
 *
 * A permit is a lease: held by one call (its `holder` id) until released or until `leaseMs`
 * passes without a renewal, so a process that dies holding permits does not shrink the limit for
 * ever. The limiter renews the leases of calls that run long.
 *
 * Invariants of `memoryConcurrencyStore()`:
 * - under each key at most `limit` unexpired permits are held, `limit` as the acquiring call
 *   states it (lowering it admits nobody until enough permits are released);
 * - an acquire over several keys (a limiter's total and its per-key sub-limit) is all-or-nothing;
 * - a refusal changes nothing and says when to try again (`retryAfterMs`: the earliest lease end);
 * - a key exists only while it holds permits, and at most `maxKeys` keys exist: one more is refused.
 */
import { checkKnownKeys, checkNumber, snapshot } from '../core/validate.js'

export interface ConcurrencyPermit {
  readonly key: string
  /** Permits allowed under `key`. */
  readonly limit: number
}

export interface ConcurrencyAcquireRequest {
  /** Every key to take a permit under, all or none. */
  readonly permits: readonly ConcurrencyPermit[]
  /** Unique per call: what `renew` and `release` name. */
  readonly holder: string
  /** The caller's clock reading. A shared store may use its own clock instead, consistently. */
  readonly now: number
  /** The lease: the permit expires this many ms after `now` unless renewed. */
  readonly leaseMs: number
}

export type ConcurrencyGrant =
  | { readonly ok: true }
  /** Not granted, nothing changed; a permit may free up by `retryAfterMs` (a lease end) or earlier, on a release. */
  | { readonly ok: false; readonly retryAfterMs: number; readonly reason: 'busy' | 'full' }

export interface ConcurrencyStore {
  /** Atomically: a permit under every key of the request, or none. */
  acquire(request: ConcurrencyAcquireRequest): ConcurrencyGrant | PromiseLike<ConcurrencyGrant>
  /** Extends `holder`'s permits to `now + leaseMs`; false when they were lost (expired and taken). */
  renew(
    keys: readonly string[],
    holder: string,
    now: number,
    leaseMs: number,
  ): boolean | PromiseLike<boolean>
  /** Gives `holder`'s permits back; a no-op for permits it no longer holds. */
  release(keys: readonly string[], holder: string, now: number): void | PromiseLike<void>
  /**
   * Calls `listener` when a permit under `key` is released. Optional: without it, waiting callers
   * try again at `retryAfterMs` (capped by the limiter's `storePollMs`).
   */
  watch?(key: string, listener: () => void): () => void
}

/** The in-memory store answers synchronously. */
export interface MemoryConcurrencyStore extends ConcurrencyStore {
  acquire(request: ConcurrencyAcquireRequest): ConcurrencyGrant
  renew(keys: readonly string[], holder: string, now: number, leaseMs: number): boolean
  release(keys: readonly string[], holder: string, now: number): void
  watch(key: string, listener: () => void): () => void
}

export interface MemoryConcurrencyStoreOptions {
  /** Keys holding permits at once; an acquire that needs one more is refused. Default 10,000. */
  readonly maxKeys?: number
}

/** An in-process store: one limit shared by several limiters (e.g. two queues with different priorities in front of one upstream). */
export function memoryConcurrencyStore(
  options: MemoryConcurrencyStoreOptions = {},
): MemoryConcurrencyStore {
  const where = 'memoryConcurrencyStore()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, ['maxKeys'])
  const maxKeys =
    opts.maxKeys === undefined
      ? 10_000
      : checkNumber(where, 'maxKeys', opts.maxKeys, { min: 1, max: 10_000_000, integer: true })
  /** key → holder → lease end. */
  const keys = new Map<string, Map<string, number>>()
  const watchers = new Map<string, Set<() => void>>()

  /** The key's live permits, expired ones dropped (and the key forgotten when none are left). */
  const live = (key: string, now: number): Map<string, number> | undefined => {
    const held = keys.get(key)
    if (held === undefined) return undefined
    for (const [holder, until] of held) if (until <= now) held.delete(holder)
    if (held.size === 0) keys.delete(key)
    return held.size === 0 ? undefined : held
  }

  const notify = (key: string): void => {
    const set = watchers.get(key)
    if (set !== undefined) for (const listener of [...set]) listener()
  }

  return {
    acquire({ permits, holder, now, leaseMs }) {
      let newKeys = 0
      let retryAfterMs = Infinity
      let busy = false
      for (const { key, limit } of permits) {
        const held = live(key, now)
        if (held === undefined) {
          newKeys++
          if (limit >= 1) continue
        } else if (held.size < limit) continue
        busy = true
        if (held !== undefined)
          for (const until of held.values()) retryAfterMs = Math.min(retryAfterMs, until - now)
      }
      if (busy) return { ok: false, retryAfterMs, reason: 'busy' }
      if (keys.size + newKeys > maxKeys)
        return { ok: false, retryAfterMs: Infinity, reason: 'full' }
      for (const { key } of permits) {
        let held = keys.get(key)
        if (held === undefined) keys.set(key, (held = new Map()))
        held.set(holder, now + leaseMs)
      }
      return { ok: true }
    },
    renew(names, holder, now, leaseMs) {
      let kept = true
      for (const key of names) {
        const held = live(key, now)
        if (held?.has(holder) === true) held.set(holder, now + leaseMs)
        else kept = false
      }
      return kept
    },
    release(names, holder) {
      for (const key of names) {
        const held = keys.get(key)
        if (held?.delete(holder) !== true) continue
        if (held.size === 0) keys.delete(key)
        notify(key)
      }
    },
    watch(key, listener) {
      let set = watchers.get(key)
      if (set === undefined) watchers.set(key, (set = new Set()))
      set.add(listener)
      return () => {
        set.delete(listener)
        if (set.size === 0 && watchers.get(key) === set) watchers.delete(key)
      }
    },
  }
}

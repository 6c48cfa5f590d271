/**
 * `CacheFlight`: single-flight across processes, for `cached({ flight })`. Within one process
 * `cached()` already makes one call to `fn` per key at a time; a flight extends that to every
 * process sharing the store: on a miss, the process that claims the key's lock calls `fn`, writes
 * the entry and releases the lock, and the others wait for that fill and read the entry from the
 * store instead of calling `fn` themselves.
 *
 * A flight is a lease, never a promise: the holder may die, so a claim lapses after `leaseMs`
 * unless renewed, and waiters that find neither an entry nor a holder claim the key themselves.
 * Any method may fail or be slow: `cached()` bounds each call by its `storeTimeout`, and a claim
 * that fails (or times out) lets this process call `fn` itself, so a broken flight degrades to
 * in-process single-flight and never fails a call.
 *
 * `fanout/redis` implements it (`redisFlight()`); this module names no backend.
 */

/** The outcome of a claim: this process holds the key's lock (with `token`), or another does. */
export type FlightClaim = { readonly won: true; readonly token: string } | { readonly won: false }

export interface FlightWaitOptions {
  /** Aborts when the waiter stops waiting: the wait must resolve and release its timers and listeners. */
  readonly signal: AbortSignal
  /** Ms after which the wait resolves at the latest (the lease's end, or the caller's deadline). */
  readonly maxWaitMs: number
}

export interface CacheFlight {
  /**
   * Tries to take the lock of `key` for `leaseMs`. Won: this process calls `fn` and must release
   * the lock with `token`. A claim that is repeated (a re-sent request) and finds the lock held
   * with its own token has won.
   */
  claim(key: string, leaseMs: number): FlightClaim | PromiseLike<FlightClaim>
  /**
   * Gives up the lock of `key` if `token` still holds it, and tells the waiters (whether or not an
   * entry was written: they read the store to find out). Called once per won claim.
   */
  release(key: string, token: string): void | PromiseLike<void>
  /**
   * Extends the lock to `leaseMs` from now while `fn` runs longer than the lease. Resolves false
   * when `token` no longer holds it. Without it, a call to `fn` longer than the lease may be
   * duplicated by a process taking over.
   */
  renew?(key: string, token: string, leaseMs: number): boolean | PromiseLike<boolean>
  /**
   * Resolves when the holder of `key` released its lock (or announced a fill), when the lock is
   * gone (expired), after `maxWaitMs`, when `signal` aborts, or whenever the waiter should look
   * again (a poll): the waiter then reads the store and claims again if it found nothing. Never
   * rejects in a way the waiter relies on: a rejection is treated like a resolution.
   */
  waitForFill(key: string, options: FlightWaitOptions): Promise<void>
}

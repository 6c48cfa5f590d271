/**
 * The work of a `cached()` flight when a `CacheFlight` spans processes: claim the key's lock; the
 * winner looks at the store once more (another process may have filled it since this one missed),
 * then calls `fn`, writes, and releases; the others wait for the fill, bounded by the lease, the
 * flight's deadline and its signal, then read the store, and claim again when they find nothing
 * (the holder failed, or died and its lease ran out).
 *
 * A flight that fails or is slow never fails the call: a claim that does not answer within
 * `storeTimeout` counts as won without a lock, and the key is fetched here (one call per process,
 * as the in-process single-flight still guarantees). Only a `StoreError` (a refused command, a key
 * of the wrong type) surfaces, since no fallback may hide a misconfiguration.
 */
import { invoke, type CallContext } from '../core/call.js'
import type { Clock, TimerHandle } from '../core/clock.js'
import { isFanoutError, TimeoutError } from '../core/errors.js'
import { withTimeLimit } from '../core/time-limit.js'
import { bounded, BYPASS, isThenable } from './cached-util.js'
import type { CacheFlight } from './flight.js'

/** What the store holds for a key once it is filled: a value to serve, or a cached error to throw. */
export type Filled<V> = { readonly value: V } | { readonly error: unknown }

export interface FlightWork<V> {
  readonly flight: CacheFlight
  readonly lease: number
  readonly clock: Clock
  readonly storeTimeout: number
  /** Names the cache in errors. */
  readonly name: string
  /** A fresh entry for the key in the store, if there is one. */
  readonly filled: (signal: AbortSignal) => Promise<Filled<V> | undefined>
  /**
   * Calls `fn` and writes its outcome to the store, if `mayWrite` (asked just before the write)
   * does not say no.
   */
  readonly fetch: (ctx: CallContext, mayWrite?: () => Promise<boolean>) => Promise<V>
}

const WAITED = Symbol('waited')

/** A claim's outcome; `undefined` token: won without a lock (the flight failed). */
type Claimed = { won: true; token: string | undefined } | { won: false }

/**
 * Thrown (never beyond `cached()`) by a flight started with a stale entry in hand when another
 * process holds the key: its callers serve the stale value at once instead of waiting.
 */
export const REFRESHED_ELSEWHERE: unique symbol = Symbol('refreshed elsewhere')

/**
 * The flight's work. `stale`: the caller that started it holds a stale entry it may serve, so the
 * lock gates only the refresh: when another process holds it, nobody here waits.
 */
export async function flightFetch<V>(
  w: FlightWork<V>,
  key: string,
  ctx: CallContext,
  stale: boolean,
): Promise<V> {
  for (;;) {
    const claim = await claimKey(w, key, ctx.signal)
    if (claim.won) return holdAndFetch(w, key, claim.token, ctx)
    if (stale) throw REFRESHED_ELSEWHERE
    await waitForFill(w, key, ctx)
    const found = await w.filled(ctx.signal)
    if (found !== undefined) return serve(found)
  }
}

function serve<V>(found: Filled<V>): V {
  if ('error' in found) throw found.error
  return found.value
}

async function claimKey<V>(w: FlightWork<V>, key: string, signal: AbortSignal): Promise<Claimed> {
  if (signal.aborted) throw signal.reason
  const isStoreError = (error: unknown): boolean => isFanoutError(error, 'FANOUT_STORE')
  const read = bounded(
    w.clock,
    w.storeTimeout,
    () => w.flight.claim(key, w.lease),
    signal,
    isStoreError,
  )
  const claim = isThenable(read) ? await read : read
  if (claim === BYPASS) return { won: true, token: undefined }
  if (typeof claim !== 'object' || claim === null) return { won: true, token: undefined }
  if (claim.won !== true) return { won: false }
  return { won: true, token: typeof claim.token === 'string' ? claim.token : undefined }
}

/** The winner: one more look at the store, then `fn` under a lease renewed while it runs. */
async function holdAndFetch<V>(
  w: FlightWork<V>,
  key: string,
  token: string | undefined,
  ctx: CallContext,
): Promise<V> {
  let timer: TimerHandle | undefined
  try {
    // Filled by another process between this one's miss and its claim: no second call to fn.
    const found = token === undefined ? undefined : await w.filled(ctx.signal)
    if (found !== undefined) return serve(found)
    const renew = w.flight.renew
    if (token !== undefined && renew !== undefined) {
      const every = Math.max(1, Math.floor(w.lease / 3))
      const tick = (): void => {
        timer = w.clock.setTimeout(() => {
          const done = bounded(w.clock, w.storeTimeout, () =>
            renew.call(w.flight, key, token, w.lease),
          )
          if (isThenable(done)) done.then(undefined, () => {})
          tick()
        }, every)
      }
      tick()
    }
    // A holder whose lease lapsed while fn ran (its renewals failed, or it stalled) and whose key
    // another process took over must not write: the successor's entry may already be there (E19).
    const stillHeld =
      token !== undefined && renew !== undefined
        ? () => stillHolds(w, key, token, renew)
        : undefined
    return await w.fetch(ctx, stillHeld)
  } finally {
    if (timer !== undefined) w.clock.clearTimeout(timer)
    if (token !== undefined) {
      // Before the callers go on (and perhaps the process ends): the other processes' waiters
      // learn of the fill now rather than at the lease's end. A failed release just lapses.
      const done = bounded(w.clock, w.storeTimeout, () => w.flight.release(key, token))
      if (isThenable(done)) await done.then(undefined, () => {})
    }
  }
}

/**
 * Whether this process still holds `key`'s lock: a renewal that succeeds says yes (and extends
 * it), one that answers false says no. A flight that fails or is slow cannot say: the write goes
 * ahead (the store's own ordering of entries still applies).
 */
async function stillHolds<V>(
  w: FlightWork<V>,
  key: string,
  token: string,
  renew: NonNullable<CacheFlight['renew']>,
): Promise<boolean> {
  const answer = bounded(w.clock, w.storeTimeout, () => renew.call(w.flight, key, token, w.lease))
  const kept = isThenable(answer) ? await answer.then(undefined, () => BYPASS) : answer
  return kept !== false
}

/** Waits for the holder's fill, at most until the lease ends or the flight's deadline. */
async function waitForFill<V>(w: FlightWork<V>, key: string, ctx: CallContext): Promise<void> {
  const left = ctx.deadlineAt - w.clock.now()
  if (!(left > 0))
    throw new TimeoutError(
      `cached("${w.name}"): the deadline passed while another process was fetching this key`,
      0,
    )
  const maxWaitMs = Math.min(w.lease, left)
  try {
    await withTimeLimit(
      w.clock,
      ctx.signal,
      maxWaitMs,
      () => WAITED,
      (signal) =>
        invoke(() => w.flight.waitForFill(key, { signal, maxWaitMs })).then(
          () => {},
          () => {},
        ),
    )
  } catch (error) {
    if (error !== WAITED) throw error
  }
}

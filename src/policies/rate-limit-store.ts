/**
 * Where a rate limiter keeps its state, one record per key, and the one operation it needs done
 * atomically: `reserve` a weight at the earliest time the limit allows, or refuse when that time
 * is too far away. The interface is async-capable so a shared store (Redis, in a later subpath)
 * can implement the same semantics in one server-side script; the in-memory store answers
 * synchronously.
 *
 * Invariants of `memoryRateLimitStore()`, for each key:
 * - `gcra`: the reservations it grants, at the times it names, conform to a token bucket of
 *   `tolerance / interval` tokens refilled one per `interval` ms: in any span of `t` ms they weigh
 *   at most `tolerance / interval + t / interval`;
 * - `sliding-window`: the reservations it grants weigh at most `limit` in any half-open window
 *   `[x, x + window)`; a weight reserved for time `s` counts again for nothing from `s + window`;
 * - a refusal changes nothing; a cancelled reservation gives back only what cannot create a burst;
 * - time only moves forward for it: a clock reading earlier than the key's last one shifts the
 *   key's state back with it (the step counts as 0 ms elapsed), a reading far ahead refills to
 *   the full burst and never beyond;
 * - it holds at most `maxKeys` keys and forgets a key only when doing so loses nothing (the key
 *   is fully refilled); when the least recently used key is still busy a new key is refused.
 */
import { checkKnownKeys, checkNumber, snapshot } from '../core/validate.js'

/** The limit to apply, as the limiter computed it for this call (adaptive slow-downs included). */
export type RateLimitParams =
  | {
      readonly algorithm: 'gcra'
      /** Ms one unit of weight occupies: `per / rate`, divided by the adaptive factor. */
      readonly interval: number
      /** Ms of credit a full bucket holds: `burst × per / rate` (not adapted). */
      readonly tolerance: number
    }
  | {
      readonly algorithm: 'sliding-window'
      /** Total weight allowed in any window. */
      readonly limit: number
      /** Window length in ms, divided by the adaptive factor. */
      readonly window: number
    }

export interface RateLimitReserveRequest {
  /** The call's weight, more than 0 and at most the capacity (the limiter checks). */
  readonly cost: number
  /** The caller's clock reading. A shared store may use its own clock instead, consistently. */
  readonly now: number
  /** Reserve only if the wait is at most this many ms (0: only if the call can go now). */
  readonly maxWaitMs: number
  /**
   * No admission before this time (a pause the upstream asked for); `-Infinity` for none. For
   * `gcra` the bucket is treated as empty at that time, so the pause ends without a burst.
   */
  readonly notBefore: number
  readonly params: RateLimitParams
}

export type RateLimitReservation =
  /** Reserved: the caller may go after `waitMs` (0: now). Pass `ticket` to `cancel` if it leaves before. */
  | { readonly ok: true; readonly waitMs: number; readonly ticket: unknown }
  /**
   * Not reserved, nothing changed. `wait`: the call would have had to wait `waitMs`, more than
   * `maxWaitMs`. `full`: the store has no room for another key for `waitMs`.
   */
  | { readonly ok: false; readonly waitMs: number; readonly reason: 'wait' | 'full' }

export interface RateLimitStore {
  /** Atomically per key: reserve `cost` at the earliest allowed time, or refuse. */
  reserve(
    key: string,
    request: RateLimitReserveRequest,
  ): RateLimitReservation | PromiseLike<RateLimitReservation>
  /**
   * Gives back a reservation whose caller left before its time. The capacity returns in full when
   * nothing was reserved after it on the key; otherwise only as far as it cannot let a later
   * caller in ahead of the limit.
   */
  cancel(key: string, ticket: unknown, now: number): void | PromiseLike<void>
  /**
   * True when `reserve` and `cancel` always answer at once (never a promise). The limiter then
   * moves queued callers up when one leaves and makes them follow a slow-down at once; with an
   * asynchronous store a leaver's reservation is cancelled and queued callers keep their turns.
   */
  readonly synchronous?: boolean
}

export interface MemoryRateLimitStore extends RateLimitStore {
  reserve(key: string, request: RateLimitReserveRequest): RateLimitReservation
  cancel(key: string, ticket: unknown, now: number): void
  readonly synchronous: true
  /** Keys held. */
  readonly size: number
}

export interface MemoryRateLimitStoreOptions {
  /** Most keys held at once. Integer 1–10 000 000, default 10 000. */
  readonly maxKeys?: number
}

/** Below this a wait is float noise, not a wait. */
const EPSILON = 1e-9

interface Base {
  /** The latest clock reading seen for the key. */
  last: number
  /** Sum of the backwards clock steps the state was moved by. */
  shift: number
}

interface GcraState extends Base {
  readonly kind: 'gcra'
  /** Theoretical arrival time: when the bucket is full again given every reservation. */
  tat: number
}

interface Entry {
  time: number
  cost: number
}

interface LogState extends Base {
  readonly kind: 'sliding-window'
  /** Reserved weights in time order; `head` is the first live one. */
  readonly entries: Entry[]
  head: number
  total: number
  window: number
}

type State = GcraState | LogState

interface GcraTicket {
  readonly state: GcraState
  readonly cost: number
  /** The tat this reservation produced (at `shift`), and how much of it was its own. */
  readonly end: number
  readonly shift: number
  span: number
}

interface LogTicket {
  readonly state: LogState
  readonly entry: Entry
  cost: number
}

/**
 * The default store: a Map in this process, bounded by `maxKeys` and ordered by last use.
 *
 * @example
 * const store = memoryRateLimitStore({ maxKeys: 50_000 })
 * const perTenant = rateLimit({ rate: 20, per: 1_000, key: (ctx) => tenantOf(ctx), store })
 */
export function memoryRateLimitStore(options?: MemoryRateLimitStoreOptions): MemoryRateLimitStore {
  const where = 'memoryRateLimitStore()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, ['maxKeys'])
  const maxKeys =
    opts.maxKeys === undefined
      ? 10_000
      : checkNumber(where, 'maxKeys', opts.maxKeys, { min: 1, max: 10_000_000, integer: true })
  /** Insertion order is recency order: the first key is the least recently used. */
  const states = new Map<string, State>()
  return {
    synchronous: true,
    get size() {
      return states.size
    },
    reserve(key, request) {
      const state = acquire(states, maxKeys, key, request.params, request.now)
      if (isFull(state)) return { ok: false, waitMs: state.full, reason: 'full' }
      const { params } = request
      if (state.kind === 'gcra' && params.algorithm === 'gcra')
        return reserveGcra(state, params, request)
      if (state.kind === 'sliding-window' && params.algorithm === 'sliding-window')
        return reserveWindow(state, params, request)
      /* c8 ignore next */
      throw new Error('unreachable: state and params disagree')
    },
    cancel(key, ticket, now) {
      const t = ticket as Partial<GcraTicket & LogTicket> | null
      // A ticket only counts for the state it was issued for: a forgotten key is a new state.
      if (
        typeof t !== 'object' ||
        t === null ||
        t.state === undefined ||
        states.get(key) !== t.state
      )
        return
      const state = t.state as State
      rebase(state, now)
      if (state.kind === 'gcra') cancelGcra(state, t as GcraTicket)
      else cancelWindow(state, t as LogTicket)
    },
  }
}

/** An own property only: a polluted Object.prototype must not make every key look full (I10). */
const isFull = (state: State | { full: number }): state is { full: number } =>
  Object.hasOwn(state, 'full')

/** Finds or creates the key's state, making it the most recently used; `{ full }` when there is no room. */
function acquire(
  states: Map<string, State>,
  maxKeys: number,
  key: string,
  params: RateLimitParams,
  now: number,
): State | { full: number } {
  const found = states.get(key)
  if (found !== undefined && found.kind === params.algorithm) {
    states.delete(key)
    states.set(key, found)
    rebase(found, now)
    return found
  }
  if (found !== undefined) states.delete(key) // the same key used with another algorithm: start over
  if (states.size >= maxKeys) {
    const [oldestKey, oldest] = states.entries().next().value as [string, State]
    rebase(oldest, now)
    const busyFor = clean(busyUntil(oldest) - now, now)
    if (busyFor > 0) return { full: busyFor }
    states.delete(oldestKey)
  }
  const fresh: State =
    params.algorithm === 'gcra'
      ? { kind: 'gcra', last: now, shift: 0, tat: -Infinity }
      : {
          kind: 'sliding-window',
          last: now,
          shift: 0,
          entries: [],
          head: 0,
          total: 0,
          window: params.window,
        }
  states.set(key, fresh)
  return fresh
}

type GcraParams = Extract<RateLimitParams, { algorithm: 'gcra' }>
type WindowParams = Extract<RateLimitParams, { algorithm: 'sliding-window' }>

function reserveGcra(
  state: GcraState,
  params: GcraParams,
  { cost, now, maxWaitMs, notBefore }: RateLimitReserveRequest,
): RateLimitReservation {
  const span = cost * params.interval
  // The bucket is full at `tat - tolerance`; a pause empties it at `notBefore`.
  const start = Math.max(state.tat, now, notBefore + params.tolerance - span)
  const end = start + span
  const wait = clean(end - params.tolerance - now, now)
  if (wait > maxWaitMs) return { ok: false, waitMs: wait, reason: 'wait' }
  state.tat = end
  const ticket: GcraTicket = { state, cost, end, shift: state.shift, span }
  return { ok: true, waitMs: wait, ticket }
}

function reserveWindow(
  state: LogState,
  params: WindowParams,
  { cost, now, maxWaitMs, notBefore }: RateLimitReserveRequest,
): RateLimitReservation {
  state.window = params.window
  prune(state, now)
  const { entries } = state
  const latest = entries.length > state.head ? entries[entries.length - 1]!.time : -Infinity
  // First in, first out: never before a reservation already granted, so only the windows
  // that end at the new time need checking.
  let at = Math.max(now, latest, notBefore, roomAt(state, cost, params.limit))
  const wait = clean(at - now, now)
  if (wait > maxWaitMs) return { ok: false, waitMs: wait, reason: 'wait' }
  if (wait === 0) at = now
  let entry = entries.length > state.head ? entries[entries.length - 1]! : undefined
  if (entry !== undefined && entry.time === at) entry.cost += cost
  else {
    entry = { time: at, cost }
    entries.push(entry)
  }
  state.total += cost
  const ticket: LogTicket = { state, entry, cost }
  return { ok: true, waitMs: wait, ticket }
}

/** When enough weight has left the window for `cost` more to fit under `limit` (`-Infinity`: it fits now). */
function roomAt(state: LogState, cost: number, limit: number): number {
  const excess = state.total + cost - limit
  if (!(excess > EPSILON)) return -Infinity
  let freed = 0
  for (let i = state.head; i < state.entries.length; i++) {
    const entry = state.entries[i]!
    freed += entry.cost
    if (freed >= excess - EPSILON) return entry.time + state.window
  }
  return -Infinity
}

function cancelGcra(state: GcraState, g: GcraTicket): void {
  // Reservations made after this one already hold times computed with it; give back only
  // the part of its span that no later reservation depends on (the rule of Go's
  // rate.Limiter): all of it when it was the last one.
  const later = state.tat - (g.end + state.shift - g.shift)
  state.tat -= Math.min(g.span, Math.max(0, g.span - later))
  g.span = 0 // a second cancel of the same ticket gives nothing back
}

function cancelWindow(state: LogState, l: LogTicket): void {
  const { entries } = state
  const index = entries.lastIndexOf(l.entry, entries.length - 1)
  if (index < state.head || index < 0 || l.cost <= 0) return
  // Removing weight from a window never puts any window over the limit.
  l.entry.cost -= l.cost
  state.total -= l.cost
  l.cost = 0
  if (l.entry.cost <= EPSILON) {
    state.total -= l.entry.cost
    entries.splice(index, 1)
  }
}

/** Moves the key's state back by a backwards clock step, so the step counts as 0 ms elapsed. */
function rebase(state: State, now: number): void {
  if (now >= state.last) {
    state.last = now
    return
  }
  const step = now - state.last
  state.last = now
  state.shift += step
  if (state.kind === 'gcra') {
    state.tat += step
    return
  }
  for (let i = state.head; i < state.entries.length; i++) state.entries[i]!.time += step
}

/** Drops the weights that left the window by `now`. */
function prune(state: LogState, now: number): void {
  const { entries } = state
  while (state.head < entries.length && entries[state.head]!.time + state.window <= now) {
    state.total -= entries[state.head]!.cost
    state.head++
  }
  if (state.head === entries.length) {
    entries.length = 0
    state.head = 0
    state.total = 0
  } else if (state.head > 32 && state.head * 2 > entries.length) {
    entries.splice(0, state.head)
    state.head = 0
  }
}

/** When forgetting the key would lose nothing (it is back to a full bucket / an empty window). */
function busyUntil(state: State): number {
  if (state.kind === 'gcra') return state.tat
  const { entries } = state
  return entries.length > state.head ? entries[entries.length - 1]!.time + state.window : -Infinity
}

/** A wait within float noise of 0 (relative to the clock's magnitude) is no wait. */
function clean(wait: number, now: number): number {
  return wait > Math.max(EPSILON, Math.abs(now) * 1e-14) ? wait : 0
}

/**
 * Waterfalls in one unit of work: chains of outbound calls where each started only after the one
 * before it ended (the code awaited it) although it used nothing of its response — nor of any
 * earlier call's in the chain — so a `Promise.all` over the chain would have given the same
 * requests in the time of the slowest one.
 *
 * A call also stays out of a chain that started before what it needed was there: the users of
 * the reviews, awaited after an unrelated call that happened to end later, are not that call's
 * waterfall.
 *
 * "Used its response": a value of the earlier response appears in the later call's URL, headers
 * or body, and that value was not known before the earlier call ended (it is not in the incoming
 * request, nor in any request made before then). An id the route already had is not data flowing
 * from the product call to the stock call just because the product echoes it.
 *
 * What never links into a chain: a gate (an auth check every later call waits for on purpose), a
 * call after a failure or a redirect (what follows may depend on the outcome), and a repeat of a
 * request made earlier in the unit (a retry, a hedge, a poll: the same method, URL and body).
 */
import type { OutboundCall } from './call.js'

export interface ChainInstance {
  readonly calls: readonly OutboundCall[]
  /** What a `Promise.all` over the chain would have saved: the sum of the durations minus the longest. */
  readonly savedMs: number
}

/** What the analysis looks up per call, indexed once per unit so it stays near linear. */
class UnitIndex {
  /** Per value, when a request first sent it. */
  readonly #firstSent = new Map<number, number>()
  /** Per value, the ended calls whose response held it. */
  readonly #receivedBy = new Map<number, OutboundCall[]>()
  /** The ended calls by end time (creation order among equal ends). */
  readonly #byEnd: readonly OutboundCall[]

  constructor(
    calls: readonly OutboundCall[],
    done: readonly OutboundCall[],
    readonly known: ReadonlySet<number>,
  ) {
    for (const c of calls)
      for (const token of c.requestTokens) {
        const first = this.#firstSent.get(token)
        if (first === undefined || c.startedAt < first) this.#firstSent.set(token, c.startedAt)
      }
    for (const c of done)
      for (const token of c.responseTokens) {
        const list = this.#receivedBy.get(token)
        if (list === undefined) this.#receivedBy.set(token, [c])
        else list.push(c)
      }
    this.#byEnd = [...done].sort((a, b) => a.endedAt! - b.endedAt!)
  }

  /** The call `c` waited for: the one that ended last before `c` started. */
  awaitedBy(c: OutboundCall): OutboundCall | undefined {
    const ends = this.#byEnd
    let low = 0
    let high = ends.length // the first call that ended after c started
    while (low < high) {
      const mid = (low + high) >> 1
      if (ends[mid]!.endedAt! <= c.startedAt) low = mid + 1
      else high = mid
    }
    for (let i = low - 1; i >= 0; i--) if (ends[i] !== c) return ends[i]
    return undefined
  }

  /**
   * When `c` could have started at the earliest: once every call whose response it used had
   * ended. "Used": `c` sent a value of that response that no request had sent before the response
   * ended, and that the incoming request did not hold.
   */
  readyAt(c: OutboundCall): number {
    let ready = -Infinity
    for (const token of c.requestTokens) {
      if (this.known.has(token)) continue
      const first = this.#firstSent.get(token) ?? Infinity
      for (const x of this.#receivedBy.get(token) ?? []) {
        const end = x.endedAt!
        if (x !== c && end <= c.startedAt && end > ready && first >= end) ready = end
      }
    }
    return ready
  }
}

/** Nothing may follow a failure or a redirect in a chain: the next call may depend on the outcome. */
const ends = (c: OutboundCall): boolean =>
  c.failed || (c.status !== undefined && c.status >= 300 && c.status !== 304)

/**
 * The chains of two or more calls in `calls` (one unit's calls, in the order they started).
 * `known` holds the tokens of the incoming request.
 */
export function findChains(
  calls: readonly OutboundCall[],
  known: ReadonlySet<number>,
): ChainInstance[] {
  const done = calls.filter((c) => c.ended)
  const chains: OutboundCall[][] = []
  // Each open chain, by its last call: the call a next step would have awaited.
  const open = new Map<OutboundCall, OutboundCall[]>()
  const repeats = new Set<OutboundCall>()
  const seen = new Set<number>()
  for (const c of calls) {
    if (seen.has(c.identity)) repeats.add(c)
    seen.add(c.identity)
  }
  const index = new UnitIndex(calls, done, known)
  for (const c of done) {
    if (c.gate || repeats.has(c)) continue
    const awaited = index.awaitedBy(c)
    const chain = awaited === undefined ? undefined : open.get(awaited)
    // The chain's calls could all have gone in one Promise.all only if what `c` needed was there
    // when the first of them started: this also keeps out a call that used a member's response.
    if (chain !== undefined && index.readyAt(c) <= chain[0]!.startedAt) {
      chain.push(c)
      open.delete(awaited!)
      open.set(c, chain)
    } else {
      const fresh = [c]
      chains.push(fresh)
      open.set(c, fresh)
    }
    if (ends(c)) open.delete(c)
  }
  return chains
    .filter((chain) => chain.length >= 2)
    .map((chain) => {
      const durations = chain.map((c) => c.durationMs)
      const saved = durations.reduce((a, b) => a + b, 0) - Math.max(...durations)
      return { calls: chain, savedMs: saved }
    })
}

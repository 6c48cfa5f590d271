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

/** The call `c` waited for: the one that ended last before `c` started. */
function awaitedBy(calls: readonly OutboundCall[], index: number): OutboundCall | undefined {
  const c = calls[index]!
  let found: OutboundCall | undefined
  for (let i = 0; i < index; i++) {
    const other = calls[i]!
    if (other.endedAt === undefined || other.endedAt > c.startedAt) continue
    if (found === undefined || other.endedAt >= found.endedAt!) found = other
  }
  return found
}

/** Whether `later` sent a value that `earlier`'s response introduced. */
function usesResponse(
  later: OutboundCall,
  earlier: OutboundCall,
  calls: readonly OutboundCall[],
  known: ReadonlySet<number>,
): boolean {
  for (const token of later.requestTokens) {
    if (!earlier.responseTokens.has(token) || known.has(token)) continue
    const alreadySent = calls.some(
      (x) => x !== later && x.startedAt < earlier.endedAt! && x.requestTokens.has(token),
    )
    if (!alreadySent) return true
  }
  return false
}

/**
 * When `c` could have started at the earliest: once every call whose response it used had ended.
 * It joins a chain only if that was no later than the chain's first call started — then all of
 * them could have gone in one `Promise.all` — which also keeps out a call that used a member's
 * response, and one that waited on a call outside the chain that ended while the chain ran.
 */
function readyAt(
  c: OutboundCall,
  index: number,
  calls: readonly OutboundCall[],
  known: ReadonlySet<number>,
): number {
  let ready = -Infinity
  for (let i = 0; i < index; i++) {
    const x = calls[i]!
    if (x.endedAt! <= c.startedAt && x.endedAt! > ready && usesResponse(c, x, calls, known))
      ready = x.endedAt!
  }
  return ready
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
  done.forEach((c, index) => {
    if (c.gate || repeats.has(c)) return
    const awaited = awaitedBy(done, index)
    const chain = awaited === undefined ? undefined : open.get(awaited)
    if (chain !== undefined && readyAt(c, index, done, known) <= chain[0]!.startedAt) {
      chain.push(c)
      open.delete(awaited!)
      open.set(c, chain)
    } else {
      const fresh = [c]
      chains.push(fresh)
      open.set(c, fresh)
    }
    if (ends(c)) open.delete(c)
  })
  return chains
    .filter((chain) => chain.length >= 2)
    .map((chain) => {
      const durations = chain.map((c) => c.durationMs)
      const saved = durations.reduce((a, b) => a + b, 0) - Math.max(...durations)
      return { calls: chain, savedMs: saved }
    })
}

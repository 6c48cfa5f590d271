/**
 * RFC 9111 arithmetic for the HTTP cache, without I/O: `Cache-Control` directives, whether a
 * response may be stored (§3, §3.5), its freshness lifetime (§4.2.1) and initial age (§4.2.3),
 * and how long a stale copy may still be served (RFC 5861's stale-while-revalidate and
 * stale-if-error). Times are ms on the client's clock; header values are seconds.
 *
 * Heuristic freshness (§4.2.2) is not used: a response without explicit freshness is stored only
 * when it has a validator, and is then revalidated on every use. A BFF that guessed a lifetime
 * from `Last-Modified` would serve data for minutes that its upstream never said could be reused.
 */

/** Directives by lower-case name; a directive without a value maps to `''`. */
export type Directives = ReadonlyMap<string, string>

const NONE: Directives = new Map()

/** Parses a `Cache-Control` value (RFC 9111 §5.2): names are case-insensitive, values may be quoted. */
export function parseCacheControl(value: string | undefined): Directives {
  if (value === undefined || value.trim() === '') return NONE
  const out = new Map<string, string>()
  const re = /\s*([^\s=,]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*)))?\s*(?:,|$)/gy
  let match: RegExpExecArray | null
  while (re.lastIndex < value.length && (match = re.exec(value)) !== null) {
    const name = match[1]!.toLowerCase()
    // The first occurrence wins: a repeated directive must not widen what the first allowed.
    if (!out.has(name)) out.set(name, match[2]?.replace(/\\(.)/g, '$1') ?? match[3] ?? '')
    if (match[0] === '') break
  }
  return out
}

/** A delta-seconds directive in ms (§1.2.2): digits only; anything else is absent. */
export function seconds(directives: Directives, name: string): number | undefined {
  const raw = directives.get(name)
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined
  // Past 2^31 s means "a very long time" (§1.2.2).
  return Math.min(Number(raw), 2_147_483_648) * 1000
}

/** An HTTP date in ms since the epoch, or undefined (an invalid date is treated as in the past by the callers). */
export function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

/** Statuses a cache may reuse without explicit freshness (RFC 9110 §15.1), less 206 (no ranges here). */
const DEFAULT_CACHEABLE: ReadonlySet<number> = new Set([
  200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501,
])

export interface StoreVerdict {
  readonly store: boolean
  /** Why not, for tests and notes. */
  readonly reason?: string
}

/** Whether a response to a GET may be stored (§3), by a shared cache or a private one. */
export function mayStore(
  status: number,
  headers: Readonly<Record<string, string>>,
  request: { readonly authorized: boolean; readonly noStore: boolean },
  shared: boolean,
): StoreVerdict {
  const cc = parseCacheControl(headers['cache-control'])
  if (request.noStore || cc.has('no-store')) return { store: false, reason: 'no-store' }
  if (status < 200 || status === 206 || status === 304) return { store: false, reason: 'status' }
  if (shared && cc.has('private')) return { store: false, reason: 'private' }
  // §3.5: a shared cache stores an answer to a request with credentials only when told it may.
  if (
    shared &&
    request.authorized &&
    !cc.has('public') &&
    !cc.has('s-maxage') &&
    !cc.has('must-revalidate')
  )
    return { store: false, reason: 'authorization' }
  // One user's session cookie must never be replayed to another user.
  if (shared && headers['set-cookie'] !== undefined) return { store: false, reason: 'set-cookie' }
  if (headers['vary']?.split(',').some((name) => name.trim() === '*'))
    return { store: false, reason: 'vary-*' }
  const explicit =
    cc.has('max-age') ||
    (shared && cc.has('s-maxage')) ||
    headers['expires'] !== undefined ||
    cc.has('public') ||
    (!shared && cc.has('private'))
  if (!explicit && !DEFAULT_CACHEABLE.has(status)) return { store: false, reason: 'status' }
  return { store: true }
}

/** How long the response is fresh, in ms from its generation (§4.2.1); 0 when it must be revalidated. */
export function freshnessLifetime(
  headers: Readonly<Record<string, string>>,
  shared: boolean,
  receivedAtWall: number,
): number {
  const cc = parseCacheControl(headers['cache-control'])
  if (cc.has('no-cache')) return 0
  if (shared) {
    const s = seconds(cc, 's-maxage')
    if (s !== undefined) return s
  }
  const maxAge = seconds(cc, 'max-age')
  if (maxAge !== undefined) return maxAge
  const expiresRaw = headers['expires']
  if (expiresRaw === undefined) return 0
  const expires = httpDate(expiresRaw)
  if (expires === undefined) return 0 // e.g. `Expires: 0`: already expired (§5.3)
  // Both times are the origin's own when it sent Date, so no clock skew enters; without Date,
  // the time it was received stands in (RFC 9110 §6.6.1).
  const date = httpDate(headers['date']) ?? receivedAtWall
  return Math.max(0, expires - date)
}

/**
 * The response's age when it arrived (§4.2.3): its `Age` plus the time the request took. The
 * apparent age (local time minus `Date`) is left out: it compares two machines' clocks, and with
 * `Date`'s one-second resolution it would age every response by up to a second.
 */
export function initialAge(headers: Readonly<Record<string, string>>, delayMs: number): number {
  const raw = headers['age']?.trim()
  const age = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) * 1000 : 0
  return age + Math.max(0, delayMs)
}

/** How long after going stale a copy may still be served: while revalidating, and on an error. */
export function staleWindows(
  headers: Readonly<Record<string, string>>,
  shared: boolean,
): { readonly whileRevalidate: number; readonly ifError: number } {
  const cc = parseCacheControl(headers['cache-control'])
  // Once stale it must be revalidated first (§5.2.2.2, .8, .10): s-maxage implies proxy-revalidate.
  const strict =
    cc.has('must-revalidate') ||
    cc.has('no-cache') ||
    (shared && (cc.has('proxy-revalidate') || cc.has('s-maxage')))
  if (strict) return { whileRevalidate: 0, ifError: 0 }
  return {
    whileRevalidate: seconds(cc, 'stale-while-revalidate') ?? 0,
    ifError: seconds(cc, 'stale-if-error') ?? 0,
  }
}

/** What the request's own `Cache-Control` (or `Pragma: no-cache`) asks of the cache (§5.2.1). */
export interface RequestDirectives {
  /** Do not store the answer. */
  readonly noStore: boolean
  /** Do not answer from the cache without revalidating. */
  readonly noCache: boolean
  /** Accept a stored answer only up to this age (ms). */
  readonly maxAge: number | undefined
}

export function requestDirectives(headers: Readonly<Record<string, string>>): RequestDirectives {
  const cc = parseCacheControl(headers['cache-control'])
  const pragmaNoCache =
    headers['cache-control'] === undefined &&
    /(^|,)\s*no-cache\s*(,|$)/i.test(headers['pragma'] ?? '')
  return {
    noStore: cc.has('no-store'),
    noCache: cc.has('no-cache') || pragmaNoCache,
    maxAge: seconds(cc, 'max-age'),
  }
}

/** The request header names a response's `Vary` selects on, lower-case (`*` is refused before storing). */
export function varyNames(headers: Readonly<Record<string, string>>): readonly string[] {
  const vary = headers['vary']
  if (vary === undefined) return []
  const names = vary
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '')
  return [...new Set(names)].sort()
}

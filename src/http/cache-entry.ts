/**
 * What the HTTP cache writes into a `CacheStore`, and under which keys.
 *
 * Entries are JSON-safe (the body as base64), so a networked store can hold them as text. Keys
 * are hashes: a URL's query may hold an API key, and a `Vary` on `Authorization` or `Cookie`
 * must not put a credential into a store other people can read. A variant's selecting header
 * values are kept as hashes too, and compared as hashes.
 *
 * A response without `Vary` is stored under the URL's key. One with `Vary` is stored under a
 * secondary key (the URL's plus a hash of the selecting values) and the URL's key holds a small
 * index naming the selecting headers, so several variants coexist and deleting the URL's key
 * (an unsafe method's invalidation) makes every variant unreachable at once.
 */
import { createHash } from 'node:crypto'
import { field } from '../core/own.js'
import { CACHE_ENTRY_FORMAT, readEntry, type CacheValueEntry } from '../cache/store.js'

/** The `version` of every entry this cache writes: entries of `cached()` in the same store never match. */
export const HTTP_ENTRY_VERSION = 'fanout-http/1'

/** A stored response. */
export interface StoredResponse {
  readonly kind: 'response'
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** The decoded body, base64. */
  readonly body: string
  /** Its age when stored (ms): the upstream's `Age` plus the time the request took. */
  readonly initialAge: number
  /** The selecting request headers (lower-case) and a hash of each value; `null` without `Vary`. */
  readonly vary: Readonly<Record<string, string>> | null
}

/** The URL's entry when its responses vary: which request headers select the variant. */
export interface VaryIndex {
  readonly kind: 'vary'
  readonly names: readonly string[]
}

export type HttpEntry = CacheValueEntry<StoredResponse | VaryIndex>

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url')

/** The key of a URL's entry (GET only): never the URL itself. */
export function primaryKey(name: string, url: URL): string {
  const u = new URL(url.href)
  u.username = ''
  u.password = ''
  u.hash = ''
  return `fanout:http:${name}:${sha256(`GET ${u.href}`)}`
}

/** A hash per selecting header (`-` stands for an absent header, which no hash can equal). */
export function selecting(
  names: readonly string[],
  request: Readonly<Record<string, string>>,
): Record<string, string> {
  const out = Object.create(null) as Record<string, string>
  // Values are normalised as RFC 9111 §4.1 allows: whitespace around list members does not matter.
  for (const name of names) {
    const value = request[name]
    out[name] =
      value === undefined
        ? '-'
        : sha256(
            value
              .split(',')
              .map((v) => v.trim())
              .join(','),
          )
  }
  return out
}

export function variantKey(primary: string, values: Readonly<Record<string, string>>): string {
  return `${primary}:${sha256(JSON.stringify(Object.entries(values)))}`
}

export function sameSelection(
  stored: Readonly<Record<string, string>> | null,
  wanted: Readonly<Record<string, string>>,
): boolean {
  const a = stored ?? {}
  const keys = Object.keys(a)
  return (
    keys.length === Object.keys(wanted).length && keys.every((name) => a[name] === wanted[name])
  )
}

/** An entry in this cache's layout; anything else (malformed, another writer's) is a miss. */
export function readHttpEntry(raw: unknown): HttpEntry | undefined {
  const entry = readEntry(raw)
  if (entry === undefined || entry.kind !== 'value' || entry.version !== HTTP_ENTRY_VERSION)
    return undefined
  const value: unknown = entry.value
  if (typeof value !== 'object' || value === null) return undefined
  const kind = field(value, 'kind')
  if (kind === 'vary') {
    const names = field(value, 'names')
    return Array.isArray(names) && names.every((n) => typeof n === 'string')
      ? (entry as HttpEntry)
      : undefined
  }
  if (kind !== 'response') return undefined
  const status = field(value, 'status')
  const headers = field(value, 'headers')
  const vary = field(value, 'vary')
  const ok =
    typeof status === 'number' &&
    typeof field(value, 'body') === 'string' &&
    typeof field(value, 'initialAge') === 'number' &&
    stringRecord(headers) &&
    (vary === null || stringRecord(vary))
  return ok ? (entry as HttpEntry) : undefined
}

function stringRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  return Object.values(value).every((v) => typeof v === 'string')
}

/** Headers never stored (RFC 9111 §3.1: hop-by-hop ones; `age` is recomputed when served). */
const NOT_STORED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authentication-info',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'age',
])

/** Headers a 304 does not replace (§3.2): they describe the stored body, not the 304's. */
const KEPT_ON_UPDATE: ReadonlySet<string> = new Set([
  'content-length',
  'content-encoding',
  'content-type',
  'content-range',
])

export function headersToStore(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>
  for (const name of Object.keys(headers)) if (!NOT_STORED.has(name)) out[name] = headers[name]!
  return out
}

/** The stored headers updated from a 304's. */
export function mergeHeaders(
  stored: Readonly<Record<string, string>>,
  update: Readonly<Record<string, string>>,
): Record<string, string> {
  const out = headersToStore(stored)
  for (const name of Object.keys(update))
    if (!NOT_STORED.has(name) && !KEPT_ON_UPDATE.has(name)) out[name] = update[name]!
  return out
}

/** A CacheValueEntry of this cache's layout. */
export function entryOf(
  value: StoredResponse | VaryIndex,
  times: { storedAt: number; freshUntil: number; staleUntil: number; errorUntil: number },
): HttpEntry {
  return { format: CACHE_ENTRY_FORMAT, version: HTTP_ENTRY_VERSION, kind: 'value', value, ...times }
}

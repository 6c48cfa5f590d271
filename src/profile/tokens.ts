/**
 * The values a request sends and a response returns, as sets of hashes ("tokens"): the profiler
 * tells whether a call used an earlier call's response by looking for a token of that response
 * in the later call's URL, headers or body. Only hashes are kept, never the values themselves, so
 * a profile holds no credential, id or personal datum in the clear.
 *
 * What counts as a value: path segments and query values of a URL (and the parts of a
 * comma-separated list), string and number literals of a JSON body (keys are not values), the
 * values of a form body, a short text body whole, and the headers that carry data from one call
 * to the next (Location, Link, Set-Cookie/Cookie, ETag/If-None-Match, Authorization, x-*).
 */
import { brotliDecompressSync, constants, gunzipSync, inflateSync } from 'node:zlib'

/** At most this many tokens are kept for one request or response. */
export const MAX_TOKENS = 1_024
/** Strings longer than this are not values another call would send whole. */
const MAX_TOKEN_LENGTH = 512

/** cyrb53: a fast 53-bit string hash (collisions only make the profiler more cautious). */
export function hashToken(text: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

/** Adds a value's hash to a bounded set. */
export function addToken(into: Set<number>, value: string): void {
  if (into.size >= MAX_TOKENS) return
  const text = value.trim()
  if (text === '' || text.length > MAX_TOKEN_LENGTH) return
  into.add(hashToken(text))
}

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}

/** A URL's path segments and query values (each, and each part of a comma-separated one). */
export function addUrlTokens(into: Set<number>, url: URL): void {
  for (const segment of url.pathname.split('/')) if (segment !== '') addToken(into, decode(segment))
  addQueryTokens(into, url.search)
}

function addQueryTokens(into: Set<number>, search: string): void {
  for (const pair of search.replace(/^\?/, '').split('&')) {
    const eq = pair.indexOf('=')
    if (eq < 0) continue
    const value = decode(pair.slice(eq + 1))
    addToken(into, value)
    if (value.includes(',')) for (const part of value.split(',')) addToken(into, part)
  }
}

/** A string that may be a URL or a path (a link in a response): the string and its parts. */
function addStringTokens(into: Set<number>, value: string): void {
  addToken(into, value)
  if (value.length > MAX_TOKEN_LENGTH || /\s/.test(value)) return
  if (/^https?:\/\//i.test(value) || value.startsWith('/')) {
    try {
      addUrlTokens(into, new URL(value, 'http://relative.invalid'))
    } catch {
      // Not a URL after all: the whole string is already counted.
    }
  }
}

// A JSON string literal (with the colon after it, for a key), or a number literal.
const JSON_LITERALS = /"((?:[^"\\]|\\.)*)"(\s*:)?|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g
/** A key whose value names something: `id`, `teamId`, `user_ids`, `orderNo`, `slug`. */
const ID_KEY = /(?:id|ids|key|keys|ref|uuid|guid|slug|code|number|num|no)$/i

/**
 * The values of a JSON text, by a scan rather than a parse: a body cut at the capture limit still
 * gives the values of its first part. A small number (under 100: a count, a rating, a flag) is a
 * value only under a key that names an id — the key before it, or the array's — since a count of
 * 3 and an order 3 sharing a token would hide a waterfall.
 */
export function addJsonTokens(into: Set<number>, text: string): void {
  let key = ''
  for (const match of text.matchAll(JSON_LITERALS)) {
    if (into.size >= MAX_TOKENS) return
    const raw = match[1]
    if (raw === undefined) {
      const n = Number(match[0])
      if (Math.abs(n) >= 100 || !Number.isInteger(n) || ID_KEY.test(key)) addToken(into, String(n))
      continue
    }
    let value = raw
    if (raw.includes('\\')) {
      try {
        value = JSON.parse(`"${raw}"`) as string
      } catch {
        // A string cut inside an escape: the raw text will do.
      }
    }
    if (match[2] !== undefined) key = value
    else addStringTokens(into, value)
  }
}

/** The values of a body, by its content type (JSON, a form, or a short text). */
export function addBodyTokens(into: Set<number>, text: string, contentType: string): void {
  const type = contentType.toLowerCase()
  const start = text.trimStart()[0]
  if (
    type.includes('json') ||
    ((type === '' || type.startsWith('text/')) && /[[{]/.test(start ?? ''))
  )
    addJsonTokens(into, text)
  else if (type.includes('x-www-form-urlencoded')) addQueryTokens(into, `?${text}`)
  else if (type === '' || type.startsWith('text/plain')) addToken(into, text)
}

/** The headers of a request whose values may come from an earlier response. */
export function addRequestHeaderTokens(
  into: Set<number>,
  headers: Iterable<readonly [string, string]>,
): void {
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase()
    if (name === 'authorization' || name === 'proxy-authorization') {
      addToken(into, value.replace(/^\S+\s+/, ''))
    } else if (name === 'cookie') {
      for (const pair of value.split(';')) addToken(into, pair.slice(pair.indexOf('=') + 1))
    } else if (name === 'if-none-match' || name === 'if-match' || name.startsWith('x-')) {
      addToken(into, value)
    }
  }
}

/** The headers of a response whose values a later call may send. */
export function addResponseHeaderTokens(
  into: Set<number>,
  headers: Iterable<readonly [string, string]>,
  base: string,
): void {
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase()
    if (name === 'location' || name === 'content-location') {
      addToken(into, value)
      try {
        addUrlTokens(into, new URL(value, base))
      } catch {
        // A malformed Location: its whole value is counted.
      }
    } else if (name === 'link') {
      for (const m of value.matchAll(/<([^>]*)>/g)) addStringTokens(into, m[1]!)
    } else if (name === 'set-cookie') {
      const first = value.split(';')[0] ?? ''
      addToken(into, first.slice(first.indexOf('=') + 1))
    } else if (name === 'etag' || name.startsWith('x-')) {
      addToken(into, value)
    }
  }
}

type Inflate = (bytes: Buffer, max: number) => Buffer
const gunzip: Inflate = (bytes, max) =>
  gunzipSync(bytes, { maxOutputLength: max, finishFlush: constants.Z_SYNC_FLUSH })
const INFLATE: ReadonlyMap<string, Inflate> = new Map([
  ['gzip', gunzip],
  ['x-gzip', gunzip],
  [
    'deflate',
    (bytes, max) =>
      inflateSync(bytes, { maxOutputLength: max, finishFlush: constants.Z_SYNC_FLUSH }),
  ],
  [
    'br',
    (bytes, max) =>
      brotliDecompressSync(bytes, {
        maxOutputLength: max,
        finishFlush: constants.BROTLI_OPERATION_FLUSH,
      }),
  ],
])

/** The first `limit` bytes of a body, kept as it streams by. */
export class BodyCapture {
  readonly #limit: number
  readonly #chunks: Buffer[] = []
  #bytes = 0

  constructor(limit: number) {
    this.#limit = limit
  }

  get full(): boolean {
    return this.#bytes >= this.#limit
  }

  add(chunk: unknown): void {
    if (this.full) return
    let bytes: Buffer
    if (typeof chunk === 'string') bytes = Buffer.from(chunk)
    else if (chunk instanceof Uint8Array)
      bytes = Buffer.from(chunk) // a copy: the sender may reuse its buffer
    else return
    const room = this.#limit - this.#bytes
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes
    this.#chunks.push(kept)
    this.#bytes += kept.length
  }

  /** The text, decompressed (as far as the kept bytes go) when `encoding` says so. */
  text(encoding: string): string {
    if (this.#bytes === 0) return ''
    const raw = Buffer.concat(this.#chunks)
    const coding = encoding.toLowerCase().trim()
    if (coding === '' || coding === 'identity') return raw.toString('utf8')
    const inflate = INFLATE.get(coding)
    if (inflate === undefined) return ''
    // A prefix of the compressed bytes, shorter each time, until its output fits in 16× the
    // limit: the values of a body's first part are what a capture keeps anyway.
    for (let length = raw.length; length > 0; length = length >= 128 ? length >> 1 : 0) {
      try {
        return inflate(raw.subarray(0, length), this.#limit * 16)
          .subarray(0, this.#limit)
          .toString('utf8')
      } catch {
        // Too much output, or not what the header said: try a shorter prefix.
      }
    }
    return ''
  }
}

/**
 * `Link` headers (RFC 8288): `<https://api.example/items?page=3>; rel="next", <…>; rel="last"`.
 *
 * The parser is one forward scan with no regular expression: a crafted 50 k-character header
 * (thousands of `<`, `;` or an unterminated quote) costs time linear in its length (fault I11,
 * the parse-link-header ReDoS, CVE-2021-23490). Every helper only moves the position forward,
 * and a search that finds nothing ends the parse, so no character is scanned twice.
 *
 * It is lenient where servers are sloppy (unquoted `type=text/html`, spaces inside `<…>`, a
 * missing comma before the next `<`) and skips what it cannot read instead of failing: a
 * malformed parameter drops that parameter, a segment that does not start with `<` is skipped up
 * to the next comma.
 */
import { headerValue } from '../core/headers.js'
import { InvalidOptionError } from '../core/errors.js'
import { field, own } from '../core/own.js'
import { checkKnownKeys, show, snapshot } from '../core/validate.js'
import { PaginationError } from './paginate.js'

export interface LinkEntry {
  /** The target as written between `<` and `>` (trimmed), not resolved against any base. */
  uri: string
  /** Relation types, lower-cased, split on whitespace; empty when the link has no `rel`. */
  rel: string[]
  /**
   * Every other parameter, names lower-cased, quoted values unescaped, a bare name as `''`.
   * The first occurrence wins (RFC 8288 §3). Parameters are own properties, so one named
   * `__proto__` or `constructor` is just a key, never a prototype (I10).
   */
  params: Record<string, string>
}

const TAB = 9
const SPACE = 32
const DQUOTE = 34
const COMMA = 44
const SEMI = 59
const LT = 60
const EQ = 61
const BACKSLASH = 92

/** Parses a `Link` header value; `null` or `undefined` (an absent header) gives `[]`. */
export function parseLinkHeader(value: string | null | undefined): LinkEntry[] {
  const out: LinkEntry[] = []
  if (typeof value !== 'string') return out
  const n = value.length
  let i = 0
  while (i < n) {
    i = skipOws(value, i)
    if (i >= n) break
    const c = value.charCodeAt(i)
    if (c === COMMA) {
      i++
      continue
    }
    if (c !== LT) {
      i = skipTo(value, i, false)
      continue
    }
    const close = value.indexOf('>', i + 1)
    // No `>` anywhere after this point: nothing further can be a link. Stopping here (rather
    // than skipping to the next comma and searching again) is what keeps `<<<<…` linear.
    if (close < 0) break
    const entry: LinkEntry = { uri: value.slice(i + 1, close).trim(), rel: [], params: {} }
    let rel: string | undefined
    i = close + 1
    for (;;) {
      i = skipOws(value, i)
      if (i >= n) break
      const ch = value.charCodeAt(i)
      if (ch === COMMA) {
        i++
        break
      }
      // A `<` where a parameter should be: the comma before the next link is missing.
      if (ch === LT) break
      if (ch !== SEMI) {
        i = skipTo(value, i, true)
        continue
      }
      i = skipOws(value, i + 1)
      const nameStart = i
      while (i < n && isTchar(value.charCodeAt(i))) i++
      const name = value.slice(nameStart, i).toLowerCase()
      i = skipOws(value, i)
      let param = ''
      let ok = name !== ''
      if (i < n && value.charCodeAt(i) === EQ) {
        i = skipOws(value, i + 1)
        if (i < n && value.charCodeAt(i) === DQUOTE) {
          const end = quotedEnd(value, i)
          if (end < 0) {
            // Unterminated: the rest of the header is inside the quote.
            i = n
            ok = false
          } else {
            param = unquote(value, i, end)
            i = end
          }
        } else {
          const start = i
          while (i < n && !isValueStop(value.charCodeAt(i))) i++
          param = value.slice(start, i)
        }
      }
      if (!ok) continue
      if (name === 'rel') rel ??= param
      else if (!Object.hasOwn(entry.params, name))
        Object.defineProperty(entry.params, name, {
          value: param,
          enumerable: true,
          writable: true,
          configurable: true,
        })
    }
    if (rel !== undefined) entry.rel = splitRel(rel)
    out.push(entry)
  }
  return out
}

export interface LinkInput {
  readonly uri: string
  readonly rel?: string | readonly string[]
  readonly params?: Readonly<Record<string, string>>
}

/**
 * Formats links as a `Link` header value, every parameter quoted. Refuses what would change the
 * header's meaning or inject another header (I12): a `>` or a control character in a URI, a
 * control character in a value, a parameter name that is not a token.
 */
export function formatLinkHeader(links: Iterable<LinkInput>): string {
  const where = 'formatLinkHeader()'
  const parts: string[] = []
  for (const given of links) {
    const link = own(given)
    const uri: unknown = link.uri
    if (typeof uri !== 'string' || /[\u0000-\u001f\u007f<>]/.test(uri)) {
      throw new InvalidOptionError(
        `${where}: a link's \`uri\` must be a string without \`<\`, \`>\` or control characters, got ${show(uri)}. Percent-encode them.`,
      )
    }
    let text = `<${uri}>`
    const rel = link.rel === undefined ? [] : typeof link.rel === 'string' ? [link.rel] : link.rel
    if (rel.length > 0) text += `; rel=${quote(where, 'rel', rel.join(' '))}`
    if (link.params !== undefined) {
      for (const name of Object.keys(link.params)) {
        if (name === '' || !isToken(name) || name.toLowerCase() === 'rel') {
          throw new InvalidOptionError(
            `${where}: parameter name ${show(name)} must be a non-empty token other than "rel" (give relations in \`rel\`).`,
          )
        }
        text += `; ${name}=${quote(where, name, link.params[name]!)}`
      }
    }
    parts.push(text)
  }
  return parts.join(', ')
}

export interface NextLinkOptions {
  /** The relation to look for. Default `'next'`. */
  readonly rel?: string
  /** Resolves a relative target. Default: the response's `url`, when given a response. */
  readonly base?: string | URL
  /**
   * Follow a link to another origin than `base`'s. Default false: the function that fetches the
   * next page usually sends credentials, and a `Link` header is the upstream's to choose.
   */
  readonly crossOrigin?: boolean
}

/** A `Headers` object, or a plain record as fanout's client and Node's `IncomingHttpHeaders` give. */
export type HeadersLike =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>

/** A response with headers and, ideally, its final URL (a fetch `Response`, fanout's client response). */
export interface ResponseLike {
  readonly headers: HeadersLike
  readonly url?: string
}

/**
 * The target of the first link with relation `rel` (default `next`), or undefined when there is
 * none. With a base (given, or the response's `url`) the target is resolved to an absolute URL,
 * which must be http(s) and, unless `crossOrigin`, on the base's origin: otherwise a
 * `PaginationError` (reason `'link'`) says so rather than sending the next request elsewhere.
 *
 * @example
 * const res = await fetch(url)
 * nextLink(res) // 'https://api.example/items?page=3', or undefined on the last page
 */
export function nextLink(
  from: HeadersLike | ResponseLike,
  options?: NextLinkOptions,
): string | undefined {
  const where = 'nextLink()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, ['rel', 'base', 'crossOrigin'])
  if (opts.rel !== undefined && (typeof opts.rel !== 'string' || opts.rel === ''))
    throw new InvalidOptionError(
      `${where}: \`rel\` must be a relation name such as 'next', got ${show(opts.rel)}.`,
    )
  const wanted = (opts.rel ?? 'next').toLowerCase()
  const response = isResponse(from) ? from : undefined
  const header = headerValue(
    response !== undefined ? response.headers : (from as HeadersLike),
    'link',
  )
  if (header === undefined) return undefined
  const found = parseLinkHeader(header).find((entry) => entry.rel.includes(wanted))
  if (found === undefined) return undefined
  const url = response === undefined ? undefined : field(response, 'url')
  const baseText =
    opts.base !== undefined
      ? String(opts.base)
      : typeof url === 'string' && url !== ''
        ? url
        : undefined
  let base: URL | undefined
  if (baseText !== undefined) {
    try {
      base = new URL(baseText)
    } catch {
      throw new InvalidOptionError(
        `${where}: \`base\` must be an absolute URL, got ${show(baseText)}.`,
      )
    }
  }
  let target: URL
  try {
    target = new URL(found.uri, base)
  } catch {
    // Relative and nothing to resolve it against: the caller's fetch function resolves it.
    if (base === undefined) return found.uri
    // The link itself stays out of the message: it may carry a signed token (I8).
    throw new PaginationError('link', `${where}: the rel="${wanted}" link is not a valid URL.`)
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new PaginationError(
      'link',
      `${where}: the rel="${wanted}" link uses ${target.protocol}, not http or https: not followed.`,
    )
  }
  if (base !== undefined && opts.crossOrigin !== true && target.origin !== base.origin) {
    throw new PaginationError(
      'link',
      `${where}: the rel="${wanted}" link goes to ${target.origin}, another origin than ${base.origin}: not followed (pass crossOrigin: true to allow it).`,
    )
  }
  return target.href
}

function isResponse(from: HeadersLike | ResponseLike): from is ResponseLike {
  if (typeof field(from, 'get') === 'function') return false
  const headers = field(from, 'headers')
  return typeof headers === 'object' && headers !== null
}

function skipOws(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i)
    if (c !== SPACE && c !== TAB) break
    i++
  }
  return i
}

/** The position of the next `,` (or `;` too, with `semicolon`) outside a quoted string, or the end. */
function skipTo(s: string, i: number, semicolon: boolean): number {
  while (i < s.length) {
    const c = s.charCodeAt(i)
    if (c === COMMA || (semicolon && c === SEMI)) return i
    if (c === DQUOTE) {
      const end = quotedEnd(s, i)
      if (end < 0) return s.length
      i = end
    } else i++
  }
  return i
}

/** Just past the closing quote of the quoted string opening at `i`, or -1 when it never closes. */
function quotedEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j)
    if (c === BACKSLASH) j++
    else if (c === DQUOTE) return j + 1
  }
  return -1
}

/** The text of the quoted string `s[start, end)` (quotes included), escapes undone. */
function unquote(s: string, start: number, end: number): string {
  let out = ''
  let from = start + 1
  for (let j = from; j < end - 1; j++) {
    if (s.charCodeAt(j) !== BACKSLASH) continue
    out += s.slice(from, j)
    from = j + 1 // the escaped character is kept as is
    j++
  }
  return out + s.slice(from, end - 1)
}

function splitRel(value: string): string[] {
  const out: string[] = []
  let start = -1
  for (let j = 0; j <= value.length; j++) {
    const c = j < value.length ? value.charCodeAt(j) : SPACE
    const blank = c === SPACE || c === TAB || c === 10 || c === 13
    if (blank) {
      if (start >= 0) out.push(value.slice(start, j).toLowerCase())
      start = -1
    } else if (start < 0) start = j
  }
  return out
}

/** RFC 9110 tchar. */
function isTchar(c: number): boolean {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true
  // ! # $ % & ' * + - . ^ _ ` | ~
  return (
    c === 33 ||
    (c >= 35 && c <= 39) ||
    c === 42 ||
    c === 43 ||
    c === 45 ||
    c === 46 ||
    c === 94 ||
    c === 95 ||
    c === 96 ||
    c === 124 ||
    c === 126
  )
}

function isToken(s: string): boolean {
  for (let j = 0; j < s.length; j++) if (!isTchar(s.charCodeAt(j))) return false
  return true
}

/** Where an unquoted value ends: whitespace, `;`, `,` (lenient: `type=text/html` is read whole). */
function isValueStop(c: number): boolean {
  return c === SPACE || c === TAB || c === SEMI || c === COMMA
}

function quote(where: string, name: string, value: string): string {
  if (typeof value !== 'string' || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new InvalidOptionError(
      `${where}: the value of \`${name}\` must be a string without control characters, got ${show(value)}.`,
    )
  }
  return `"${value.replace(/["\\]/g, '\\$&')}"`
}

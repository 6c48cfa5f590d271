/**
 * The errors `fanout/http` creates. Each has a stable `code` and says what happened to which
 * request (method and a redacted URL) without ever carrying a credential: no request header, no
 * userinfo, no secret query value, no response body text in a message or an enumerable property.
 *
 * Only `HttpTimeoutError` is a `FanoutError` (a `TimeoutError`). The others are plain `Error`
 * subclasses on purpose: `isRetryableError` retries no FanoutError but a timeout, so an
 * `HttpError` with a 503 must not be one, and `FanoutErrorCode` is a closed union these codes are
 * not part of. Retry classification then reads them as `classify.ts` expects: `HttpError` by its
 * `status`, the others by a `code` that is not transient (never retried).
 */
import { STATUS_CODES } from 'node:http'
import { TimeoutError } from '../core/errors.js'
import type { SsrfVerdict } from './ssrf.js'

export type HttpErrorCode =
  | 'FANOUT_HTTP_STATUS'
  | 'FANOUT_HTTP_TOO_LARGE'
  | 'FANOUT_HTTP_SSRF'
  | 'FANOUT_HTTP_REDIRECT'
  | 'FANOUT_HTTP_INVALID_JSON'

/** A response with a status the caller did not accept (`get()` and `json()`: anything but 2xx). */
export class HttpError extends Error {
  readonly code = 'FANOUT_HTTP_STATUS' as const
  readonly status: number
  /** The response headers (lower-case names), without `set-cookie` and credential headers. */
  readonly headers: Readonly<Record<string, string>>
  /** The wait the upstream asked for (`Retry-After`, or `RateLimit-Reset` on a 429), in ms. */
  readonly retryAfterMs: number | undefined
  readonly method: string
  /** The final URL, redacted. */
  readonly url: string
  /** The decoded response body (not enumerable: kept out of `JSON.stringify` and logs). */
  declare readonly body: Uint8Array

  constructor(init: { status: number; headers: Readonly<Record<string, string>>; retryAfterMs: number | undefined; method: string; url: string; body: Uint8Array }) {
    const reason = STATUS_CODES[init.status]
    super(`${init.method} ${init.url} responded ${init.status}${reason !== undefined ? ` ${reason}` : ''}`)
    this.name = 'HttpError'
    this.status = init.status
    this.headers = init.headers
    this.retryAfterMs = init.retryAfterMs
    this.method = init.method
    this.url = init.url
    Object.defineProperty(this, 'body', { value: init.body, enumerable: false })
  }
}

/** The response (or its headers) was larger than allowed; the request was aborted (B7, B8, I15). */
export class ResponseTooLargeError extends Error {
  readonly code = 'FANOUT_HTTP_TOO_LARGE' as const
  /** What overflowed: the body (counted after decoding) or the response headers. */
  readonly part: 'body' | 'headers'
  /** The limit in bytes. */
  readonly limit: number
  readonly method: string
  readonly url: string

  constructor(part: 'body' | 'headers', limit: number, method: string, url: string, detail: string, options?: { cause?: unknown }) {
    super(
      part === 'body'
        ? `${method} ${url}: the response body exceeded maxResponseSize (${limit} bytes${detail}); the request was aborted`
        : `${method} ${url}: the response headers exceeded ${limit} bytes (maxHeaderSize); the request was aborted`,
      options,
    )
    this.name = 'ResponseTooLargeError'
    this.part = part
    this.limit = limit
    this.method = method
    this.url = url
  }
}

export type HttpPhase = 'connect' | 'headers' | 'body'

const PHASE_TEXT: Readonly<Record<HttpPhase, string>> = {
  connect: 'before the request was sent',
  headers: 'waiting for the response headers',
  body: 'reading the response body',
}

/**
 * A time limit ran out. `code` is `FANOUT_TIMEOUT` for a per-phase limit (`timeouts.connect`,
 * `.headers`, `.body`: retryable) and `FANOUT_DEADLINE` when the request's deadline passed
 * (not retryable: there is no time left).
 */
export class HttpTimeoutError extends TimeoutError {
  /** Where the request was when time ran out. */
  readonly phase: HttpPhase
  readonly method: string
  readonly url: string

  constructor(phase: HttpPhase, timeoutMs: number, method: string, url: string, kind: 'timeout' | 'deadline', cause?: unknown) {
    const what =
      kind === 'deadline'
        ? `the deadline (${Math.round(timeoutMs)} ms) passed while ${PHASE_TEXT[phase]}`
        : phase === 'connect'
          ? `could not connect within ${timeoutMs} ms (timeouts.connect)`
          : phase === 'headers'
            ? `no response headers within ${timeoutMs} ms of sending the request (timeouts.headers)`
            : `the response body stalled: no data for ${timeoutMs} ms (timeouts.body)`
    super(`${method} ${url}: ${what}`, timeoutMs, kind === 'deadline' ? 'FANOUT_DEADLINE' : 'FANOUT_TIMEOUT')
    this.name = 'HttpTimeoutError'
    this.phase = phase
    this.method = method
    this.url = url
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false, configurable: true, writable: true })
  }
}

/** The SSRF guard refused an address: a literal in the URL, a DNS answer, or a redirect target (I1–I4). */
export class SsrfBlockedError extends Error {
  readonly code = 'FANOUT_HTTP_SSRF' as const
  /** The rule that matched: `loopback`, `private`, `link-local`, `metadata`, `unspecified`, `shared`, `multicast`, `reserved`, `deny` or `invalid`. */
  readonly rule: string
  /** The address (or the local name) that was refused. */
  readonly address: string
  readonly hostname: string
  /** The URL being requested, redacted (empty when the address was refused before it was known). */
  readonly url: string

  constructor(verdict: SsrfVerdict, hostname: string, url = '') {
    const embedded = verdict.embedded !== undefined ? ` (it embeds ${verdict.embedded})` : ''
    const target = url !== '' ? url : hostname
    const via = hostname === verdict.address || `[${verdict.address}]` === hostname ? '' : ` resolved from ${hostname}`
    super(`SSRF guard blocked ${target}: ${verdict.address}${via}${embedded} is ${verdict.description} (rule "${verdict.rule}"). ${verdict.hint}`)
    this.name = 'SsrfBlockedError'
    this.rule = verdict.rule
    this.address = verdict.address
    this.hostname = hostname
    this.url = url
    verdicts.set(this, verdict)
  }
}

const verdicts = new WeakMap<SsrfBlockedError, SsrfVerdict>()

/** The same refusal for another request (a DNS refusal reaches every request queued on the connection). @internal */
export function ssrfErrorFor(error: SsrfBlockedError, url: string): SsrfBlockedError {
  const verdict = verdicts.get(error)
  return verdict === undefined ? error : new SsrfBlockedError(verdict, error.hostname, url)
}

export type RedirectFailure = 'loop' | 'too-many' | 'downgrade' | 'scheme' | 'invalid-location' | 'not-allowed'

/** A redirect was refused (I6): a loop, more than `maxRedirects`, https→http, another scheme, a bad `Location`, or `redirect: 'error'`. */
export class RedirectError extends Error {
  readonly code = 'FANOUT_HTTP_REDIRECT' as const
  readonly reason: RedirectFailure
  readonly method: string
  /** The URL that answered with the redirect, redacted. */
  readonly url: string
  /** Where it pointed, redacted (empty when `Location` could not be parsed). */
  readonly location: string
  /** Redirects followed before this one. */
  readonly redirects: number

  constructor(reason: RedirectFailure, message: string, init: { method: string; url: string; location: string; redirects: number }) {
    super(`${init.method} ${init.url}: ${message}`)
    this.name = 'RedirectError'
    this.reason = reason
    this.method = init.method
    this.url = init.url
    this.location = init.location
    this.redirects = init.redirects
  }
}

/** A body expected to be JSON did not parse (B9). Not retried: the same request would get the same body. */
export class InvalidJsonError extends Error {
  readonly code = 'FANOUT_HTTP_INVALID_JSON' as const
  readonly status: number
  readonly method: string
  readonly url: string
  readonly contentType: string | undefined
  /** Size of the body that failed to parse. */
  readonly bytes: number

  constructor(init: { status: number; method: string; url: string; contentType: string | undefined; bytes: number; position: number | undefined }) {
    // The parser's own message quotes the body, which may hold secrets: only its position is kept.
    const at = init.position !== undefined ? ` at position ${init.position}` : ''
    super(`${init.method} ${init.url}: the response body (${init.bytes} bytes, status ${init.status}, content-type ${init.contentType ?? 'none'}) is not valid JSON${at}`)
    this.name = 'InvalidJsonError'
    this.status = init.status
    this.method = init.method
    this.url = init.url
    this.contentType = init.contentType
    this.bytes = init.bytes
  }
}

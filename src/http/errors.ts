/**
 * The errors `fanout/http` creates. Each is a `FanoutError` with a stable `code` and says what
 * happened to which request (method and a redacted URL) without ever carrying a credential: no
 * request header, no userinfo, no secret query value, no response body text in a message or an
 * enumerable property. An error of undici's or Node's never reaches the caller as it is: it is
 * wrapped in a `NetworkError` or a `ProtocolError`, with the original as `cause`.
 *
 * `retry()` and the other classifiers read these errors as they read any HTTP client's (see
 * `classify.ts`): an `HttpError` by its `status`, a `NetworkError` as transient, the others as
 * final, and an `HttpTimeoutError` as a fanout time limit (retried) or deadline (not).
 */
import { STATUS_CODES } from 'node:http'
import { FanoutError, isFanoutError, TimeoutError, type FanoutErrorCode } from '../core/errors.js'
import { TRANSIENT_ERROR_CODES } from '../policies/classify.js'
import type { SsrfVerdict } from './ssrf-verdict.js'

/** The longest URL a message repeats in full; the error's `url` property keeps all of it. */
export const MAX_URL_IN_MESSAGE = 200

/** A (redacted) URL as a message shows it: cut to `MAX_URL_IN_MESSAGE` characters, so a huge URL cannot make a huge message. */
export function urlInMessage(url: string): string {
  return url.length <= MAX_URL_IN_MESSAGE ? url : `${url.slice(0, MAX_URL_IN_MESSAGE - 1)}…`
}

/** The codes of the errors that report what an upstream or the network did (all in `FanoutErrorCode`). */
export type HttpErrorCode = Extract<FanoutErrorCode, `FANOUT_HTTP_${string}` | 'FANOUT_NETWORK'>

/** A response with a status the caller did not accept (`get()` and `json()`: anything but 2xx). */
export class HttpError extends FanoutError {
  declare readonly code: 'FANOUT_HTTP_STATUS'
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

  constructor(init: {
    status: number
    headers: Readonly<Record<string, string>>
    retryAfterMs: number | undefined
    method: string
    url: string
    body: Uint8Array
  }) {
    const reason = STATUS_CODES[init.status]
    super(
      'FANOUT_HTTP_STATUS',
      `${init.method} ${urlInMessage(init.url)} responded ${init.status}${reason !== undefined ? ` ${reason}` : ''}`,
    )
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
export class ResponseTooLargeError extends FanoutError {
  declare readonly code: 'FANOUT_HTTP_TOO_LARGE'
  /** What overflowed: the body (counted after decoding) or the response headers. */
  readonly part: 'body' | 'headers'
  /** The limit in bytes. */
  readonly limit: number
  readonly method: string
  readonly url: string

  constructor(
    part: 'body' | 'headers',
    limit: number,
    method: string,
    url: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'FANOUT_HTTP_TOO_LARGE',
      part === 'body'
        ? `${method} ${urlInMessage(url)}: the response body exceeded maxResponseSize (${limit} bytes${detail}); the request was aborted`
        : `${method} ${urlInMessage(url)}: the response headers exceeded ${limit} bytes (maxHeaderSize); the request was aborted`,
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

  constructor(
    phase: HttpPhase,
    timeoutMs: number,
    method: string,
    url: string,
    kind: 'timeout' | 'deadline',
    cause?: unknown,
  ) {
    const what =
      kind === 'deadline'
        ? `the deadline (${Math.round(timeoutMs)} ms) passed while ${PHASE_TEXT[phase]}`
        : phase === 'connect'
          ? `could not connect within ${timeoutMs} ms (timeouts.connect)`
          : phase === 'headers'
            ? `no response headers within ${timeoutMs} ms of sending the request (timeouts.headers)`
            : `the response body stalled: no data for ${timeoutMs} ms (timeouts.body)`
    super(
      `${method} ${urlInMessage(url)}: ${what}`,
      timeoutMs,
      kind === 'deadline' ? 'FANOUT_DEADLINE' : 'FANOUT_TIMEOUT',
    )
    this.name = 'HttpTimeoutError'
    this.phase = phase
    this.method = method
    this.url = url
    if (cause !== undefined)
      Object.defineProperty(this, 'cause', {
        value: cause,
        enumerable: false,
        configurable: true,
        writable: true,
      })
  }
}

/** The SSRF guard refused an address: a literal in the URL, a DNS answer, or a redirect target (I1–I4). */
export class SsrfBlockedError extends FanoutError {
  declare readonly code: 'FANOUT_HTTP_SSRF'
  /** The rule that matched: `loopback`, `private`, `link-local`, `metadata`, `unspecified`, `shared`, `multicast`, `reserved`, `deny` or `invalid`. */
  readonly rule: string
  /** The address (or the local name) that was refused. */
  readonly address: string
  readonly hostname: string
  /** The URL being requested, redacted (empty when the address was refused before it was known). */
  readonly url: string

  constructor(verdict: SsrfVerdict, hostname: string, url = '') {
    const embedded = verdict.embedded !== undefined ? ` (it embeds ${verdict.embedded})` : ''
    const target = urlInMessage(url !== '' ? url : hostname)
    const via =
      hostname === verdict.address || `[${verdict.address}]` === hostname
        ? ''
        : ` resolved from ${urlInMessage(hostname)}`
    super(
      'FANOUT_HTTP_SSRF',
      `SSRF guard blocked ${target}: ${verdict.address}${via}${embedded} is ${verdict.description} (rule "${verdict.rule}"). ${verdict.hint}`,
    )
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

export type RedirectFailure =
  'loop' | 'too-many' | 'downgrade' | 'scheme' | 'invalid-location' | 'not-allowed'

/** A redirect was refused (I6): a loop, more than `maxRedirects`, https→http, another scheme, a bad `Location`, or `redirect: 'error'`. */
export class RedirectError extends FanoutError {
  declare readonly code: 'FANOUT_HTTP_REDIRECT'
  readonly reason: RedirectFailure
  readonly method: string
  /** The URL that answered with the redirect, redacted. */
  readonly url: string
  /** Where it pointed, redacted (empty when `Location` could not be parsed). */
  readonly location: string
  /** Redirects followed before this one. */
  readonly redirects: number

  constructor(
    reason: RedirectFailure,
    message: string,
    init: { method: string; url: string; location: string; redirects: number },
  ) {
    super('FANOUT_HTTP_REDIRECT', `${init.method} ${urlInMessage(init.url)}: ${message}`)
    this.name = 'RedirectError'
    this.reason = reason
    this.method = init.method
    this.url = init.url
    this.location = init.location
    this.redirects = init.redirects
  }
}

/** A body expected to be JSON did not parse (B9). Not retried: the same request would get the same body. */
export class InvalidJsonError extends FanoutError {
  declare readonly code: 'FANOUT_HTTP_INVALID_JSON'
  readonly status: number
  readonly method: string
  readonly url: string
  readonly contentType: string | undefined
  /** Size of the body that failed to parse. */
  readonly bytes: number

  constructor(init: {
    status: number
    method: string
    url: string
    contentType: string | undefined
    bytes: number
    position: number | undefined
  }) {
    // The parser's own message quotes the body, which may hold secrets: only its position is kept.
    const at = init.position !== undefined ? ` at position ${init.position}` : ''
    super(
      'FANOUT_HTTP_INVALID_JSON',
      `${init.method} ${urlInMessage(init.url)}: the response body (${init.bytes} bytes, status ${init.status}, content-type ${init.contentType ?? 'none'}) is not valid JSON${at}`,
    )
    this.name = 'InvalidJsonError'
    this.status = init.status
    this.method = init.method
    this.url = init.url
    this.contentType = init.contentType
    this.bytes = init.bytes
  }
}

/** The longest part of an original error's message repeated in ours. */
const MAX_CAUSE_TEXT = 200

/** The original error, briefly: its message (bounded) and its code when the message does not say it. */
function causeText(cause: Error, code: string | undefined): string {
  const message =
    cause.message.length > MAX_CAUSE_TEXT
      ? `${cause.message.slice(0, MAX_CAUSE_TEXT)}…`
      : cause.message
  if (code === undefined || message.includes(code)) return message || cause.name
  return message === '' ? code : `${code}: ${message}`
}

/**
 * The connection could not be made or broke: refused, reset, closed, a name that did not
 * resolve (`causeCode` ECONNREFUSED, ECONNRESET, EPIPE, ENOTFOUND, EAI_AGAIN, UND_ERR_SOCKET,
 * UND_ERR_CLOSED…). Transient: `retry()` retries it when the request may be repeated.
 */
export class NetworkError extends FanoutError {
  declare readonly code: 'FANOUT_NETWORK'
  /** The original error's `code` (Node's or undici's, e.g. `ECONNRESET`, `UND_ERR_SOCKET`), if it had one. */
  readonly causeCode: string | undefined
  readonly method: string
  /** The URL being requested, redacted. */
  readonly url: string

  constructor(method: string, url: string, cause: Error) {
    const causeCode = codeOfCause(cause)
    super(
      'FANOUT_NETWORK',
      `${method} ${urlInMessage(url)}: the connection failed (${causeText(cause, causeCode)})`,
      { cause },
    )
    this.name = 'NetworkError'
    this.causeCode = causeCode
    this.method = method
    this.url = url
  }
}

/**
 * The exchange failed in a way another attempt would most likely meet again: TLS refused (a
 * certificate), a response that breaks HTTP (a malformed head, a body shorter than its
 * content-length), a content coding that does not decode, a proxy refusing the tunnel, or
 * another error of undici's or Node's (`causeCode` says which). Not retried.
 */
export class ProtocolError extends FanoutError {
  declare readonly code: 'FANOUT_HTTP_PROTOCOL'
  /** The original error's `code` (e.g. `HPE_INVALID_CONSTANT`, `Z_DATA_ERROR`, `UND_ERR_RES_CONTENT_LENGTH_MISMATCH`), if it had one. */
  readonly causeCode: string | undefined
  readonly method: string
  /** The URL being requested, redacted. */
  readonly url: string

  constructor(method: string, url: string, cause: Error) {
    const causeCode = codeOfCause(cause)
    super(
      'FANOUT_HTTP_PROTOCOL',
      `${method} ${urlInMessage(url)}: the exchange failed (${causeText(cause, causeCode)})`,
      { cause },
    )
    this.name = 'ProtocolError'
    this.causeCode = causeCode
    this.method = method
    this.url = url
  }
}

function codeOfCause(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/**
 * undici's or Node's error for a request, as the caller gets it: a `NetworkError` when its code is
 * a transient network failure, a `ProtocolError` otherwise. A fanout error passes through.
 */
export function exchangeError(error: unknown, method: string, url: string): FanoutError {
  if (isFanoutError(error)) return error
  const cause = error instanceof Error ? error : new Error(String(error))
  const code = codeOfCause(cause)
  return code !== undefined && TRANSIENT_ERROR_CODES.has(code)
    ? new NetworkError(method, url, cause)
    : new ProtocolError(method, url, cause)
}

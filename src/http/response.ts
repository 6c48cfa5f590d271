/**
 * What a request resolves to: the status, headers and final URL every response has
 * (`ResponseHead`, shared with streamed responses), and a response whose body was read whole.
 */
import { parseRateLimitHeader, parseRetryAfter } from '../policies/retry-after.js'
import type { HttpCacheStatus } from './cache-status.js'
import { HttpError, InvalidJsonError } from './errors.js'
import { redactUrl, withoutCredentials } from './redact.js'

export interface HttpResponse {
  readonly status: number
  /** Lower-case names; a repeated header's values joined with ", ". As received (a decoded body keeps its content-encoding header). */
  readonly headers: Readonly<Record<string, string>>
  /** The final URL, redacted (no userinfo, no secret query values, no fragment). */
  readonly url: string
  /** Redirects followed. */
  readonly redirects: number
  /** The body, decoded. */
  readonly body: Uint8Array
  /**
   * With the client's `cache`, where this response came from: `'hit'` (stored, fresh),
   * `'revalidated'` (stored, confirmed by a 304), `'stale'` (stored, served while revalidating or
   * instead of an error) or `'miss'` (the upstream's). Undefined without a cache.
   */
  readonly cache?: HttpCacheStatus | undefined
  /** The body as UTF-8 (a leading BOM removed). */
  text(): string
  /** The body parsed as JSON; `InvalidJsonError` if it is not JSON (B9). */
  json<T = unknown>(): T
}

/** Status, headers, redirects and the final URL, redacted on first read (most callers never read it). */
export class ResponseHead {
  readonly #url: URL
  #redacted: string | undefined

  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
    url: URL,
    readonly redirects: number,
  ) {
    this.#url = url
  }

  get url(): string {
    return (this.#redacted ??= redactUrl(this.#url))
  }

  toJSON(): object {
    return { status: this.status, headers: this.headers, url: this.url, redirects: this.redirects }
  }
}

/** A response with its whole body read (`get()`, `json()`, `request()`…). */
export class Response extends ResponseHead implements HttpResponse {
  readonly #method: string

  constructor(
    status: number,
    headers: Readonly<Record<string, string>>,
    url: URL,
    redirects: number,
    readonly body: Buffer,
    method: string,
    readonly cache?: HttpCacheStatus,
  ) {
    super(status, headers, url, redirects)
    this.#method = method
  }

  text(): string {
    const text = this.body.toString('utf8')
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  }

  json<T = unknown>(): T {
    const text = this.text()
    try {
      return JSON.parse(text) as T
    } catch (error) {
      const position =
        error instanceof Error ? /at position (\d+)/.exec(error.message)?.[1] : undefined
      throw new InvalidJsonError({
        status: this.status,
        method: this.#method,
        url: this.url,
        contentType: this.headers['content-type'],
        bytes: this.body.length,
        position: position !== undefined ? Number(position) : undefined,
      })
    }
  }

  override toJSON(): object {
    return { ...super.toJSON(), bytes: this.body.length }
  }

  /** The `HttpError` for this response's status; its headers without the credential ones. */
  toError(credentialHeaders: ReadonlySet<string>): HttpError {
    return new HttpError({
      status: this.status,
      headers: withoutCredentials(this.headers, credentialHeaders),
      retryAfterMs: retryAfterFrom(this.status, this.headers),
      method: this.#method,
      url: this.url,
      body: this.body,
    })
  }
}

/**
 * The wait a response asks for: Retry-After on any status; on a 429 without it, the reset of
 * `RateLimit-Reset` or of the combined `RateLimit` header (delta seconds).
 */
function retryAfterFrom(
  status: number,
  headers: Readonly<Record<string, string>>,
): number | undefined {
  const asked = parseRetryAfter(headers['retry-after'])
  if (asked !== undefined || status !== 429) return asked
  const reset = headers['ratelimit-reset']?.trim()
  if (reset !== undefined && /^\d{1,10}$/.test(reset)) return Number(reset) * 1000
  const combined = parseRateLimitHeader(headers['ratelimit'])?.resetSeconds
  return combined === undefined ? undefined : combined * 1000
}

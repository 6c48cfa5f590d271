/**
 * Which failures are worth another attempt. The defaults follow the trusted clients (gRPC,
 * AWS SDKs, got, undici): transient network errors, attempt timeouts and the statuses 408, 429,
 * 500, 502, 503 and 504 — never another 4xx, never an abort by the caller, never a deadline that
 * has passed, and never a non-idempotent request unless the caller says it is safe.
 *
 * The rule keys on codes and statuses, never on classes. Every error fanout creates is a
 * `FanoutError`, of two kinds:
 * - a decision of fanout's own (a time limit, a deadline, an open breaker, a full queue, a bad
 *   option, a refused batch key…) is classified by its `code` alone;
 * - a report of what an upstream or the network did (`UPSTREAM_ERROR_CODES`: an HTTP status, a
 *   broken connection, a response refused for its size, address, redirect or body) is classified
 *   like any other library's error: by its `status`, then by its `code` (`FANOUT_NETWORK` is in
 *   `TRANSIENT_ERROR_CODES`, next to Node's and undici's own codes).
 */
import { isFanoutError, type FanoutError } from '../core/errors.js'
import { field } from '../core/own.js'

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

/** Error codes of Node's net/dns layers and undici that mean "try again, maybe elsewhere". */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  // fanout/http's NetworkError: one of the above, wrapped (the original as `cause`).
  'FANOUT_NETWORK',
])

/** The codes of fanout errors that report an upstream's answer or the network's failure (see above). */
export const UPSTREAM_ERROR_CODES: ReadonlySet<string> = new Set([
  'FANOUT_HTTP_STATUS',
  'FANOUT_HTTP_TOO_LARGE',
  'FANOUT_HTTP_SSRF',
  'FANOUT_HTTP_REDIRECT',
  'FANOUT_HTTP_INVALID_JSON',
  'FANOUT_HTTP_PROTOCOL',
  'FANOUT_NETWORK',
])

/** A fanout error that is fanout's own decision, not a report of the upstream's (see above). */
export function isOwnDecision(error: unknown): error is FanoutError {
  return isFanoutError(error) && !UPSTREAM_ERROR_CODES.has(error.code)
}

const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
])

/** The HTTP status an error carries (`status`, `statusCode` or `response.status`), if any. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  // Fields of the error or its class, never of a polluted Object.prototype (I10).
  const response = field(error, 'response')
  for (const v of [
    field(error, 'status'),
    field(error, 'statusCode'),
    typeof response === 'object' && response !== null ? field(response, 'status') : undefined,
  ]) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599) return v
  }
  return undefined
}

/** The error's `code`, or its `cause`'s (fetch wraps network errors in a TypeError with a cause). */
export function codeOf(error: unknown): string | undefined {
  for (
    let e = error, depth = 0;
    typeof e === 'object' && e !== null && depth < 4;
    e = field(e, 'cause'), depth++
  ) {
    const code = field(e, 'code')
    if (typeof code === 'string') return code
  }
  return undefined
}

/**
 * Whether the request behind an error may be repeated safely: its own `idempotent` flag when it
 * has one (fanout/http sets it from the original method, an `Idempotency-Key` header or the
 * caller's say-so, so a POST answered 303 and failing as a GET is still a POST), else the method
 * it names.
 */
export function isIdempotentError(error: unknown): boolean | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const flag = field(error, 'idempotent')
  if (typeof flag === 'boolean') return flag
  const method = field(error, 'method')
  return typeof method === 'string' ? isIdempotentMethod(method) : undefined
}

/** Whether RFC 9110 defines `method` as idempotent: sending it twice has the effect of sending it once. */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method.toUpperCase())
}

/** A short, credential-free label for what failed: a status, a code (a wrapped error's own) or the error's name. */
export function failureLabel(error: unknown): string {
  const status = statusOf(error)
  if (status !== undefined) return String(status)
  const causeCode =
    typeof error === 'object' && error !== null
      ? (error as { causeCode?: unknown }).causeCode
      : undefined
  const code = typeof causeCode === 'string' ? causeCode : codeOf(error)
  if (code !== undefined) return code
  return error instanceof Error ? error.name : typeof error
}

/** The default retry classifier (the caller's abort and an idempotency check are handled by `retry`). */
export function isRetryableError(error: unknown): boolean {
  if (isOwnDecision(error)) return error.code === 'FANOUT_TIMEOUT'
  const status = statusOf(error)
  if (status !== undefined) return RETRYABLE_STATUSES.has(status)
  const code = codeOf(error)
  return code !== undefined && TRANSIENT_ERROR_CODES.has(code)
}

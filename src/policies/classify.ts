/**
 * Which failures are worth another attempt. The defaults follow the trusted clients (gRPC,
 * AWS SDKs, got, undici): transient network errors, attempt timeouts and the statuses 408, 429,
 * 500, 502, 503 and 504 — never another 4xx, never an abort by the caller, never a deadline that
 * has passed, and never a non-idempotent request unless the caller says it is safe.
 */
import { isFanoutError } from '../core/errors.js'

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
])

const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/** The HTTP status an error carries (`status`, `statusCode` or `response.status`), if any. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as { status?: unknown; statusCode?: unknown; response?: { status?: unknown } }
  for (const v of [e.status, e.statusCode, typeof e.response === 'object' && e.response !== null ? e.response.status : undefined]) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599) return v
  }
  return undefined
}

/** The error's `code`, or its `cause`'s (fetch wraps network errors in a TypeError with a cause). */
export function codeOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
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
  const flag = (error as { idempotent?: unknown }).idempotent
  if (typeof flag === 'boolean') return flag
  const method = (error as { method?: unknown }).method
  return typeof method === 'string' ? isIdempotentMethod(method) : undefined
}

/** Whether RFC 9110 defines `method` as idempotent: sending it twice has the effect of sending it once. */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method.toUpperCase())
}

/** A short, credential-free label for what failed: a status, a code or the error's name. */
export function failureLabel(error: unknown): string {
  const status = statusOf(error)
  if (status !== undefined) return String(status)
  const code = codeOf(error)
  if (code !== undefined) return code
  return error instanceof Error ? error.name : typeof error
}

/** The default retry classifier (the caller's abort and an idempotency check are handled by `retry`). */
export function isRetryableError(error: unknown): boolean {
  if (isFanoutError(error)) return isFanoutError(error, 'FANOUT_TIMEOUT')
  const status = statusOf(error)
  if (status !== undefined) return RETRYABLE_STATUSES.has(status)
  const code = codeOf(error)
  return code !== undefined && TRANSIENT_ERROR_CODES.has(code)
}

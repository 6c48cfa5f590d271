/**
 * Reading how long an upstream asked us to wait (RFC 9110 §10.2.3 `Retry-After`): either
 * delay-seconds (1*DIGIT) or an HTTP-date. Anything else — negative, fractional, empty, garbage —
 * is ignored and the normal backoff applies; a huge value comes back as is (possibly Infinity)
 * so the caller fails fast instead of sleeping. Linear-time: no regular expression backtracks.
 */

/** Milliseconds to wait, or undefined when the header is absent or not a valid value. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (text.length === 0 || text.length > 64) return undefined
  if (isDigits(text)) return Number(text) * 1000
  // An HTTP-date always names a month and has letters; Date.parse alone accepts too much ("1").
  if (!/[a-z]/i.test(text)) return undefined
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}

function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

type HeaderSource = { get(name: string): string | null } | Record<string, unknown>

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined
  const source = headers as HeaderSource
  if (typeof source.get === 'function') {
    const v = (source as { get(name: string): string | null }).get(name)
    return typeof v === 'string' ? v : undefined
  }
  for (const key of Object.keys(source)) {
    if (key.toLowerCase() !== name) continue
    const v = (source as Record<string, unknown>)[key]
    if (typeof v === 'string') return v
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0]
  }
  return undefined
}

/**
 * The wait an error asks for, in ms: its own finite `retryAfterMs`, else a `Retry-After` header
 * on `error.headers` or `error.response.headers` (a `Headers` object or a plain record).
 */
export function retryAfterOf(error: unknown, nowMs: number = Date.now()): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as { retryAfterMs?: unknown; headers?: unknown; response?: { headers?: unknown } }
  if (typeof e.retryAfterMs === 'number') return e.retryAfterMs >= 0 && !Number.isNaN(e.retryAfterMs) ? e.retryAfterMs : undefined
  const raw = headerValue(e.headers, 'retry-after') ?? headerValue(typeof e.response === 'object' && e.response !== null ? e.response.headers : undefined, 'retry-after')
  return parseRetryAfter(raw, nowMs)
}

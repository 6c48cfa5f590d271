/**
 * Reading how long an upstream asked us to wait (RFC 9110 §10.2.3 `Retry-After`): either
 * delay-seconds (1*DIGIT) or an HTTP-date. Anything else — negative, fractional, empty, garbage —
 * is ignored and the normal backoff applies; a huge value comes back as is (possibly Infinity)
 * so the caller fails fast instead of sleeping. Linear-time: no regular expression backtracks.
 */
import { headerValue } from '../core/headers.js'
import { field } from '../core/own.js'

/** Milliseconds to wait, or undefined when the header is absent or not a valid value. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
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

/**
 * The wait an error asks for, in ms: its own finite `retryAfterMs`, else a `Retry-After` header
 * on `error.headers` or `error.response.headers` (a `Headers` object or a plain record).
 */
export function retryAfterOf(error: unknown, nowMs: number = Date.now()): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  // Fields of the error or its class, never of a polluted Object.prototype (I10).
  const retryAfterMs = field(error, 'retryAfterMs')
  if (typeof retryAfterMs === 'number')
    return retryAfterMs >= 0 && !Number.isNaN(retryAfterMs) ? retryAfterMs : undefined
  const response = field(error, 'response')
  const raw =
    headerValue(field(error, 'headers'), 'retry-after') ??
    headerValue(
      typeof response === 'object' && response !== null ? field(response, 'headers') : undefined,
      'retry-after',
    )
  return parseRetryAfter(raw, nowMs)
}

/** What a combined `RateLimit` header says: the quota left and the seconds until it resets. */
export interface RateLimitHeader {
  readonly remaining: number | undefined
  readonly resetSeconds: number | undefined
}

/**
 * Reads the combined `RateLimit` header of the IETF drafts, in either form:
 * `limit=100, remaining=0, reset=7` (draft 07 and earlier) or the structured-field list
 * `"default";r=0;t=7` (draft 08 on: `r` remaining, `t` seconds to reset; the first item counts).
 * Parameters that are not whole numbers are ignored; so is a header over 512 characters.
 * Linear-time: a single split, no backtracking pattern.
 */
export function parseRateLimitHeader(
  value: string | null | undefined,
): RateLimitHeader | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined
  let remaining: number | undefined
  let resetSeconds: number | undefined
  const structured = value.includes(';')
  // Draft 08 lists one item per policy ("a";r=1;t=2, "b";r=0;t=9): the first is the one enforced here.
  const parts = structured ? (value.split(',')[0] ?? '').split(';') : value.split(',')
  for (const part of parts) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim().toLowerCase()
    const text = part.slice(eq + 1).trim()
    if (text.length === 0 || text.length > 10 || !isDigits(text)) continue
    const n = Number(text)
    if (name === 'remaining' || name === 'r') remaining ??= n
    else if (name === 'reset' || name === 't') resetSeconds ??= n
  }
  return remaining === undefined && resetSeconds === undefined
    ? undefined
    : { remaining, resetSeconds }
}

/**
 * What the upstream says about the rate, read from an error, a response or a headers object:
 * a 429, a `Retry-After`, or `RateLimit` headers saying nothing remains until a reset.
 */
import { headerValue } from '../core/headers.js'
import { field, hasField } from '../core/own.js'
import { statusOf } from './classify.js'
import { parseRateLimitHeader, parseRetryAfter, retryAfterOf } from './retry-after.js'

/** A rejected call's error, a resolved call's value, or whatever was passed to `observe()`. */
export type SourceKind = 'error' | 'value' | 'observed'

export interface UpstreamSignal {
  /** The upstream said 429. */
  readonly throttled: boolean
  /** How long it asked for no calls at all, in ms (0: it named no time). */
  readonly pauseMs: number
  readonly cause: string
}

/**
 * What an error, a response, or a bare headers object says about the rate: a 429, a
 * `Retry-After` (on an error, or on a 429/503 response), or rate-limit headers saying nothing
 * remains until a reset. A resolved value says something only if it has `status` or `headers`
 * (a `Response`); a plain result is never searched. Never throws: an odd shape says nothing.
 */
export function readSignal(source: unknown, kind: SourceKind): UpstreamSignal | undefined {
  try {
    if (typeof source !== 'object' || source === null) return undefined
    const isResponse = kind === 'error' || hasField(source, 'headers') || hasField(source, 'status')
    if (!isResponse && kind === 'value') return undefined
    const isError = kind === 'error'
    const status = isResponse ? statusOf(source) : undefined
    const response = field(source, 'response')
    const headers = !isResponse
      ? source
      : (field(source, 'headers') ??
        (typeof response === 'object' && response !== null
          ? field(response, 'headers')
          : undefined))
    const throttled = status === 429
    let pauseMs = 0
    let cause = throttled ? '429' : ''
    const retryAfter = isError
      ? retryAfterOf(source)
      : status === 429 || status === 503
        ? parseRetryAfter(headerValue(headers, 'retry-after'))
        : undefined
    if (retryAfter !== undefined && retryAfter > 0) {
      pauseMs = retryAfter
      cause ||= 'retry-after'
    } else {
      const reset = exhaustedUntil(headers)
      if (reset !== undefined && reset > 0) {
        pauseMs = reset
        cause ||= 'ratelimit-remaining'
      }
    }
    return throttled || pauseMs > 0 ? { throttled, pauseMs, cause } : undefined
  } catch {
    return undefined
  }
}

/**
 * Ms until the quota resets, when the headers say none remains: `RateLimit-Remaining` and
 * `-Reset`, their `X-` forms, or the drafts' combined `RateLimit` header.
 */
function exhaustedUntil(headers: unknown): number | undefined {
  const combined = parseRateLimitHeader(headerValue(headers, 'ratelimit'))
  if (combined?.remaining !== undefined) {
    return combined.remaining <= 0 && combined.resetSeconds !== undefined
      ? combined.resetSeconds * 1000
      : undefined
  }
  for (const prefix of ['ratelimit-', 'x-ratelimit-']) {
    const remaining = headerValue(headers, `${prefix}remaining`)
    if (remaining === undefined) continue
    const left = Number(remaining.trim())
    if (remaining.trim() === '' || !(left <= 0)) return undefined
    const reset = headerValue(headers, `${prefix}reset`)?.trim()
    if (reset === undefined || reset === '' || !/^\d+(\.\d+)?$/.test(reset)) return undefined
    const n = Number(reset)
    // Delta-seconds per the IETF draft; some APIs (GitHub) send an epoch time in seconds instead.
    return n > 1_000_000_000 ? Math.max(0, n * 1000 - Date.now()) : n * 1000
  }
  return undefined
}

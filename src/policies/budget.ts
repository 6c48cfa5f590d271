/**
 * A retry budget: the token bucket of gRPC's retryThrottling (and the AWS SDK retry quota), one
 * bucket per upstream origin. Each failed attempt worth retrying takes a token from its origin's
 * bucket, each success gives back `tokenRatio`, and a retry is allowed only while that bucket
 * holds more than half its tokens.
 *
 * Why these defaults (100 tokens, a whole token back per success): the budget exists to stop
 * retry storms, not to fail calls a retry would save. With a success worth as much as a failure,
 * the bucket drains only while most attempts fail, so 10 % or 30 % random errors never empty it
 * (at 30 % it gains ~0.57 tokens per call), while a total outage stops retrying after ~50 failed
 * attempts: upstream attempts per call tend to 1 instead of `maxAttempts`. The 50-token margin
 * is also what a quiet service has for a short blip. A failure whose response said when to come
 * back (`Retry-After`) costs `retryAfterCost` (a quarter): the wait is the server's own pacing,
 * yet an outage answered with Retry-After still stops retrying (after ~200 such failures).
 *
 * A drained bucket holds at least `maxTokens` × 0.45 (gRPC's goes down to 0): ~5 successes more
 * than failures reopen it, so retries come back soon after an outage ends instead of after ~50
 * successes, while a mostly-down upstream (60 %+ failing) still gets almost none.
 *
 * No time-based floor (Finagle's minRetriesPerSec): it would make the retries allowed in an
 * outage grow with its duration instead of staying a fixed number.
 *
 * Origins: a failure is charged to the origin its error names (`url`, as fanout/http's errors
 * carry, or `response.url`), so one upstream's outage does not stop the retries to another. A
 * success refunds the origin its value names (a fanout/http response, a fetch `Response`), else
 * the origin this call failed on before, else every bucket (it cannot tell whose it was).
 * Failures that name no origin share one bucket, which every success refunds.
 */
import { checkBoolean, checkKnownKeys, checkNumber, snapshot } from '../core/validate.js'
import { retryAfterOf } from './retry-after.js'

export interface RetryBudgetOptions {
  /** Bucket size, per origin. Default 100: ~50 failed attempts may be retried before retries stop. */
  readonly maxTokens?: number
  /** Tokens a success gives back. Default 1: the bucket drains only while most attempts fail. */
  readonly tokenRatio?: number
  /** Tokens a failure carrying `Retry-After` takes (0–1). Default 0.25: the server paced the retry. */
  readonly retryAfterCost?: number
  /** One bucket per origin named by the errors (`url`). Default true; `false`: one bucket for all. */
  readonly perOrigin?: boolean
  /** Origins tracked at once (least recently charged dropped first). Default 100. */
  readonly maxOrigins?: number
}

export interface RetryBudget {
  /** Records a failed attempt worth retrying; the error picks the bucket and the cost. */
  onFailure(error?: unknown): void
  /** Records a successful attempt; `failure` is this call's previous failed attempt, if any. */
  onSuccess(value?: unknown, failure?: unknown): void
  /** Whether the failure may be retried now. */
  canRetry(error?: unknown): boolean
  /** The fewest tokens any bucket holds, for metrics and tests (`maxTokens` when none is spent). */
  readonly tokens: number
}

const KNOWN = ['maxTokens', 'tokenRatio', 'retryAfterCost', 'perOrigin', 'maxOrigins'] as const

interface Bucket {
  tokens: number
  /** The value of `shared` when `tokens` was last brought up to date. */
  seen: number
}

export function retryBudget(options?: RetryBudgetOptions): RetryBudget {
  const where = 'retryBudget()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, KNOWN)
  const maxTokens =
    opts.maxTokens === undefined
      ? 100
      : checkNumber(where, 'maxTokens', opts.maxTokens, { min: 1, max: 1000 })
  const tokenRatio =
    opts.tokenRatio === undefined
      ? 1
      : checkNumber(where, 'tokenRatio', opts.tokenRatio, { min: 0.001, max: 1 })
  const retryAfterCost =
    opts.retryAfterCost === undefined
      ? 0.25
      : checkNumber(where, 'retryAfterCost', opts.retryAfterCost, { min: 0, max: 1 })
  const perOrigin =
    opts.perOrigin === undefined ? true : checkBoolean(where, 'perOrigin', opts.perOrigin)
  const maxOrigins =
    opts.maxOrigins === undefined
      ? 100
      : checkNumber(where, 'maxOrigins', opts.maxOrigins, { min: 1, max: 10_000, integer: true })
  const threshold = maxTokens / 2
  const floor = threshold - maxTokens / 20

  // Tokens refunded to every bucket at once (successes that name no origin): added to a bucket
  // lazily, when it is next read, so such a success costs O(1) however many origins are tracked.
  let shared = 0
  const unnamed: Bucket = { tokens: maxTokens, seen: 0 }
  /** Buckets of named origins, least recently charged first. A missing bucket is a full one. */
  const named = new Map<string, Bucket>()

  const level = (bucket: Bucket): number => {
    if (bucket.seen !== shared) {
      bucket.tokens = Math.min(maxTokens, bucket.tokens + (shared - bucket.seen))
      bucket.seen = shared
    }
    return bucket.tokens
  }
  const keyOf = (source: unknown): string | undefined => (perOrigin ? originOf(source) : undefined)
  const refund = (bucket: Bucket): void => {
    bucket.tokens = Math.min(maxTokens, level(bucket) + tokenRatio)
  }
  const make = (key: string): Bucket => {
    if (named.size >= maxOrigins) {
      // A full bucket is the same as none: drop those first, else the least recently charged.
      for (const [k, b] of named) if (level(b) >= maxTokens) named.delete(k)
      if (named.size >= maxOrigins) named.delete(named.keys().next().value as string)
    }
    const bucket = { tokens: maxTokens, seen: shared }
    named.set(key, bucket)
    return bucket
  }

  return {
    onFailure(error) {
      const key = keyOf(error)
      const bucket = key === undefined ? unnamed : (named.get(key) ?? make(key))
      if (key !== undefined) {
        // Re-inserted: the map's order is then least recently charged first.
        named.delete(key)
        named.set(key, bucket)
      }
      const cost = retryAfterOf(error) !== undefined ? retryAfterCost : 1
      bucket.tokens = Math.max(floor, level(bucket) - cost)
    },
    onSuccess(value, failure) {
      const key = keyOf(value) ?? (failure !== undefined ? keyOf(failure) : undefined)
      if (key === undefined && perOrigin) {
        shared += tokenRatio
        return
      }
      refund(unnamed)
      const bucket = key === undefined ? undefined : named.get(key)
      if (bucket === undefined) return
      refund(bucket)
      if (bucket.tokens >= maxTokens) named.delete(key!)
    },
    canRetry(error) {
      const key = keyOf(error)
      const bucket = key === undefined ? unnamed : named.get(key)
      return bucket === undefined || level(bucket) > threshold
    },
    get tokens() {
      let least = level(unnamed)
      for (const bucket of named.values()) least = Math.min(least, level(bucket))
      return least
    },
  }
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': ':80', 'https:': ':443' }

/**
 * The origin (`scheme://host:port`, lower-case, no userinfo) of the URL an error or a response
 * names in `url` or `response.url`, or undefined. A string scan: core code has no URL parser of
 * its own to rely on, and only the origin is needed.
 */
export function originOf(source: unknown): string | undefined {
  if (typeof source !== 'object' || source === null) return undefined
  const s = source as { url?: unknown; response?: { url?: unknown } }
  let url = s.url
  if (typeof url !== 'string' && typeof s.response === 'object' && s.response !== null)
    url = s.response.url
  if (
    typeof url === 'object' &&
    url !== null &&
    typeof (url as { href?: unknown }).href === 'string'
  )
    url = (url as { href: string }).href
  if (typeof url !== 'string') return undefined
  const sep = url.indexOf('://')
  if (sep <= 0 || sep > 10) return undefined
  const scheme = url.slice(0, sep + 1).toLowerCase()
  let end = url.length
  for (const c of ['/', '?', '#', '\\']) {
    const i = url.indexOf(c, sep + 3)
    if (i >= 0 && i < end) end = i
  }
  let authority = url.slice(sep + 3, end)
  authority = authority.slice(authority.lastIndexOf('@') + 1).toLowerCase()
  if (authority.length === 0) return undefined
  const port = DEFAULT_PORTS[scheme]
  if (port !== undefined && authority.endsWith(port)) authority = authority.slice(0, -port.length)
  return `${scheme}//${authority}`
}

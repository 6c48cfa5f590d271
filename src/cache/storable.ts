/**
 * Whether a fetched value may be kept by a cache, judged by the HTTP headers it carries (when it
 * is shaped like a response: an object whose `headers` is a `Headers` or a plain record).
 *
 * RFC 9111: `Cache-Control: no-store` is never stored by any cache (§5.2.2.5); `private` is never
 * stored by a shared one (§5.2.2.7). A response that sets a cookie is left out of a shared cache
 * too: the cookie is one user's session, and replaying it to another user hands them that session.
 * A value without headers (parsed JSON, a number…) says nothing, and is storable.
 */
import { headerValue } from '../core/headers.js'
import { field } from '../core/own.js'

export function isStorable(value: unknown, shared: boolean): boolean {
  if (typeof value !== 'object' || value === null) return true
  const headers = field(value, 'headers')
  if (typeof headers !== 'object' || headers === null) return true
  const cacheControl = headerValue(headers, 'cache-control')
  if (cacheControl !== undefined) {
    const directives = cacheControl
      .toLowerCase()
      .split(',')
      .map((d) => d.split('=', 1)[0]!.trim())
    if (directives.includes('no-store')) return false
    if (shared && directives.includes('private')) return false
  }
  return !(shared && headerValue(headers, 'set-cookie') !== undefined)
}

/**
 * Names for what the profiler groups by: a route (`GET /orders/:id`) for incoming requests, and
 * a call (`GET https://api.example.com/users/:id?fields=*`) for outbound ones. Ids, UUIDs,
 * numbers and opaque tokens in a path become `:id`, and a query keeps its keys only: a report
 * names no id, and no value a query may carry (`?api_key=`).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether a path segment is an identifier rather than a word of the route. */
export function isIdSegment(segment: string): boolean {
  if (/^\d[\d_.,:-]*$/.test(segment)) return true // 42, 2024-05-01, 3-1
  if (UUID.test(segment)) return true
  if (/^[0-9a-f]{8,}$/i.test(segment) && /\d/.test(segment)) return true // hex ids, hashes
  if (/\d{3,}/.test(segment)) return true // team-4217, ord_9931, INV2024001 (not v2, oauth2)
  // An opaque token (base62, base64url, ULID): long, and mixes digits with letters.
  return segment.length >= 16 && /\d/.test(segment) && /^[\w~.=-]+$/.test(segment)
}

/** A path with its ids replaced by `:id`; a trailing slash and repeated slashes are dropped. */
export function normalisePath(pathname: string): string {
  const segments = pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      let decoded = s
      try {
        decoded = decodeURIComponent(s)
      } catch {
        // Kept as it came.
      }
      return isIdSegment(decoded) ? ':id' : s
    })
  return `/${segments.join('/')}`
}

/** A query with its values replaced by `*`, keys kept in their order: `?ids=*&fields=*`. */
export function redactQuery(search: string): string {
  const query = search.replace(/^\?/, '')
  if (query === '') return ''
  const keys = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=')
      return eq < 0 ? pair : `${pair.slice(0, eq)}=*`
    })
  return keys.length === 0 ? '' : `?${keys.join('&')}`
}

/** The route of an incoming request: its method and normalised path (the query left out). */
export function routeOf(method: string, url: string): string {
  const path = url.split(/[?#]/)[0] ?? '/'
  return `${method.toUpperCase()} ${normalisePath(path)}`
}

/** How a report names an outbound call's target: origin, normalised path, redacted query. */
export function callTarget(url: URL): string {
  return `${url.origin}${normalisePath(url.pathname)}${redactQuery(url.search)}`
}

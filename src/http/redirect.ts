/**
 * One redirect step, decided by hand (undici is told `redirect: manual`, in effect) so every hop
 * goes back through the SSRF guard, the limiter and the size limits, and so what is forwarded is
 * ours to decide (I4–I6, following got's redirect tests and the fetch spec):
 *
 * - only 301, 302, 303, 307 and 308 with a `Location` are followed (never 300 or 304);
 * - credential headers are dropped as soon as the origin (scheme, host or port) changes, and do
 *   not come back on a later hop to the first origin; credentials in `Location` are dropped;
 * - 303, and 301/302 after a POST, become a GET without a body; a 307/308 keeps method and body,
 *   except across origins, where the body is dropped;
 * - https → http, a scheme other than http(s), a loop or more than `maxRedirects` fail with a
 *   `RedirectError`.
 */
import { RedirectError, urlInMessage } from './errors.js'
import { redactUrl } from './redact.js'

/** One request on the wire. `headers` has lower-case names and a null prototype; it is never mutated once sent. */
export interface Hop {
  readonly url: URL
  readonly method: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | Uint8Array | undefined
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])

/** Headers that describe a request body: they go when the body goes. */
const BODY_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
  'transfer-encoding',
]

export interface RedirectRules {
  readonly maxRedirects: number
  /** Lower-case names stripped on a cross-origin hop (authorization, cookie, proxy-authorization and the configured ones). */
  readonly credentialHeaders: ReadonlySet<string>
}

/** The key a loop is detected by: the same method on the same URL again. */
export function hopKey(hop: Hop): string {
  return `${hop.method} ${hop.url.href}`
}

/**
 * The request to make after `from` answered `status` with `location`. `redirects` is how many
 * were followed before; `visited` holds the `hopKey`s seen so far and receives the new one.
 */
export function nextHop(
  from: Hop,
  status: number,
  location: string,
  redirects: number,
  visited: Set<string>,
  rules: RedirectRules,
): Hop {
  const fail = (
    reason: ConstructorParameters<typeof RedirectError>[0],
    message: string,
    to?: URL,
  ): never => {
    throw new RedirectError(reason, message, {
      method: from.method,
      url: redactUrl(from.url),
      location: to !== undefined ? redactUrl(to) : '',
      redirects,
    })
  }
  // undici refuses CR and LF in header values already; any other control character is refused here.
  if (/[\u0000-\u001f\u007f]/.test(location))
    fail('invalid-location', `responded ${status} with a Location containing control characters`)
  let to: URL
  try {
    to = new URL(location, from.url)
  } catch {
    return fail('invalid-location', `responded ${status} with a Location that is not a URL`)
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') {
    fail('scheme', `redirected to a ${to.protocol} URL; only http: and https: are followed`)
  }
  if (to.port === '0')
    fail(
      'invalid-location',
      `responded ${status} with a Location on port 0, which cannot be dialled`,
      to,
    )
  if (from.url.protocol === 'https:' && to.protocol === 'http:') {
    fail(
      'downgrade',
      `redirected from https to http (${urlInMessage(redactUrl(to))}); downgrades are refused (use redirect: 'manual' to inspect it)`,
      to,
    )
  }
  if (redirects >= rules.maxRedirects) {
    fail('too-many', `more than maxRedirects (${rules.maxRedirects}) redirects`, to)
  }
  // Credentials in Location are never used (got strips them; fetch refuses them).
  if (to.username !== '' || to.password !== '') {
    to.username = ''
    to.password = ''
  }
  to.hash = ''

  let method = from.method
  let body = from.body
  let dropBody = false
  if (status === 303) {
    if (method !== 'HEAD') method = 'GET'
    dropBody = true
  } else if ((status === 301 || status === 302) && method === 'POST') {
    method = 'GET'
    dropBody = true
  }
  const crossOrigin = to.origin !== from.url.origin
  if (crossOrigin) dropBody = true
  if (dropBody) body = undefined

  const headers: Record<string, string> = Object.create(null) as Record<string, string>
  for (const name of Object.keys(from.headers)) {
    if (crossOrigin && (rules.credentialHeaders.has(name) || name === 'host')) continue
    if (dropBody && BODY_HEADERS.includes(name)) continue
    headers[name] = from.headers[name]!
  }
  const hop: Hop = { url: to, method, headers, body }
  const key = hopKey(hop)
  if (visited.has(key))
    fail(
      'loop',
      `redirect loop: ${method} ${urlInMessage(redactUrl(to))} was already requested`,
      to,
    )
  visited.add(key)
  return hop
}

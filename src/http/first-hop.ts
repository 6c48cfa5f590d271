/**
 * A request's first hop from its URL and options: the URL resolved against `baseUrl` with the
 * query added, userinfo turned into basic auth, default credentials kept to their own origin;
 * and the limits its exchanges run under.
 */
import { InvalidOptionError } from '../core/errors.js'
import { show } from '../core/validate.js'
import type { ExchangeLimits } from './exchange.js'
import type { ClientConfig, RequestConfig } from './options.js'
import { MAX_HEADER_SIZE } from './origins.js'
import { CREDENTIAL_HEADERS } from './redact.js'
import type { Hop } from './redirect.js'
import { checkScheme, parseUrl } from './url.js'

export function toUrl(
  config: ClientConfig,
  where: string,
  input: string | URL,
  request: RequestConfig,
): URL {
  let url: URL
  if (typeof input === 'string') url = parseUrl(where, 'url', input, config.base)
  else if (input instanceof URL) {
    checkScheme(where, 'url', input)
    url = new URL(input.href)
  } else
    throw new InvalidOptionError(`${where}: \`url\` must be a string or a URL, got ${show(input)}.`)
  if (request.query !== undefined)
    url.search = url.search.length > 1 ? `${url.search}&${request.query}` : `?${request.query}`
  return url
}

/** The first hop: userinfo in the URL becomes basic auth (unless authorization is set) and leaves the URL. */
export function firstHop(config: ClientConfig, url: URL, request: RequestConfig): Hop {
  let headers = request.headers
  // Default credentials belong to the baseUrl's origin: an absolute URL elsewhere does not get them.
  if (config.base !== undefined && url.origin !== config.base.origin)
    headers = withoutDefaultCredentials(headers, config.headers, config.credentialHeaders)
  if (url.username !== '' || url.password !== '') {
    if (headers.authorization === undefined) {
      const copy: Record<string, string> = Object.assign(
        Object.create(null) as Record<string, string>,
        headers,
      )
      copy.authorization = `Basic ${Buffer.from(`${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`).toString('base64')}`
      headers = copy
    }
    url.username = ''
    url.password = ''
  }
  url.hash = ''
  return { url, method: request.method, headers, body: request.body }
}

/** Userinfo as typed: percent-decoded, or as is when it is not valid percent-encoding. */
function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

export function limitsOf(
  config: ClientConfig,
  defaults: ExchangeLimits,
  request: RequestConfig,
): ExchangeLimits {
  return request.maxResponseSize === config.maxResponseSize &&
    request.headersTimeout === undefined &&
    request.bodyTimeout === undefined &&
    request.connectTimeout === undefined
    ? defaults
    : {
        maxResponseSize: request.maxResponseSize,
        connectTimeout: Math.min(request.connectTimeout ?? Infinity, config.connectTimeout),
        headersTimeout: request.headersTimeout ?? config.headersTimeout,
        bodyTimeout: request.bodyTimeout ?? config.bodyTimeout,
        maxHeaderSize: MAX_HEADER_SIZE,
      }
}

/** `headers` without the credential headers it got from the client's defaults (same name, same value). */
function withoutDefaultCredentials(
  headers: Readonly<Record<string, string>>,
  defaults: Readonly<Record<string, string>>,
  extra: ReadonlySet<string>,
): Readonly<Record<string, string>> {
  let out: Record<string, string> | undefined
  for (const name of Object.keys(defaults)) {
    if (!(CREDENTIAL_HEADERS.includes(name) || extra.has(name)) || headers[name] !== defaults[name])
      continue
    out ??= Object.assign(Object.create(null) as Record<string, string>, headers)
    delete out[name]
  }
  return out ?? headers
}

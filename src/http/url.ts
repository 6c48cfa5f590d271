/**
 * The URLs a caller gives (a request's, `baseUrl`, a proxy's): absolute http(s), nothing a
 * WHATWG parser would silently repair, and a port that can be dialled.
 */
import { InvalidOptionError } from '../core/errors.js'

const CONTROL = /[\u0000-\u001f\u007f]/

/** An absolute http(s) URL; CR, LF and other control characters are refused, not silently dropped as WHATWG URL would (I12, I13). */
export function parseUrl(where: string, name: string, input: string, base: URL | undefined): URL {
  if (CONTROL.test(input))
    throw new InvalidOptionError(
      `${where}: \`${name}\` contains a CR, LF or other control character; it was not requested (header injection).`,
    )
  let url: URL
  try {
    url = new URL(input, base)
  } catch {
    throw new InvalidOptionError(
      base === undefined && !/^[a-z][a-z0-9+.-]*:/i.test(input)
        ? `${where}: \`${name}\` is a relative URL and the client has no \`baseUrl\`.`
        : `${where}: \`${name}\` is not a valid URL.`,
    )
  }
  checkScheme(where, name, url)
  return url
}

export function checkScheme(where: string, name: string, url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionError(
      `${where}: \`${name}\` must be an http: or https: URL, got a ${url.protocol} URL.`,
    )
  }
  // No server listens on port 0: dialling it can only fail, or reach whatever the OS makes of it.
  if (url.port === '0')
    throw new InvalidOptionError(
      `${where}: \`${name}\` has port 0, which cannot be dialled; give the port the server listens on.`,
    )
}

/**
 * Outbound proxies: which proxy a request goes through, by the target's scheme, and which hosts go
 * direct (`noProxy`). Read from the client's `proxy` option, or from the environment
 * (`proxy: 'env'`: `http_proxy`/`HTTP_PROXY`, `https_proxy`/`HTTPS_PROXY`, `no_proxy`/`NO_PROXY`,
 * lower case first, as undici's EnvHttpProxyAgent reads them; https: targets use the http proxy
 * when no https one is set).
 *
 * `noProxy` entries, as curl and undici take them: `*` (nothing is proxied), a host name that
 * matches itself and its subdomains (`example.com`, `.example.com` and `*.example.com` alike), an
 * IP address that matches itself, each with an optional `:port` that must match too.
 */
import { InvalidOptionError } from '../core/errors.js'
import { own } from '../core/own.js'
import { closest, show } from '../core/validate.js'

export interface HttpProxyOptions {
  /** The proxy for http: targets. */
  readonly http?: string | URL
  /** The proxy for https: targets (tunnelled with CONNECT; TLS runs end to end). */
  readonly https?: string | URL
  /** Hosts reached directly: a list, or a comma-separated string like NO_PROXY. */
  readonly noProxy?: string | readonly string[]
}

export interface ProxyConfig {
  readonly http: URL | undefined
  readonly https: URL | undefined
  /** The hosts that go direct (none when empty); `'*'`: every host does. */
  readonly noProxy: readonly NoProxyRule[] | '*'
}

interface NoProxyRule {
  /** Lower case, without a leading `.` or `*.`, IPv6 without brackets. */
  readonly host: string
  readonly port: string | undefined
}

const PROXY_KEYS = ['http', 'https', 'noProxy'] as const

/** `proxy` from the client options; `env` is read only for `proxy: 'env'`. */
export function parseProxyOptions(
  where: string,
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
): ProxyConfig | undefined {
  if (value === undefined || value === false) return undefined
  if (value === 'env') {
    // Own variables only: a polluted Object.prototype.HTTP_PROXY must not route requests through it (I10).
    const pick = (...names: string[]): string | undefined =>
      names
        .map((n) => (Object.hasOwn(env, n) ? env[n] : undefined))
        .find((v) => v !== undefined && v.trim() !== '')
    const http = pick('http_proxy', 'HTTP_PROXY')
    const https = pick('https_proxy', 'HTTPS_PROXY')
    if (http === undefined && https === undefined) return undefined
    const httpUrl = http === undefined ? undefined : proxyUrl(where, 'http_proxy', http)
    return {
      http: httpUrl,
      // As undici's EnvHttpProxyAgent: without an https proxy, https: targets use the http one.
      https: https === undefined ? httpUrl : proxyUrl(where, 'https_proxy', https),
      noProxy: noProxyRules(where, 'no_proxy', pick('no_proxy', 'NO_PROXY') ?? ''),
    }
  }
  if (typeof value === 'string' || value instanceof URL) {
    const url = proxyUrl(where, 'proxy', value)
    return { http: url, https: url, noProxy: [] }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      `${where}: \`proxy\` must be a proxy URL, { http?, https?, noProxy? }, 'env' or false, got ${show(value)}.`,
    )
  }
  const record = own(value as Record<string, unknown>)
  for (const key of Object.keys(record)) {
    if ((PROXY_KEYS as readonly string[]).includes(key)) continue
    const guess = closest(key, PROXY_KEYS)
    throw new InvalidOptionError(
      `${where}: unknown option \`proxy.${key}\`.${guess !== undefined ? ` Did you mean \`proxy.${guess}\`?` : ''} Known options: ${PROXY_KEYS.map((k) => `\`proxy.${k}\``).join(', ')}.`,
    )
  }
  const url = (name: 'http' | 'https'): URL | undefined => {
    const v = record[name]
    if (v === undefined) return undefined
    if (typeof v !== 'string' && !(v instanceof URL))
      throw new InvalidOptionError(
        `${where}: \`proxy.${name}\` must be a proxy URL, got ${show(v)}.`,
      )
    return proxyUrl(where, `proxy.${name}`, v)
  }
  const http = url('http')
  const https = url('https')
  if (http === undefined && https === undefined)
    throw new InvalidOptionError(
      `${where}: \`proxy\` names no proxy: give \`proxy.http\`, \`proxy.https\` or both.`,
    )
  const list = record['noProxy']
  let noProxy: ProxyConfig['noProxy'] = []
  if (typeof list === 'string') noProxy = noProxyRules(where, 'proxy.noProxy', list)
  else if (Array.isArray(list)) {
    if (!list.every((e): e is string => typeof e === 'string'))
      throw new InvalidOptionError(
        `${where}: \`proxy.noProxy\` must hold host names, got ${show(list)}.`,
      )
    noProxy = noProxyRules(where, 'proxy.noProxy', list.join(','))
  } else if (list !== undefined)
    throw new InvalidOptionError(
      `${where}: \`proxy.noProxy\` must be a list of hosts or a comma-separated string, got ${show(list)}.`,
    )
  return { http, https, noProxy }
}

function proxyUrl(where: string, name: string, value: string | URL): URL {
  let url: URL
  try {
    // NO_PROXY-style values often come without a scheme ("proxy.corp:3128"): http is meant.
    url = new URL(
      typeof value === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())
        ? `http://${value.trim()}`
        : value,
    )
  } catch {
    throw new InvalidOptionError(
      `${where}: \`${name}\` is not a URL: ${show(redactUserinfo(String(value)))}.`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionError(
      `${where}: \`${name}\` must be an http: or https: proxy URL, got ${url.protocol} (SOCKS proxies are not supported).`,
    )
  }
  if (url.port === '0')
    throw new InvalidOptionError(
      `${where}: \`${name}\` has port 0, which cannot be dialled; give the port the proxy listens on.`,
    )
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new InvalidOptionError(
      `${where}: \`${name}\` must name only the proxy's scheme, host and port (and credentials), got a path or query.`,
    )
  }
  return url
}

function redactUserinfo(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//***@')
}

function noProxyRules(where: string, name: string, text: string): ProxyConfig['noProxy'] {
  const rules: NoProxyRule[] = []
  for (const raw of text.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return '*'
    let host = entry
    let port: string | undefined
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
    if (bracketed) {
      host = bracketed[1]!
      port = bracketed[2]
    } else if ((entry.match(/:/g) ?? []).length === 1) {
      const at = entry.lastIndexOf(':')
      host = entry.slice(0, at)
      port = entry.slice(at + 1)
      if (!/^\d+$/.test(port))
        throw new InvalidOptionError(
          `${where}: \`${name}\` entry ${show(raw)} has a port that is not a number.`,
        )
    }
    if (host.startsWith('*.')) host = host.slice(2)
    else if (host.startsWith('.')) host = host.slice(1)
    if (host === '') continue
    rules.push({ host, port })
  }
  return rules
}

/** The proxy for `url`, or undefined when it goes direct. */
export function proxyFor(config: ProxyConfig, url: URL): URL | undefined {
  const proxy = url.protocol === 'https:' ? config.https : config.http
  if (proxy === undefined || config.noProxy === '*') return undefined
  const host = (url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname).replace(
    /\.$/,
    '',
  )
  const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80'
  for (const rule of config.noProxy) {
    if (rule.port !== undefined && rule.port !== port) continue
    if (host === rule.host || host.endsWith(`.${rule.host}`)) return undefined
  }
  return proxy
}

/**
 * Reading `createHttpClient()`'s options into a ClientConfig. Only own properties are read (I10),
 * unknown names get a "did you mean", and each option has its own small checker so the defaults
 * and messages are easy to find.
 */
import type { LookupFunction } from 'node:net'
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import { checkClock, checkFunction, checkNumber, show } from '../core/validate.js'
import type { TraceEvent } from '../core/trace.js'
import type { Limiter } from '../policies/limit.js'
import { parseRetry } from './client-retry.js'
import { parseHooks } from './hooks.js'
import { checkPlainObject, mergeHeaders, TOKEN } from './header-check.js'
import { parseUrl } from './url.js'
import { parseCacheOptions } from './cache-options.js'
import { CREDENTIAL_HEADERS } from './redact.js'
import { parseProxyOptions } from './proxy.js'
import { parseSsrfOptions } from './ssrf.js'
import { checkMaxResponseSize, checkTimeouts, checkTls, unknownKey } from './option-checks.js'
import type { ClientConfig, HttpClientOptions } from './option-types.js'

const CLIENT_KEYS = [
  'baseUrl',
  'headers',
  'connections',
  'limit',
  'timeouts',
  'maxResponseSize',
  'maxRedirects',
  'credentialHeaders',
  'ssrf',
  'maxOrigins',
  'lookup',
  'tls',
  'proxy',
  'retry',
  'beforeRequest',
  'onEvent',
  'clock',
  'cache',
] as const
type ClientKey = (typeof CLIENT_KEYS)[number]

export const ACCEPT_ENCODING = 'br, gzip, deflate'

/** The options' own properties by name, in a null-prototype record; an unknown name throws. */
function readClientKeys(
  where: string,
  options: HttpClientOptions | undefined,
): Partial<Record<ClientKey, unknown>> {
  const o = (
    options === undefined ? {} : checkPlainObject(where, 'options', options, 'a plain object')
  ) as Record<string, unknown>
  const got: Partial<Record<ClientKey, unknown>> = Object.create(null) as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!(CLIENT_KEYS as readonly string[]).includes(key)) unknownKey(where, key, CLIENT_KEYS)
    got[key as ClientKey] = o[key]
  }
  return got
}

/** An absolute http(s) URL without query, fragment or credentials; its path gets a trailing slash. */
function parseBaseUrl(where: string, raw: unknown): URL | undefined {
  if (raw === undefined) return undefined
  if (typeof raw !== 'string')
    throw new InvalidOptionError(
      `${where}: \`baseUrl\` must be an absolute http(s) URL string, got ${show(raw)}.`,
    )
  const base = parseUrl(where, 'baseUrl', raw, undefined)
  if (base.search !== '' || base.hash !== '')
    throw new InvalidOptionError(`${where}: \`baseUrl\` must not have a query or fragment.`)
  if (base.username !== '' || base.password !== '') {
    throw new InvalidOptionError(
      `${where}: \`baseUrl\` must not carry credentials; send them in \`headers\` (e.g. authorization).`,
    )
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/'
  return base
}

/** The default headers (with accept-encoding), and the same with `accept: application/json`. */
function parseDefaultHeaders(
  where: string,
  value: unknown,
): { headers: Record<string, string>; jsonHeaders: Record<string, string> } {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>
  headers['accept-encoding'] = ACCEPT_ENCODING
  if (value !== undefined) mergeHeaders(where, 'headers', value, headers)
  const jsonHeaders: Record<string, string> = Object.assign(
    Object.create(null) as Record<string, string>,
    headers,
  )
  jsonHeaders.accept ??= 'application/json'
  return { headers, jsonHeaders }
}

function checkLimiter(where: string, value: unknown): Limiter | undefined {
  if (value === undefined) return undefined
  const l = value as Partial<Limiter> | null
  if (typeof l !== 'object' || l === null || typeof l.run !== 'function') {
    throw new InvalidOptionError(
      `${where}: \`limit\` must be a limiter from limit(), e.g. limit({ concurrency: 32, perKey: 8, key: (ctx) => ctx.task }), got ${show(value)}.`,
    )
  }
  return l as Limiter
}

/** The built-in credential headers plus the caller's, lower-cased. */
function parseCredentialHeaders(where: string, value: unknown): Set<string> {
  const credentialHeaders = new Set(CREDENTIAL_HEADERS)
  if (value === undefined) return credentialHeaders
  if (!Array.isArray(value))
    throw new InvalidOptionError(
      `${where}: \`credentialHeaders\` must be an array of header names, got ${show(value)}.`,
    )
  for (const name of value as unknown[]) {
    if (typeof name !== 'string' || !TOKEN.test(name))
      throw new InvalidOptionError(
        `${where}: \`credentialHeaders\` must hold header names, got ${show(name)}.`,
      )
    credentialHeaders.add(name.toLowerCase())
  }
  return credentialHeaders
}

function parseConnections(where: string, value: unknown): number {
  return value === undefined
    ? 64
    : checkNumber(where, 'connections', value, { min: 1, max: 65_536, integer: true })
}

function parseMaxRedirects(where: string, value: unknown): number {
  return value === undefined
    ? 5
    : checkNumber(where, 'maxRedirects', value, { min: 0, max: 20, integer: true })
}

function parseMaxOrigins(where: string, value: unknown): number {
  return value === undefined
    ? 256
    : checkNumber(where, 'maxOrigins', value, { min: 1, max: 1_000_000, integer: true })
}

/** The phase timeouts with their defaults. */
function parseClientTimeouts(
  where: string,
  value: unknown,
): Pick<ClientConfig, 'connectTimeout' | 'headersTimeout' | 'bodyTimeout'> {
  const timeouts =
    value === undefined
      ? checkTimeouts(where, 'timeouts', {})
      : checkTimeouts(where, 'timeouts', value)
  return {
    connectTimeout: timeouts.connect ?? 10_000,
    headersTimeout: timeouts.headers ?? 30_000,
    bodyTimeout: timeouts.body ?? 30_000,
  }
}

function parseLookup(where: string, value: unknown): LookupFunction | undefined {
  return value === undefined
    ? undefined
    : checkFunction<LookupFunction>(
        where,
        'lookup',
        value,
        '(hostname, options, callback) like node:dns lookup',
      )
}

function parseClock(where: string, value: unknown): Clock {
  if (value !== undefined) checkClock(where, value)
  return (value as Clock | undefined) ?? systemClock
}

function parseOnEvent(where: string, value: unknown): ((event: TraceEvent) => void) | undefined {
  return value === undefined
    ? undefined
    : checkFunction<(event: TraceEvent) => void>(where, 'onEvent', value, '(event) => void')
}

export function parseClientOptions(options: HttpClientOptions | undefined): ClientConfig {
  const where = 'createHttpClient()'
  const got = readClientKeys(where, options)
  const base = parseBaseUrl(where, got.baseUrl)
  const { headers, jsonHeaders } = parseDefaultHeaders(where, got.headers)
  const connections = parseConnections(where, got.connections)
  const limit = checkLimiter(where, got.limit)
  const timeouts = parseClientTimeouts(where, got.timeouts)
  const maxResponseSize =
    got.maxResponseSize === undefined
      ? 10 * 1024 * 1024
      : checkMaxResponseSize(where, got.maxResponseSize)
  const maxRedirects = parseMaxRedirects(where, got.maxRedirects)
  const credentialHeaders = parseCredentialHeaders(where, got.credentialHeaders)
  const ssrf = parseSsrfOptions(where, got.ssrf)
  const maxOrigins = parseMaxOrigins(where, got.maxOrigins)
  const lookup = parseLookup(where, got.lookup)
  const clock = parseClock(where, got.clock)
  const tls = got.tls === undefined ? undefined : checkTls(where, got.tls)
  const proxy = parseProxyOptions(where, got.proxy, process.env)
  const retry = got.retry === undefined ? parseRetry(where, true) : parseRetry(where, got.retry)
  const hooks = got.beforeRequest === undefined ? [] : parseHooks(where, got.beforeRequest)
  const onEvent = parseOnEvent(where, got.onEvent)
  const cache = parseCacheOptions(where, got.cache, maxResponseSize)

  return {
    base,
    headers,
    jsonHeaders,
    connections,
    limit,
    ...timeouts,
    maxResponseSize,
    maxRedirects,
    credentialHeaders,
    ssrf,
    maxOrigins,
    lookup,
    tls,
    proxy,
    retry: retry === false ? undefined : retry,
    hooks,
    onEvent,
    clock,
    cache,
  }
}

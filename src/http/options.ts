/**
 * Reading the client's and each request's options. Only own properties are read (a polluted
 * `Object.prototype` changes nothing, I10), unknown names get a "did you mean", every value is
 * checked with a message that names it, and header names and values are checked before anything
 * is sent (no CR, LF or other control character, I12).
 */
import type { LookupFunction } from 'node:net'
import { constants as bufferConstants } from 'node:buffer'
import type { CallContext, Policy } from '../core/call.js'
import { checkContext, checkSignalOrContext } from '../core/shared-context.js'
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import {
  checkClock,
  checkDuration,
  checkFunction,
  checkNumber,
  closest,
  show,
} from '../core/validate.js'
import type { Recorder, TraceEvent } from '../core/trace.js'
import type { Limiter } from '../policies/limit.js'
import { parseRetry, type HttpRetry, type RetryChoice } from './client-retry.js'
import { parseHooks, type BeforeRequestHook } from './hooks.js'
import { checkPlainObject, mergeHeaders, TOKEN } from './header-check.js'
import { parseUrl } from './url.js'
import { CREDENTIAL_HEADERS } from './redact.js'
import { parseProxyOptions, type HttpProxyOptions, type ProxyConfig } from './proxy.js'
import { parseSsrfOptions, type SsrfGuard, type SsrfOptions } from './ssrf.js'

export interface HttpTimeouts {
  /** ms to establish a connection (TCP and TLS). Default 10,000. */
  readonly connect?: number
  /** ms from sending the request to the end of the response headers. Default 30,000. */
  readonly headers?: number
  /** ms the body may go without data (an inactivity limit: use a deadline for a total). Default 30,000. */
  readonly body?: number
}

export interface HttpClientOptions {
  /** Relative URLs resolve against it (its path is kept: a missing trailing slash is added). */
  readonly baseUrl?: string
  /** Sent with every request (a request's own headers override them by name). */
  readonly headers?: Readonly<Record<string, string>>
  /** Keep-alive connections per origin. Default 64. */
  readonly connections?: number
  /** A fanout `limit()` every request (every redirect hop) runs through, keyed by origin for `perKey`. */
  readonly limit?: Limiter
  readonly timeouts?: HttpTimeouts
  /** Largest body in bytes, counted after decoding. Default 10 MiB; always finite. */
  readonly maxResponseSize?: number
  /** Default 5. */
  readonly maxRedirects?: number
  /** More request headers to strip on a cross-origin redirect, besides authorization, cookie and proxy-authorization. */
  readonly credentialHeaders?: readonly string[]
  /**
   * The SSRF guard (on by default: only public unicast addresses). `allow` opens rules by name
   * (`'loopback'`, `'private'`, `'link-local'`) or CIDRs; `deny` adds CIDRs. `false` turns the
   * guard off — dangerous wherever a URL or a redirect can be influenced by someone else.
   */
  readonly ssrf?: SsrfOptions | false
  /** Origins with a connection pool at once (least recently used ones are closed). Default 256. */
  readonly maxOrigins?: number
  /** The resolver, with node:dns `lookup`'s signature. */
  readonly lookup?: LookupFunction
  /** TLS for https origins: a private CA (`ca`), a client certificate (`cert`, `key`). Certificates are always verified. */
  readonly tls?: HttpTlsOptions
  /**
   * An outbound proxy: a URL (`http://user:pass@proxy.corp:3128`) for every target,
   * `{ http?, https?, noProxy? }`, or `'env'` to read `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`.
   * Requests are tunnelled with CONNECT (TLS stays end to end). Default: none.
   */
  readonly proxy?: string | URL | HttpProxyOptions | 'env' | false
  /**
   * Retries around each attempt, with fanout's `retry()`. Default: 3 attempts for GET, HEAD,
   * OPTIONS, PUT and DELETE, and for any request with an `Idempotency-Key` header or
   * `idempotent: true`; POST and PATCH are sent once. See the table in docs/http.md.
   */
  readonly retry?: HttpRetry
  /** Run before each attempt (not each redirect hop), in order: add headers such as `authorization`. */
  readonly beforeRequest?: BeforeRequestHook | readonly BeforeRequestHook[]
  /** Receives every request's retry events (`attempt.started`, `retry.scheduled`, `retry.budgetExhausted`). */
  readonly onEvent?: (event: TraceEvent) => void
  readonly clock?: Clock
}

/** PEM strings or bytes, as node:tls takes them. */
export type PemInput = string | Uint8Array | readonly (string | Uint8Array)[]

export interface HttpTlsOptions {
  /** Certificate authorities to trust instead of Node's bundled ones (an internal CA). */
  readonly ca?: PemInput
  /** A client certificate, with its `key`, for mutual TLS. */
  readonly cert?: PemInput
  readonly key?: PemInput
}

export type QueryValue =
  string | number | boolean | undefined | readonly (string | number | boolean)[]

export interface HttpRequestOptions {
  /** Default GET. */
  readonly method?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Appended to the URL's query (undefined values are left out, arrays repeat the key). */
  readonly query?: Readonly<Record<string, QueryValue>>
  readonly body?: string | Uint8Array
  /** Serialised as the body, with `content-type: application/json` unless one is given. */
  readonly json?: unknown
  readonly signal?: AbortSignal
  /** ms from now for the whole request: every redirect, the limiter's queue, headers and body. */
  readonly deadline?: number
  /** The same as an absolute time on the client's clock (a flow task passes `ctx.deadlineAt`). */
  readonly deadlineAt?: number
  /** Per-request phase limits. A request's `connect` also bounds waiting for a free connection. */
  readonly timeouts?: HttpTimeouts
  readonly maxResponseSize?: number
  /** Default 'follow'. */
  readonly redirect?: 'follow' | 'error' | 'manual'
  /** This request's retries, overriding the client's `retry`. */
  readonly retry?: HttpRetry
  /** Whether repeating this request is safe, whatever its method (default: by method, or an `Idempotency-Key` header). */
  readonly idempotent?: boolean
  /** Where this request's events go as well, e.g. a flow task's `ctx.trace`. */
  readonly trace?: Recorder
  /**
   * The caller's context (a flow task's `ctx`, what `cached()` or a `Loader` hands its function):
   * its signal cancels the request, its deadline bounds it, its trace hears every attempt, and
   * the client's retries count on from its attempt. Give this or `signal`, not both; a `deadline`
   * given too can only shorten it.
   */
  readonly context?: CallContext
}

export interface ClientConfig {
  readonly base: URL | undefined
  /** Default headers plus accept-encoding; shared, never mutated. */
  readonly headers: Readonly<Record<string, string>>
  /** The same with `accept: application/json`, for `json()`. */
  readonly jsonHeaders: Readonly<Record<string, string>>
  readonly connections: number
  readonly limit: Limiter | undefined
  readonly connectTimeout: number
  readonly headersTimeout: number
  readonly bodyTimeout: number
  readonly maxResponseSize: number
  readonly maxRedirects: number
  readonly credentialHeaders: ReadonlySet<string>
  readonly ssrf: SsrfGuard | undefined
  readonly maxOrigins: number
  readonly lookup: LookupFunction | undefined
  readonly tls: HttpTlsOptions | undefined
  readonly proxy: ProxyConfig | undefined
  /** The default retry policy (one per client, so its budget is shared by its requests); undefined for none. */
  readonly retry: Policy | undefined
  readonly hooks: readonly BeforeRequestHook[]
  readonly onEvent: ((event: TraceEvent) => void) | undefined
  readonly clock: Clock
}

export interface RequestConfig {
  method: string
  headers: Readonly<Record<string, string>>
  body: string | Uint8Array | undefined
  signal: AbortSignal | undefined
  deadlineAt: number
  connectTimeout: number | undefined
  headersTimeout: number | undefined
  bodyTimeout: number | undefined
  maxResponseSize: number
  redirect: 'follow' | 'error' | 'manual'
  query: string | undefined
  retry: RetryChoice
  idempotent: boolean | undefined
  trace: Recorder | undefined
  context: CallContext | undefined
  /** Set by `client.stream()`: a 2xx body is handed out as a stream. */
  stream: boolean
}

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
] as const
const REQUEST_KEYS = [
  'method',
  'headers',
  'query',
  'body',
  'json',
  'signal',
  'deadline',
  'deadlineAt',
  'timeouts',
  'maxResponseSize',
  'redirect',
  'retry',
  'idempotent',
  'trace',
  'context',
] as const
const TIMEOUT_KEYS = ['connect', 'headers', 'body'] as const
const REDIRECT_MODES = ['follow', 'error', 'manual'] as const

export const ACCEPT_ENCODING = 'br, gzip, deflate'
const MAX_TIMER = 2_147_483_647
const MAX_BODY = bufferConstants.MAX_LENGTH

function unknownKey(where: string, key: string, known: readonly string[], prefix = ''): never {
  const guess = closest(key, known)
  throw new InvalidOptionError(
    `${where}: unknown option \`${prefix}${key}\`.` +
      (guess !== undefined ? ` Did you mean \`${prefix}${guess}\`?` : '') +
      ` Known options: ${known.map((k) => `\`${prefix}${k}\``).join(', ')}.`,
  )
}

function checkTimeouts(
  where: string,
  name: string,
  value: unknown,
): { connect?: number; headers?: number; body?: number } {
  const record = checkPlainObject(
    where,
    name,
    value,
    '{ connect?, headers?, body? } in ms',
  ) as Record<string, unknown>
  // Null prototype: an absent limit must read as undefined even when Object.prototype is polluted (I10).
  const out: { connect?: number; headers?: number; body?: number } = Object.create(null) as object
  for (const key of Object.keys(record)) {
    if (!(TIMEOUT_KEYS as readonly string[]).includes(key))
      unknownKey(where, key, TIMEOUT_KEYS, `${name}.`)
    const v = record[key]
    if (v === undefined) continue
    out[key as 'connect'] = checkDuration(where, `${name}.${key}`, v, { max: MAX_TIMER })
  }
  return out
}

function checkMaxResponseSize(where: string, value: unknown): number {
  if (value === Infinity) {
    throw new InvalidOptionError(
      `${where}: \`maxResponseSize\` must be finite: an unbounded body lets one response exhaust memory (B7, B8). Pass a number of bytes, e.g. 100 * 1024 * 1024.`,
    )
  }
  return checkNumber(where, 'maxResponseSize', value, {
    min: 0,
    max: MAX_BODY,
    integer: true,
    unit: 'bytes',
  })
}

export function parseClientOptions(options: HttpClientOptions | undefined): ClientConfig {
  const where = 'createHttpClient()'
  const o = (
    options === undefined ? {} : checkPlainObject(where, 'options', options, 'a plain object')
  ) as Record<string, unknown>
  const got: Partial<Record<(typeof CLIENT_KEYS)[number], unknown>> = Object.create(null) as Record<
    string,
    unknown
  >
  for (const key of Object.keys(o)) {
    if (!(CLIENT_KEYS as readonly string[]).includes(key)) unknownKey(where, key, CLIENT_KEYS)
    got[key as (typeof CLIENT_KEYS)[number]] = o[key]
  }

  let base: URL | undefined
  if (got.baseUrl !== undefined) {
    const raw = got.baseUrl
    if (typeof raw !== 'string')
      throw new InvalidOptionError(
        `${where}: \`baseUrl\` must be an absolute http(s) URL string, got ${show(raw)}.`,
      )
    base = parseUrl(where, 'baseUrl', raw, undefined)
    if (base.search !== '' || base.hash !== '')
      throw new InvalidOptionError(`${where}: \`baseUrl\` must not have a query or fragment.`)
    if (base.username !== '' || base.password !== '') {
      throw new InvalidOptionError(
        `${where}: \`baseUrl\` must not carry credentials; send them in \`headers\` (e.g. authorization).`,
      )
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/'
  }

  const headers: Record<string, string> = Object.create(null) as Record<string, string>
  headers['accept-encoding'] = ACCEPT_ENCODING
  if (got.headers !== undefined) mergeHeaders(where, 'headers', got.headers, headers)
  const jsonHeaders: Record<string, string> = Object.assign(
    Object.create(null) as Record<string, string>,
    headers,
  )
  jsonHeaders.accept ??= 'application/json'

  const connections =
    got.connections === undefined
      ? 64
      : checkNumber(where, 'connections', got.connections, { min: 1, max: 65_536, integer: true })
  let limit: Limiter | undefined
  if (got.limit !== undefined) {
    const l = got.limit as Partial<Limiter> | null
    if (typeof l !== 'object' || l === null || typeof l.run !== 'function') {
      throw new InvalidOptionError(
        `${where}: \`limit\` must be a limiter from limit(), e.g. limit({ concurrency: 32, perKey: 8, key: (ctx) => ctx.task }), got ${show(got.limit)}.`,
      )
    }
    limit = l as Limiter
  }
  const timeouts =
    got.timeouts === undefined
      ? checkTimeouts(where, 'timeouts', {})
      : checkTimeouts(where, 'timeouts', got.timeouts)
  const maxResponseSize =
    got.maxResponseSize === undefined
      ? 10 * 1024 * 1024
      : checkMaxResponseSize(where, got.maxResponseSize)
  const maxRedirects =
    got.maxRedirects === undefined
      ? 5
      : checkNumber(where, 'maxRedirects', got.maxRedirects, { min: 0, max: 20, integer: true })

  const credentialHeaders = new Set(CREDENTIAL_HEADERS)
  if (got.credentialHeaders !== undefined) {
    if (!Array.isArray(got.credentialHeaders))
      throw new InvalidOptionError(
        `${where}: \`credentialHeaders\` must be an array of header names, got ${show(got.credentialHeaders)}.`,
      )
    for (const name of got.credentialHeaders as unknown[]) {
      if (typeof name !== 'string' || !TOKEN.test(name))
        throw new InvalidOptionError(
          `${where}: \`credentialHeaders\` must hold header names, got ${show(name)}.`,
        )
      credentialHeaders.add(name.toLowerCase())
    }
  }
  const ssrf = parseSsrfOptions(where, got.ssrf)
  const maxOrigins =
    got.maxOrigins === undefined
      ? 256
      : checkNumber(where, 'maxOrigins', got.maxOrigins, { min: 1, max: 1_000_000, integer: true })
  const lookup =
    got.lookup === undefined
      ? undefined
      : checkFunction<LookupFunction>(
          where,
          'lookup',
          got.lookup,
          '(hostname, options, callback) like node:dns lookup',
        )
  if (got.clock !== undefined) checkClock(where, got.clock)
  const clock = (got.clock as Clock | undefined) ?? systemClock
  const tls = got.tls === undefined ? undefined : checkTls(where, got.tls)
  const proxy = parseProxyOptions(where, got.proxy, process.env)
  const retry = got.retry === undefined ? parseRetry(where, true) : parseRetry(where, got.retry)
  const hooks = got.beforeRequest === undefined ? [] : parseHooks(where, got.beforeRequest)
  const onEvent =
    got.onEvent === undefined
      ? undefined
      : checkFunction<(event: TraceEvent) => void>(where, 'onEvent', got.onEvent, '(event) => void')

  return {
    base,
    headers,
    jsonHeaders,
    connections,
    limit,
    connectTimeout: timeouts.connect ?? 10_000,
    headersTimeout: timeouts.headers ?? 30_000,
    bodyTimeout: timeouts.body ?? 30_000,
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
  }
}

const TLS_KEYS = ['ca', 'cert', 'key'] as const

/** Own properties only, each PEM text or bytes (or a list of them); no option turns verification off. */
function checkTls(where: string, value: unknown): HttpTlsOptions {
  const record = checkPlainObject(where, 'tls', value, 'an object with ca, cert and key') as Record<
    string,
    unknown
  >
  const out: Record<string, PemInput> = Object.create(null) as Record<string, PemInput>
  for (const key of Object.keys(record)) {
    const v = record[key]
    if (v === undefined) continue
    if (!(TLS_KEYS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(
        `${where}: \`tls.${key}\` is not an option (known: ${TLS_KEYS.join(', ')}). Certificate verification cannot be turned off; trust a private CA with \`tls.ca\` instead.`,
      )
    }
    const pem = (x: unknown): boolean => typeof x === 'string' || x instanceof Uint8Array
    if (!(pem(v) || (Array.isArray(v) && v.length > 0 && v.every(pem))))
      throw new InvalidOptionError(
        `${where}: \`tls.${key}\` must be PEM text or bytes (or a list of them), got ${show(v)}.`,
      )
    out[key] = v as PemInput
  }
  if ((out.cert === undefined) !== (out.key === undefined))
    throw new InvalidOptionError(
      `${where}: \`tls.cert\` and \`tls.key\` go together (a client certificate and its private key).`,
    )
  return out
}

const METHODS: Readonly<Record<string, string>> = Object.assign(
  Object.create(null) as Record<string, string>,
  {
    get: 'GET',
    head: 'HEAD',
    post: 'POST',
    put: 'PUT',
    delete: 'DELETE',
    options: 'OPTIONS',
    patch: 'PATCH',
  },
)
const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK'])

/**
 * The request's options merged over the client's. `jsonMode`: the json() shortcut (accept:
 * application/json). `fixed`: the method a helper such as `post()` sends; a `method` option that
 * says otherwise is refused, as is a body on GET and HEAD.
 */
export function parseRequestOptions(
  where: string,
  options: HttpRequestOptions | undefined,
  config: ClientConfig,
  jsonMode: boolean,
  fixed?: string,
): RequestConfig {
  const defaults = jsonMode ? config.jsonHeaders : config.headers
  const out: RequestConfig = {
    method: fixed ?? 'GET',
    headers: defaults,
    body: undefined,
    signal: undefined,
    deadlineAt: Infinity,
    connectTimeout: undefined,
    headersTimeout: undefined,
    bodyTimeout: undefined,
    maxResponseSize: config.maxResponseSize,
    redirect: 'follow',
    query: undefined,
    retry: undefined,
    idempotent: undefined,
    trace: undefined,
    context: undefined,
    stream: false,
  }
  if (options === undefined) return out
  const o = checkPlainObject(where, 'options', options, 'a plain object') as Record<string, unknown>
  let json: { value: unknown } | undefined
  let deadline: number | undefined
  let own: Record<string, string> | undefined
  for (const key of Object.keys(o)) {
    const value = o[key]
    if (value === undefined) continue
    switch (key) {
      case 'method': {
        if (typeof value !== 'string' || !TOKEN.test(value))
          throw new InvalidOptionError(
            `${where}: \`method\` must be an HTTP method such as 'GET' or 'POST', got ${show(value)}.`,
          )
        const method = METHODS[value.toLowerCase()] ?? value
        if (FORBIDDEN_METHODS.has(method.toUpperCase()))
          throw new InvalidOptionError(`${where}: \`method\` ${show(value)} is not supported.`)
        if (fixed !== undefined && method !== fixed) {
          throw new InvalidOptionError(
            `${where}: sends ${fixed}, but \`method\` is ${show(value)}. Use client.request(url, { method: ${show(value)} }) for another method.`,
          )
        }
        out.method = method
        break
      }
      case 'headers':
        own = Object.assign(Object.create(null) as Record<string, string>, defaults)
        mergeHeaders(where, 'headers', value, own)
        break
      case 'query':
        out.query = encodeQuery(where, value)
        break
      case 'body':
        if (typeof value !== 'string' && !(value instanceof Uint8Array))
          throw new InvalidOptionError(
            `${where}: \`body\` must be a string or a Uint8Array, got ${show(value)}. Use \`json\` for objects.`,
          )
        out.body = value
        break
      case 'json':
        json = { value }
        break
      case 'signal':
        if (typeof value !== 'object' || value === null || !('aborted' in value))
          throw new InvalidOptionError(
            `${where}: \`signal\` must be an AbortSignal, got ${show(value)}.`,
          )
        out.signal = value as AbortSignal
        break
      case 'deadline':
        deadline = checkDuration(where, 'deadline', value, { allowInfinity: true })
        break
      case 'deadlineAt':
        if (typeof value !== 'number' || Number.isNaN(value))
          throw new InvalidOptionError(
            `${where}: \`deadlineAt\` must be a time on the client's clock (a number), got ${show(value)}.`,
          )
        out.deadlineAt = Math.min(out.deadlineAt, value)
        break
      case 'timeouts': {
        const t = checkTimeouts(where, 'timeouts', value)
        if (t.connect !== undefined) out.connectTimeout = t.connect
        if (t.headers !== undefined) out.headersTimeout = t.headers
        if (t.body !== undefined) out.bodyTimeout = t.body
        break
      }
      case 'maxResponseSize':
        out.maxResponseSize = checkMaxResponseSize(where, value)
        break
      case 'redirect':
        if (!(REDIRECT_MODES as readonly unknown[]).includes(value))
          throw new InvalidOptionError(
            `${where}: \`redirect\` must be 'follow', 'error' or 'manual', got ${show(value)}.`,
          )
        out.redirect = value as RequestConfig['redirect']
        break
      case 'retry':
        out.retry = parseRetry(where, value)
        break
      case 'idempotent':
        if (typeof value !== 'boolean')
          throw new InvalidOptionError(
            `${where}: \`idempotent\` must be a boolean, got ${show(value)}.`,
          )
        out.idempotent = value
        break
      case 'trace': {
        const t = value as Partial<Recorder> | null
        if (
          typeof t !== 'object' ||
          t === null ||
          typeof t.emit !== 'function' ||
          typeof t.enabled !== 'boolean'
        ) {
          throw new InvalidOptionError(
            `${where}: \`trace\` must be a Recorder ({ enabled, emit }), such as a flow task's ctx.trace, got ${show(value)}.`,
          )
        }
        out.trace = t as Recorder
        break
      }
      case 'context':
        out.context = checkContext(where, value)
        break
      default:
        unknownKey(where, key, REQUEST_KEYS)
    }
  }
  if ((fixed === 'GET' || fixed === 'HEAD') && (out.body !== undefined || json !== undefined)) {
    throw new InvalidOptionError(
      `${where}: a ${fixed} request has no body; use client.request(url, { method: '${fixed}', body }) if your API really expects one.`,
    )
  }
  if (json !== undefined) {
    if (out.body !== undefined)
      throw new InvalidOptionError(`${where}: pass \`body\` or \`json\`, not both.`)
    let text: string | undefined
    try {
      text = JSON.stringify(json.value)
    } catch (error) {
      throw new InvalidOptionError(
        `${where}: \`json\` could not be serialised: ${error instanceof Error ? error.message : String(error)}.`,
      )
    }
    if (text === undefined)
      throw new InvalidOptionError(
        `${where}: \`json\` must be a JSON value, got ${show(json.value)}.`,
      )
    out.body = text
    if (own === undefined || own['content-type'] === undefined) {
      own ??= Object.assign(Object.create(null) as Record<string, string>, defaults)
      own['content-type'] = 'application/json'
    }
  }
  if (own !== undefined) out.headers = own
  if (out.context !== undefined) withContext(where, out, out.context, config.clock)
  if (deadline !== undefined && deadline !== Infinity)
    out.deadlineAt = Math.min(out.deadlineAt, config.clock.now() + deadline)
  return out
}

/** The context's signal is the request's; its deadline, moved onto the client's clock, bounds it. */
function withContext(where: string, out: RequestConfig, context: CallContext, clock: Clock): void {
  checkSignalOrContext(where, out.signal, context)
  out.signal = context.signal
  let deadlineAt = context.deadlineAt
  if (deadlineAt !== Infinity && context.clock !== clock)
    deadlineAt = clock.now() + (deadlineAt - context.clock.now())
  out.deadlineAt = Math.min(out.deadlineAt, deadlineAt)
}

function encodeQuery(where: string, value: unknown): string | undefined {
  const record = checkPlainObject(
    where,
    'query',
    value,
    'an object of names to strings, numbers, booleans or arrays of them',
  ) as Record<string, unknown>
  const parts: string[] = []
  const one = (key: string, v: unknown): void => {
    if (
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v))
    ) {
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`)
    } else {
      throw new InvalidOptionError(
        `${where}: query parameter ${show(key)} must be a string, a finite number or a boolean (or an array of them), got ${show(v)}.`,
      )
    }
  }
  for (const key of Object.keys(record)) {
    const v = record[key]
    if (v === undefined) continue
    if (Array.isArray(v)) for (const item of v as unknown[]) one(key, item)
    else one(key, v)
  }
  return parts.length === 0 ? undefined : parts.join('&')
}

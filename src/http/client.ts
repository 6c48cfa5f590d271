/**
 * `createHttpClient()`: an HTTP client on undici for the calls an application makes to other
 * services — keep-alive pools per origin, transparent decoding under a hard size limit, deadlines
 * and cancellation at every phase, redirects checked hop by hop, and an SSRF guard on by default.
 *
 * Pools: one undici `Pool` per origin in a map bounded by `maxOrigins`; the least recently used
 * is closed (gracefully: requests on it finish) when a new origin needs room, so attacker-chosen
 * host names cannot grow it (I16). undici's `Agent` is not used: it refuses new origins past its
 * `maxOrigins` instead of evicting, and keeps a pool per origin that still has sockets open.
 *
 * Time: the deadline and the phase limits (connect, headers, body) run on `clock`
 * (`phase-timers.ts`); undici's own timers, coarse and out of any Clock's reach, are off.
 *
 * A request is one or more attempts (`retry`, see client-retry.ts); an attempt runs the
 * `beforeRequest` hooks, then its hops. The deadline and the caller's signal span every attempt,
 * and, for `stream()`, the body until its reader is done with it.
 */
import { isIP, type LookupFunction } from 'node:net'
import type { Dispatcher, Pool, ProxyAgent, buildConnector } from 'undici'
import type { CallContext } from '../core/call.js'
import type { TimerHandle } from '../core/clock.js'
import { withTimeLimit } from '../core/time-limit.js'
import {
  AbortedError,
  InvalidOptionError,
  RateLimitedError,
  RetryBudgetError,
} from '../core/errors.js'
import { onAbort } from '../core/signals.js'
import { show } from '../core/validate.js'
import type { LimitRunOptions } from '../policies/limit.js'
import {
  HttpTimeoutError,
  RedirectError,
  SsrfBlockedError,
  ssrfErrorFor,
  urlInMessage,
} from './errors.js'
import {
  isIdempotentRequest,
  markIdempotent,
  NEVER_ABORTED,
  recorderOf,
  wrapperCache,
} from './client-retry.js'
import { Exchange, type ExchangeLimits, type ExchangeResult } from './exchange.js'
import { runHooks } from './hooks.js'
import { checkScheme, parseUrl } from './url.js'
import {
  parseClientOptions,
  parseRequestOptions,
  type ClientConfig,
  type HttpClientOptions,
  type HttpRequestOptions,
  type RequestConfig,
} from './options.js'
import { CREDENTIAL_HEADERS, redactUrl } from './redact.js'
import { hopKey, nextHop, REDIRECT_STATUSES, type Hop } from './redirect.js'
import { connectOnClock } from './phase-timers.js'
import { proxyFor } from './proxy.js'
import { handlerFor, undici } from './undici.js'
import { UNSET_DISPATCH_OPTIONS, UNSET_SOCKET_OPTIONS } from './unset.js'
import type { SsrfVerdict } from './ssrf.js'
import { StreamResponse, type HttpStreamResponse } from './stream.js'
import type { HttpClient, HttpGetOptions, HttpSendOptions } from './client-types.js'
import { Response, type HttpResponse } from './response.js'

export type { HttpClient, HttpGetOptions, HttpSendOptions, HttpResponse }

/** undici's (and Node's) default; a larger header block fails with ResponseTooLargeError (I15). */
const MAX_HEADER_SIZE = 16 * 1024

type Mode = 'any' | 'ok' | 'json' | 'stream'

/** Userinfo as typed: percent-decoded, or as is when it is not valid percent-encoding. */
function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

interface OriginState {
  /** Undefined when the origin is an IP literal (or a localhost name) the guard refuses, or is proxied. */
  readonly pool: Pool | undefined
  /** The proxy this origin's requests are tunnelled through. */
  readonly proxy: ProxyAgent | undefined
  readonly refused: SsrfVerdict | undefined
}

/** Cancellation of one request across its attempts and hops: the caller's signal and the deadline. */
interface Run {
  current: Exchange | undefined
  failure: unknown
  settled: boolean
}

/** One request, as each of its attempts needs it. */
interface Job {
  readonly where: string
  readonly first: Hop
  readonly request: RequestConfig
  readonly mode: Mode
  readonly run: Run | undefined
  /** A retry policy runs the attempts: request() turns a status ≥ 400 into a failed attempt. */
  readonly retrying: boolean
}

interface AttemptContext extends CallContext {
  readonly job: Job
}

export function createHttpClient(options?: HttpClientOptions): HttpClient {
  const config: ClientConfig = parseClientOptions(options)
  const { clock, limit, ssrf } = config

  const guardedLookup = ssrf !== undefined ? ssrf.lookup(config.lookup) : undefined
  const lookup = guardedLookup ?? config.lookup
  const connector = connectOnClock(
    undici.buildConnector({
      ...UNSET_SOCKET_OPTIONS,
      timeout: 0,
      ...(lookup !== undefined ? { lookup } : {}),
      ...(config.tls as buildConnector.BuildOptions | undefined),
    }),
    clock,
    config.connectTimeout,
  )
  const poolOptions: Pool.Options = {
    connections: config.connections,
    connect: connector,
    // 0: off. The phase limits are ours, on the clock (exchange.ts).
    headersTimeout: 0,
    bodyTimeout: 0,
    maxHeaderSize: MAX_HEADER_SIZE,
    // The body limit is ours (counted after decoding); undici's, on raw bytes, stays off.
    maxResponseSize: -1,
  }
  const defaultLimits: ExchangeLimits = {
    maxResponseSize: config.maxResponseSize,
    connectTimeout: config.connectTimeout,
    headersTimeout: config.headersTimeout,
    bodyTimeout: config.bodyTimeout,
    maxHeaderSize: MAX_HEADER_SIZE,
  }
  const redirectRules = {
    maxRedirects: config.maxRedirects,
    credentialHeaders: config.credentialHeaders,
  }

  /** One agent per proxy, shared by the origins it serves (undici keeps a pool per origin inside it). */
  const proxies = new Map<string, ProxyAgent>()
  const proxyAgent = (proxy: URL): ProxyAgent => {
    let agent = proxies.get(proxy.href)
    if (agent === undefined) {
      const tls = {
        ...UNSET_SOCKET_OPTIONS,
        ...(config.tls as buildConnector.BuildOptions | undefined),
        timeout: config.connectTimeout,
      }
      agent = new undici.ProxyAgent({
        uri: proxy.href,
        connections: config.connections,
        headersTimeout: 0,
        bodyTimeout: 0,
        maxHeaderSize: MAX_HEADER_SIZE,
        maxResponseSize: -1,
        // Tunnel every target, http: too, so the proxy relays bytes and never rewrites a request.
        proxyTunnel: true,
        requestTls: tls,
        proxyTls: tls,
      } as ProxyAgent.Options)
      proxies.set(proxy.href, agent)
    }
    return agent
  }

  const origins = new Map<string, OriginState>()
  let recent: OriginState | undefined
  const closing = new Set<Promise<void>>()
  let closed: Promise<void> | undefined

  const retire = (dispatcher: Pool | ProxyAgent): void => {
    const done: Promise<void> = dispatcher.close().then(
      () => void closing.delete(done),
      () => void closing.delete(done),
    )
    closing.add(done)
  }

  const originOf = (url: URL): OriginState => {
    const key = url.origin
    const known = origins.get(key)
    if (known !== undefined) {
      // Most recently used last, so the first entry is the one to evict.
      if (known !== recent) {
        origins.delete(key)
        origins.set(key, known)
        recent = known
      }
      return known
    }
    const refused = ssrf?.checkHostname(url.hostname)
    const via =
      refused === undefined && config.proxy !== undefined ? proxyFor(config.proxy, url) : undefined
    const state: OriginState = {
      pool:
        refused === undefined && via === undefined ? new undici.Pool(key, poolOptions) : undefined,
      proxy: via === undefined ? undefined : proxyAgent(via),
      refused,
    }
    if (origins.size >= config.maxOrigins) {
      const [oldestKey, oldest] = origins.entries().next().value as [string, OriginState]
      origins.delete(oldestKey)
      if (oldest.pool !== undefined) retire(oldest.pool)
    }
    origins.set(key, state)
    recent = state
    return state
  }

  const toUrl = (where: string, input: string | URL, request: RequestConfig): URL => {
    let url: URL
    if (typeof input === 'string') url = parseUrl(where, 'url', input, config.base)
    else if (input instanceof URL) {
      checkScheme(where, 'url', input)
      url = new URL(input.href)
    } else
      throw new InvalidOptionError(
        `${where}: \`url\` must be a string or a URL, got ${show(input)}.`,
      )
    if (request.query !== undefined)
      url.search = url.search.length > 1 ? `${url.search}&${request.query}` : `?${request.query}`
    return url
  }

  /** The first hop: userinfo in the URL becomes basic auth (unless authorization is set) and leaves the URL. */
  const firstHop = (url: URL, request: RequestConfig): Hop => {
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

  const limitsOf = (request: RequestConfig): ExchangeLimits =>
    request.maxResponseSize === config.maxResponseSize &&
    request.headersTimeout === undefined &&
    request.bodyTimeout === undefined &&
    request.connectTimeout === undefined
      ? defaultLimits
      : {
          maxResponseSize: request.maxResponseSize,
          connectTimeout: Math.min(request.connectTimeout ?? Infinity, config.connectTimeout),
          headersTimeout: request.headersTimeout ?? config.headersTimeout,
          bodyTimeout: request.bodyTimeout ?? config.bodyTimeout,
          maxHeaderSize: MAX_HEADER_SIZE,
        }

  /** One hop on the wire. */
  const send = (
    hop: Hop,
    request: RequestConfig,
    limits: ExchangeLimits,
    run: Run | undefined,
  ): Promise<ExchangeResult> => {
    if (run !== undefined && run.failure !== undefined) return Promise.reject(run.failure)
    if (closed !== undefined)
      return Promise.reject(
        new AbortedError(
          `${hop.method} ${urlInMessage(redactUrl(hop.url))}: the HTTP client is closed`,
        ),
      )
    const origin = originOf(hop.url)
    if (origin.refused !== undefined)
      return Promise.reject(
        new SsrfBlockedError(origin.refused, hop.url.hostname, redactUrl(hop.url)),
      )
    if (origin.proxy !== undefined) return sendProxied(origin.proxy, hop, request, limits, run)
    return dispatchHop(origin.pool!, hop, request, limits, run)
  }

  /** Starts the exchange of one hop on `dispatcher`: the origin's pool, or a proxy's agent. */
  const dispatchHop = (
    dispatcher: Dispatcher,
    hop: Hop,
    request: RequestConfig,
    limits: ExchangeLimits,
    run: Run | undefined,
  ): Promise<ExchangeResult> => {
    const exchange = new Exchange(hop, limits, clock, request.stream)
    if (run !== undefined) run.current = exchange
    if (request.connectTimeout !== undefined) exchange.limitConnect(request.connectTimeout)
    // Every field undici reads is set here, so nothing is inherited from a polluted prototype,
    // and every request has the same shape (a pool ignores `origin`; an agent routes by it).
    const dispatch: Dispatcher.DispatchOptions = {
      ...UNSET_DISPATCH_OPTIONS,
      origin: hop.url.origin,
      path: hop.url.pathname + hop.url.search,
      method: hop.method,
      headers: hop.headers,
      body: hop.body ?? null,
      headersTimeout: 0,
      bodyTimeout: 0,
      upgrade: null,
    }
    dispatcher.dispatch(dispatch, handlerFor(exchange))
    return exchange.promise
  }

  /**
   * A hop through a proxy. The proxy resolves the name and dials, so the guard cannot check the
   * socket's address; it resolves the name itself first and refuses the hop when any answer is
   * refused. A name this host cannot resolve (split-horizon DNS, where only the proxy can) is left
   * to the proxy and its egress rules.
   */
  const sendProxied = async (
    agent: ProxyAgent,
    hop: Hop,
    request: RequestConfig,
    limits: ExchangeLimits,
    run: Run | undefined,
  ): Promise<ExchangeResult> => {
    if (guardedLookup !== undefined && isIP(hop.url.hostname.replace(/^\[|\]$/g, '')) === 0) {
      // A resolver that does not answer fails the hop as a connection that does not complete would.
      const refused = await withTimeLimit(
        clock,
        undefined,
        limits.connectTimeout,
        () =>
          new HttpTimeoutError(
            'connect',
            limits.connectTimeout,
            hop.method,
            redactUrl(hop.url),
            'timeout',
          ),
        () => refusalOf(guardedLookup, hop.url.hostname),
      )
      if (run !== undefined && run.failure !== undefined) throw run.failure
      if (refused !== undefined) throw ssrfErrorFor(refused, redactUrl(hop.url))
    }
    return dispatchHop(agent, hop, request, limits, run)
  }

  /** One hop through the limiter, keyed by the hop's origin (for `perKey`). */
  const sendLimited = (
    hop: Hop,
    request: RequestConfig,
    limits: ExchangeLimits,
    run: Run | undefined,
  ): Promise<ExchangeResult> => {
    if (limit === undefined) return send(hop, request, limits, run)
    const wait: LimitRunOptions = Object.create(null) as LimitRunOptions
    Object.assign(wait, { key: hop.url.origin, clock })
    if (request.signal !== undefined) Object.assign(wait, { signal: request.signal })
    if (request.deadlineAt !== Infinity)
      Object.assign(wait, { deadline: Math.max(1, request.deadlineAt - clock.now()) })
    if (!request.stream) return limit.run(() => send(hop, request, limits, run), wait)
    // A streamed body keeps its slot until it is read to the end (or fails, or is cancelled).
    return new Promise<ExchangeResult>((resolve, reject) => {
      limit
        .run(
          () =>
            send(hop, request, limits, run).then((result) => {
              resolve(result)
              return result.stream?.settled
            }),
          wait,
        )
        .catch(reject)
    })
  }

  const follow = async (
    first: Hop,
    request: RequestConfig,
    mode: Mode,
    run: Run | undefined,
  ): Promise<unknown> => {
    const limits = limitsOf(request)
    let hop = first
    let redirects = 0
    let visited: Set<string> | undefined
    for (;;) {
      const result = await sendLimited(hop, request, limits, run)
      const location = result.headers.location
      if (
        request.redirect !== 'manual' &&
        location !== undefined &&
        REDIRECT_STATUSES.has(result.status)
      ) {
        if (request.redirect === 'error') {
          throw new RedirectError(
            'not-allowed',
            `responded ${result.status} (a redirect) and redirect is 'error'`,
            {
              method: hop.method,
              url: redactUrl(hop.url),
              location: '',
              redirects,
            },
          )
        }
        visited ??= new Set([hopKey(hop)])
        hop = nextHop(hop, result.status, location, redirects, visited, redirectRules)
        redirects++
        continue
      }
      if (result.stream !== undefined)
        return new StreamResponse(result.status, result.headers, hop.url, redirects, result.stream)
      const response = new Response(
        result.status,
        result.headers,
        hop.url,
        redirects,
        result.body,
        hop.method,
      )
      if (mode === 'any') return response
      if (result.status < 200 || result.status > 299)
        throw response.toError(config.credentialHeaders)
      return mode === 'json' ? response.json() : response
    }
  }

  /** Responses request() hands back when its retries give up on their status. */
  const lastResponses = new WeakMap<object, HttpResponse>()

  /** One attempt: the hooks, then the hops. Its error says whether the request may be repeated. */
  const attempt = async (ctx: AttemptContext): Promise<unknown> => {
    const { where, first, request, mode, run, retrying } = ctx.job
    let hop = first
    try {
      if (config.hooks.length > 0) {
        hop = await runHooks(where, config.hooks, first, ctx.attempt)
        if (run !== undefined && run.failure !== undefined) throw run.failure
      }
      const value = await follow(hop, request, mode, run)
      if (retrying && mode === 'any' && (value as Response).status >= 400) {
        const error = (value as Response).toError(config.credentialHeaders)
        lastResponses.set(error, value as Response)
        throw error
      }
      return value
    } catch (error) {
      throw markIdempotent(
        error,
        isIdempotentRequest(first.method, hop.headers, request.idempotent),
        request.signal?.reason,
      )
    }
  }
  const retrying = wrapperCache<AttemptContext>(attempt)

  /**
   * What request() resolves with once its retries gave up on a status: the last response, also
   * when a Retry-After that does not fit or the retry budget is why (the error's cause).
   */
  const lastResponse = (error: unknown): HttpResponse => {
    if (typeof error !== 'object' || error === null) throw error
    const stopped = error instanceof RateLimitedError || error instanceof RetryBudgetError
    const response =
      lastResponses.get(error) ??
      (stopped && typeof error.cause === 'object' && error.cause !== null
        ? lastResponses.get(error.cause)
        : undefined)
    if (response === undefined) throw error
    return response
  }

  /** The request's attempts, through the retry policy when there is one. */
  const attempts = (
    where: string,
    first: Hop,
    request: RequestConfig,
    mode: Mode,
    run: Run | undefined,
  ): Promise<unknown> => {
    const policy =
      request.retry === undefined
        ? config.retry
        : request.retry === false
          ? undefined
          : request.retry
    const job: Job = { where, first, request, mode, run, retrying: policy !== undefined }
    const ctx: AttemptContext = {
      signal: request.signal ?? NEVER_ABORTED,
      deadlineAt: request.deadlineAt,
      attempt: 1,
      // The origin, not the path: paths can carry ids and tokens.
      task: `${first.method} ${first.url.origin}`,
      clock,
      trace: recorderOf(config.onEvent, request.trace),
      job,
    }
    if (policy === undefined) return attempt(ctx)
    const pending = retrying(policy)(ctx)
    return mode === 'any' ? pending.catch(lastResponse) : pending
  }

  /** The deadline error, naming the hop and the phase the request was in. */
  const deadlineError = (first: Hop, run: Run, budget: number): HttpTimeoutError => {
    const hop = run.current?.hop ?? first
    return new HttpTimeoutError(
      run.current?.phase ?? 'connect',
      budget,
      hop.method,
      redactUrl(hop.url),
      'deadline',
    )
  }

  const start = (
    where: string,
    input: string | URL,
    options: HttpRequestOptions | undefined,
    mode: Mode,
    method?: string,
  ): Promise<unknown> => {
    let request: RequestConfig
    let first: Hop
    try {
      request = parseRequestOptions(where, options, config, mode === 'json', method)
      first = firstHop(toUrl(where, input, request), request)
    } catch (error) {
      return Promise.reject(error)
    }
    request.stream = mode === 'stream'
    const { signal, deadlineAt } = request
    if (signal === undefined && deadlineAt === Infinity)
      return attempts(where, first, request, mode, undefined)
    if (signal?.aborted) return Promise.reject(signal.reason)
    const now = clock.now()
    if (deadlineAt <= now)
      return Promise.reject(
        new HttpTimeoutError('connect', 0, first.method, redactUrl(first.url), 'deadline'),
      )

    return new Promise((resolve, reject) => {
      const run: Run = { current: undefined, failure: undefined, settled: false }
      let timer: TimerHandle | undefined
      let unsubscribe: (() => void) | undefined
      const release = (): void => {
        run.settled = true
        if (timer !== undefined) clock.clearTimeout(timer)
        unsubscribe?.()
      }
      const cancel = (error: unknown): void => {
        if (run.settled) return
        run.failure = error
        release()
        run.current?.abort(error)
        reject(error)
      }
      if (deadlineAt !== Infinity) {
        const budget = deadlineAt - now
        timer = clock.setTimeout(() => {
          timer = undefined
          cancel(deadlineError(first, run, budget))
        }, budget)
      }
      if (signal !== undefined) unsubscribe = onAbort(signal, () => cancel(signal.reason))
      attempts(where, first, request, mode, run).then(
        (value) => {
          if (run.settled) return
          if (value instanceof StreamResponse) {
            // The deadline and the signal go on covering the body until its reader is done.
            void StreamResponse.settled(value).then(() => {
              if (!run.settled) release()
            })
          } else release()
          resolve(value)
        },
        (error: unknown) => {
          if (run.settled) return
          release()
          reject(error)
        },
      )
    })
  }

  return {
    request: (url, options) =>
      start('client.request()', url, options, 'any') as Promise<HttpResponse>,
    get: (url, options) =>
      start('client.get()', url, options, 'ok', 'GET') as Promise<HttpResponse>,
    head: (url, options) =>
      start('client.head()', url, options, 'ok', 'HEAD') as Promise<HttpResponse>,
    post: (url, options) =>
      start('client.post()', url, options, 'ok', 'POST') as Promise<HttpResponse>,
    put: (url, options) =>
      start('client.put()', url, options, 'ok', 'PUT') as Promise<HttpResponse>,
    patch: (url, options) =>
      start('client.patch()', url, options, 'ok', 'PATCH') as Promise<HttpResponse>,
    delete: (url, options) =>
      start('client.delete()', url, options, 'ok', 'DELETE') as Promise<HttpResponse>,
    json: <T>(url: string | URL, options?: HttpRequestOptions) =>
      start('client.json()', url, options, 'json') as Promise<T>,
    stream: (url, options) =>
      start('client.stream()', url, options, 'stream') as Promise<HttpStreamResponse>,
    close(): Promise<void> {
      if (closed !== undefined) return closed
      for (const state of origins.values()) if (state.pool !== undefined) retire(state.pool)
      for (const agent of proxies.values()) retire(agent)
      proxies.clear()
      origins.clear()
      recent = undefined
      closed = Promise.all([...closing]).then(() => undefined)
      return closed
    },
  }
}

/** The guard's refusal of some address `hostname` resolves to; undefined when every answer may be dialled or it does not resolve here. */
function refusalOf(
  guarded: LookupFunction,
  hostname: string,
): Promise<SsrfBlockedError | undefined> {
  return new Promise((resolve) =>
    guarded(hostname, { all: true }, (error) =>
      resolve(error instanceof SsrfBlockedError ? error : undefined),
    ),
  )
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

/**
 * `createHttpClient()`: an HTTP client on undici for the calls an application makes to other
 * services — keep-alive pools per origin, transparent decoding under a hard size limit, deadlines
 * and cancellation at every phase, redirects checked hop by hop, and an SSRF guard on by default.
 *
 * Pools: see origins.ts.
 *
 * Time: the deadline and the phase limits (connect, headers, body) run on `clock`
 * (`phase-timers.ts`); undici's own timers, coarse and out of any Clock's reach, are off.
 *
 * A request is one or more attempts (`retry`, see client-retry.ts); an attempt runs the
 * `beforeRequest` hooks, then its hops. The deadline and the caller's signal span every attempt,
 * and, for `stream()`, the body until its reader is done with it (one `withTimeLimit`).
 *
 * Context: a request made with `{ context: ctx }` is part of the caller's call: the context's
 * signal and deadline bound it, its attempts count on from `ctx.attempt` under `ctx.task`, and
 * its events (`request.started`, `request.finished`, the retries') go to `ctx.trace` as well as
 * the client's `onEvent`.
 */
import { isIP, type LookupFunction } from 'node:net'
import { refusalOf } from './ssrf.js'
import type { Dispatcher, ProxyAgent } from 'undici'
import type { Call, CallContext } from '../core/call.js'
import { withTimeLimit } from '../core/time-limit.js'
import { handlerFor } from './undici.js'
import { AbortedError, RateLimitedError, RetryBudgetError } from '../core/errors.js'
import { noopRecorder, teeRecorder } from '../core/trace.js'
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
import { HttpCache } from './http-cache.js'
import { runHooks } from './hooks.js'
import { observeHop, startMessage } from './observe.js'
import { MAX_HEADER_SIZE, Origins } from './origins.js'
import { UNSET_DISPATCH_OPTIONS } from './unset.js'
import { firstHop, limitsOf, toUrl } from './first-hop.js'
import {
  parseClientOptions,
  parseRequestOptions,
  type ClientConfig,
  type HttpClientOptions,
  type HttpRequestOptions,
  type RequestConfig,
} from './options.js'
import { redactUrl } from './redact.js'
import { hopKey, nextHop, REDIRECT_STATUSES, type Hop } from './redirect.js'
import { StreamResponse, type HttpStreamResponse } from './stream.js'
import type { HttpClient, HttpGetOptions, HttpSendOptions } from './client-types.js'
import { Response, type HttpResponse } from './response.js'

export type { HttpClient, HttpGetOptions, HttpSendOptions, HttpResponse }

type Mode = 'any' | 'ok' | 'json' | 'stream'

/** Cancellation of one request across its attempts and hops: the caller's signal and the deadline. */
interface Run {
  current: Exchange | undefined
  failure: unknown
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
  const client = new Client(parseClientOptions(options))
  return {
    request: (url, options) =>
      client.start('client.request()', url, options, 'any') as Promise<HttpResponse>,
    get: (url, options) =>
      client.start('client.get()', url, options, 'ok', 'GET') as Promise<HttpResponse>,
    head: (url, options) =>
      client.start('client.head()', url, options, 'ok', 'HEAD') as Promise<HttpResponse>,
    post: (url, options) =>
      client.start('client.post()', url, options, 'ok', 'POST') as Promise<HttpResponse>,
    put: (url, options) =>
      client.start('client.put()', url, options, 'ok', 'PUT') as Promise<HttpResponse>,
    patch: (url, options) =>
      client.start('client.patch()', url, options, 'ok', 'PATCH') as Promise<HttpResponse>,
    delete: (url, options) =>
      client.start('client.delete()', url, options, 'ok', 'DELETE') as Promise<HttpResponse>,
    json: <T>(url: string | URL, options?: HttpRequestOptions) =>
      client.start('client.json()', url, options, 'json') as Promise<T>,
    stream: (url, options) =>
      client.start('client.stream()', url, options, 'stream') as Promise<HttpStreamResponse>,
    close: () => client.close(),
  }
}

/** The client behind `createHttpClient()`: a request's attempts, hops and limits. */
class Client {
  readonly #config: ClientConfig
  readonly #guardedLookup: LookupFunction | undefined
  readonly #origins: Origins
  readonly #defaultLimits: ExchangeLimits
  readonly #redirectRules: { maxRedirects: number; credentialHeaders: ReadonlySet<string> }
  /** Responses request() hands back when its retries give up on their status. */
  readonly #lastResponses = new WeakMap<object, HttpResponse>()
  readonly #cache: HttpCache | undefined
  readonly #retrying: (
    policy: Parameters<ReturnType<typeof wrapperCache>>[0],
  ) => Call<unknown, AttemptContext>

  constructor(config: ClientConfig) {
    this.#config = config
    const ssrf = config.ssrf
    this.#guardedLookup = ssrf !== undefined ? ssrf.lookup(config.lookup) : undefined
    this.#origins = new Origins(config, this.#guardedLookup ?? config.lookup)
    this.#defaultLimits = {
      maxResponseSize: config.maxResponseSize,
      connectTimeout: config.connectTimeout,
      headersTimeout: config.headersTimeout,
      bodyTimeout: config.bodyTimeout,
      maxHeaderSize: MAX_HEADER_SIZE,
    }
    this.#redirectRules = {
      maxRedirects: config.maxRedirects,
      credentialHeaders: config.credentialHeaders,
    }
    this.#retrying = wrapperCache<AttemptContext>((ctx) => this.#attempt(ctx))
    this.#cache = config.cache === undefined ? undefined : new HttpCache(config.cache, config.clock)
  }

  start(
    where: string,
    input: string | URL,
    options: HttpRequestOptions | undefined,
    mode: Mode,
    method?: string,
  ): Promise<unknown> {
    const config = this.#config
    let request: RequestConfig
    let first: Hop
    try {
      request = parseRequestOptions(where, options, config, mode === 'json', method)
      first = firstHop(config, toUrl(config, where, input, request), request)
    } catch (error) {
      return Promise.reject(error)
    }
    request.stream = mode === 'stream'
    const { signal, deadlineAt } = request
    if (signal === undefined && deadlineAt === Infinity)
      return this.#attempts(where, first, request, mode, undefined)
    if (signal?.aborted) return Promise.reject(signal.reason)
    const clock = config.clock
    const now = clock.now()
    if (deadlineAt <= now)
      return Promise.reject(
        new HttpTimeoutError('connect', 0, first.method, redactUrl(first.url), 'deadline'),
      )
    const run: Run = { current: undefined, failure: undefined }
    const budget = deadlineAt - now
    return withTimeLimit(
      clock,
      signal,
      budget,
      () => deadlineError(first, run, budget),
      () => this.#attempts(where, first, request, mode, run),
      {
        cancelled: (error) => {
          run.failure = error
          run.current?.abort(error)
        },
        // The deadline and the signal go on covering a streamed body until its reader is done.
        holdUntil: (value) =>
          value instanceof StreamResponse ? StreamResponse.settled(value) : undefined,
      },
    )
  }

  /** The request's attempts, through the retry policy when there is one. */
  #attempts(
    where: string,
    first: Hop,
    request: RequestConfig,
    mode: Mode,
    run: Run | undefined,
  ): Promise<unknown> {
    const config = this.#config
    const policy =
      request.retry === undefined
        ? config.retry
        : request.retry === false
          ? undefined
          : request.retry
    const job: Job = { where, first, request, mode, run, retrying: policy !== undefined }
    const context = request.context
    const trace =
      context === undefined
        ? request.trace
        : teeRecorder(context.trace, request.trace ?? noopRecorder)
    const ctx: AttemptContext = {
      signal: request.signal ?? NEVER_ABORTED,
      deadlineAt: request.deadlineAt,
      attempt: context?.attempt ?? 1,
      // Without a caller's task: the origin, not the path (paths can carry ids and tokens).
      task: context?.task ?? `${first.method} ${first.url.origin}`,
      clock: config.clock,
      trace: recorderOf(config.onEvent, trace),
      job,
    }
    if (policy === undefined) return this.#attempt(ctx)
    const pending = this.#retrying(policy)(ctx)
    return mode === 'any' ? pending.catch((error: unknown) => this.#lastResponse(error)) : pending
  }

  /** One attempt: the hooks, then the hops. Its error says whether the request may be repeated. */
  async #attempt(ctx: AttemptContext): Promise<unknown> {
    const config = this.#config
    const { where, first, request, mode, run, retrying } = ctx.job
    let hop = first
    try {
      if (config.hooks.length > 0) {
        hop = await runHooks(where, config.hooks, first, ctx.attempt)
        if (run !== undefined && run.failure !== undefined) throw run.failure
      }
      const value = await this.#follow(ctx, hop)
      if (retrying && mode === 'any' && (value as Response).status >= 400) {
        const error = (value as Response).toError(config.credentialHeaders)
        this.#lastResponses.set(error, value as Response)
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

  /**
   * What request() resolves with once its retries gave up on a status: the last response, also
   * when a Retry-After that does not fit or the retry budget is why (the error's cause).
   */
  #lastResponse(error: unknown): HttpResponse {
    if (typeof error !== 'object' || error === null) throw error
    const stopped = error instanceof RateLimitedError || error instanceof RetryBudgetError
    const response =
      this.#lastResponses.get(error) ??
      (stopped && typeof error.cause === 'object' && error.cause !== null
        ? this.#lastResponses.get(error.cause)
        : undefined)
    if (response === undefined) throw error
    return response
  }

  /** The attempt's hops: the first, then each redirect it follows. */
  async #follow(ctx: AttemptContext, first: Hop): Promise<unknown> {
    const { request, mode } = ctx.job
    const limits = limitsOf(this.#config, this.#defaultLimits, request)
    let hop = first
    let redirects = 0
    let visited: Set<string> | undefined
    for (;;) {
      const result = await this.#sendCached(ctx, hop, limits, redirects)
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
            { method: hop.method, url: redactUrl(hop.url), location: '', redirects },
          )
        }
        visited ??= new Set([hopKey(hop)])
        hop = nextHop(hop, result.status, location, redirects, visited, this.#redirectRules)
        redirects++
        continue
      }
      return this.#answer(result, hop, redirects, mode)
    }
  }

  /** The final hop's result as what the method resolves with (or the error a status is). */
  #answer(result: ExchangeResult, hop: Hop, redirects: number, mode: Mode): unknown {
    if (result.stream !== undefined)
      return new StreamResponse(result.status, result.headers, hop.url, redirects, result.stream)
    const response = new Response(
      result.status,
      result.headers,
      hop.url,
      redirects,
      result.body,
      hop.method,
      result.cache,
    )
    if (mode === 'any') return response
    if (result.status < 200 || result.status > 299)
      throw response.toError(this.#config.credentialHeaders)
    return mode === 'json' ? response.json() : response
  }

  /** One hop through the cache, if any. A background revalidation is detached from the caller (see docs/http.md). */
  #sendCached(
    ctx: AttemptContext,
    hop: Hop,
    limits: ExchangeLimits,
    redirects: number,
  ): Promise<ExchangeResult> {
    const cache = this.#cache
    if (cache === undefined) return this.#sendLimited(ctx, hop, limits, redirects)
    const request = ctx.job.request
    const detached: AttemptContext = {
      ...ctx,
      signal: NEVER_ABORTED,
      deadlineAt: Infinity,
      trace: recorderOf(this.#config.onEvent, undefined),
      job: {
        ...ctx.job,
        run: undefined,
        request: { ...request, signal: undefined, deadlineAt: Infinity, stream: false },
      },
    }
    return cache.exchange({
      hop,
      task: ctx.task,
      trace: ctx.trace,
      stream: request.stream,
      send: (h) => this.#sendLimited(ctx, h, limits, redirects),
      background: (h) => this.#sendLimited(detached, h, limits, redirects),
    })
  }

  /** One hop through the limiter, keyed by the hop's origin (for `perKey`). */
  #sendLimited(
    ctx: AttemptContext,
    hop: Hop,
    limits: ExchangeLimits,
    redirects: number,
  ): Promise<ExchangeResult> {
    const { limit, clock } = this.#config
    const request = ctx.job.request
    if (limit === undefined) return this.#send(ctx, hop, limits, redirects)
    const wait: LimitRunOptions = Object.create(null) as LimitRunOptions
    Object.assign(wait, { key: hop.url.origin, clock })
    if (request.signal !== undefined) Object.assign(wait, { signal: request.signal })
    if (request.deadlineAt !== Infinity)
      Object.assign(wait, { deadline: Math.max(1, request.deadlineAt - clock.now()) })
    if (!request.stream) return limit.run(() => this.#send(ctx, hop, limits, redirects), wait)
    // A streamed body keeps its slot until it is read to the end (or fails, or is cancelled).
    return new Promise<ExchangeResult>((resolve, reject) => {
      limit
        .run(
          () =>
            this.#send(ctx, hop, limits, redirects).then((result) => {
              resolve(result)
              return result.stream?.settled
            }),
          wait,
        )
        .catch(reject)
    })
  }

  /** One hop on the wire. */
  #send(
    ctx: AttemptContext,
    hop: Hop,
    limits: ExchangeLimits,
    redirects: number,
  ): Promise<ExchangeResult> {
    const run = ctx.job.run
    if (run !== undefined && run.failure !== undefined) return Promise.reject(run.failure)
    if (this.#origins.closed !== undefined)
      return Promise.reject(
        new AbortedError(
          `${hop.method} ${urlInMessage(redactUrl(hop.url))}: the HTTP client is closed`,
        ),
      )
    const origin = this.#origins.of(hop.url)
    if (origin.refused !== undefined)
      return Promise.reject(
        new SsrfBlockedError(origin.refused, hop.url.hostname, redactUrl(hop.url)),
      )
    if (origin.proxy !== undefined)
      return this.#sendProxied(origin.proxy, ctx, hop, limits, redirects)
    return this.#dispatchHop(origin.pool!, ctx, hop, limits, redirects)
  }

  /**
   * A hop through a proxy. The proxy resolves the name and dials, so the guard cannot check the
   * socket's address; it resolves the name itself first and refuses the hop when any answer is
   * refused. A name this host cannot resolve (split-horizon DNS, where only the proxy can) is left
   * to the proxy and its egress rules.
   */
  async #sendProxied(
    agent: ProxyAgent,
    ctx: AttemptContext,
    hop: Hop,
    limits: ExchangeLimits,
    redirects: number,
  ): Promise<ExchangeResult> {
    const guarded = this.#guardedLookup
    if (guarded !== undefined && isIP(hop.url.hostname.replace(/^\[|\]$/g, '')) === 0) {
      // A resolver that does not answer fails the hop as a connection that does not complete would.
      const refused = await withTimeLimit(
        this.#config.clock,
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
        () => refusalOf(guarded, hop.url.hostname),
      )
      const run = ctx.job.run
      if (run !== undefined && run.failure !== undefined) throw run.failure
      if (refused !== undefined) throw ssrfErrorFor(refused, redactUrl(hop.url))
    }
    return this.#dispatchHop(agent, ctx, hop, limits, redirects)
  }

  /** Starts the exchange of one hop on `dispatcher`: the origin's pool, or a proxy's agent. */
  #dispatchHop(
    dispatcher: Dispatcher,
    ctx: AttemptContext,
    hop: Hop,
    limits: ExchangeLimits,
    redirects: number,
  ): Promise<ExchangeResult> {
    const { request, run } = ctx.job
    const clock = this.#config.clock
    const exchange = new Exchange(hop, limits, clock, request.stream)
    if (run !== undefined) run.current = exchange
    if (request.connectTimeout !== undefined) exchange.limitConnect(request.connectTimeout)
    const trace = ctx.trace
    const message = startMessage(hop, ctx.task, ctx.attempt, redirects)
    if (trace.enabled || message !== undefined) {
      const cancelled = (error: unknown): boolean => run !== undefined && error === run.failure
      observeHop(exchange, { ...ctx, redirects, clock, cancelled, message })
    }
    // Every field undici reads is set here, so nothing is inherited from a polluted prototype,
    // and every request has the same shape (a pool ignores `origin`; an agent routes by it).
    const dispatch: Dispatcher.DispatchOptions = {
      ...UNSET_DISPATCH_OPTIONS,
      origin: hop.url.origin,
      path: hop.url.pathname + hop.url.search,
      method: hop.method,
      headers: message === undefined ? hop.headers : message.headers,
      body: hop.body ?? null,
      headersTimeout: 0,
      bodyTimeout: 0,
      upgrade: null,
    }
    dispatcher.dispatch(dispatch, handlerFor(exchange))
    return exchange.promise
  }

  close(): Promise<void> {
    return this.#origins.close()
  }
}

/** The deadline error, naming the hop and the phase the request was in. */
function deadlineError(first: Hop, run: Run, budget: number): HttpTimeoutError {
  const hop = run.current?.hop ?? first
  return new HttpTimeoutError(
    run.current?.phase ?? 'connect',
    budget,
    hop.method,
    redactUrl(hop.url),
    'deadline',
  )
}

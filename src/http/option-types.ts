/**
 * The shapes of the client's and each request's options, and of the configs they are parsed
 * into. Kept apart from the parsers so both parsers (and the client) share one definition.
 */
import type { LookupFunction } from 'node:net'
import type { CallContext, Policy } from '../core/call.js'
import type { Clock } from '../core/clock.js'
import type { Recorder, TraceEvent } from '../core/trace.js'
import type { Limiter } from '../policies/limit.js'
import type { HttpRetry, RetryChoice } from './client-retry.js'
import type { HttpCacheConfig, HttpCacheOptions } from './cache-types.js'
import type { BeforeRequestHook } from './hooks.js'
import type { HttpProxyOptions, ProxyConfig } from './proxy.js'
import type { SsrfGuard, SsrfOptions } from './ssrf.js'

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
  /**
   * An HTTP cache (RFC 9111) for GET responses, in any `CacheStore`; shared (many users' requests)
   * by default. See "Caching" in docs/http.md. Default: none.
   */
  readonly cache?: HttpCacheOptions | false
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
  readonly cache: HttpCacheConfig | undefined
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

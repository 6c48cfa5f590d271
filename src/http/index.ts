/// <reference types="node" />
/** `fanout/http`: an HTTP client on undici (an optional peer dependency). */
export {
  createHttpClient,
  type HttpClient,
  type HttpResponse,
  type HttpGetOptions,
  type HttpSendOptions,
} from './client.js'
export type {
  HttpClientOptions,
  HttpRequestOptions,
  HttpTimeouts,
  HttpTlsOptions,
  PemInput,
  QueryValue,
} from './options.js'
export type { HttpRetry } from './client-retry.js'
export type { HttpCacheOptions } from './cache-types.js'
export type { HttpCacheStatus } from './cache-status.js'
export type { BeforeRequestHook, HttpRequestInfo } from './hooks.js'
export type { HttpStreamResponse } from './stream.js'
export type { SsrfOptions } from './ssrf.js'
export type { HttpProxyOptions } from './proxy.js'
export {
  HttpError,
  HttpTimeoutError,
  InvalidJsonError,
  NetworkError,
  ProtocolError,
  RedirectError,
  ResponseTooLargeError,
  SsrfBlockedError,
  type HttpErrorCode,
  type HttpPhase,
  type RedirectFailure,
} from './errors.js'

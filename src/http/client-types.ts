/** The public shape of the client `createHttpClient()` returns. */
import type { HttpRequestOptions } from './options.js'
import type { HttpResponse } from './response.js'
import type { HttpStreamResponse } from './stream.js'

/** Options of `get()` and `head()`: no method (it is the helper's), no body. */
export type HttpGetOptions = Omit<HttpRequestOptions, 'method' | 'body' | 'json'>
/** Options of `post()`, `put()`, `patch()` and `delete()`: the method is the helper's. */
export type HttpSendOptions = Omit<HttpRequestOptions, 'method'>

export interface HttpClient {
  /**
   * Any status resolves (after retries, the last response); network failures, timeouts, size
   * and SSRF refusals reject.
   */
  request(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>
  /** A GET; a status outside 2xx rejects with `HttpError`. */
  get(url: string | URL, options?: HttpGetOptions): Promise<HttpResponse>
  /** A HEAD; a status outside 2xx rejects with `HttpError`. */
  head(url: string | URL, options?: HttpGetOptions): Promise<HttpResponse>
  /** A POST (`json` or `body`); a status outside 2xx rejects with `HttpError`. Not retried unless idempotent (see `retry`). */
  post(url: string | URL, options?: HttpSendOptions): Promise<HttpResponse>
  /** A PUT; a status outside 2xx rejects with `HttpError`. */
  put(url: string | URL, options?: HttpSendOptions): Promise<HttpResponse>
  /** A PATCH; a status outside 2xx rejects with `HttpError`. Not retried unless idempotent (see `retry`). */
  patch(url: string | URL, options?: HttpSendOptions): Promise<HttpResponse>
  /** A DELETE; a status outside 2xx rejects with `HttpError`. */
  delete(url: string | URL, options?: HttpSendOptions): Promise<HttpResponse>
  /** `accept: application/json`; a status outside 2xx rejects with `HttpError`, a body that is not JSON with `InvalidJsonError`. */
  json<T = unknown>(url: string | URL, options?: HttpRequestOptions): Promise<T>
  /**
   * Resolves at the response headers with the body as a stream (any method). A status outside
   * 2xx rejects with `HttpError` (its body read, within the size limit). Retries happen only
   * before the stream is handed out; the size limit, body timeout, deadline and signal apply
   * while it is read.
   */
  stream(url: string | URL, options?: HttpRequestOptions): Promise<HttpStreamResponse>
  /** Closes every pool once its requests are done; later requests reject with `AbortedError`. Idempotent. */
  close(): Promise<void>
}

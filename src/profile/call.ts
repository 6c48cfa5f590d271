/**
 * One outbound call as the profiler records it: when it started and ended, how it ended, where in
 * the code it was made, and the tokens (hashes of values, see tokens.ts) its request sent and its
 * response returned. Bodies are read as they stream by, up to a limit, and dropped once their
 * tokens are taken; the raw URL is not kept, only its display name with the query redacted.
 */
import { callTarget } from './normalise.js'
import {
  addBodyTokens,
  addRequestHeaderTokens,
  addResponseHeaderTokens,
  addUrlTokens,
  BodyCapture,
  hashToken,
} from './tokens.js'

export type HeaderPairs = readonly (readonly [string, string])[]

export interface CallStart {
  readonly method: string
  readonly url: URL
  readonly headers: HeaderPairs
}

const headerValue = (headers: HeaderPairs, name: string): string =>
  headers.find(([k]) => k.toLowerCase() === name)?.[1] ?? ''

export class OutboundCall {
  readonly method: string
  readonly origin: string
  /** The path without the query (what `gate` sees). */
  readonly path: string
  /** Origin, normalised path and redacted query: how reports name the call. */
  readonly target: string
  readonly startedAt: number
  endedAt: number | undefined
  status: number | undefined
  failed = false
  gate = false
  location: string | undefined
  readonly requestTokens = new Set<number>()
  readonly responseTokens = new Set<number>()
  /** The same method, URL and body as another call: a retry or a poll, never a chain's next step. */
  #identity: number
  #base: string
  #requestType: string
  #requestEncoding: string
  #requestBody: BodyCapture | undefined
  #requestSettled = false
  #responseType = ''
  #responseEncoding = ''
  #responseBody: BodyCapture | undefined

  constructor(start: CallStart, at: number, maxBodyBytes: number) {
    this.method = start.method.toUpperCase()
    this.origin = start.url.origin
    this.path = start.url.pathname
    this.target = callTarget(start.url)
    this.startedAt = at
    this.#base = start.url.href
    this.#identity = hashToken(`${this.method} ${start.url.href}`)
    addUrlTokens(this.requestTokens, start.url)
    addRequestHeaderTokens(this.requestTokens, start.headers)
    this.#requestType = headerValue(start.headers, 'content-type')
    this.#requestEncoding = headerValue(start.headers, 'content-encoding')
    if (maxBodyBytes > 0) {
      this.#requestBody = new BodyCapture(maxBodyBytes)
      this.#responseBody = new BodyCapture(maxBodyBytes)
    }
  }

  get ended(): boolean {
    return this.endedAt !== undefined
  }

  /** Retries and polls repeat the method, the URL and the body. */
  get identity(): number {
    return this.#identity
  }

  get durationMs(): number {
    return this.endedAt === undefined ? 0 : this.endedAt - this.startedAt
  }

  /** A chunk of the request body, as it is sent. */
  sent(chunk: unknown): void {
    if (!this.#requestSettled) this.#requestBody?.add(chunk)
  }

  /** The response's status and headers. */
  responded(status: number, headers: HeaderPairs): void {
    if (this.ended) return
    this.#settleRequest()
    this.status = status
    this.#responseType = headerValue(headers, 'content-type')
    this.#responseEncoding = headerValue(headers, 'content-encoding')
    addResponseHeaderTokens(this.responseTokens, headers, this.#base)
  }

  /** A chunk of the response body, as it arrives. */
  received(chunk: unknown): void {
    if (!this.ended) this.#responseBody?.add(chunk)
  }

  /** The call is over: its body read to the end, or failed. Later events are ignored. */
  end(at: number, failed: boolean): void {
    if (this.ended) return
    this.#settleRequest()
    this.endedAt = at
    this.failed = failed
    const body = this.#responseBody
    this.#responseBody = undefined
    if (body !== undefined && !failed)
      addBodyTokens(this.responseTokens, body.text(this.#responseEncoding), this.#responseType)
  }

  #settleRequest(): void {
    if (this.#requestSettled) return
    this.#requestSettled = true
    const body = this.#requestBody
    this.#requestBody = undefined
    if (body === undefined) return
    const text = body.text(this.#requestEncoding)
    if (text === '') return
    addBodyTokens(this.requestTokens, text, this.#requestType)
    this.#identity = hashToken(`${this.#identity} ${text}`)
  }
}

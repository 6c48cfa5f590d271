/**
 * One request and its response on an undici dispatcher, as a dispatch handler: no response
 * stream, no per-chunk promise. The body is counted as it arrives — raw bytes, and decoded bytes
 * when there is a content coding — and the request is aborted (its socket destroyed) the moment
 * either passes the limit. Chunks are kept as they come and concatenated once at the end.
 *
 * Phases: `connect` until undici hands the request to a connected socket, `headers` until the
 * response headers arrive, `body` after. A failure from outside (the caller's signal, the
 * deadline, a request's own connect limit) goes through `abort()` at any phase.
 */
import type { Dispatcher } from 'undici'
import type { Clock, TimerHandle } from '../core/clock.js'
import { hasField } from '../core/own.js'
import { codingOf, Decoder, type DecodeSink } from './decode.js'
import { HttpTimeoutError, ResponseTooLargeError, SsrfBlockedError, ssrfErrorFor, type HttpPhase } from './errors.js'
import { redactUrl } from './redact.js'
import type { Hop } from './redirect.js'

export interface ExchangeResult {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
}

/** The limits one exchange runs under (ms for the timeouts, as undici applies them). */
export interface ExchangeLimits {
  readonly maxResponseSize: number
  readonly connectTimeout: number
  readonly headersTimeout: number
  readonly bodyTimeout: number
  readonly maxHeaderSize: number
}

const EMPTY = Buffer.alloc(0)

type RawHeaders = Record<string, string | string[] | undefined>

export class Exchange implements Dispatcher.DispatchHandler, DecodeSink {
  phase: HttpPhase = 'connect'
  readonly promise: Promise<ExchangeResult>
  private resolve!: (result: ExchangeResult) => void
  private reject!: (error: unknown) => void
  private controller: Dispatcher.DispatchController | undefined = undefined
  private done = false
  private failure: Error | undefined = undefined
  private status = 0
  private headers: Record<string, string> | undefined = undefined
  private chunks: Buffer[] = []
  private size = 0
  private raw = 0
  private decoder: Decoder | undefined = undefined
  private timer: TimerHandle | undefined = undefined
  private clock: Clock | undefined = undefined

  constructor(
    readonly hop: Hop,
    readonly limits: ExchangeLimits,
  ) {
    this.promise = new Promise<ExchangeResult>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
  }

  /** Fails the exchange if it has no connection within `ms` (a request's own `timeouts.connect`, which also covers waiting for a free connection). */
  limitConnect(clock: Clock, ms: number): void {
    this.clock = clock
    this.timer = clock.setTimeout(() => {
      this.timer = undefined
      this.abort(new HttpTimeoutError('connect', ms, this.hop.method, redactUrl(this.hop.url), 'timeout'))
    }, ms)
  }

  /** Fails the exchange now with `error` and aborts the request on the wire, whatever its phase. */
  abort(error: unknown): void {
    if (this.done) return
    this.settleError(error)
    // Before the request has a socket there is nothing to abort yet: onRequestStart aborts it.
    const controller = this.controller
    if (controller !== undefined && !controller.aborted) controller.abort(error instanceof Error ? error : new Error(String(error)))
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.done) {
      controller.abort(this.failure ?? new Error('aborted'))
      return
    }
    this.controller = controller
    this.phase = 'headers'
    this.clearTimer()
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: RawHeaders): void {
    if (this.done || statusCode < 200) return
    this.phase = 'body'
    this.status = statusCode
    const flat = flatten(headers)
    this.headers = flat
    const length = flat['content-length']
    if (length !== undefined && Number(length) > this.limits.maxResponseSize) {
      this.fail(this.tooLarge(`; content-length says ${length}`))
      return
    }
    const coding = codingOf(flat['content-encoding'])
    if (coding) this.decoder = new Decoder(coding, this)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return
    this.raw += chunk.length
    if (this.raw > this.limits.maxResponseSize) {
      this.fail(this.tooLarge(this.decoder !== undefined ? `, before decoding ${this.decoder.coding}` : ''))
      return
    }
    if (this.decoder === undefined) this.keep(chunk)
    else if (!this.decoder.write(chunk)) controller.pause()
  }

  onResponseEnd(): void {
    if (this.done) return
    if (this.decoder !== undefined) this.decoder.end()
    else this.finish()
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    if (this.done) return
    this.settleError(this.translate(error))
  }

  decoded(chunk: Buffer): void {
    if (this.done) return
    this.keep(chunk)
  }

  decodedEnd(): void {
    if (!this.done) this.finish()
  }

  decodeFailed(error: Error): void {
    this.fail(error)
  }

  drained(): void {
    this.controller?.resume()
  }

  private keep(chunk: Buffer): void {
    this.size += chunk.length
    if (this.size > this.limits.maxResponseSize) {
      this.fail(this.tooLarge(this.decoder !== undefined ? `, counted after decoding ${this.decoder.coding}` : ''))
      return
    }
    this.chunks.push(chunk)
  }

  private finish(): void {
    this.done = true
    this.clearTimer()
    const chunks = this.chunks
    const body = chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.size)
    this.chunks = []
    this.resolve({ status: this.status, headers: this.headers!, body })
  }

  /** A failure found here: settle, then abort the request (the socket is destroyed, never reused). */
  private fail(error: Error): void {
    this.abort(error)
  }

  private settleError(error: unknown): void {
    this.done = true
    this.failure = error instanceof Error ? error : new Error(String(error))
    this.clearTimer()
    this.decoder?.destroy()
    this.chunks = []
    this.reject(error)
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.clock!.clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  private tooLarge(detail: string): ResponseTooLargeError {
    return new ResponseTooLargeError('body', this.limits.maxResponseSize, this.hop.method, redactUrl(this.hop.url), detail)
  }

  /** undici's errors, in this request's terms; network errors pass through with their `code`. */
  private translate(error: Error): unknown {
    const code = (error as { code?: unknown }).code
    const url = (): string => redactUrl(this.hop.url)
    switch (code) {
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new HttpTimeoutError('connect', this.limits.connectTimeout, this.hop.method, url(), 'timeout', error)
      case 'UND_ERR_HEADERS_TIMEOUT':
        return new HttpTimeoutError('headers', this.limits.headersTimeout, this.hop.method, url(), 'timeout', error)
      case 'UND_ERR_BODY_TIMEOUT':
        return new HttpTimeoutError('body', this.limits.bodyTimeout, this.hop.method, url(), 'timeout', error)
      case 'UND_ERR_HEADERS_OVERFLOW':
        return new ResponseTooLargeError('headers', this.limits.maxHeaderSize, this.hop.method, url(), '', { cause: error })
      default:
        if (error instanceof SsrfBlockedError) return ssrfErrorFor(error, url())
        // A network error keeps its code (retry() classifies it) and learns the request's method,
        // so retry() does not repeat a POST that may have reached the server.
        if (typeof code === 'string' && !hasField(error, 'method')) Object.defineProperty(error, 'method', { value: this.hop.method, enumerable: false, configurable: true })
        return error
    }
  }
}

/** undici's parsed headers with repeated ones joined by ", " (RFC 9110 §5.3), in a null-prototype record. */
function flatten(headers: RawHeaders): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (typeof value === 'string') out[name] = value
    else if (value !== undefined) out[name] = value.join(', ')
  }
  return out
}

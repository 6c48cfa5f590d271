/**
 * One request and its response on an undici dispatcher, as a dispatch handler: no response
 * stream, no per-chunk promise. The body is counted as it arrives — raw bytes, and decoded bytes
 * when there is a content coding — and the request is aborted (its socket destroyed) the moment
 * either passes the limit. Chunks are kept as they come and concatenated once at the end.
 *
 * Phases: `connect` until undici hands the request to a connected socket, `headers` until the
 * response headers arrive, `body` after. Their limits run on the client's clock (`PhaseTimer`):
 * a request's own connect limit, the headers limit from that hand-over to the final response
 * headers (restarted by a 1xx, as undici does), and the body limit as an inactivity limit, restarted
 * by every chunk. A failure from outside (the caller's signal, the deadline) goes through
 * `abort()` at any phase.
 *
 * Streaming (`client.stream()`): a 2xx response resolves at its headers with a `BodyStream` the
 * chunks then go to, counted and limited the same way; other statuses are buffered as usual.
 * While the stream's reader holds the body back, the inactivity limit is off: the reader's pace
 * is not the upstream's silence.
 */
import type { HttpCacheStatus } from './cache-status.js'
import type { Dispatcher } from 'undici'
import type { Clock } from '../core/clock.js'
import { AbortedError } from '../core/errors.js'
import { codingOf, Decoder, type DecodeSink } from './decode.js'
import {
  exchangeError,
  HttpTimeoutError,
  ResponseTooLargeError,
  SsrfBlockedError,
  ssrfErrorFor,
  type HttpPhase,
} from './errors.js'
import { PhaseTimer } from './phase-timers.js'
import { redactUrl } from './redact.js'
import type { Hop } from './redirect.js'
import { BodyStream } from './stream.js'

export interface ExchangeResult {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
  /** A streamed body (the exchange was told to stream, and the status is 2xx); `body` is then empty. */
  readonly stream?: BodyStream
  /** Set when the client has a cache (see http-cache.ts): where the response came from. */
  readonly cache?: HttpCacheStatus
}

/** The limits one exchange runs under (ms for the timeouts). */
export interface ExchangeLimits {
  readonly maxResponseSize: number
  readonly connectTimeout: number
  readonly headersTimeout: number
  readonly bodyTimeout: number
  readonly maxHeaderSize: number
}

/** How an observed exchange went, for the `request.finished` event: ms per phase, on the clock. */
export interface ExchangeTiming {
  readonly status: number
  readonly phase: HttpPhase
  /** Undefined when the body arrived whole. */
  readonly error: unknown
  readonly connectMs: number
  readonly headersMs: number
  readonly bodyMs: number
}

const EMPTY = Buffer.alloc(0)

/** Why the request is paused: the decoder's input is full, or a stream's reader is (both must clear). */
const DECODER_FULL = 1
const READER_FULL = 2

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
  private readonly timer: PhaseTimer
  private connectLimit = Infinity
  private stream: BodyStream | undefined = undefined
  private held = 0
  /** Set by `observe()`: phase times are taken only when someone listens. */
  private observer: ((timing: ExchangeTiming) => void) | undefined = undefined
  private startedAt = 0
  private connectedAt = -1
  private headersAt = -1

  constructor(
    readonly hop: Hop,
    readonly limits: ExchangeLimits,
    private readonly clock: Clock,
    /** Hand a 2xx body out as a stream instead of buffering it. */
    readonly streaming = false,
  ) {
    this.promise = new Promise<ExchangeResult>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    this.timer = new PhaseTimer(clock, () => this.expired())
  }

  /** Reports the exchange's phase times once it ends (the body read, or a failure at any phase). */
  observe(ended: (timing: ExchangeTiming) => void): void {
    this.observer = ended
    this.startedAt = this.clock.now()
  }

  private ended(error: unknown): void {
    const observer = this.observer
    if (observer === undefined) return
    this.observer = undefined
    const end = this.clock.now()
    const connected = this.connectedAt < 0 ? end : this.connectedAt
    const headers = this.headersAt < 0 ? end : this.headersAt
    observer({
      status: this.status,
      phase: this.phase,
      error,
      connectMs: connected - this.startedAt,
      headersMs: headers - connected,
      bodyMs: end - headers,
    })
  }

  /** Fails the exchange if it has no connection within `ms` (a request's own `timeouts.connect`, which also covers waiting for a free connection). */
  limitConnect(ms: number): void {
    this.connectLimit = ms
    if (this.phase === 'connect') this.timer.start(ms)
  }

  /** Fails the exchange now with `error` and aborts the request on the wire, whatever its phase. */
  abort(error: unknown): void {
    if (this.done) return
    this.settleError(error)
    // Before the request has a socket there is nothing to abort yet: onRequestStart aborts it.
    const controller = this.controller
    if (controller !== undefined && !controller.aborted)
      controller.abort(error instanceof Error ? error : new Error(String(error)))
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.done) {
      controller.abort(this.failure ?? new Error('aborted'))
      return
    }
    this.controller = controller
    if (this.observer !== undefined) this.connectedAt = this.clock.now()
    this.phase = 'headers'
    this.timer.start(this.limits.headersTimeout)
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: RawHeaders,
  ): void {
    if (this.done) return
    if (statusCode < 200) {
      this.timer.start(this.limits.headersTimeout)
      return
    }
    this.phase = 'body'
    if (this.observer !== undefined) this.headersAt = this.clock.now()
    this.timer.start(this.limits.bodyTimeout)
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
    if (this.streaming && statusCode <= 299) {
      this.stream = new BodyStream({
        hold: () => this.hold(READER_FULL),
        release: () => this.release(READER_FULL),
        cancel: () =>
          this.abort(
            new AbortedError(
              `${this.hop.method} ${redactUrl(this.hop.url)}: the response body was cancelled by its reader`,
            ),
          ),
      })
      this.resolve({ status: statusCode, headers: flat, body: EMPTY, stream: this.stream })
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return
    this.timer.touch(this.limits.bodyTimeout)
    this.raw += chunk.length
    if (this.raw > this.limits.maxResponseSize) {
      this.fail(
        this.tooLarge(this.decoder !== undefined ? `, before decoding ${this.decoder.coding}` : ''),
      )
      return
    }
    if (this.decoder === undefined) this.keep(chunk)
    else if (!this.decoder.write(chunk)) this.hold(DECODER_FULL)
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
    this.fail(exchangeError(error, this.hop.method, redactUrl(this.hop.url)))
  }

  drained(): void {
    this.release(DECODER_FULL)
  }

  private hold(reason: number): void {
    if (this.held === 0) this.controller?.pause()
    this.held |= reason
    if (reason === READER_FULL) this.timer.stop()
  }

  private release(reason: number): void {
    if ((this.held & reason) === 0) return
    this.held &= ~reason
    if (this.done) return
    // Waiting for the decoder or the reader is not the upstream's silence: the inactivity limit restarts.
    if (reason === READER_FULL) this.timer.start(this.limits.bodyTimeout)
    else this.timer.touch(this.limits.bodyTimeout)
    if (this.held === 0) this.controller?.resume()
  }

  private keep(chunk: Buffer): void {
    this.size += chunk.length
    if (this.size > this.limits.maxResponseSize) {
      this.fail(
        this.tooLarge(
          this.decoder !== undefined ? `, counted after decoding ${this.decoder.coding}` : '',
        ),
      )
      return
    }
    if (this.stream !== undefined) this.stream.push(chunk)
    else this.chunks.push(chunk)
  }

  private finish(): void {
    this.done = true
    this.timer.stop()
    this.ended(undefined)
    if (this.stream !== undefined) {
      this.stream.end()
      return
    }
    const chunks = this.chunks
    const body =
      chunks.length === 0
        ? EMPTY
        : chunks.length === 1
          ? chunks[0]!
          : Buffer.concat(chunks, this.size)
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
    this.timer.stop()
    this.decoder?.destroy()
    this.chunks = []
    this.stream?.fail(error)
    this.reject(error)
    this.ended(error)
  }

  /** The current phase's limit ran out. */
  private expired(): void {
    const limit =
      this.phase === 'connect'
        ? this.connectLimit
        : this.phase === 'headers'
          ? this.limits.headersTimeout
          : this.limits.bodyTimeout
    this.abort(
      new HttpTimeoutError(this.phase, limit, this.hop.method, redactUrl(this.hop.url), 'timeout'),
    )
  }

  private tooLarge(detail: string): ResponseTooLargeError {
    return new ResponseTooLargeError(
      'body',
      this.limits.maxResponseSize,
      this.hop.method,
      redactUrl(this.hop.url),
      detail,
    )
  }

  /** undici's and Node's errors, in this request's terms: always a fanout error, the original as `cause`. */
  private translate(error: Error): unknown {
    const code = (error as { code?: unknown }).code
    const url = (): string => redactUrl(this.hop.url)
    switch (code) {
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new HttpTimeoutError(
          'connect',
          this.limits.connectTimeout,
          this.hop.method,
          url(),
          'timeout',
          error,
        )
      case 'UND_ERR_HEADERS_TIMEOUT':
        return new HttpTimeoutError(
          'headers',
          this.limits.headersTimeout,
          this.hop.method,
          url(),
          'timeout',
          error,
        )
      case 'UND_ERR_BODY_TIMEOUT':
        return new HttpTimeoutError(
          'body',
          this.limits.bodyTimeout,
          this.hop.method,
          url(),
          'timeout',
          error,
        )
      case 'UND_ERR_HEADERS_OVERFLOW':
        return new ResponseTooLargeError(
          'headers',
          this.limits.maxHeaderSize,
          this.hop.method,
          url(),
          '',
          { cause: error },
        )
      default:
        if (error instanceof SsrfBlockedError) return ssrfErrorFor(error, url())
        // Everything else (a refused or broken connection, TLS, a malformed response) is wrapped,
        // with the method so retry() does not repeat a POST that may have reached the server.
        return exchangeError(error, this.hop.method, url())
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

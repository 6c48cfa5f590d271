/**
 * Streamed response bodies (`client.stream()`): the decoded body handed to the caller as a web
 * `ReadableStream` while it arrives, under the same limits as a buffered one — the size limit
 * counted after decoding (the stream errors with `ResponseTooLargeError` mid-way), the body
 * inactivity limit, the deadline and the caller's signal.
 *
 * Backpressure reaches the socket: when the stream's queue holds `HIGH_WATER` bytes the request
 * is paused, and resumed when the reader asks for more. A reader that cancels (or leaves a
 * `for await` early) aborts the request, which destroys its connection: the rest of the body is
 * never read, so the socket cannot go back to the pool.
 *
 * The type is the global `ReadableStream` (Node's own, or the DOM's when the caller's project
 * has that lib), so `new Response(body)` and `for await` type-check wherever they work.
 */
import { ResponseHead } from './response.js'

/** What the stream asks of the request it reads from. */
export interface BodySource {
  /** The reader's queue is full: stop reading from the socket. */
  hold(): void
  /** The reader wants more. */
  release(): void
  /** The reader gave up: abort the request and destroy its connection. */
  cancel(): void
}

/** Bytes queued for the reader before the socket is paused. */
const HIGH_WATER = 64 * 1024

export class BodyStream {
  readonly readable: ReadableStream<Uint8Array>
  /** Settles (never rejects) when the body ended, failed or was cancelled. */
  readonly settled: Promise<void>
  #controller!: ReadableStreamDefaultController<Uint8Array>
  #done = false
  #holding = false
  #settle!: () => void
  readonly #source: BodySource

  constructor(source: BodySource) {
    this.#source = source
    this.settled = new Promise<void>((resolve) => (this.#settle = resolve))
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller
        },
        pull: () => {
          if (!this.#holding) return
          this.#holding = false
          source.release()
        },
        cancel: () => {
          if (this.#finish()) source.cancel()
        },
      },
      { highWaterMark: HIGH_WATER, size: (chunk) => chunk.byteLength },
    )
  }

  push(chunk: Uint8Array): void {
    if (this.#done) return
    this.#controller.enqueue(chunk)
    if (!this.#holding && (this.#controller.desiredSize ?? 0) <= 0) {
      this.#holding = true
      this.#source.hold()
    }
  }

  end(): void {
    if (this.#finish()) this.#controller.close()
  }

  fail(error: unknown): void {
    if (this.#finish()) this.#controller.error(error)
  }

  #finish(): boolean {
    if (this.#done) return false
    this.#done = true
    this.#settle()
    return true
  }
}

export interface HttpStreamResponse {
  readonly status: number
  /** Lower-case names; a repeated header's values joined with ", ". As received. */
  readonly headers: Readonly<Record<string, string>>
  /** The final URL, redacted. */
  readonly url: string
  readonly redirects: number
  /**
   * The decoded body as it arrives (`for await (const chunk of response.body)` works, whatever
   * the project's libs say). Read it to the end or cancel it: until then the request holds its
   * connection (and its `limit` slot).
   */
  readonly body: ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>
}

export class StreamResponse extends ResponseHead implements HttpStreamResponse {
  readonly body: ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>
  readonly #settled: Promise<void>

  constructor(
    status: number,
    headers: Readonly<Record<string, string>>,
    url: URL,
    redirects: number,
    stream: BodyStream,
  ) {
    super(status, headers, url, redirects)
    // Node's ReadableStream is async-iterable; the DOM lib's type says so only with DOM.AsyncIterable.
    this.body = stream.readable as ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>
    this.#settled = stream.settled
  }

  /** When the body ended, failed or was cancelled (the request's timers and listeners go then). */
  static settled(response: StreamResponse): Promise<void> {
    return response.#settled
  }
}

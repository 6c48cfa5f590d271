/**
 * Transparent decoding of `Content-Encoding: gzip | deflate | br` through node:zlib streams, so
 * the size limit can count decoded bytes as they come out and stop a gzip bomb (B8) after at most
 * one zlib chunk past the limit. A response without a content coding never gets here: no stream
 * is created for it.
 */
import {
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  type BrotliDecompress,
  type Gunzip,
  type Inflate,
  type InflateRaw,
} from 'node:zlib'

export type Coding = 'gzip' | 'deflate' | 'br'

/**
 * The coding to undo: undefined for none (identity), null for one we do not decode (an unknown or
 * stacked coding: the body is passed through as received, and the header says what it is).
 */
export function codingOf(contentEncoding: string | undefined): Coding | undefined | null {
  if (contentEncoding === undefined) return undefined
  const value = contentEncoding.trim().toLowerCase()
  switch (value) {
    case '':
    case 'identity':
      return undefined
    case 'gzip':
    case 'x-gzip':
      return 'gzip'
    case 'deflate':
      return 'deflate'
    case 'br':
      return 'br'
    default:
      return null
  }
}

export interface DecodeSink {
  /** A decoded chunk. */
  decoded(chunk: Buffer): void
  /** Every decoded byte has been delivered. */
  decodedEnd(): void
  decodeFailed(error: Error): void
  /** The decoder accepts input again after `write` returned false. */
  drained(): void
}

type Stream = Gunzip | Inflate | InflateRaw | BrotliDecompress

export class Decoder {
  #stream: Stream | undefined
  #destroyed = false

  constructor(
    readonly coding: Coding,
    readonly sink: DecodeSink,
  ) {}

  /** Feeds encoded bytes; false means wait for `drained()`. */
  write(chunk: Buffer): boolean {
    if (this.#destroyed) return true
    this.#stream ??= this.#open(chunk)
    return this.#stream.write(chunk)
  }

  /** No more input. An empty body decodes to an empty body (HEAD, 204 and 304 carry the header without one). */
  end(): void {
    if (this.#destroyed) return
    if (this.#stream === undefined) this.sink.decodedEnd()
    else this.#stream.end()
  }

  destroy(): void {
    this.#destroyed = true
    this.#stream?.destroy()
  }

  #open(first: Buffer): Stream {
    let stream: Stream
    if (this.coding === 'gzip') stream = createGunzip()
    else if (this.coding === 'br') stream = createBrotliDecompress()
    // "deflate" should be zlib-wrapped, but servers also send raw deflate: a zlib stream starts
    // with a header whose low nibble is 8 (the way browsers and undici's fetch tell them apart).
    else stream = (first[0]! & 0x0f) === 0x08 ? createInflate() : createInflateRaw()
    const sink = this.sink
    stream.on('data', (chunk: Buffer) => {
      if (!this.#destroyed) sink.decoded(chunk)
    })
    stream.on('end', () => {
      if (!this.#destroyed) sink.decodedEnd()
    })
    stream.on('error', (error: Error) => {
      if (!this.#destroyed) sink.decodeFailed(error)
    })
    stream.on('drain', () => {
      if (!this.#destroyed) sink.drained()
    })
    return stream
  }
}

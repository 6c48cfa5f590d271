/** URLs as `batchEndpoint()` measures them: as text, and by the characters they take on the wire. */
import { InvalidOptionError } from '../core/errors.js'
import { show } from '../core/validate.js'

/** The text of what `url()` returned; anything but a string or a `URL` is a mistake. */
export function href(value: unknown): string {
  if (typeof value === 'string') return value
  if (value instanceof URL) return value.href
  throw new InvalidOptionError(`url() must return a string or a URL, got ${show(value)}`)
}

/**
 * Characters the URL takes on the wire: what a client percent-encodes (spaces, quotes, `<>`,
 * controls, non-ASCII — three characters per UTF-8 byte) counts as encoded.
 */
export function wireLength(url: string): number {
  let length = 0
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i)
    if (c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x27 && c !== 0x3c && c !== 0x3e && c !== 0x60)
      length += 1
    else if (c < 0x80) length += 3
    else if (c < 0x800) length += 6
    else if (c >= 0xd800 && c <= 0xdbff) {
      // A surrogate pair: one 4-byte code point.
      length += 12
      i++
    } else length += 9
  }
  return length
}

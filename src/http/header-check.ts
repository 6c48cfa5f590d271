/**
 * Checking what the caller hands over as headers, wherever it comes from (the client's and a
 * request's `headers` option, what a `beforeRequest` hook leaves): names are tokens, values are
 * strings undici would send as they are, and no message ever shows a value.
 */
import { InvalidOptionError } from '../core/errors.js'
import { show } from '../core/validate.js'

export function checkPlainObject(
  where: string,
  name: string,
  value: unknown,
  shape: string,
): object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`${where}: \`${name}\` must be ${shape}, got ${show(value)}.`)
  }
  return value
}

export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// What undici itself accepts in a header value: tab, visible ASCII and obs-text.
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/

/** Copies `headers` into `into` under lower-case names, checking each; the message never shows a value. */
export function mergeHeaders(
  where: string,
  name: string,
  headers: unknown,
  into: Record<string, string>,
): void {
  const record = checkPlainObject(
    where,
    name,
    headers,
    'an object of header names to string values',
  ) as Record<string, unknown>
  for (const key of Object.keys(record)) {
    const value = record[key]
    if (!TOKEN.test(key))
      throw new InvalidOptionError(
        `${where}: \`${name}\` has an invalid header name ${show(key)}: use letters, digits and !#$%&'*+-.^_\`|~ only.`,
      )
    if (typeof value !== 'string') {
      throw new InvalidOptionError(
        `${where}: header ${show(key)} must be a string, got ${show(value)}. Convert numbers with String(); leave out headers you do not send.`,
      )
    }
    if (BAD_HEADER_VALUE.test(value)) {
      throw new InvalidOptionError(
        `${where}: header ${show(key)} has a CR, LF, NUL or other control character in its value; it was not sent (header injection).`,
      )
    }
    into[key.toLowerCase()] = value
  }
}

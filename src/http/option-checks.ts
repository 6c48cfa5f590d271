/**
 * Checks shared by the client and request option parsers: unknown names (with a "did you mean"),
 * phase timeouts, the response size cap and TLS material. Each message names the bad value.
 */
import { constants as bufferConstants } from 'node:buffer'
import { InvalidOptionError } from '../core/errors.js'
import { checkDuration, checkNumber, closest, show } from '../core/validate.js'
import { checkPlainObject } from './header-check.js'
import type { HttpTlsOptions, PemInput } from './option-types.js'

const TIMEOUT_KEYS = ['connect', 'headers', 'body'] as const
const MAX_TIMER = 2_147_483_647
const MAX_BODY = bufferConstants.MAX_LENGTH

export function unknownKey(
  where: string,
  key: string,
  known: readonly string[],
  prefix = '',
): never {
  const guess = closest(key, known)
  throw new InvalidOptionError(
    `${where}: unknown option \`${prefix}${key}\`.` +
      (guess !== undefined ? ` Did you mean \`${prefix}${guess}\`?` : '') +
      ` Known options: ${known.map((k) => `\`${prefix}${k}\``).join(', ')}.`,
  )
}

export function checkTimeouts(
  where: string,
  name: string,
  value: unknown,
): { connect?: number; headers?: number; body?: number } {
  const record = checkPlainObject(
    where,
    name,
    value,
    '{ connect?, headers?, body? } in ms',
  ) as Record<string, unknown>
  // Null prototype: an absent limit must read as undefined even when Object.prototype is polluted (I10).
  const out: { connect?: number; headers?: number; body?: number } = Object.create(null) as object
  for (const key of Object.keys(record)) {
    if (!(TIMEOUT_KEYS as readonly string[]).includes(key))
      unknownKey(where, key, TIMEOUT_KEYS, `${name}.`)
    const v = record[key]
    if (v === undefined) continue
    out[key as 'connect'] = checkDuration(where, `${name}.${key}`, v, { max: MAX_TIMER })
  }
  return out
}

export function checkMaxResponseSize(where: string, value: unknown): number {
  if (value === Infinity) {
    throw new InvalidOptionError(
      `${where}: \`maxResponseSize\` must be finite: an unbounded body lets one response exhaust memory (B7, B8). Pass a number of bytes, e.g. 100 * 1024 * 1024.`,
    )
  }
  return checkNumber(where, 'maxResponseSize', value, {
    min: 0,
    max: MAX_BODY,
    integer: true,
    unit: 'bytes',
  })
}

const TLS_KEYS = ['ca', 'cert', 'key'] as const

/** Own properties only, each PEM text or bytes (or a list of them); no option turns verification off. */
export function checkTls(where: string, value: unknown): HttpTlsOptions {
  const record = checkPlainObject(where, 'tls', value, 'an object with ca, cert and key') as Record<
    string,
    unknown
  >
  const out: Record<string, PemInput> = Object.create(null) as Record<string, PemInput>
  for (const key of Object.keys(record)) {
    const v = record[key]
    if (v === undefined) continue
    if (!(TLS_KEYS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(
        `${where}: \`tls.${key}\` is not an option (known: ${TLS_KEYS.join(', ')}). Certificate verification cannot be turned off; trust a private CA with \`tls.ca\` instead.`,
      )
    }
    const pem = (x: unknown): boolean => typeof x === 'string' || x instanceof Uint8Array
    if (!(pem(v) || (Array.isArray(v) && v.length > 0 && v.every(pem))))
      throw new InvalidOptionError(
        `${where}: \`tls.${key}\` must be PEM text or bytes (or a list of them), got ${show(v)}.`,
      )
    out[key] = v as PemInput
  }
  if ((out.cert === undefined) !== (out.key === undefined))
    throw new InvalidOptionError(
      `${where}: \`tls.cert\` and \`tls.key\` go together (a client certificate and its private key).`,
    )
  return out
}

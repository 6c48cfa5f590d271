/**
 * H5: a job's payload is stored in the broker in clear text, for as long as its retention, and
 * shown to whoever reads the queue. Credentials have no business there: the worker should get
 * them from its own configuration. So a payload is checked before it is enqueued:
 *
 * - a key that names a credential (`authorization`, `cookie`, `password`, `token`, `api_key`,
 *   `secret`… in any case, with or without `-`/`_`), at any depth;
 * - a string that carries a bearer token (`Bearer eyJ…`), anywhere.
 *
 * By default such a payload is refused (`InvalidArgumentError` naming the path, never the
 * value); `credentials: 'redact'` replaces the values with `[REDACTED]` instead. The walk also
 * checks that the payload is JSON (it crosses a process boundary), and bounds its depth.
 */
import { InvalidArgumentError } from '../core/errors.js'
import { show } from '../core/validate.js'
import type { JobData } from './job-queue.js'

export const REDACTED = '[REDACTED]'
const MAX_DEPTH = 64

/** Keys compared lower-cased with `-`, `_` and `.` removed. */
const CREDENTIAL_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'password',
  'passwd',
  'passphrase',
  'token',
  'secret',
  'apikey',
  'privatekey',
  'credentials',
  'xapikey',
  'xauthtoken',
])
/** Suffixes that name a credential whatever comes before (`clientSecret`, `refresh_token`). */
const CREDENTIAL_SUFFIXES = [
  'password',
  'secret',
  'apikey',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'authtoken',
  'bearertoken',
  'sessiontoken',
  'privatekey',
]

const BEARER = /\bbearer\s+[A-Za-z0-9\-._~+/]+=*/gi

export function isCredentialKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_.]/g, '')
  return CREDENTIAL_KEYS.has(k) || CREDENTIAL_SUFFIXES.some((s) => k.endsWith(s))
}

export type CredentialPolicy = 'refuse' | 'redact'

/**
 * The payload to enqueue: `data` itself when it holds no credential, a redacted copy under
 * `'redact'`; refused otherwise, and refused whatever the policy when it is not JSON.
 */
export function checkPayload(where: string, data: unknown, policy: CredentialPolicy): JobData {
  const found: string[] = []
  const clean = walk(where, data, '$', 0, found, policy === 'redact')
  if (found.length > 0 && policy === 'refuse')
    throw new InvalidArgumentError(
      `${where}: the job data holds what looks like a credential at ${found.slice(0, 5).join(', ')}. ` +
        'Payloads are stored in the broker in clear text: let the worker read credentials from its own configuration, ' +
        'or pass `credentials: \'redact\'` to replace them with "[REDACTED]".',
    )
  return clean
}

function walk(
  where: string,
  value: unknown,
  path: string,
  depth: number,
  found: string[],
  redact: boolean,
): JobData {
  if (depth > MAX_DEPTH)
    throw new InvalidArgumentError(
      `${where}: the job data is nested deeper than ${MAX_DEPTH} levels at ${path}.`,
    )
  if (value === null || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw notJson(where, path, value)
    return value
  }
  if (typeof value === 'string') {
    BEARER.lastIndex = 0
    if (!BEARER.test(value)) return value
    found.push(path)
    return redact ? value.replace(BEARER, `Bearer ${REDACTED}`) : value
  }
  if (Array.isArray(value))
    return value.map((item, i) => walk(where, item, `${path}[${i}]`, depth + 1, found, redact))
  if (typeof value === 'object' && isPlain(value)) {
    const out: Record<string, JobData> = {}
    for (const key of Object.keys(value)) {
      const child = `${path}.${key}`
      const v = (value as Record<string, unknown>)[key]
      if (v === undefined) continue
      if (isCredentialKey(key)) {
        found.push(child)
        // Still checked for JSON: a refused payload is refused for the first reason found.
        walk(where, v, child, depth + 1, [], false)
        Object.defineProperty(out, key, {
          value: REDACTED,
          enumerable: true,
          writable: true,
          configurable: true,
        })
        continue
      }
      const w = walk(where, v, child, depth + 1, found, redact)
      // defineProperty: an own `__proto__` key stays a plain key of the copy.
      Object.defineProperty(out, key, {
        value: w,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return out
  }
  throw notJson(where, path, value)
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function notJson(where: string, path: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `${where}: job data must be JSON (plain objects, arrays, strings, finite numbers, booleans, null), got ${show(value)} at ${path}.`,
  )
}

/** `profile()`'s options: what they mean, their defaults and bounds, checked at construction. */
import { InvalidOptionError } from '../core/errors.js'
import { checkFunction, checkKnownKeys, checkNumber, show, snapshot } from '../core/validate.js'

/** An outbound call as the `gate` option sees it. */
export interface CallInfo {
  readonly method: string
  /** `https://api.example.com` */
  readonly origin: string
  /** The path, without the query. */
  readonly path: string
}

export interface ProfileOptions {
  /** Requests (units of work) tracked at once; more in progress at the same time are not tracked. Default 1,000 (1–100,000). */
  readonly maxRequests?: number
  /** Outbound calls recorded per request; later ones are not. Default 200 (2–10,000). */
  readonly maxCallsPerRequest?: number
  /** Routes reported; requests of further routes are counted, not analysed. Default 200 (1–10,000). */
  readonly maxRoutes?: number
  /** Bytes of each request and response body read for the values they carry. Default 65,536 (0–1,048,576). */
  readonly maxBodyBytes?: number
  /**
   * Calls made outside any request (a script, a worker loop): `'group'` analyses them together as
   * one unit of work named `(outside a request)`, `'ignore'` leaves them out. Default `'group'`.
   */
  readonly unscoped?: 'group' | 'ignore'
  /**
   * Which calls are gates: checks every later call waits for on purpose (authentication,
   * authorisation), never proposed for a `Promise.all`. Default: a path with a segment like
   * `auth`, `oauth`, `session`, `login`, `token`, `verify`, `introspect`, `userinfo`, `me`,
   * `permissions`, `authorize`.
   */
  readonly gate?: (call: CallInfo) => boolean
}

export interface ResolvedOptions {
  readonly maxRequests: number
  readonly maxCallsPerRequest: number
  readonly maxRoutes: number
  readonly maxBodyBytes: number
  readonly unscoped: 'group' | 'ignore'
  readonly gate: (call: CallInfo) => boolean
}

const GATE_SEGMENT =
  /\/(?:auth|authn|authz|oauth2?|sessions?|login|logout|signin|token|tokens|verify|introspect|userinfo|me|whoami|permissions?|authori[sz]e)(?:\/|$)/i

/** The default `gate`: an authentication or authorisation endpoint, by its path. */
export const defaultGate = (call: CallInfo): boolean => GATE_SEGMENT.test(call.path)

const KNOWN = [
  'maxRequests',
  'maxCallsPerRequest',
  'maxRoutes',
  'maxBodyBytes',
  'unscoped',
  'gate',
] as const

export function readProfileOptions(options: ProfileOptions | undefined): ResolvedOptions {
  const where = 'profile()'
  const o = snapshot(where, options)
  checkKnownKeys(where, o, KNOWN)
  const int = (name: string, value: unknown, fallback: number, min: number, max: number): number =>
    value === undefined ? fallback : checkNumber(where, name, value, { min, max, integer: true })
  if (o.unscoped !== undefined && o.unscoped !== 'group' && o.unscoped !== 'ignore')
    throw new InvalidOptionError(
      `${where}: \`unscoped\` must be 'group' or 'ignore', got ${show(o.unscoped)}.`,
    )
  return {
    maxRequests: int('maxRequests', o.maxRequests, 1_000, 1, 100_000),
    maxCallsPerRequest: int('maxCallsPerRequest', o.maxCallsPerRequest, 200, 2, 10_000),
    maxRoutes: int('maxRoutes', o.maxRoutes, 200, 1, 10_000),
    maxBodyBytes: int('maxBodyBytes', o.maxBodyBytes, 65_536, 0, 1_048_576),
    unscoped: o.unscoped ?? 'group',
    gate:
      o.gate === undefined
        ? defaultGate
        : checkFunction<(call: CallInfo) => boolean>(where, 'gate', o.gate, '(call) => boolean'),
  }
}

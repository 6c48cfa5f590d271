/** The options of `withFanout()` and `withFanoutAction()`, checked once when the route module loads. */
import { InvalidOptionError } from '../core/errors.js'
import {
  splitRequestOptions,
  type RequestContextOptions,
  type RequestSettings,
} from '../core/request-options.js'
import { checkFunction } from '../core/validate.js'

/** Next's `after()`: runs `work` once the response is out, kept alive by the platform. */
export type After = (work: () => Promise<void>) => void

export interface FanoutOptions extends RequestContextOptions {
  /**
   * The user a request acts for, when the request itself says so (a verified session cookie, a
   * JWT's subject); it scopes `cached(…, { scope: 'user' })` entries. Without it, name the user
   * after the auth gate with `currentRequest()!.actAs(id)`.
   */
  readonly user?: (request: Request) => string | undefined
  /**
   * How post-response work (`waitUntil`) is handed to the platform. Default: `after` from
   * `next/server`. Tests that call the route handler directly, outside Next, pass their own.
   */
  readonly after?: After
}

export interface FanoutActionOptions extends RequestContextOptions {
  /** The user the action acts for, read from the request's headers (a session cookie…). */
  readonly user?: (headers: Headers) => string | undefined
  readonly after?: After
  /**
   * Where the request's headers come from (the deadline header, the user). Default: `headers()`
   * from `next/headers`. Tests that call the action directly, outside Next, pass their own.
   */
  readonly headers?: () => Headers | Promise<Headers>
}

export interface CheckedOptions<U> {
  readonly contexts: RequestSettings
  readonly user: U | undefined
  readonly after: After | undefined
  readonly headers: (() => Headers | Promise<Headers>) | undefined
}

export function checkOptions<U>(
  where: string,
  options: FanoutOptions | FanoutActionOptions | undefined,
  ownKeys: readonly ('user' | 'after' | 'headers')[],
): CheckedOptions<U> {
  const { settings, own } = splitRequestOptions(where, options, ownKeys)
  const { user, after, headers } = own
  return {
    contexts: settings,
    user:
      user === undefined
        ? undefined
        : checkFunction(where, 'user', user, '(…) => string | undefined'),
    after: after === undefined ? undefined : checkFunction(where, 'after', after, '(work) => void'),
    headers:
      headers === undefined ? undefined : checkFunction(where, 'headers', headers, '() => Headers'),
  }
}

/** The user the `user` option names; a value of the wrong kind is a bug to surface, not to store. */
export function userOf(where: string, user: unknown): { user?: string } {
  if (user === undefined) return {}
  if (typeof user !== 'string' || user === '')
    throw new InvalidOptionError(
      `${where}: the \`user\` option must return a non-empty string or undefined, got ${typeof user === 'string' ? 'an empty string' : typeof user}.`,
    )
  return { user }
}

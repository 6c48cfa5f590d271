/** The options of `withFanout()` and `withFanoutAction()`, checked once when the route module loads. */
import { InvalidOptionError } from '../core/errors.js'
import { checkRequestOptions, type RequestContextOptions } from '../core/request-options.js'
import { checkFunction, checkKnownKeys, snapshot } from '../core/validate.js'

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
  readonly contexts: RequestContextOptions
  readonly user: U | undefined
  readonly after: After | undefined
  readonly headers: (() => Headers | Promise<Headers>) | undefined
}

// Listed here (not read from the core) so that an unknown key can be matched against this
// adapter's own options too; the type below fails to compile when the core gains an option this
// list lacks.
const CONTEXT_KEYS = [
  'budget',
  'maxBudget',
  'deadlineHeaders',
  'margin',
  'afterBudget',
  'ambient',
  'onEvent',
  'onError',
  'clock',
] as const satisfies readonly (keyof RequestContextOptions)[]
type Unlisted = Exclude<keyof RequestContextOptions, (typeof CONTEXT_KEYS)[number]>
const everyKeyListed: [Unlisted] extends [never] ? true : Unlisted = true
void everyKeyListed

export function checkOptions<U>(
  where: string,
  options: FanoutOptions | FanoutActionOptions | undefined,
  own: readonly ('user' | 'after' | 'headers')[],
): CheckedOptions<U> {
  const o = snapshot(where, options) as Partial<Record<string, unknown>>
  checkKnownKeys(where, o, [...CONTEXT_KEYS, ...own])
  const { user, after, headers, ...contexts } = o
  // The core's own check, under this function's name: the errors point at the right call.
  checkRequestOptions(where, contexts)
  return {
    contexts: contexts as RequestContextOptions,
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

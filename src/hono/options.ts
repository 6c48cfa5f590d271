/** The options of `fanout()` from fanout/hono, checked once when the app is built. */
import type { Context, Env } from 'hono'
import { InvalidOptionError } from '../core/errors.js'
import {
  splitRequestOptions,
  type RequestContextOptions,
  type RequestSettings,
} from '../core/request-options.js'
import { checkFunction } from '../core/validate.js'
import type { FanoutEnv } from './env.js'

export interface FanoutOptions<E extends Env = FanoutEnv> extends RequestContextOptions {
  /**
   * The user a request acts for, when the request itself says so (a verified session, a JWT's
   * subject set by an earlier middleware); it scopes `cached(…, { scope: 'user' })` entries.
   * Without it, name the user after the auth gate with `c.get('fanout').actAs(id)`.
   */
  readonly user?: (c: Context<E & FanoutEnv>) => string | undefined
}

export interface CheckedOptions<E extends Env> {
  readonly contexts: RequestSettings
  readonly user: ((c: Context<E & FanoutEnv>) => string | undefined) | undefined
}

const WHERE = 'fanout() from fanout/hono'

export function checkOptions<E extends Env>(
  options: FanoutOptions<E> | undefined,
): CheckedOptions<E> {
  const { settings, own } = splitRequestOptions(WHERE, options, ['user'])
  return {
    contexts: settings,
    user:
      own.user === undefined
        ? undefined
        : checkFunction(WHERE, 'user', own.user, '(c) => string | undefined'),
  }
}

/** The user the `user` option names for this request; a value of the wrong kind is a bug to surface. */
export function userOf<E extends Env>(
  pick: (c: Context<E & FanoutEnv>) => string | undefined,
  c: Context<E & FanoutEnv>,
): { user?: string } {
  const user: unknown = pick(c)
  if (user === undefined) return {}
  if (typeof user !== 'string' || user === '')
    throw new InvalidOptionError(
      `${WHERE}: the \`user\` option must return a non-empty string or undefined, got ${typeof user === 'string' ? 'an empty string' : typeof user}.`,
    )
  return { user }
}

/** The options of fanout/express's `fanout()`, checked once when the app is built. */
import type { Request } from 'express'
import {
  splitRequestOptions,
  type RequestContextOptions,
  type RequestSettings,
} from '../core/request-options.js'
import { checkFunction } from '../core/validate.js'

export interface FanoutOptions extends RequestContextOptions {
  /**
   * The user a request acts for, when it is known as the request arrives (a session or a token
   * verified by earlier middleware). Return undefined (or '') when it is not; the route can name
   * it later with `req.fanout.actAs(user)`. `cached()` entries with `scope: 'user'` are keyed by it.
   */
  readonly user?: (req: Request) => string | undefined
}

/** The checked options: the request contexts' settings, and how to read the user. */
export interface ExpressSettings {
  readonly context: RequestSettings
  readonly user: ((req: Request) => string | undefined) | undefined
}

export const WHERE = 'fanout()'

export function checkFanoutOptions(options: FanoutOptions | undefined): ExpressSettings {
  const { settings, own } = splitRequestOptions(WHERE, options, ['user'])
  return {
    context: settings,
    user:
      own.user === undefined
        ? undefined
        : checkFunction(WHERE, 'user', own.user, '(req) => string | undefined'),
  }
}

/** The options of fanout/express's `fanout()`, checked once when the app is built. */
import type { Request } from 'express'
import { checkRequestOptions, type RequestContextOptions } from '../core/request-options.js'
import { checkFunction, checkKnownKeys, snapshot } from '../core/validate.js'

export interface FanoutOptions extends RequestContextOptions {
  /**
   * The user a request acts for, when it is known as the request arrives (a session or a token
   * verified by earlier middleware). Return undefined (or '') when it is not; the route can name
   * it later with `req.fanout.actAs(user)`. `cached()` entries with `scope: 'user'` are keyed by it.
   */
  readonly user?: (req: Request) => string | undefined
}

/** The checked options: the request contexts' own, and how to read the user. */
export interface ExpressSettings {
  readonly context: RequestContextOptions
  readonly user: ((req: Request) => string | undefined) | undefined
}

export const WHERE = 'fanout()'

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

// Fails to compile when the core gains an option this list lacks: an unknown-key error must
// never reject an option the core accepts.
type Never<T extends never> = T
type _EveryContextKeyListed = Never<
  Exclude<keyof RequestContextOptions, (typeof CONTEXT_KEYS)[number]>
>

const KNOWN: readonly string[] = [...CONTEXT_KEYS, 'user']

export function checkFanoutOptions(options: FanoutOptions | undefined): ExpressSettings {
  const o = snapshot(WHERE, options)
  // Checked here rather than by requestContexts() so that a typo of `user` gets its hint and
  // every message names fanout().
  checkKnownKeys(WHERE, o, KNOWN)
  const { user, ...context } = o
  checkRequestOptions(WHERE, context)
  return {
    context,
    user:
      user === undefined
        ? undefined
        : checkFunction(WHERE, 'user', user, '(req) => string | undefined'),
  }
}

/** `fanoutPlugin`'s options: checked once, when Fastify loads the plugin (own properties only). */
import type { FastifyRequest } from 'fastify'
import { RequestContexts } from '../core/request-context.js'
import { splitRequestOptions, type RequestContextOptions } from '../core/request-options.js'
import { checkDuration, checkFunction } from '../core/validate.js'

export interface FanoutFastifyOptions extends RequestContextOptions {
  /** The user a request acts for, when known before the handler (a verified session, a JWT). */
  readonly user?: (request: FastifyRequest) => string | undefined
  /**
   * How long `fastify.close()` waits for post-response work (`waitUntil`) still running, in ms;
   * then that work's signal aborts and the close goes on. Default 10 000.
   */
  readonly drainTimeout?: number
}

export interface FanoutFastifySettings {
  readonly contexts: RequestContexts
  readonly user: ((request: FastifyRequest) => string | undefined) | undefined
  readonly drainTimeout: number
  /** Taken off the handler timeout, so a response with partial results beats Fastify's 503. */
  readonly margin: number
}

const WHERE = 'fanoutPlugin'
// Fastify hands a plugin its register() options as they are, its own keys included: known, unused.
const OWN = ['user', 'drainTimeout', 'prefix', 'logLevel', 'logSerializers'] as const

export function checkFastifyOptions(
  options: FanoutFastifyOptions | undefined,
): FanoutFastifySettings {
  const { settings, own } = splitRequestOptions(WHERE, options, OWN)
  return {
    contexts: RequestContexts.fromSettings(settings),
    user:
      own.user === undefined
        ? undefined
        : checkFunction(WHERE, 'user', own.user, '(request) => string | undefined'),
    drainTimeout:
      own.drainTimeout === undefined
        ? 10_000
        : checkDuration(WHERE, 'drainTimeout', own.drainTimeout, { min: 0, allowInfinity: true }),
    margin: settings.margin,
  }
}

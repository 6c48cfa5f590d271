/** `fanoutPlugin`'s options: checked once, when Fastify loads the plugin (own properties only). */
import type { FastifyRequest } from 'fastify'
import { InvalidOptionError } from '../core/errors.js'
import { RequestContexts, type RequestContextOptions } from '../core/request-context.js'
import { checkDuration, checkFunction, checkKnownKeys, snapshot } from '../core/validate.js'

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
const OWN = ['user', 'drainTimeout'] as const
const CORE = [
  'budget',
  'maxBudget',
  'deadlineHeaders',
  'margin',
  'afterBudget',
  'ambient',
  'onEvent',
  'onError',
  'clock',
] as const
// Fastify hands a plugin its register() options as they are, its own keys included.
const FASTIFY = ['prefix', 'logLevel', 'logSerializers'] as const

export function checkFastifyOptions(
  options: FanoutFastifyOptions | undefined,
): FanoutFastifySettings {
  const o = snapshot(WHERE, options) as Partial<FanoutFastifyOptions> & Record<string, unknown>
  checkKnownKeys(WHERE, o, [...CORE, ...OWN, ...FASTIFY])
  const user =
    o.user === undefined
      ? undefined
      : checkFunction<(request: FastifyRequest) => string | undefined>(
          WHERE,
          'user',
          o.user,
          '(request) => string | undefined',
        )
  const drainTimeout =
    o.drainTimeout === undefined
      ? 10_000
      : checkDuration(WHERE, 'drainTimeout', o.drainTimeout, { min: 0, allowInfinity: true })
  const core: Record<string, unknown> = {}
  for (const key of CORE) if (o[key] !== undefined) core[key] = o[key]
  return {
    contexts: contextsOf(core as RequestContextOptions),
    user,
    drainTimeout,
    margin: typeof o.margin === 'number' ? o.margin : 10,
  }
}

/** The core checks its own options; its errors are renamed so they point at this plugin. */
function contextsOf(options: RequestContextOptions): RequestContexts {
  try {
    return new RequestContexts(options)
  } catch (error) {
    if (error instanceof InvalidOptionError)
      throw new InvalidOptionError(error.message.replace(/^requestContexts\(\)/, WHERE))
    throw error
  }
}

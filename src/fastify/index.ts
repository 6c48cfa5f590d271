/**
 * `fanout/fastify`: each request's `RequestContext` on Fastify 5, as `request.fanout`, ambient in
 * the route's hooks and handler, so the flows, `requestScoped()` loaders and `cached({ scope:
 * 'user' })` entries used there follow the request without being passed anything.
 *
 * Why not `request.signal`: Fastify aborts it when the request's `close` fires, which Node emits
 * once a body has been read — a healthy POST is cancelled before its handler runs — and after the
 * reply on a GET, which would cut post-response work. The plugin's signal fires only when the
 * response closes before it was finished: the client really went away.
 *
 * No runtime import of fastify (its types only): there is nothing to be missing.
 *
 * @example
 * const app = Fastify({ handlerTimeout: 2_000 })
 * await app.register(fanoutPlugin, { user: (request) => sessionUser(request) })
 * app.get('/page/:id', (request) => page.run({ id: request.params.id }))
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify'
import { useAsyncLocalStorage } from '../core/ambient.js'
import type { RequestContext, RequestContexts } from '../core/request-context.js'
import { InvalidOptionError } from '../core/errors.js'
import { show } from '../core/validate.js'
import {
  checkFastifyOptions,
  type FanoutFastifyOptions,
  type FanoutFastifySettings,
} from './options.js'

export type { FanoutFastifyOptions } from './options.js'
export type { RequestContext, RequestContexts } from '../core/request-context.js'

// Node-only adapter: hand the core Node's AsyncLocalStorage (older Node 20s lack the global way).
useAsyncLocalStorage(AsyncLocalStorage)

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * This request's context, set by `fanoutPlugin`'s onRequest hook in the Fastify context where
     * the plugin is registered (and its children). Typed as always there, for the routes it covers;
     * `null` in onRequest hooks that run before the plugin's, absent in contexts it does not cover.
     */
    fanout: RequestContext
  }
  interface FastifyInstance {
    /** The request contexts of this instance, e.g. `fanout.pending`. */
    fanout: RequestContexts
  }
}

/** Each open response's 'close' listener, for onResponse to release it. */
const listening = new WeakMap<FastifyReply, () => void>()

function plugin(
  instance: FastifyInstance,
  options: FanoutFastifyOptions,
  done: (error?: Error) => void,
): void {
  let settings: FanoutFastifySettings
  try {
    settings = checkFastifyOptions(options)
    if (instance.hasDecorator('fanout'))
      throw new InvalidOptionError(
        'fanoutPlugin: already registered in this context or a parent one; register it once per context (sibling contexts may each have their own).',
      )
  } catch (error) {
    done(error as Error)
    return
  }
  const { contexts, drainTimeout } = settings
  instance.decorate('fanout', contexts)
  // null until the onRequest hook sets it (Fastify's way: a shape fixed up front, no shared object).
  // Typed non-null: in the routes the plugin covers, every hook after its own and the handler see it.
  instance.decorateRequest('fanout', null as unknown as RequestContext)
  instance.addHook('onRequest', (request, reply, next) => open(settings, request, reply, next))
  // The hooks and handler after body parsing run from the body's 'end' event, which may come in
  // the socket's async context rather than this request's (nodejs/node#34430): enter it again.
  instance.addHook('preValidation', (request, _reply, next) => {
    const ctx = request.fanout as RequestContext | null
    if (ctx === null) next()
    else ctx.run(next)
  })
  instance.addHook('onResponse', (request, reply, next) => {
    finish(request, reply)
    next()
  })
  // drain() never rejects: failures of post-response work went to `onError`.
  instance.addHook(
    'onClose',
    (_instance, next) => void contexts.drain(drainTimeout).then(() => next()),
  )
  done()
}

function open(
  settings: FanoutFastifySettings,
  request: FastifyRequest,
  reply: FastifyReply,
  next: HookHandlerDoneFunction,
): void {
  let user: string | undefined
  try {
    user = settings.user?.(request)
    if (user !== undefined && (typeof user !== 'string' || user === ''))
      throw new TypeError(
        `fanoutPlugin: the \`user\` option must return a non-empty string or undefined, got ${show(user)}.`,
      )
  } catch (error) {
    next(error as Error)
    return
  }
  const ctx = settings.contexts.open({
    request,
    headers: request.headers,
    ...(user === undefined ? {} : { user }),
    ...budgetOf(request, reply, settings.margin),
  })
  request.fanout = ctx
  const res = reply.raw
  // Closed before the response was finished: the client went away. After a finished response,
  // 'close' is only the end of the exchange and must not abort anything.
  const onClose = (): void => {
    listening.delete(reply)
    if (!res.writableEnded) ctx.clientClosed()
    void ctx.end()
  }
  listening.set(reply, onClose)
  res.once('close', onClose)
  ctx.run(next)
}

/** onResponse: the response is out. End the context and release the 'close' listener. */
function finish(request: FastifyRequest, reply: FastifyReply): void {
  const onClose = listening.get(reply)
  if (onClose !== undefined) {
    listening.delete(reply)
    reply.raw.removeListener('close', onClose)
  }
  void (request.fanout as RequestContext | null)?.end()
}

/**
 * Fastify's handler timeout (server-wide or per route, where the version has one) as this
 * request's budget, less the time spent since Fastify started its timer and the margin, so that
 * a response with partial results goes out before Fastify answers 503.
 */
function budgetOf(
  request: FastifyRequest,
  reply: FastifyReply,
  margin: number,
): { budget?: number } {
  const timeout = (request.routeOptions as { handlerTimeout?: unknown }).handlerTimeout
  if (typeof timeout !== 'number' || !(timeout > 0)) return {}
  const spent = typeof reply.elapsedTime === 'number' ? reply.elapsedTime : 0
  return { budget: Math.max(0, timeout - spent - margin) }
}

/**
 * The plugin: `await app.register(fanoutPlugin, options)`. Not encapsulated (as `fastify-plugin`
 * would make it, without depending on it): registered at the root it covers every route;
 * registered inside a context, that context's routes and its children's.
 */
export const fanoutPlugin: FastifyPluginCallback<FanoutFastifyOptions> = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'fanout',
  [Symbol.for('plugin-meta')]: { name: 'fanout', fastify: '4.x || 5.x' },
})

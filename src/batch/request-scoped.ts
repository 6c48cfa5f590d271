/**
 * One set of loaders per incoming request: the simplest way to keep one user's memoized values
 * away from another's (what DataLoader's docs advise, made a one-liner). The loaders live as long
 * as the request object does — a WeakMap holds them, so nothing needs cleaning up.
 *
 * @example
 * const loadersFor = requestScoped(() => ({ user: new Loader(getUsers, { id: (u) => u.id }) }))
 * app.get('/page', async (req) => loadersFor(req).user.load(req.query.id))
 * // inside a request context, the same set without passing the request:
 * loadersFor().user.load(id)
 */
import { currentRequest } from '../core/request-context.js'
import { checkFunction } from '../core/validate.js'

/**
 * Called without an argument inside a request context (fanout/next, fanout/express…), the
 * loaders are the current request's: the same set `loadersFor(req)` gives for its request.
 */
export function requestScoped<T>(create: (request: object) => T): (request?: object) => T {
  checkFunction('requestScoped()', 'create', create, '(request) => loaders')
  const perRequest = new WeakMap<object, T>()
  return (given) => {
    const request = given ?? currentRequest()?.request
    if (request === undefined)
      throw new TypeError(
        'requestScoped(): called without a request outside a request context; pass the request object, or call it inside one (fanout/next, fanout/express, fanout/fastify, fanout/hono).',
      )
    if ((typeof request !== 'object' && typeof request !== 'function') || request === null) {
      throw new TypeError(
        `requestScoped(): pass the request object (anything held for the request's lifetime), got ${request === null ? 'null' : typeof request}.`,
      )
    }
    let made = perRequest.get(request)
    if (made === undefined && !perRequest.has(request)) {
      made = create(request)
      perRequest.set(request, made)
    }
    return made as T
  }
}

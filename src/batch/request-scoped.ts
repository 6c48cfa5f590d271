/**
 * One set of loaders per incoming request: the simplest way to keep one user's memoized values
 * away from another's (what DataLoader's docs advise, made a one-liner). The loaders live as long
 * as the request object does — a WeakMap holds them, so nothing needs cleaning up.
 *
 * @example
 * const loadersFor = requestScoped(() => ({ user: new Loader(getUsers, { id: (u) => u.id }) }))
 * app.get('/page', async (req) => loadersFor(req).user.load(req.query.id))
 */
import { checkFunction } from '../core/validate.js'

export function requestScoped<T>(create: (request: object) => T): (request: object) => T {
  checkFunction('requestScoped()', 'create', create, '(request) => loaders')
  const perRequest = new WeakMap<object, T>()
  return (request) => {
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

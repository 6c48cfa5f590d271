/**
 * `fanout/next`: wraps a Next.js App Router route handler (or a server action) so that it runs
 * inside a request context: the flows, `execute()` calls, `requestScoped()` loaders and
 * `cached(…, { scope: 'user' })` entries it starts inherit the request's disconnect signal, the
 * caller's deadline header, its user, and post-response work handed to Next's `after()`.
 *
 * Use `requestScoped()` for per-request memoization, not React's `cache()`: in a route handler or
 * a server action `cache()` memoizes nothing (no error, no warning; test/next/react-cache.test.ts
 * shows it).
 *
 * It imports nothing from Node and nothing from Next at load time (types only; `after()` and
 * `headers()` are imported on first use), so it runs on Next's edge runtime too.
 *
 * @example
 * // app/api/products/[id]/route.ts
 * export const GET = withFanout(async (request, { params }: { params: Promise<{ id: string }> }) =>
 *   Response.json(await page.run({ id: (await params).id })),
 * )
 */
import { RequestContexts, type RequestContext } from '../core/request-context.js'
import { show } from '../core/validate.js'
import {
  checkOptions,
  userOf,
  type After,
  type FanoutActionOptions,
  type FanoutOptions,
} from './options.js'
import { nextExport } from './peer.js'

export type { After, FanoutActionOptions, FanoutOptions } from './options.js'
export type { RequestContext, RequestContexts } from '../core/request-context.js'

/** The handler `withFanout()` wraps: Next's, plus the request context as a third argument. */
export type FanoutRouteHandler<R extends Request, C> = (
  request: R,
  context: C,
  fanout: RequestContext,
) => Response | Promise<Response>

/** What `withFanout()` returns: a route handler to export, with its request contexts. */
export type RouteHandler<R extends Request, C> = ((request: R, context: C) => Promise<Response>) & {
  readonly contexts: RequestContexts
}

/** What `withFanoutAction()` returns: a server action to export, with its request contexts. */
export type ServerAction<A extends unknown[], T> = ((...args: A) => Promise<T>) & {
  readonly contexts: RequestContexts
}

const ROUTE = 'withFanout() from fanout/next'
const ACTION = 'withFanoutAction() from fanout/next'

/**
 * One request context per call of the route handler, ambient while the handler runs (and passed
 * as its third argument). Its signal fires when the client disconnects (`request.signal`, which
 * Next aborts on a disconnect); once the handler has returned its response the context ends and
 * its post-response work (`waitUntil`) goes to Next's `after()`.
 *
 * A streamed body is written after the handler returned: the context has ended by then, so work
 * done while streaming should watch `request.signal` itself.
 */
export function withFanout<R extends Request = Request, C = unknown>(
  handler: FanoutRouteHandler<R, C>,
  options?: FanoutOptions,
): RouteHandler<R, C> {
  if (typeof handler !== 'function')
    throw new TypeError(
      `${ROUTE}: pass the route handler (request, context) => Response, got ${show(handler)}.`,
    )
  const checked = checkOptions<(request: Request) => string | undefined>(ROUTE, options, [
    'user',
    'after',
  ])
  const contexts = RequestContexts.fromSettings(checked.contexts)
  const pickUser = checked.user
  const deferTo = deferral(checked.after, ROUTE)
  const route = async (request: R, context: C): Promise<Response> => {
    const defer = deferTo()
    const after = typeof defer === 'function' ? defer : await defer
    const ctx = contexts.open({
      request,
      headers: request.headers,
      signal: request.signal,
      defer: after,
      ...(pickUser === undefined ? {} : userOf(ROUTE, pickUser(request))),
    })
    try {
      return await ctx.run(() => handler(request, context, ctx))
    } finally {
      void ctx.end()
    }
  }
  return Object.assign(route, { contexts })
}

/**
 * The same for a server action. Its deadline header and user come from `headers()` of
 * `next/headers`; Next gives an action no disconnect signal, so its context's signal never fires.
 * Each call is one request: `requestScoped()` loaders are not shared between calls.
 */
export function withFanoutAction<A extends unknown[], T>(
  action: (...args: A) => T | Promise<T>,
  options?: FanoutActionOptions,
): ServerAction<A, T> {
  if (typeof action !== 'function')
    throw new TypeError(
      `${ACTION}: pass the server action (...args) => result, got ${show(action)}.`,
    )
  const checked = checkOptions<(headers: Headers) => string | undefined>(ACTION, options, [
    'user',
    'after',
    'headers',
  ])
  const contexts = RequestContexts.fromSettings(checked.contexts)
  const pickUser = checked.user
  const deferTo = deferral(checked.after, ACTION)
  const readHeaders =
    checked.headers ??
    (() => nextExport<() => Promise<Headers>>('next/headers', 'headers', ACTION).then((h) => h()))
  const wrapped = async (...args: A): Promise<T> => {
    const [defer, headers] = await Promise.all([deferTo(), readHeaders()])
    const ctx = contexts.open({
      // A fresh object per call: the key of this call's requestScoped() loaders.
      request: { headers },
      headers,
      defer,
      ...(pickUser === undefined ? {} : userOf(ACTION, pickUser(headers))),
    })
    try {
      return await ctx.run(() => action(...args))
    } finally {
      void ctx.end()
    }
  }
  return Object.assign(wrapped, { contexts })
}

/** The `after` to hand post-response work to: the option's, or Next's, loaded once. */
function deferral(given: After | undefined, where: string): () => Promise<After> | After {
  if (given !== undefined) return () => given
  let found: After | undefined
  // Started with the route module, so the first request rarely waits for it.
  const loading = nextExport<After>('next/server', 'after', where).then((after) => (found = after))
  loading.catch(() => undefined) // surfaces on the first request instead
  return () => found ?? loading
}

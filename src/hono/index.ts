/**
 * `fanout/hono`: Hono middleware that opens a request context for every request, so the flows,
 * `execute()` calls, `requestScoped()` loaders and `cached(…, { scope: 'user' })` entries a
 * handler starts inherit the request: its disconnect signal, the caller's deadline header, its
 * user, and post-response work handed to the platform.
 *
 * It imports nothing from Node and nothing from Hono at run time (types only), so it runs
 * wherever Hono does: @hono/node-server, Bun, Deno, Cloudflare Workers, Vercel and Netlify edge.
 *
 * @example
 * const app = new Hono<FanoutEnv>()
 * app.use(fanout({ budget: 2_000 }))
 * app.get('/products/:id', async (c) => c.json(await page.run({ id: c.req.param('id') })))
 */
import type { Context, Env, MiddlewareHandler, Next } from 'hono'
import { RequestContexts } from '../core/request-context.js'
import { onAbort } from '../core/signals.js'
import type { FanoutEnv } from './env.js'
import { checkOptions, userOf, type FanoutOptions } from './options.js'

export type { FanoutEnv } from './env.js'
export type { FanoutOptions } from './options.js'
export type { RequestContext, RequestContexts } from '../core/request-context.js'

/** The middleware, with the server's request contexts (for `drain()` on shutdown, `pending`). */
export type FanoutMiddleware<E extends Env = FanoutEnv> = MiddlewareHandler<E & FanoutEnv> & {
  readonly contexts: RequestContexts
}

/** The part of Workers' `ExecutionContext` (and a `FetchEvent`) used here. */
interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void
}

/**
 * One request context per request, set as `c.get('fanout')` and ambient while the rest of the
 * chain runs. Its signal fires when the client disconnects (`c.req.raw.signal`, which Hono's
 * runtimes abort on a disconnect and never on a finished request). Once the handler has returned
 * its response, or the client has gone, the context ends and its post-response work (`waitUntil`)
 * starts, handed to the platform's `executionCtx.waitUntil` where there is one (Workers) so that
 * it is not cut off.
 *
 * A streamed body (`stream()`, `streamSSE()`) is written after the handler returned: the context
 * has ended by then, so work done while streaming should watch `c.req.raw.signal` itself.
 */
export function fanout<E extends Env = FanoutEnv>(options?: FanoutOptions<E>): FanoutMiddleware<E> {
  const checked = checkOptions(options)
  const contexts = RequestContexts.fromSettings(checked.contexts)
  const pickUser = checked.user
  const middleware = async (c: Context<E & FanoutEnv>, next: Next): Promise<void> => {
    // A second fanout() on the same request (an app and a sub-app) keeps the first context.
    if ((c.get('fanout') as unknown) !== undefined) return next()
    const raw = c.req.raw
    const ctx = contexts.open({
      request: raw,
      headers: raw.headers,
      ...(pickUser === undefined ? {} : userOf(pickUser, c)),
    })
    c.set('fanout', ctx)
    // The one listener on the runtime's signal: a client that left aborts the context and ends
    // the request there, so its post-response work need not wait for a handler that ignores it.
    const gone = (): void => {
      ctx.clientClosed()
      void ctx.end()
    }
    const signal = raw.signal
    if (signal.aborted) gone()
    const detach = onAbort(signal, gone)
    try {
      await ctx.run(next)
    } finally {
      detach()
      // Only work the platform must keep alive is handed over: most requests have none.
      if (ctx.hasPendingWork) handOff(c, ctx.end())
      else void ctx.end()
    }
  }
  return Object.assign(middleware, { contexts })
}

/** Gives the post-response work to the platform, so that it outlives the response there. */
function handOff(c: Context, done: Promise<void>): void {
  let platform: Partial<WaitUntil> | undefined
  // Hono's getter throws where the runtime gave no execution context (Node, Bun, Deno): on every
  // request there. Without a stack the error costs next to nothing to make.
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    platform = c.executionCtx as Partial<WaitUntil> | undefined
  } catch {
    return
  } finally {
    Error.stackTraceLimit = limit
  }
  if (typeof platform?.waitUntil !== 'function') return
  try {
    platform.waitUntil(done)
  } catch {
    // Refused (the platform's request already over): the work still runs, tracked by `contexts`.
  }
}

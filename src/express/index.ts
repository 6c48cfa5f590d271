/// <reference types="node" />
/**
 * `fanout/express`: the request context (see fanout's `requestContexts()`) as Express middleware,
 * for Express 4 and 5. Every flow, `execute()` call, `cached({ scope: 'user' })` entry and
 * `requestScoped()` loader set started in a route behind it inherits the request: its signal
 * fires when the client disconnects before the response is out, its deadline is the server's
 * budget shortened by the caller's `grpc-timeout` / `x-request-timeout-ms`, and `waitUntil` work
 * runs after the response.
 *
 * Express itself is never imported (its types only), so there is nothing to be missing at run
 * time.
 *
 * @example
 * const app = express()
 * const withFanout = fanout({ budget: 2_000 })
 * app.use(withFanout)
 * app.get('/products/:id', async (req, res) => {
 *   res.json(await productPage.run({ id: req.params.id })) // inherits the request
 * })
 * // on shutdown, after server.close():
 * await withFanout.contexts.drain(10_000)
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { NextFunction, Request, Response } from 'express'
import { useAsyncLocalStorage } from '../core/ambient.js'
import { RequestContext, RequestContexts } from '../core/request-context.js'
import { show } from '../core/validate.js'
import { checkFanoutOptions, WHERE, type FanoutOptions } from './options.js'

export type { FanoutOptions } from './options.js'

// Older Node 20s have no process.getBuiltinModule, through which the core finds it itself.
useAsyncLocalStorage(AsyncLocalStorage)

declare global {
  // The open interfaces Express's types merge into `req` and `res.locals`, in Express 4 and 5
  // alike; a global needs no module to resolve, so it holds whichever copy of the types the
  // application has (or none).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request's fanout context, on every request that passed `fanout()`. */
      fanout: RequestContext
    }
    interface Locals {
      /** The same as `req.fanout`, for code that only sees `res`. */
      fanout: RequestContext
    }
  }
}

/** Express middleware that opens each request's context; `contexts` is for `drain()`. */
export interface FanoutMiddleware {
  (req: Request, res: Response, next: NextFunction): void
  /** This middleware's request contexts: `await contexts.drain(ms)` on shutdown, `pending`. */
  readonly contexts: RequestContexts
}

/**
 * The middleware: mount it before the routes whose outbound calls should follow the request.
 * Mounted twice on one path (an app and a router), the first context stays.
 */
export function fanout(options?: FanoutOptions): FanoutMiddleware {
  const settings = checkFanoutOptions(options)
  const contexts = RequestContexts.fromSettings(settings.context)
  const userOf = settings.user
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    const open = (req as Partial<Request>).fanout
    if (open instanceof RequestContext && !open.ended) {
      next()
      return
    }
    // Read before anything is opened: a reader that throws leaves nothing to release.
    const user = userOf === undefined ? undefined : checkUser(userOf(req))
    const ctx = contexts.open(
      user === undefined
        ? { request: req, headers: req.headers }
        : { request: req, headers: req.headers, user },
    )
    req.fanout = ctx
    // Express's app makes `res.locals`; a bare router (the `router` package on node:http) does not.
    res.locals ??= Object.create(null) as Response['locals']
    res.locals.fanout = ctx
    const closed = (): void => {
      // Only the response knows whether the client left early: `req` closes as soon as a
      // request body has been read, so a POST would look disconnected while it is being served.
      if (!res.writableEnded) ctx.clientClosed()
      // Releases the signal's listener and starts the post-response work.
      void ctx.end()
    }
    // The connection may already be gone (a slow middleware before this one): 'close' has fired.
    if (res.closed || res.destroyed) closed()
    else res.once('close', closed)
    ctx.run(() => next())
  }
  Object.defineProperty(middleware, 'contexts', { value: contexts, enumerable: true })
  return middleware as FanoutMiddleware
}

/** The reader's answer: a user, or none. An empty string (an empty header) is none, not a user. */
function checkUser(user: unknown): string | undefined {
  if (user === undefined || user === '') return undefined
  if (typeof user === 'string') return user
  throw new TypeError(
    `${WHERE}: the \`user\` option must return a string or undefined, got ${show(user)}.`,
  )
}

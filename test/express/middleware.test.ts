/**
 * fanout/express's middleware itself: options checked at construction with clear errors (own
 * properties only), `req.fanout` and `res.locals.fanout`, the context ambient through routers,
 * async handlers and error handlers, a `user` reader that fails, being mounted twice, and the
 * bare `(req, res, next)` call shape Express 4 and 5 share.
 */
import express from 'express'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { currentRequest, RequestContexts } from '../../src/core/request-context.js'
import { fanout } from '../../src/express/index.js'
import { flow } from '../../src/flow/define.js'
import { closeServers, listen, send } from './server.js'

afterAll(closeServers)

describe('fanout/express: options', () => {
  it('are checked at construction, with errors naming fanout() and the fix', () => {
    expect(() => fanout({ usr: () => 'ada' } as never)).toThrow(
      /^fanout\(\): unknown option `usr`\. Did you mean `user`\?/,
    )
    expect(() => fanout({ budgt: 100 } as never)).toThrow(/Did you mean `budget`\?/)
    expect(() => fanout({ user: 'ada' } as never)).toThrow(
      /fanout\(\): `user` must be a function \(req\) => string \| undefined, got "ada"/,
    )
    expect(() => fanout({ budget: 0 })).toThrow(/fanout\(\): `budget`.*0 does not mean "no limit"/)
    expect(() => fanout({ budget: 500, maxBudget: 100 })).toThrow(
      /fanout\(\): `budget` \(500 ms\) is longer than `maxBudget` \(100 ms\)/,
    )
    expect(() => fanout({ deadlineHeaders: ['X-Timeout'] })).toThrow(/lower-case header names/)
    expect(() => fanout({ margin: -1 })).toThrow(/`margin`/)
    expect(() => fanout({ onError: 'log' } as never)).toThrow(/`onError` must be a function/)
    expect(() => fanout('fast' as never)).toThrow(/options must be a plain object/)
    expect(() =>
      fanout({ budget: 100, user: () => undefined, deadlineHeaders: false }),
    ).not.toThrow()
  })

  it('reads own properties only: a polluted or inherited key is no option', () => {
    const inherited = Object.create({ budget: 'soon', user: 'ada' }) as object
    expect(() => fanout(inherited)).not.toThrow()
    const proto = Object.prototype as { budget?: unknown }
    proto.budget = 'soon'
    try {
      expect(() => fanout({})).not.toThrow()
    } finally {
      delete proto.budget
    }
  })

  it('exposes its request contexts, read-only', () => {
    const withFanout = fanout()
    expect(withFanout.contexts).toBeInstanceOf(RequestContexts)
    expect(() => {
      ;(withFanout as { contexts: unknown }).contexts = null
    }).toThrow(TypeError)
  })
})

describe('fanout/express: the context in routes', () => {
  it('is req.fanout and res.locals.fanout, ambient through routers, async handlers and error handlers', async () => {
    const seen: Record<string, boolean> = {}
    const page = flow('page').task('ambient', () => currentRequest())
    const server = await listen((app) => {
      app.use(fanout())
      const router = express.Router()
      router.get('/page', async (req, res) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        const { ambient } = await page.run()
        seen.route = ambient === req.fanout && req.fanout === res.locals.fanout
        throw new Error('boom')
      })
      app.use('/api', router)
      app.use(
        (
          error: Error,
          req: express.Request,
          res: express.Response,
          _next: express.NextFunction,
        ) => {
          seen.errorHandler = currentRequest() === req.fanout
          res.status(500).json({ error: error.message })
        },
      )
    })
    const answer = await send(`${server.origin}/api/page`).answer
    expect(answer.status).toBe(500)
    expect(seen).toEqual({ route: true, errorHandler: true })
  })

  it('a user reader that throws or returns a non-string fails the request through Express, opening nothing', async () => {
    const withFanout = fanout({
      user: (req) => {
        if (req.get('x-user') === 'throw') throw new Error('session store down')
        return req.get('x-user') === 'number' ? (42 as unknown as string) : req.get('x-user')
      },
    })
    const seen: unknown[] = []
    const server = await listen((app) => {
      app.use(withFanout)
      app.get('/', (req, res) => res.json({ user: req.fanout.user ?? null }))
      app.use(
        (
          error: Error,
          req: express.Request,
          res: express.Response,
          _next: express.NextFunction,
        ) => {
          seen.push((req as Partial<express.Request>).fanout)
          res.status(500).json({ error: error.message })
        },
      )
    })
    const get = async (user: string) =>
      send(server.origin, { headers: { 'x-user': user } }).answer.then((a) => ({
        status: a.status,
        body: JSON.parse(a.body) as unknown,
      }))
    expect(await get('ada')).toEqual({ status: 200, body: { user: 'ada' } })
    expect(await get('throw')).toEqual({ status: 500, body: { error: 'session store down' } })
    expect(await get('number')).toEqual({
      status: 500,
      body: {
        error: 'fanout(): the `user` option must return a string or undefined, got 42.',
      },
    })
    expect(await get('')).toEqual({ status: 200, body: { user: null } })
    expect(seen).toEqual([undefined, undefined])
  })

  it('mounted twice (app and router), keeps the first context and listens once', async () => {
    const outer = fanout({ budget: 5_000 })
    const inner = fanout({ budget: 100 })
    let closeListeners = -1
    let same = false
    const server = await listen((app) => {
      let first: unknown
      app.use((req, res, next) => {
        closeListeners = res.listenerCount('close')
        next()
      })
      app.use(outer)
      app.use((req, _res, next) => {
        first = req.fanout
        next()
      })
      const router = express.Router()
      router.use(inner)
      router.get('/x', (req, res) => {
        same = req.fanout === first
        closeListeners = res.listenerCount('close') - closeListeners
        res.json(Math.round(req.fanout.deadlineAt - req.fanout.startedAt))
      })
      app.use(router)
    })
    expect(JSON.parse((await send(`${server.origin}/x`).answer).body)).toBe(5_000)
    expect(same).toBe(true)
    expect(closeListeners).toBe(1)
  })
})

describe('fanout/express: the bare middleware call shape (Express 4 and 5 alike)', () => {
  it('works on plain node:http with a hand-rolled next(): no app, no res.locals made beforehand', async () => {
    const withFanout = fanout({ budget: 1_000 })
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const ctx = (req as express.Request).fanout
      const ok =
        currentRequest() === ctx &&
        (res as express.Response).locals.fanout === ctx &&
        Math.round(ctx.deadlineAt - ctx.startedAt) === 1_000
      res.end(String(ok))
    }
    // What every Express calls a middleware with: (req, res, next), its return value unused.
    const server = createServer((req, res) => {
      const result: unknown = withFanout(req as express.Request, res as express.Response, () =>
        handler(req, res),
      )
      expect(result).toBeUndefined()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const answer = await send(`http://127.0.0.1:${port}/`).answer
      expect(answer.body).toBe('true')
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

import express, { Router, type RequestHandler } from 'express'
import { describe, expectTypeOf, it } from 'vitest'
import type { RequestContext, RequestContexts } from '../../src/core/request-context.js'
import { fanout, type FanoutMiddleware } from '../../src/express/index.js'

describe('fanout/express types', () => {
  it('is Express middleware, with its contexts', () => {
    const mw = fanout({ budget: 2_000 })
    expectTypeOf(mw).toEqualTypeOf<FanoutMiddleware>()
    expectTypeOf(mw).toExtend<RequestHandler>()
    expectTypeOf(mw.contexts).toEqualTypeOf<RequestContexts>()
    express().use(mw)
    Router().use('/api', mw)
  })

  it('types req.fanout and res.locals.fanout', () => {
    const app = express()
    app.get('/products/:id', (req, res) => {
      expectTypeOf(req.fanout).toEqualTypeOf<RequestContext>()
      expectTypeOf(res.locals.fanout).toEqualTypeOf<RequestContext>()
      expectTypeOf(req.params.id).toEqualTypeOf<string>()
      res.end()
    })
  })

  it('lets the user option read the request', () => {
    fanout({ user: (req) => req.get('x-user') })
    // @ts-expect-error: the user is a string, not a number
    fanout({ user: () => 42 })
    // @ts-expect-error: an unknown option
    fanout({ usr: () => 'ada' })
  })
})

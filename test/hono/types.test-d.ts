import { Hono } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'
import type { RequestContext } from '../../src/core/request-context.js'
import { fanout, type FanoutEnv, type RequestContexts } from '../../src/hono/index.js'

describe('fanout/hono types', () => {
  it('types c.get("fanout") on an app declared with FanoutEnv', () => {
    const app = new Hono<FanoutEnv>()
    const mw = fanout()
    expectTypeOf(mw.contexts).toEqualTypeOf<RequestContexts>()
    app.use(mw)
    app.get('/', (c) => {
      expectTypeOf(c.get('fanout')).toEqualTypeOf<RequestContext>()
      return c.text('ok')
    })
  })

  it('types it on an app that only uses the middleware', () => {
    const app = new Hono().use(fanout())
    app.get('/', (c) => {
      expectTypeOf(c.get('fanout')).toEqualTypeOf<RequestContext>()
      return c.text('ok')
    })
  })

  it('lets the user option read the app’s own variables', () => {
    type AppEnv = { Variables: { session: { userId: string } | undefined } }
    const app = new Hono<AppEnv & FanoutEnv>()
    app.use(fanout<AppEnv>({ user: (c) => c.get('session')?.userId }))
    // @ts-expect-error: the user is a string, not a number
    fanout({ user: () => 42 })
  })
})

import type { RequestContext } from '../core/request-context.js'

/** The variables fanout/hono sets on Hono's context: `c.get('fanout')` is the request's context. */
export type FanoutEnv = { Variables: { fanout: RequestContext } }

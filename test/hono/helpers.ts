/**
 * A Hono app on a real @hono/node-server on 127.0.0.1 (port 0); the raw client whose socket a
 * test can destroy mid-request, and the load checks' bookkeeping, are shared (test/helpers).
 */
import { serve } from '@hono/node-server'
import type { Env, Hono } from 'hono'
import type { Server } from 'node:http'
import { served, type Served } from '../helpers/adapter-server.js'

export type { Served } from '../helpers/adapter-server.js'
export { send, sendThenCut } from '../helpers/http-client.js'
export { measureWindow, pool, resources, type Window } from '../helpers/load.js'

export async function listen<E extends Env>(app: Hono<E>): Promise<Served> {
  return served(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server)
}

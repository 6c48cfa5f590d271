/**
 * fanout/hono: the two pages of the framework examples on Hono, served by @hono/node-server.
 *
 * - `GET /api/dashboard` (seed 000): an auth gate, then the user's data in parallel;
 * - `GET /products/:id` (seed 001): details, stock, reviews and their authors, recommendations.
 *
 * The route handlers pass nothing: inside the `fanout()` middleware the flows inherit the
 * request. A client that disconnects cancels the upstream calls; a caller's `grpc-timeout` or
 * `x-request-timeout-ms` header shortens the budget (the optional parts fall back in time).
 *
 *   npx tsx examples/hono.ts                # serves on 127.0.0.1:3000, prints curl commands
 *   npx tsx examples/hono.ts --port 8080
 *   npx tsx examples/hono.ts --smoke        # requests both pages once, prints them, exits
 */
import { serve } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { fanout, type FanoutEnv } from '../src/hono/index.js'
import { DEMO_TOKEN, PAGE_TOKEN, startBackends, type BackendOptions } from './lib/backends.js'
import { runExample, statusOf, type Example } from './lib/run-example.js'

export { DEMO_TOKEN, PAGE_TOKEN, type Example }

const bearer = (c: Context): string => c.req.header('authorization')?.replace(/^Bearer /, '') ?? ''

export async function start(port = 3000, backendOptions: BackendOptions = {}): Promise<Example> {
  const backends = await startBackends(backendOptions)

  const app = new Hono<FanoutEnv>()
  // Every request: 3 s at most, less if the caller's deadline header says so.
  const requests = fanout({ budget: 3_000 })
  app.use(requests)
  app.onError((error, c) => {
    const status = statusOf(error)
    return status === 499
      ? new Response(null, { status }) // the client left: nobody reads it, nothing to log
      : c.json({ error: error.name }, status) // the name only: a message may name hosts
  })

  app.get('/api/dashboard', async (c) => c.json(await backends.dashboard(bearer(c))))
  app.get('/products/:id{[0-9]+}', async (c) =>
    c.json(await backends.product(Number(c.req.param('id')), bearer(c))),
  )

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    async close() {
      await new Promise((resolve) => server.close(resolve))
      await requests.contexts.drain(5_000) // post-response work still running, bounded
      await backends.close()
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runExample('fanout/hono', start)

/**
 * fanout/express: the two pages of the framework examples on Express.
 *
 * - `GET /api/dashboard` (seed 000): an auth gate, then the user's data in parallel;
 * - `GET /products/:id` (seed 001): details, stock, reviews and their authors, recommendations.
 *
 * The route handlers pass nothing: behind the `fanout()` middleware the flows inherit the
 * request. A client that disconnects cancels the upstream calls; a caller's `grpc-timeout` or
 * `x-request-timeout-ms` header shortens the budget (the optional parts fall back in time).
 *
 *   npx tsx examples/express.ts                # serves on 127.0.0.1:3000, prints curl commands
 *   npx tsx examples/express.ts --port 8080
 *   npx tsx examples/express.ts --smoke        # requests both pages once, prints them, exits
 */
import express, { type NextFunction, type Request, type Response } from 'express'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { fanout } from '../src/express/index.js'
import { DEMO_TOKEN, PAGE_TOKEN, startBackends, type BackendOptions } from './lib/backends.js'
import { runExample, statusOf, type Example } from './lib/run-example.js'

export { DEMO_TOKEN, PAGE_TOKEN, type Example }

const bearer = (req: Request): string => req.get('authorization')?.replace(/^Bearer /, '') ?? ''

export async function start(port = 3000, backendOptions: BackendOptions = {}): Promise<Example> {
  const backends = await startBackends(backendOptions)

  const app = express()
  // Every request: 3 s at most, less if the caller's deadline header says so.
  const requests = fanout({ budget: 3_000 })
  app.use(requests)

  // Express 5 hands a rejected handler's error to the error handler below.
  app.get('/api/dashboard', async (req, res) => {
    res.json(await backends.dashboard(bearer(req)))
  })
  app.get('/products/:id', async (req, res, next) => {
    const id = Number(req.params.id)
    if (!Number.isInteger(id)) return next() // a 404
    res.json(await backends.product(id, bearer(req)))
  })

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = statusOf(error)
    // The client left: nobody reads an answer, and there is nothing to log.
    if (status === 499) return void res.status(499).end()
    // The name only: a message may name hosts.
    res.status(status).json({ error: (error as Error).name })
  })

  const server = app.listen(port, '127.0.0.1')
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    async close() {
      server.closeIdleConnections()
      await new Promise((resolve) => server.close(resolve))
      await requests.contexts.drain(5_000) // post-response work still running, bounded
      await backends.close()
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runExample('fanout/express', start)

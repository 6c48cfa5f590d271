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
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { fanout } from '../src/express/index.js'
import { isFanoutError } from '../src/index.js'
import { DEMO_TOKEN, PAGE_TOKEN, startBackends, type BackendOptions } from './lib/backends.js'

export { DEMO_TOKEN, PAGE_TOKEN }

export interface Example {
  readonly url: string
  close(): Promise<void>
}

const bearer = (req: Request): string => req.get('authorization')?.replace(/^Bearer /, '') ?? ''

/** The status a failure answers with: a deadline, an upstream's refusal, or a 502. */
function statusOf(error: unknown): 401 | 502 | 504 {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (isFanoutError(e, 'FANOUT_DEADLINE')) return 504
    if ((e as { status?: unknown }).status === 401) return 401
  }
  return 502
}

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
    // The client left: nobody reads an answer, and there is nothing to log.
    if (isFanoutError(error, 'FANOUT_CLIENT_CLOSED')) return void res.status(499).end()
    // The name only: a message may name hosts.
    res.status(statusOf(error)).json({ error: (error as Error).name })
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '3000' }, smoke: { type: 'boolean' } },
  })
  const example = await start(Number(values.port))
  const pages = [
    { path: '/api/dashboard', token: DEMO_TOKEN },
    { path: '/products/1', token: PAGE_TOKEN },
  ]
  if (!values.smoke) {
    console.log(`fanout/express example on ${example.url}; try:`)
    for (const { path, token } of pages)
      console.log(`  curl -H 'authorization: Bearer ${token}' ${example.url}${path}`)
    console.log(
      `  curl -H 'authorization: Bearer ${PAGE_TOKEN}' -H 'grpc-timeout: 150m' ${example.url}/products/1`,
    )
    process.once('SIGINT', () => void example.close())
    return
  }
  try {
    for (const { path, token } of pages) {
      // eslint-disable-next-line fanout/no-await-in-loop-independent -- one page after the other, so the output reads in order
      const res = await fetch(`${example.url}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      console.log(`GET ${path} → ${res.status}\n${JSON.stringify(await res.json(), null, 2)}`)
      if (!res.ok) process.exitCode = 1
    }
  } finally {
    await example.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()

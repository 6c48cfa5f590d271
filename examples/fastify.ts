/**
 * fanout/fastify: the two pages of the framework examples on Fastify 5.
 *
 * - `GET /api/dashboard` (seed 000): an auth gate, then the user's data in parallel;
 * - `GET /products/:id` (seed 001): details, stock, reviews and their authors, recommendations.
 *
 * The route handlers pass nothing: with `fanoutPlugin` registered, the flows inherit the request.
 * A client that disconnects cancels the upstream calls; Fastify's `handlerTimeout` is each
 * request's budget, and a caller's `grpc-timeout` or `x-request-timeout-ms` header shortens it
 * (the optional parts fall back in time, before Fastify would answer 503).
 *
 *   npx tsx examples/fastify.ts                # serves on 127.0.0.1:3000, prints curl commands
 *   npx tsx examples/fastify.ts --port 8080
 *   npx tsx examples/fastify.ts --smoke        # requests both pages once, prints them, exits
 */
import Fastify, { type FastifyRequest } from 'fastify'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { fanoutPlugin } from '../src/fastify/index.js'
import { DEMO_TOKEN, PAGE_TOKEN, startBackends, type BackendOptions } from './lib/backends.js'
import { runExample, statusOf, type Example } from './lib/run-example.js'

export { DEMO_TOKEN, PAGE_TOKEN, type Example }

const bearer = (request: FastifyRequest): string =>
  request.headers.authorization?.replace(/^Bearer /, '') ?? ''

export async function start(port = 3000, backendOptions: BackendOptions = {}): Promise<Example> {
  const backends = await startBackends(backendOptions)

  // Every request: 3 s at most (Fastify's handler timeout is the budget), less if the caller asks.
  const app = Fastify({ handlerTimeout: 3_000 })
  await app.register(fanoutPlugin)
  // The error's name only: its message may name internal hosts.
  app.setErrorHandler((error, _request, reply) =>
    reply.code(statusOf(error)).send({ error: (error as Error).name }),
  )

  app.get('/api/dashboard', (request) => backends.dashboard(bearer(request)))
  app.get<{ Params: { id: string } }>('/products/:id(^\\d+$)', (request) =>
    backends.product(Number(request.params.id), bearer(request)),
  )

  await app.listen({ port, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return {
    url,
    async close() {
      await app.close() // waits for post-response work still running
      await backends.close()
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runExample('fanout/fastify', start)

/**
 * Real Fastify servers on 127.0.0.1 (port 0) for fanout/fastify's tests; the raw client and the
 * leak checks' bookkeeping are shared with the other adapters' tests (test/helpers).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { closeServers, served, type Served as Handle } from '../helpers/adapter-server.js'

export {
  send,
  sendThenCut,
  type Answer,
  type Cut,
  type SendOptions,
} from '../helpers/http-client.js'
export { measureWindow, pool, resources, settleTurns as settle, sleep } from '../helpers/load.js'
export { closeServers }

export interface Served extends Handle {
  readonly app: FastifyInstance
}

/** A Fastify app set up by `setup` (which may register plugins), listening on a loopback port. */
export async function listen(
  setup: (app: FastifyInstance) => void | Promise<void>,
  options: FastifyServerOptions = {},
): Promise<Served> {
  const app = Fastify({ logger: false, ...options })
  await setup(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  // app.close() runs Fastify's onClose hooks (the plugin drains post-response work there).
  return { app, ...(await served(app.server, () => app.close())) }
}

/**
 * The two pages every framework example serves, framework-neutral, with the simulated services
 * they call:
 *
 * - `dashboard(token)`: seed 000's route handler: an auth gate, then the user's data in parallel
 *   (`routeFlow` from examples/route.ts, against examples/lib/services.ts);
 * - `product(productId, token)`: seed 001's product page: details, stock, reviews and their
 *   authors (batched), recommendations, with the optional parts falling back (`fanoutPage` from
 *   the demo, against the demo's upstreams, through fanout/http).
 *
 * Neither takes a signal or a deadline: run inside a request context (fanout/express,
 * fanout/fastify, fanout/hono, fanout/next), their flows inherit the request's.
 */
import { createHttpClient } from '../../src/http/index.js'
import { startBackground } from '../../src/demo/background.js'
import { fanoutPage, type PageView } from '../../src/demo/page.js'
import { DEMO_TOKEN as PAGE_TOKEN, startUpstreams } from '../../src/demo/upstreams.js'
import { routeFlow, type Page } from '../route.js'
import { DEMO_TOKEN, startServices, type ServiceOptions } from './services.js'

export { DEMO_TOKEN, PAGE_TOKEN, type Page, type PageView }

export interface BackendOptions {
  /** Multiplies every simulated latency (0.1 = ten times faster). Default 1. */
  readonly latencyScale?: number
  /** Share of upstream 5xx answers on the product page's services. Default 0. */
  readonly failureRate?: number
  readonly seed?: number
  /** Overrides the dashboard services' typical latencies (ms). */
  readonly latency?: ServiceOptions['latency']
}

export interface Backends {
  /** Seed 000: `GET /api/dashboard` with `authorization: Bearer <token>`. */
  dashboard(token: string): Promise<Page>
  /** Seed 001: `GET /products/:id` with `authorization: Bearer <token>`. */
  product(productId: number, token: string): Promise<PageView>
  close(): Promise<void>
}

export async function startBackends(options: BackendOptions = {}): Promise<Backends> {
  const latencyScale = options.latencyScale ?? 1
  const services = await startServices({
    latencyScale,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.latency === undefined ? {} : { latency: options.latency }),
  })
  const upstreams = await startUpstreams({
    latencyScale,
    failureRate: options.failureRate ?? 0,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  })
  const http = createHttpClient({ ssrf: { allow: ['loopback'] }, connections: 32, retry: false })
  const background = startBackground(http, upstreams.urls)
  const page = fanoutPage(http, upstreams.urls, background.jobs)
  return {
    dashboard: async (token) => {
      const { user, settings, balance, access } = await routeFlow.run({
        token,
        services: services.urls,
      })
      return { user, settings, balance, access }
    },
    product: (productId, token) => page({ productId, token }),
    async close() {
      await background.close()
      await http.close()
      await Promise.all([services.close(), upstreams.close()])
    },
  }
}

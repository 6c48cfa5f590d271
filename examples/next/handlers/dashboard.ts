/**
 * Seed 000, `GET /api/dashboard` with `authorization: Bearer <token>`: an auth gate, then the
 * user's data in parallel. Inside withFanout() the flow inherits the request: a client that
 * disconnects aborts the calls in flight, and a caller's `grpc-timeout` or `x-request-timeout-ms`
 * header shortens the 2 s budget.
 */
import { withFanout } from '../../../src/next/index.js'
import { backends, bearer, statusOf } from './backends.js'

export const GET = withFanout(
  async (request) => {
    const token = bearer(request)
    if (token === undefined) return Response.json({ error: 'unauthorized' }, { status: 401 })
    const services = await backends()
    try {
      return Response.json(await services.dashboard(token))
    } catch (error) {
      // The auth gate's refusal, as the flow reports it (a failed gate, caused by the 401).
      if (statusOf(error) === 401) return Response.json({ error: 'unauthorized' }, { status: 401 })
      throw error
    }
  },
  { budget: 2_000 },
)

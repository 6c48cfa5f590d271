/**
 * `GET|POST /api/relay`: sends the request's body on to the upstream named by `UPSTREAM_URL` (a
 * flow task that retries any failure), answers with the upstream's reply, and reports to the
 * upstream's `/after` once the response is out (Next's `after()`, through `waitUntil`).
 *
 * The end-to-end test (test/next/e2e.test.ts) drives it: a client that disconnects aborts the
 * upstream call and no retry follows; a POST whose client waits is never aborted.
 */
import { currentRequest, flow } from '../../../src/index.js'
import { withFanout } from '../../../src/next/index.js'

const relay = flow<{ url: string; method: string; body: string }>('relay').task(
  'upstream',
  async (_, ctx) => {
    const { url, method, body } = ctx.input
    const init = method === 'POST' ? { method, body } : { method }
    const res = await fetch(url, { ...init, signal: ctx.signal, cache: 'no-store' })
    if (!res.ok) throw new Error(`upstream answered HTTP ${res.status}`)
    return res.text()
  },
  // Retried on any failure: only the request's own abort may stop it.
  { retry: { maxAttempts: 5, baseDelay: 1, maxDelay: 5, shouldRetry: () => true, budget: false } },
)

async function handle(request: Request): Promise<Response> {
  const upstream = process.env.UPSTREAM_URL
  if (upstream === undefined)
    return Response.json({ error: 'UPSTREAM_URL is not set' }, { status: 503 })
  const body = request.method === 'POST' ? await request.text() : ''
  const { upstream: reply } = await relay.run({
    url: `${upstream}/relay`,
    method: request.method,
    body,
  })
  // After the response: not cut off when the response finishes, nor when the client leaves.
  currentRequest()?.waitUntil(async () => {
    const res = await fetch(`${upstream}/after`, { method: 'POST', body: String(body.length) })
    await res.body?.cancel()
  })
  return Response.json({ reply, bytes: body.length })
}

export const GET = withFanout(handle)
export const POST = withFanout(handle)

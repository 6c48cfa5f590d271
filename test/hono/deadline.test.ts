/**
 * A caller's deadline header shortens the request's budget, and the response comes back in time
 * with partial results: the optional parts fall back, the required ones are in.
 */
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fanout, type FanoutEnv } from '../../src/hono/index.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { flow, isFanoutError } from '../../src/index.js'
import { closeAll, serve, type Upstream } from '../helpers/upstream.js'
import { listen, send, type Served } from './helpers.js'

let upstream: Upstream
let http: HttpClient
let served: Served

interface PageInput {
  readonly fast: string
  readonly slow: string
}

const page = flow<PageInput>('product')
  .task('details', (_, ctx) => http.json<{ at: string }>(ctx.input.fast, { context: ctx }))
  .task(
    'recommendations',
    (_, ctx) => http.json<{ at: string }>(ctx.input.slow, { context: ctx }),
    { fallback: null },
  )

const strict = flow<PageInput>('strict').task('details', (_, ctx) =>
  http.json<{ at: string }>(ctx.input.slow, { context: ctx }),
)

beforeAll(async () => {
  upstream = await serve((req, res) => {
    const ms = req.url === '/slow' ? 3_000 : 20
    const timer = setTimeout(() => res.end(JSON.stringify({ at: req.url })), ms)
    res.on('close', () => clearTimeout(timer))
  })
  http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
  const app = new Hono<FanoutEnv>()
  // The deadline may fail the run itself, or first the task's request (which has it too).
  app.onError((error, c) => {
    let deadline = false
    for (let e: unknown = error; e instanceof Error; e = e.cause)
      deadline ||= isFanoutError(e, 'FANOUT_DEADLINE')
    return c.json({ error: deadline ? 'FANOUT_DEADLINE' : `${error.name}: ${error.message}` }, 504)
  })
  app.use(fanout({ maxBudget: 10_000 }))
  const input = (): PageInput => ({ fast: upstream.url('/fast'), slow: upstream.url('/slow') })
  app.get('/product', async (c) => {
    const ctx = c.get('fanout')
    const budget = Math.round(ctx.deadlineAt - ctx.startedAt)
    return c.json({ budget, ...(await page.run(input())) })
  })
  app.get('/strict', async (c) => c.json(await strict.run(input())))
  app.get('/budget', (c) => {
    const ctx = c.get('fanout')
    const budget = ctx.deadlineAt - ctx.startedAt
    // Infinity (no budget) is `null` in JSON.
    return c.json({ budget: Number.isFinite(budget) ? Math.round(budget) : null })
  })
  served = await listen(app)
})

afterAll(async () => {
  await served.close()
  await http.close()
  await closeAll()
})

async function timed(path: string, headers: Record<string, string>) {
  const startedAt = performance.now()
  const reply = await send(`${served.origin}${path}`, { headers })
  return {
    ms: performance.now() - startedAt,
    status: reply.status,
    body: JSON.parse(reply.body) as unknown,
  }
}

describe('fanout/hono: the deadline header', () => {
  it.each([
    ['grpc-timeout', '250m'],
    ['x-request-timeout-ms', '250'],
  ])('%s: %s shortens the budget; partial results come back in time', async (name, value) => {
    const reply = await timed('/product', { [name]: value })
    expect(reply.status).toBe(200)
    // 250 ms less the 10 ms margin; the optional part, still waiting upstream, fell back.
    expect(reply.body).toEqual({ budget: 240, details: { at: '/fast' }, recommendations: null })
    expect(reply.ms).toBeGreaterThanOrEqual(200)
    expect(reply.ms).toBeLessThan(2_000) // the slow upstream answers at 3 s: a generous bound
  })

  it('a required part still running at the deadline fails the request in time', async () => {
    const reply = await timed('/strict', { 'grpc-timeout': '250m' })
    expect(reply).toMatchObject({ status: 504, body: { error: 'FANOUT_DEADLINE' } })
    expect(reply.ms).toBeLessThan(2_000)
  })

  it.each([
    [{ 'grpc-timeout': '100M' }, 10_000], // 100 minutes, capped by maxBudget
    [{ 'grpc-timeout': '5S' }, 4_990],
    [{ 'grpc-timeout': '1H' }, 10_000],
    [{ 'grpc-timeout': '10x' }, null], // malformed: ignored (no budget without one)
    [{ 'grpc-timeout': '123456789m' }, null], // nine digits: ignored
    [{ 'grpc-timeout': '-1S' }, null],
    [{ 'grpc-timeout': '900u' }, 0], // 0.9 ms, less the margin
    [{ 'x-request-timeout-ms': '300', 'grpc-timeout': '2S' }, 290], // the smaller wins
    [{}, null],
  ])('%o gives a budget of %s ms', async (headers, budget) => {
    const reply = await timed('/budget', headers as Record<string, string>)
    expect(reply.body).toEqual({ budget })
  })
})

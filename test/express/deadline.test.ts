/**
 * fanout/express reads the caller's budget: `grpc-timeout` and `x-request-timeout-ms` shorten the
 * request's deadline (less the margin, capped by `maxBudget`, a malformed value ignored), and a
 * page whose optional parts outlast it comes back in time with partial results; one whose
 * required part outlasts it fails with FANOUT_DEADLINE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fanout } from '../../src/express/index.js'
import { flow } from '../../src/flow/define.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { closeAll, serve, waitFor, type Upstream } from '../helpers/upstream.js'
import { closeServers, listen, send, type Running } from './server.js'

let upstream: Upstream
let http: HttpClient
let server: Running
/** Upstream requests cut off before they answered. */
let cut = 0

const page = flow('page')
  .task('details', async (_, ctx) =>
    (await http.get(upstream.url('/wait?ms=20'), { context: ctx })).text(),
  )
  .task(
    'reviews',
    async (_, ctx) => (await http.get(upstream.url('/wait?ms=3000'), { context: ctx })).text(),
    { fallback: 'no reviews' },
  )

const strict = flow('strict').task('details', async (_, ctx) =>
  (await http.get(upstream.url('/wait?ms=3000'), { context: ctx })).text(),
)

const budgetOf = (deadlineAt: number, startedAt: number): number | 'none' =>
  Number.isFinite(deadlineAt) ? Math.round(deadlineAt - startedAt) : 'none'

beforeAll(async () => {
  upstream = await serve((req, res) => {
    const ms = Number(new URL(req.url!, upstream.origin).searchParams.get('ms'))
    const timer = setTimeout(() => res.end('done'), ms)
    res.on('close', () => {
      clearTimeout(timer)
      if (!res.writableEnded) cut++
    })
  })
  http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
  server = await listen((app) => {
    app.use(fanout({ maxBudget: 5_000 }))
    app.get('/budget', (req, res) => {
      res.json({ budget: budgetOf(req.fanout.deadlineAt, req.fanout.startedAt) })
    })
    app.get('/page', async (req, res) => {
      const { details, reviews } = await page.run()
      res.json({ details, reviews, budget: budgetOf(req.fanout.deadlineAt, req.fanout.startedAt) })
    })
    app.get('/strict', async (req, res) => {
      try {
        res.json(await strict.run())
      } catch (error) {
        const codes: unknown[] = []
        for (let e: unknown = error; e instanceof Error; e = e.cause)
          codes.push((e as { code?: unknown }).code)
        res.status(504).json({ codes })
      }
    })
  })
})

afterAll(async () => {
  await closeServers()
  await http.close()
  await closeAll()
})

async function get(path: string, headers: Record<string, string> = {}) {
  const started = performance.now()
  const answer = await send(`${server.origin}${path}`, { headers }).answer
  return {
    status: answer.status,
    body: JSON.parse(answer.body) as Record<string, unknown>,
    ms: performance.now() - started,
  }
}

describe('fanout/express: the caller’s deadline header', () => {
  it('grpc-timeout: 250m gives a 240 ms budget, and the page comes back in time with its optional part fallen back', async () => {
    const before = cut
    const { status, body, ms } = await get('/page', { 'grpc-timeout': '250m' })
    expect(status).toBe(200)
    expect(body).toEqual({ details: 'done', reviews: 'no reviews', budget: 240 })
    // Timers never fire early; the upper bound is generous for a busy machine (the slow part
    // would take 3 s).
    expect(ms).toBeGreaterThanOrEqual(235)
    expect(ms).toBeLessThan(1_500)
    await waitFor(() => cut === before + 1, 'the cut-off reviews request to close upstream')
  })

  it('x-request-timeout-ms: 300 gives a 290 ms budget, with the same partial page', async () => {
    const { body, ms } = await get('/page', { 'x-request-timeout-ms': '300' })
    expect(body).toEqual({ details: 'done', reviews: 'no reviews', budget: 290 })
    expect(ms).toBeLessThan(1_500)
  })

  it('the smallest header wins; 100M (minutes) is capped by maxBudget; malformed values are ignored', async () => {
    const budget = async (headers: Record<string, string>) => (await get('/budget', headers)).body
    expect(await budget({ 'grpc-timeout': '2S', 'x-request-timeout-ms': '500' })).toEqual({
      budget: 490,
    })
    expect(await budget({ 'grpc-timeout': '100M' })).toEqual({ budget: 5_000 })
    expect(await budget({ 'grpc-timeout': '1H' })).toEqual({ budget: 5_000 })
    // No header, or one that does not parse: the server's own budget (none here).
    expect(await budget({})).toEqual({ budget: 'none' })
    for (const bad of ['123456789m', '10x', '-1S', ''])
      expect(await budget({ 'grpc-timeout': bad })).toEqual({ budget: 'none' })
  })

  it('a required part that outlasts the budget fails the run by its deadline (FANOUT_DEADLINE), in time', async () => {
    const { status, body, ms } = await get('/strict', { 'grpc-timeout': '200m' })
    expect(status).toBe(504)
    // The run's deadline and the upstream call's (the same instant) race: the run rejects with
    // the DeadlineError, or with the task's failure caused by it.
    expect((body as { codes: string[] }).codes.at(-1)).toBe('FANOUT_DEADLINE')
    expect(ms).toBeLessThan(1_500)
  })
})

/**
 * The caller's deadline header and Fastify's handler timeout shorten the request's budget, and
 * the response comes back in time with partial results (the optional parts fall back) instead of
 * late, or as Fastify's 503.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { flow } from '../../src/flow/define.js'
import { fanoutPlugin, type FanoutFastifyOptions } from '../../src/fastify/index.js'
import { closeServers, listen, send, type Answer } from './helpers.js'

afterEach(closeServers)

/** Waits `ms` unless the signal aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', done)
      resolve()
    }, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** A product page: the product is quick and required; the recommendations slow and optional. */
const page = flow('page')
  .task('product', async (_, { signal }) => {
    await pause(20, signal)
    return { id: 7 }
  })
  .task(
    'recommendations',
    async (_, { signal }) => {
      await pause(2_000, signal)
      return ['a', 'b']
    },
    { fallback: [] as string[] },
  )

interface Seen {
  readonly budget: number | null
  readonly page?: unknown
}

async function serveBudget(options: FanoutFastifyOptions = {}, handlerTimeout?: number) {
  return listen(
    async (app) => {
      await app.register(fanoutPlugin, options)
      app.get('/budget', (request) => ({
        budget: Math.round(request.fanout.deadlineAt - request.fanout.startedAt),
      }))
      app.get('/slow', { handlerTimeout: 400 }, (request) => ({
        budget: Math.round(request.fanout.deadlineAt - request.fanout.startedAt),
      }))
      app.get('/page', async (request) => ({
        budget: Math.round(request.fanout.deadlineAt - request.fanout.startedAt),
        page: await page.run(),
      }))
    },
    handlerTimeout === undefined ? {} : { handlerTimeout },
  )
}

async function timed(url: string, headers: Record<string, string> = {}) {
  const started = performance.now()
  const answer: Answer = await send(url, { headers })
  return {
    status: answer.status,
    body: JSON.parse(answer.body) as Seen,
    ms: performance.now() - started,
  }
}

describe('fanout/fastify: deadlines', () => {
  it('grpc-timeout and x-request-timeout-ms shorten the budget, less the margin', async () => {
    const served = await serveBudget({ maxBudget: 5_000 })
    const budget = async (headers: Record<string, string>) =>
      (await timed(served.origin + '/budget', headers)).body.budget
    expect(await budget({ 'grpc-timeout': '250m' })).toBe(240)
    expect(await budget({ 'x-request-timeout-ms': '300' })).toBe(290)
    expect(await budget({ 'grpc-timeout': '1S', 'x-request-timeout-ms': '300' })).toBe(290)
    // `M` is minutes: clamped to maxBudget.
    expect(await budget({ 'grpc-timeout': '100M' })).toBe(5_000)
    // Malformed budgets are advice that does not parse: ignored (no deadline: JSON's null).
    // (maxBudget caps what a header asks; it is no budget of its own.)
    expect(await budget({ 'grpc-timeout': '10x' })).toBeNull()
    expect(await budget({ 'grpc-timeout': '123456789m' })).toBeNull()
    expect(await budget({})).toBeNull()
  })

  it('grpc-timeout: 250m: the page comes back in time, with partial results', async () => {
    const served = await serveBudget()
    const answer = await timed(served.origin + '/page', { 'grpc-timeout': '250m' })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ budget: 240, page: { product: { id: 7 }, recommendations: [] } })
    expect(answer.ms).toBeGreaterThanOrEqual(200)
    // Generous: the recommendations alone would take 2 s.
    expect(answer.ms).toBeLessThan(1_500)
  })

  it("Fastify's handler timeout (server-wide, or the route's) is the budget", async () => {
    const served = await serveBudget({}, 300)
    const server = (await timed(served.origin + '/budget')).body.budget!
    expect(server).toBeLessThanOrEqual(290)
    expect(server).toBeGreaterThan(200)
    const route = (await timed(served.origin + '/slow')).body.budget!
    expect(route).toBeLessThanOrEqual(390)
    expect(route).toBeGreaterThan(300)
    // A caller's shorter budget still wins.
    expect((await timed(served.origin + '/budget', { 'grpc-timeout': '100m' })).body.budget).toBe(
      90,
    )
  })

  it('under a handler timeout, partial results beat the 503 (which comes without the plugin)', async () => {
    const served = await serveBudget({}, 300)
    const answer = await timed(served.origin + '/page')
    expect(answer.status).toBe(200)
    expect(answer.body.page).toEqual({ product: { id: 7 }, recommendations: [] })

    const bare = await listen(
      (app) => {
        app.get('/page', async () => ({ page: await page.run() }))
      },
      { handlerTimeout: 300 },
    )
    expect((await timed(bare.origin + '/page')).status).toBe(503)
  })
})

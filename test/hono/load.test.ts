/**
 * Under load and after it: 200 concurrent requests leave no listener, no timer, no socket and no
 * pending work behind; post-response work (`waitUntil`) runs after the handler, is not aborted
 * when the response finishes or when the client leaves, and is awaited by `contexts.drain()`.
 */
import { getEventListeners } from 'node:events'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentRequest } from '../../src/core/request-context.js'
import { fanout, type FanoutEnv } from '../../src/hono/index.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { flow } from '../../src/index.js'
import { closeAll, serve, waitFor, type Upstream } from '../helpers/upstream.js'
import { listen, resources, send, sendThenCut, type Served } from './helpers.js'

let upstream: Upstream
let served: Served
let http: HttpClient | undefined
const mw = fanout({ user: (c) => c.req.header('x-user') })
const signals: AbortSignal[] = []
const afterWork: { user: string | undefined; aborted: boolean; handlerDone: boolean }[] = []
let gate: Promise<void> = Promise.resolve()
let releaseGate: () => void = () => undefined

const page = flow<{ url: string }>('page')
  .task('a', (_, ctx) => http!.get(ctx.input.url, { context: ctx }).then((r) => r.text()))
  .task('b', (_, ctx) => http!.get(ctx.input.url, { context: ctx }).then((r) => r.text()))

beforeAll(async () => {
  upstream = await serve((_req, res) => setTimeout(() => res.end('ok'), 5))
  const app = new Hono<FanoutEnv>()
  app.onError((error, c) => c.text(error.name, 500))
  app.use(mw)
  app.get('/page', async (c) => {
    signals.push(c.req.raw.signal)
    const ctx = c.get('fanout')
    let handlerDone = false
    ctx.waitUntil(async () => {
      await gate
      const inside = currentRequest()
      afterWork.push({ user: inside?.user, aborted: inside?.signal.aborted ?? true, handlerDone })
    })
    const body = await page.run({ url: upstream.url('/') })
    handlerDone = true
    return c.json(body)
  })
  app.get('/hold', async (c) => {
    c.get('fanout').waitUntil(async () => {
      await gate
      const inside = currentRequest()
      afterWork.push({
        user: inside?.user,
        aborted: inside?.signal.aborted ?? true,
        handlerDone: true,
      })
    })
    await new Promise((resolve) => setTimeout(resolve, 5_000, undefined).unref())
    return c.text('late')
  })
  served = await listen(app)
})

afterAll(async () => {
  releaseGate()
  await served.close()
  await http?.close()
  await closeAll()
})

function holdAfterWork(): void {
  gate = new Promise((resolve) => (releaseGate = resolve))
}

describe('fanout/hono: post-response work', () => {
  it('runs after the handler returned, ambient, and is not aborted by the finished response', async () => {
    http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
    holdAfterWork()
    const reply = await send(`${served.origin}/page`, { headers: { 'x-user': 'alice' } })
    expect(reply.status).toBe(200)
    // The response is out while the work still waits.
    expect(afterWork).toEqual([])
    expect(mw.contexts.pending).toBe(1)
    releaseGate()
    await mw.contexts.drain(5_000)
    expect(afterWork).toEqual([{ user: 'alice', aborted: false, handlerDone: true }])
    expect(mw.contexts.pending).toBe(0)
  })

  it('runs, not aborted, when the client left before the response', async () => {
    holdAfterWork()
    const cut = sendThenCut(`${served.origin}/hold`, { headers: { 'x-user': 'bob' } })
    await waitFor(() => mw.contexts.pending === 0 && signals.length >= 1, 'the request')
    await new Promise((resolve) => setTimeout(resolve, 50))
    cut.destroy()
    await cut.done
    releaseGate()
    await waitFor(() => afterWork.length === 2, 'the post-response work')
    expect(afterWork[1]).toEqual({ user: 'bob', aborted: false, handlerDone: true })
  })
})

describe('fanout/hono: 200 concurrent requests', () => {
  it('leave no listener, timer, socket or pending work behind', async () => {
    await http?.close()
    http = undefined
    await waitFor(() => (resources()['TCPSocketWrap'] ?? 0) <= 1, 'idle sockets to close')
    const before = resources()
    http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false, connections: 64 })
    signals.length = 0
    afterWork.length = 0
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        send(`${served.origin}/page`, { headers: { 'x-user': `user${i % 7}` } }),
      ),
    )
    expect(replies.filter((r) => r.status !== 200)).toEqual([])
    await waitFor(() => mw.contexts.pending === 0, 'post-response work', 10_000)
    expect(afterWork).toHaveLength(200)
    expect(afterWork.filter((w) => w.aborted || !w.handlerDone)).toEqual([])
    expect(signals).toHaveLength(200)
    for (const signal of signals) expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    // The client's pooled connections are its own: closed, every count is back where it was.
    await http.close()
    http = undefined
    const kinds = ['Timeout', 'TCPSocketWrap', 'Immediate', 'TCPServerWrap']
    const pick = (counts: Record<string, number>) =>
      Object.fromEntries(kinds.map((k) => [k, counts[k] ?? 0]))
    await waitFor(
      () => kinds.every((k) => (resources()[k] ?? 0) <= (before[k] ?? 0)),
      'resources to settle',
      10_000,
    ).catch(() => undefined)
    const after = pick(resources())
    for (const k of kinds) expect(after[k], k).toBeLessThanOrEqual(pick(before)[k]!)
  })
})

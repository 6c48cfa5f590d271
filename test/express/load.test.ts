/**
 * 200 concurrent requests through fanout/express, each running a flow with a deadline, an
 * optional part cut off by its own timeout, an upstream call and post-response work, leave
 * nothing behind: no timer, no listener on any `req`, `res` or context signal, and no pending
 * post-response work.
 */
import { getEventListeners } from 'node:events'
import { afterAll, expect, it } from 'vitest'
import type { RequestContext } from '../../src/core/request-context.js'
import { fanout } from '../../src/express/index.js'
import { flow } from '../../src/flow/define.js'
import { createHttpClient } from '../../src/http/index.js'
import { closeAll, serve, waitFor } from '../helpers/upstream.js'
import { closeServers, listen, send, settle, timers } from './server.js'

afterAll(async () => {
  await closeServers()
  await closeAll()
})

type Listeners = Map<string | symbol, unknown[]>

function listenersOf(emitter: NodeJS.EventEmitter): Listeners {
  return new Map(emitter.eventNames().map((name) => [name, emitter.rawListeners(name)]))
}

/**
 * Listeners added since `before`, as `event:function`. Node's own `clearIncoming` (put on `req`
 * 'end' when a response finishes before the request was read to its end) is left out: a
 * request without fanout gets it too.
 */
function added(before: Listeners, emitter: NodeJS.EventEmitter): string[] {
  const out: string[] = []
  for (const [name, now] of listenersOf(emitter))
    for (const fn of now)
      if (!(before.get(name) ?? []).includes(fn))
        out.push(`${String(name)}:${(fn as { name?: string }).name ?? ''}`)
  return out.filter((what) => what !== 'end:clearIncoming')
}

it('fanout/express: 200 concurrent requests leave no timer, no listener and no pending work', async () => {
  await settle()
  const timersBefore = timers()
  const upstream = await serve((_, res) => setTimeout(() => res.end('ok'), 20))
  const http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
  const page = flow('page')
    .task('data', async (_, ctx) => (await http.get(upstream.url('/'), { context: ctx })).text())
    // Never settles: its own timeout cuts it off and it falls back.
    .task('extra', () => new Promise<string>(() => undefined), { timeout: 30, fallback: 'none' })
  const seen: {
    req: NodeJS.EventEmitter
    res: NodeJS.EventEmitter
    before: Listeners[]
    ctx?: RequestContext
  }[] = []
  let afterWork = 0
  const withFanout = fanout({ budget: 5_000 })
  const server = await listen((app) => {
    app.use((req, res, next) => {
      seen.push({ req, res, before: [listenersOf(req), listenersOf(res)] })
      next()
    })
    app.use(withFanout)
    app.get('/page', async (req, res) => {
      seen.find((s) => s.req === req)!.ctx = req.fanout
      req.fanout.waitUntil(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        afterWork++
      })
      res.json(await page.run())
    })
  })

  const answers = await Promise.all(
    Array.from(
      { length: 200 },
      () => send(`${server.origin}/page`, { headers: { connection: 'close' } }).answer,
    ),
  )
  expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200))
  expect(JSON.parse(answers[0]!.body)).toEqual({ data: 'ok', extra: 'none' })
  await waitFor(() => afterWork === 200, 'the post-response work')
  await settle()

  expect(withFanout.contexts.pending).toBe(0)
  expect(seen).toHaveLength(200)
  for (const { req, res, before, ctx } of seen) {
    expect(ctx!.ended).toBe(true)
    expect(ctx!.signal.aborted).toBe(false)
    expect(getEventListeners(ctx!.signal, 'abort')).toHaveLength(0)
    expect([...added(before[0]!, req), ...added(before[1]!, res)]).toEqual([])
  }

  await http.close()
  await server.close()
  await upstream.close()
  await settle()
  expect(timers()).toBeLessThanOrEqual(timersBefore)
})

/**
 * fanout/express on a real Express server: a client that disconnects mid-request aborts the
 * outbound calls made for it (fault A4, a caller that leaves mid-flight, with the caller being the
 * client of the page): the upstream sees its connection closed within 50 ms of the client's
 * disconnect, no retry follows and no task starts after, the flow rejects with
 * `ClientClosedError`, and nothing the middleware or the flow added is left listening.
 */
import { getEventListeners } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { ClientClosedError } from '../../src/core/errors.js'
import type { RequestContext } from '../../src/core/request-context.js'
import type { TraceEvent } from '../../src/core/trace.js'
import { fanout } from '../../src/express/index.js'
import { flow } from '../../src/flow/define.js'
import { createHttpClient } from '../../src/http/index.js'
import { closeAll, serve, waitFor, type Upstream } from '../helpers/upstream.js'
import { closeServers, listen, send, settle } from './server.js'

const ROUNDS = 6

afterEach(async () => {
  await closeServers()
  await closeAll()
})

type Emitter = Pick<NodeJS.EventEmitter, 'eventNames' | 'rawListeners'>

/** Every listener on an emitter, per event. */
function listenersOf(emitter: Emitter): Map<string | symbol, unknown[]> {
  return new Map(emitter.eventNames().map((name) => [name, emitter.rawListeners(name)]))
}

/** Listeners on `emitter` now that were not there in `before`. */
function added(before: Map<string | symbol, unknown[]>, emitter: Emitter): string[] {
  const out: string[] = []
  for (const [name, now] of listenersOf(emitter)) {
    const had = before.get(name) ?? []
    for (const fn of now) if (!had.includes(fn)) out.push(String(name))
  }
  return out
}

interface Held {
  readonly upstream: Upstream
  /** performance.now() when each upstream socket closed. */
  readonly closedAt: number[]
}

/** An upstream that never answers, noting when each of its sockets closes. */
async function holdingUpstream(): Promise<Held> {
  const closedAt: number[] = []
  const upstream = await serve((req) => {
    req.socket.once('close', () => closedAt.push(performance.now()))
  })
  return { upstream, closedAt }
}

describe('fanout/express: a client that disconnects mid-request', () => {
  it('A4: aborts the outbound call at once (upstream socket closed ≤ 50 ms), with no retry and no task after', async () => {
    const { upstream, closedAt } = await holdingUpstream()
    const http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
    const events: TraceEvent[] = []
    const outcomes: unknown[] = []
    let seen: { req: IncomingMessage; res: ServerResponse; ctx: RequestContext } | undefined
    let before: Record<'req' | 'res' | 'socket', Map<string | symbol, unknown[]>> | undefined
    const page = flow('page')
      .task(
        'held',
        async (_, ctx) => (await http.get(upstream.url('/hold'), { context: ctx })).status,
        {
          retry: true,
        },
      )
      .task('after', () => 'never', { after: ['held'] })
    const withFanout = fanout({ onEvent: (event) => events.push(event) })
    const server = await listen((app) => {
      app.use((req, res, next) => {
        before = { req: listenersOf(req), res: listenersOf(res), socket: listenersOf(req.socket) }
        next()
      })
      app.use(withFanout)
      app.get('/page', async (req, res) => {
        seen = { req, res, ctx: req.fanout }
        try {
          res.json(await page.run())
        } catch (error) {
          outcomes.push(error)
        }
      })
    })

    // The first disconnect formats its error's stack (Node's stream destroy reads `err.stack`),
    // which under tsx/vitest parses the source maps of the files on that stack: tens of ms, once
    // per process, and none without source maps. It gets a generous bound; the bar holds for the
    // rest.
    const lags: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      const client = send(`${server.origin}/page`)
      client.answer.catch(() => undefined)
      await waitFor(() => upstream.seen.length === i + 1, 'the upstream request')
      const destroyedAt = performance.now()
      client.req.destroy()
      await waitFor(() => closedAt.length === i + 1, 'the upstream socket to close')
      await waitFor(() => outcomes.length === i + 1, 'the flow to settle')
      lags.push(closedAt[i]! - destroyedAt)
      expect(outcomes[i]).toBeInstanceOf(ClientClosedError)
      expect(outcomes[i]).toMatchObject({ code: 'FANOUT_CLIENT_CLOSED' })
      expect(seen!.ctx.signal.aborted).toBe(true)
      expect(seen!.ctx.ended).toBe(true)
    }
    expect(lags[0]).toBeLessThanOrEqual(1_000)
    expect(
      Math.max(...lags.slice(1)),
      `lags: ${lags.map(Math.round).join(', ')} ms`,
    ).toBeLessThanOrEqual(50)

    // Long enough for any backoff the task's retry() could have scheduled.
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(upstream.seen).toHaveLength(ROUNDS)
    expect(events.filter((e) => e.type === 'retry.scheduled')).toEqual([])
    expect(events.filter((e) => e.type === 'task.started').map((e) => e.task)).toEqual(
      Array<string>(ROUNDS).fill('held'),
    )
    expect(events.filter((e) => e.type === 'attempt.started')).toHaveLength(ROUNDS)

    await settle()
    const { req, res, ctx } = seen!
    expect(added(before!.res, res)).toEqual([])
    expect(added(before!.req, req)).toEqual([])
    expect(added(before!.socket, req.socket)).toEqual([])
    expect(getEventListeners(ctx.signal, 'abort')).toHaveLength(0)
    expect(withFanout.contexts.pending).toBe(0)
    await http.close()
  })

  it('aborts a plain fetch given the context signal, and a disconnect during a slow middleware is seen too', async () => {
    const { upstream, closedAt } = await holdingUpstream()
    const outcomes: unknown[] = []
    let late: RequestContext | undefined
    const server = await listen((app) => {
      // A middleware that takes its time: the client is gone before fanout() runs.
      app.use('/late', (req, res, next) => {
        res.once('close', () => setImmediate(next))
      })
      app.use(fanout())
      app.get('/late', (req) => {
        late = req.fanout
      })
      app.get('/fetch', async (req, res) => {
        try {
          await fetch(upstream.url('/hold'), { signal: req.fanout.signal })
          res.end()
        } catch (error) {
          outcomes.push(error)
        }
      })
    })
    const client = send(`${server.origin}/fetch`)
    client.answer.catch(() => undefined)
    await waitFor(() => upstream.seen.length === 1, 'the upstream request')
    const destroyedAt = performance.now()
    client.req.destroy()
    await waitFor(() => closedAt.length === 1, 'the upstream socket to close')
    // Generous: run alone, this is the process's first disconnect (see the bar's test above).
    expect(closedAt[0]! - destroyedAt).toBeLessThanOrEqual(1_000)
    await waitFor(() => outcomes.length === 1, 'fetch to reject')
    expect((outcomes[0] as Error).name).toBe('ClientClosedError')

    const gone = send(`${server.origin}/late`)
    gone.answer.catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 50))
    gone.req.destroy()
    await waitFor(() => late !== undefined, 'the route behind the slow middleware')
    expect(late!.signal.aborted).toBe(true)
    expect(late!.signal.reason).toBeInstanceOf(ClientClosedError)
    expect(late!.ended).toBe(true)
  })

  it('does not abort when the response was sent, even if the connection then closes', async () => {
    let ctx: RequestContext | undefined
    const server = await listen((app) => {
      app.use(fanout())
      app.get('/done', (req, res) => {
        ctx = req.fanout
        res.json({ ok: true })
      })
    })
    const { answer } = send(`${server.origin}/done`, { headers: { connection: 'close' } })
    expect((await answer).status).toBe(200)
    await waitFor(() => ctx?.ended === true, 'the context to end')
    expect(ctx!.signal.aborted).toBe(false)
  })
})

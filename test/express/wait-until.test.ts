/**
 * `req.fanout.waitUntil()` behind fanout/express: the work starts once the response is out, is
 * not aborted when the response finishes nor when the client has left, runs ambient with the
 * request's user, and `contexts.drain(ms)` waits for it on shutdown (aborting what outlasts it).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { currentRequest } from '../../src/core/request-context.js'
import { fanout } from '../../src/express/index.js'
import { createHttpClient } from '../../src/http/index.js'
import { closeAll, serve, waitFor } from '../helpers/upstream.js'
import { closeServers, listen, send } from './server.js'

afterAll(async () => {
  await closeServers()
  await closeAll()
})

interface Observed {
  readonly responseOut: boolean
  readonly user: string | undefined
  readonly aborted: boolean
  readonly upstream?: string
  readonly error?: string
}

describe('fanout/express: waitUntil', () => {
  it('runs after the response, is not aborted by its end nor by the client leaving, and reaches upstream', async () => {
    const upstream = await serve((req, res) => {
      if (req.url === '/hold') return // the page's own call: held until the client leaves
      setTimeout(() => res.end('written'), 30)
    })
    const http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
    const observed: Observed[] = []
    const withFanout = fanout({ user: () => 'ada' })
    const server = await listen((app) => {
      app.use(withFanout)
      app.get('/:mode', async (req, res) => {
        req.fanout.waitUntil(async () => {
          const ctx = currentRequest()!
          // Out: every byte handed to the socket, or the connection gone.
          const responseOut = req.params.mode === 'leave' ? res.destroyed : res.writableFinished
          try {
            const written = await http.get(upstream.url('/write'), { signal: ctx.signal })
            observed.push({
              responseOut,
              user: ctx.user,
              aborted: ctx.signal.aborted,
              upstream: await written.text(),
            })
          } catch (error) {
            observed.push({ responseOut, user: ctx.user, aborted: true, error: String(error) })
          }
        })
        if (req.params.mode === 'leave')
          await http.get(upstream.url('/hold'), { signal: req.fanout.signal }).catch(() => null)
        else res.json({ ok: true })
      })
    })

    const { answer } = send(`${server.origin}/ok`)
    expect((await answer).status).toBe(200)
    await waitFor(() => observed.length === 1, 'the post-response work')

    const leaving = send(`${server.origin}/leave`)
    leaving.answer.catch(() => undefined)
    await waitFor(() => upstream.seen.some((s) => s.url === '/hold'), 'the held call')
    leaving.req.destroy()
    await waitFor(() => observed.length === 2, 'the post-response work after a disconnect')

    expect(observed).toEqual([
      { responseOut: true, user: 'ada', aborted: false, upstream: 'written' },
      { responseOut: true, user: 'ada', aborted: false, upstream: 'written' },
    ])
    await withFanout.contexts.drain(1_000)
    expect(withFanout.contexts.pending).toBe(0)
    await http.close()
  })

  it('drain(ms) waits for post-response work, then aborts what outlasts it', async () => {
    const withFanout = fanout()
    const reasons: unknown[] = []
    let quickDone = false
    const server = await listen((app) => {
      app.use(withFanout)
      app.get('/', (req, res) => {
        req.fanout.waitUntil(async () => {
          await new Promise((resolve) => setTimeout(resolve, 20))
          quickDone = true
        })
        req.fanout.waitUntil(
          () =>
            new Promise<void>((resolve) =>
              currentRequest()!.signal.addEventListener('abort', (event) => {
                reasons.push((event.target as AbortSignal).reason)
                resolve()
              }),
            ),
        )
        res.end()
      })
    })
    expect((await send(server.origin).answer).status).toBe(200)
    await server.close()
    await waitFor(() => withFanout.contexts.pending === 2, 'the post-response work to start')
    await withFanout.contexts.drain(100)
    expect(quickDone).toBe(true)
    expect(reasons).toHaveLength(1)
    expect(reasons[0]).toMatchObject({ code: 'FANOUT_ABORTED' })
  })
})

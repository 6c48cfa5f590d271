/**
 * A healthy request is never aborted, whatever its body: the plugin's signal fires only when the
 * response closes unfinished. Fastify's own `request.signal` fires as soon as a POST's body has
 * been read (the request's 'close'), which the first test shows with a naive wiring of it.
 */
import type { FastifyInstance } from 'fastify'
import { request as httpRequest } from 'node:http'
import { Agent } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AsyncLocalStorage } from 'node:async_hooks'
import { useAsyncLocalStorage } from '../../src/core/ambient.js'
import { currentRequest, requestContexts } from '../../src/core/request-context.js'
import { flow } from '../../src/flow/define.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { fanoutPlugin } from '../../src/fastify/index.js'
import { closeAll, serve, waitFor, type Upstream } from '../helpers/upstream.js'
import { closeServers, listen, pool, send, sleep } from './helpers.js'

useAsyncLocalStorage(AsyncLocalStorage)

let http: HttpClient
let upstream: Upstream

beforeAll(async () => {
  http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
  upstream = await serve((_req, res) => {
    res.setHeader('content-type', 'application/json')
    setTimeout(() => res.end('{"ok":true}'), 20)
  })
})
afterEach(closeServers)
afterAll(async () => {
  await http.close()
  await closeAll()
})

/** One upstream call with the run's signal, then 80 ms more: long enough to outlive a false abort. */
const work = flow<{ url: string }>('work')
  .task(
    'call',
    async (_, { input, signal }) => (await http.json<{ ok: boolean }>(input.url, { signal })).ok,
  )
  .task('more', async ($, { signal }) => {
    await $.call
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 80)
      signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), {
        once: true,
      })
    })
    return true
  })

/** Only the upstream call (20 ms): for the long loop. */
const quick = flow<{ url: string }>('quick').task(
  'call',
  async (_, { input, signal }) => (await http.json<{ ok: boolean }>(input.url, { signal })).ok,
)

/** The handler every body route runs: the work, then what the context saw. */
function route(
  app: FastifyInstance,
  url: string,
  bodyLimit?: number,
  run: { run(input: { url: string }): Promise<{ call: boolean }> } = work,
): void {
  app.post(url, bodyLimit === undefined ? {} : { bodyLimit }, async (request) => {
    const { call } = await run.run({ url: upstream.url('/data') })
    return {
      call,
      aborted: request.fanout.signal.aborted,
      ambient: currentRequest() === request.fanout,
      size: JSON.stringify(request.body ?? null).length,
    }
  })
}

function parsers(app: FastifyInstance): void {
  // No @fastify/formbody or @fastify/multipart here: the bodies are read whole, as a parser would.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  )
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, { bytes: (body as Buffer).length }),
  )
}

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('fanout/fastify: healthy requests are never aborted', () => {
  it("Fastify's request.signal, wired naively, aborts a healthy POST; the plugin's does not", async () => {
    const contexts = requestContexts()
    const naive = await listen((app) => {
      app.addHook('onRequest', (request, _reply, done) => {
        const ctx = contexts.open({ request, signal: request.signal })
        request.raw.once('close', () => void ctx.end())
        ctx.run(done)
      })
      app.post('/work', async () => {
        try {
          await work.run({ url: upstream.url('/data') })
          return { aborted: false }
        } catch (error) {
          return { aborted: true, code: (error as { code?: string }).code }
        }
      })
    })
    const answer = await send(naive.origin + '/work', json({ a: 1 }))
    // The client waited; the naive wiring still cut the work off.
    expect(JSON.parse(answer.body)).toEqual({ aborted: true, code: 'FANOUT_CLIENT_CLOSED' })

    const served = await listen(async (app) => {
      await app.register(fanoutPlugin)
      route(app, '/work')
    })
    const ok = await send(served.origin + '/work', json({ a: 1 }))
    expect(JSON.parse(ok.body)).toMatchObject({ call: true, aborted: false, ambient: true })
  })

  it('JSON, urlencoded, multipart and a 2 MiB body', async () => {
    const served = await listen(async (app) => {
      parsers(app)
      await app.register(fanoutPlugin)
      route(app, '/work', 8 * 1024 * 1024)
    })
    const big = { blob: 'x'.repeat(2 * 1024 * 1024) }
    const boundary = 'fanoutboundary'
    const multipart =
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.bin"\r\n` +
      `content-type: application/octet-stream\r\n\r\n${'y'.repeat(256 * 1024)}\r\n--${boundary}--\r\n`
    const bodies = [
      json({ a: 1 }),
      json(big),
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1&b=two',
      },
      {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: multipart,
      },
    ]
    for (const options of bodies) {
      const answer = await send(served.origin + '/work', options)
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toMatchObject({ call: true, aborted: false, ambient: true })
    }
    expect(JSON.parse((await send(served.origin + '/work', json(big))).body).size).toBeGreaterThan(
      2 * 1024 * 1024,
    )
  })

  it('a body that trickles in: the handler still runs in the request context', async () => {
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin)
      route(app, '/work')
    })
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(served.origin + '/work', {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': '9' },
      })
      req.on('error', reject)
      req.on('response', (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () => resolve(text))
      })
      req.flushHeaders()
      setTimeout(() => {
        req.write('{"a":')
        setTimeout(() => req.end('"b"}'), 30)
      }, 30)
    })
    expect(JSON.parse(body)).toMatchObject({ call: true, aborted: false, ambient: true })
  })

  it('1,000 healthy POSTs, 20 at a time: not one aborted', async () => {
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin)
      route(app, '/work', undefined, quick)
    })
    const agent = new Agent({ connections: 20 })
    try {
      const results = await pool(1_000, 20, async (i) => {
        const res = await fetch(served.origin + '/work', {
          ...json({ i, pad: 'z'.repeat(i % 7 === 0 ? 64 * 1024 : 100) }),
          dispatcher: agent,
        } as RequestInit)
        return { status: res.status, body: (await res.json()) as { aborted?: boolean } }
      })
      expect(results.filter((r) => r.status !== 200)).toEqual([])
      expect(results.filter((r) => r.body.aborted !== false)).toEqual([])
    } finally {
      await agent.close()
    }
    expect(served.app.fanout.pending).toBe(0)
  }, 60_000)

  it('waitUntil work runs after the response and is not aborted when it finishes', async () => {
    const after: { finished: boolean; aborted: boolean; user: string | undefined; ok: boolean }[] =
      []
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin, { user: (request) => request.headers['x-user'] as string })
      app.post('/save', async (request, reply) => {
        request.fanout.waitUntil(async () => {
          const finished = reply.raw.writableFinished
          const ctx = currentRequest()!
          await sleep(100)
          const { ok } = await http.json<{ ok: boolean }>(upstream.url('/write'), {
            signal: ctx.signal,
          })
          after.push({ finished, aborted: ctx.signal.aborted, user: ctx.user, ok })
        })
        return { saved: true }
      })
    })
    const answer = await send(served.origin + '/save', {
      ...json({ a: 1 }),
      headers: { 'content-type': 'application/json', 'x-user': 'ada' },
    })
    expect(JSON.parse(answer.body)).toEqual({ saved: true })
    await waitFor(() => after.length === 1, 'the post-response work')
    expect(after).toEqual([{ finished: true, aborted: false, user: 'ada', ok: true }])
    await waitFor(() => served.app.fanout.pending === 0, 'pending work to clear')
  })
})

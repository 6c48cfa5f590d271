/**
 * fanout/express never takes a healthy request for a disconnect: POSTs with JSON, urlencoded,
 * multipart and ≥ 1 MiB bodies, and GETs, keep their signal while the handler runs (Express's
 * `req` emits 'close' as soon as a POST body has been read, which is why the middleware listens
 * on `res`), and 1,000 POSTs at a concurrency of 20 see zero aborts, before or after their
 * response. Body parsers mounted before or after fanout() keep the context ambient.
 */
import express, { type Express } from 'express'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentRequest } from '../../src/core/request-context.js'
import { fanout, type FanoutMiddleware } from '../../src/express/index.js'
import { flow } from '../../src/flow/define.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { closeAll, serve, type Upstream } from '../helpers/upstream.js'
import { closeServers, listen, settle, type Running } from './server.js'

interface Seen {
  readonly aborted: boolean
  readonly reqClosed: boolean
  readonly ambient: boolean
  readonly bytes: number
  readonly upstream: string
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let upstream: Upstream
let http: HttpClient
let aborts = 0
let opened = 0

beforeAll(async () => {
  upstream = await serve((_, res) => res.end('ok'))
  http = createHttpClient({ ssrf: { allow: ['loopback'] } })
})

afterAll(async () => {
  await closeServers()
  await http.close()
  await closeAll()
})

const page = flow('post')
  .task('upstream', async (_, ctx) =>
    (await http.get(upstream.url('/ok'), { context: ctx })).text(),
  )
  .task('ambient', () => currentRequest())

async function postTo(origin: string, body: string | Uint8Array, type: string): Promise<Seen> {
  const res = await fetch(`${origin}/echo`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as Seen
}

/** The route every case posts to: it takes its time, calls the upstream, and says what it saw. */
function routes(app: Express, withFanout: FanoutMiddleware, parsersFirst: boolean): void {
  const parsers = [
    express.json({ limit: '4mb' }),
    express.urlencoded({ extended: false }),
    express.raw({ type: ['application/octet-stream', 'multipart/form-data'], limit: '4mb' }),
  ]
  if (parsersFirst) app.use(parsers)
  app.use(withFanout)
  app.use((req, _res, next) => {
    opened++
    req.fanout.signal.addEventListener('abort', () => aborts++)
    next()
  })
  if (!parsersFirst) app.use(parsers)
  const handler = async (req: express.Request, res: express.Response): Promise<void> => {
    // Past the point where Express's `req` says 'close': a POST's body has been read.
    if (req.method === 'POST') {
      if (!req.closed) await once(req, 'close')
    } else await sleep(20)
    const { upstream: text, ambient } = await page.run()
    const seen: Seen = {
      aborted: req.fanout.signal.aborted,
      reqClosed: req.closed,
      ambient: ambient === req.fanout && ambient === res.locals.fanout,
      bytes: Buffer.isBuffer(req.body)
        ? req.body.length
        : JSON.stringify((req.body as unknown) ?? null).length,
      upstream: text,
    }
    res.json(seen)
  }
  app.post('/echo', handler)
  app.get('/echo', handler)
}

describe.each([
  ['body parsers before fanout()', true],
  ['body parsers after fanout()', false],
])('fanout/express: healthy requests are never aborted (%s)', (_, parsersFirst) => {
  let server: Running
  let withFanout: FanoutMiddleware

  beforeAll(async () => {
    aborts = 0
    opened = 0
    withFanout = fanout({ budget: 10_000 })
    server = await listen((app) => routes(app, withFanout, parsersFirst))
  })

  const post = (body: string | Uint8Array, type: string): Promise<Seen> =>
    postTo(server.origin, body, type)

  it('JSON, urlencoded, multipart, a 1.5 MiB body and a GET keep their signal', async () => {
    const boundary = 'fanout-boundary'
    const multipart =
      `--${boundary}\r\ncontent-disposition: form-data; name="note"\r\n\r\nhello\r\n` +
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.bin"\r\n` +
      `content-type: application/octet-stream\r\n\r\n${'x'.repeat(64 * 1024)}\r\n--${boundary}--\r\n`
    const big = Buffer.alloc(1.5 * 1024 * 1024, 7)
    const answers = await Promise.all([
      post(JSON.stringify({ user: 'ada', items: [1, 2, 3] }), 'application/json'),
      post('user=ada&items=1&items=2', 'application/x-www-form-urlencoded'),
      post(multipart, `multipart/form-data; boundary=${boundary}`),
      post(big, 'application/octet-stream'),
      post(JSON.stringify({ blob: 'y'.repeat(1024 * 1024) }), 'application/json'),
      fetch(`${server.origin}/echo`).then((res) => res.json() as Promise<Seen>),
    ])
    for (const seen of answers) {
      expect(seen).toMatchObject({ aborted: false, ambient: true, upstream: 'ok' })
    }
    expect(answers.slice(0, 5).map((seen) => seen.reqClosed)).toEqual(Array(5).fill(true))
    expect(answers[3]!.bytes).toBe(big.length)
    expect(answers[4]!.bytes).toBeGreaterThan(1024 * 1024)
    await settle()
    expect(aborts).toBe(0)
  })
})

it('fanout/express: 1,000 POSTs at a concurrency of 20, zero aborts, every context ended', async () => {
  const withFanout = fanout({ budget: 10_000 })
  const server = await listen((app) => routes(app, withFanout, false))
  aborts = 0
  opened = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < 1_000) {
      const i = next++
      const seen = await postTo(server.origin, JSON.stringify({ i }), 'application/json')
      expect(seen).toMatchObject({ aborted: false, reqClosed: true })
    }
  }
  await Promise.all(Array.from({ length: 20 }, worker))
  await settle()
  expect(opened).toBe(1_000)
  expect(aborts).toBe(0)
  expect(withFanout.contexts.pending).toBe(0)
}, 60_000)

/**
 * No false aborts: a POST whose body has been read is a request like any other, and finishing
 * the response is no disconnect. Bodies of each common kind, then 1,000 healthy POSTs, on a real
 * @hono/node-server, each running a flow that calls an upstream through fanout/http.
 */
import { Hono, type Context } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fanout, type FanoutEnv } from '../../src/hono/index.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import { flow } from '../../src/index.js'
import { closeAll, serve, waitFor, type Upstream } from '../helpers/upstream.js'
import { listen, pool, send, type Served } from './helpers.js'

let upstream: Upstream
let http: HttpClient
let served: Served
let aborts = 0
let errors = 0
const mw = fanout()

const work = flow<{ url: string }>('after-body').task('upstream', (_, ctx) =>
  http.get(ctx.input.url, { context: ctx }).then((r) => r.text()),
)

/** The body as the handler reads it, by content type. */
async function readBody(c: Context<FanoutEnv>): Promise<number> {
  const type = c.req.header('content-type') ?? ''
  if (type.startsWith('application/json')) return JSON.stringify(await c.req.json()).length
  if (
    type.startsWith('multipart/form-data') ||
    type.startsWith('application/x-www-form-urlencoded')
  ) {
    const form = await c.req.parseBody()
    const file = form['file']
    return Object.keys(form).length + (file instanceof File ? file.size : 0)
  }
  return (await c.req.arrayBuffer()).byteLength
}

beforeAll(async () => {
  upstream = await serve((_req, res) => setTimeout(() => res.end('ok'), 10))
  http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false, connections: 32 })
  const app = new Hono<FanoutEnv>()
  app.onError((error, c) => {
    errors++
    return c.text(error.name, 500)
  })
  app.use(mw)
  app.post('/submit', async (c) => {
    const ctx = c.get('fanout')
    ctx.signal.addEventListener('abort', () => aborts++)
    const size = await readBody(c)
    const reply = await work.run({ url: upstream.url('/work') })
    return c.json({ size, reply, aborted: ctx.signal.aborted })
  })
  served = await listen(app)
})

afterAll(async () => {
  await served.close()
  await http.close()
  await closeAll()
})

async function post(
  body: string | Buffer,
  type: string,
): Promise<{ size: number; aborted: boolean }> {
  const reply = await send(`${served.origin}/submit`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  })
  expect(reply.status, reply.body).toBe(200)
  return JSON.parse(reply.body) as { size: number; aborted: boolean }
}

function multipart(boundary: string, bytes: number): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="title"\r\n\r\nreport\r\n` +
        `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.bin"\r\n` +
        `content-type: application/octet-stream\r\n\r\n`,
    ),
    Buffer.alloc(bytes, 7),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
}

describe('fanout/hono: POSTs are never aborted', () => {
  it('JSON, urlencoded, multipart and a 1 MiB body', async () => {
    const mib = 1024 * 1024
    const json = await post(JSON.stringify({ items: [1, 2, 3], note: 'x' }), 'application/json')
    expect(json).toEqual({ size: 28, reply: { upstream: 'ok' }, aborted: false })
    const form = await post('a=1&b=two', 'application/x-www-form-urlencoded')
    expect(form).toMatchObject({ size: 2, aborted: false })
    const big = await post(Buffer.alloc(mib, 1), 'application/octet-stream')
    expect(big).toMatchObject({ size: mib, aborted: false })
    const bigJson = await post(JSON.stringify({ blob: 'x'.repeat(mib) }), 'application/json')
    expect(bigJson).toMatchObject({ aborted: false })
    const parts = await post(multipart('XyZ', mib), 'multipart/form-data; boundary=XyZ')
    expect(parts).toMatchObject({ size: 2 + mib, aborted: false })
    // Finishing the response is no disconnect either: nothing fires afterwards.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect({ aborts, errors, pending: mw.contexts.pending }).toEqual({
      aborts: 0,
      errors: 0,
      pending: 0,
    })
  })

  it('1,000 healthy POSTs, 20 at a time, keep-alive: zero aborts', async () => {
    const origin = served.origin
    const replies = await pool(1_000, 20, async (i) => {
      const res = await fetch(`${origin}/submit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ i }),
      })
      return { status: res.status, body: (await res.json()) as { aborted: boolean } }
    })
    expect(replies.filter((r) => r.status !== 200 || r.body.aborted)).toEqual([])
    await waitFor(() => mw.contexts.pending === 0, 'post-response work')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect({ aborts, errors }).toEqual({ aborts: 0, errors: 0 })
  })
})

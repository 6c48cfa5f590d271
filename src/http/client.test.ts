/**
 * fanout/http against real loopback servers (127.0.0.1, port 0). Deadlines and phase limits run
 * on the client's clock: their timing is checked with a hand-driven clock, never the wall clock;
 * a few cases also run short real limits (≤ 600 ms) and assert on error types and codes only.
 */
import { readFileSync } from 'node:fs'
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import net, {
  createServer as createNetServer,
  type AddressInfo,
  type LookupFunction,
  type Socket,
} from 'node:net'
import { inspect } from 'node:util'
import {
  brotliCompressSync,
  constants as zlib,
  deflateRawSync,
  deflateSync,
  gzipSync,
} from 'node:zlib'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Clock } from '../core/clock.js'
import { manualClock } from '../../test/helpers/clocks.js'
import { AbortedError, InvalidOptionError, isFanoutError } from '../core/errors.js'
import { execute } from '../core/execute.js'
import { cached } from '../cache/cached.js'
import type { CacheStore } from '../cache/store.js'
import { memoryCacheStore } from '../cache/index.js'
import { parseProxyOptions, proxyFor } from './proxy.js'
import {
  codeOf,
  isIdempotentError,
  isRetryableError,
  statusOf,
  TRANSIENT_ERROR_CODES,
} from '../policies/classify.js'
import { limit } from '../policies/limit.js'
import { retryAfterOf } from '../policies/retry-after.js'
import { retry } from '../policies/retry.js'
import {
  createHttpClient,
  HttpError,
  HttpTimeoutError,
  InvalidJsonError,
  NetworkError,
  ProtocolError,
  RedirectError,
  ResponseTooLargeError,
  SsrfBlockedError,
  type HttpClient,
  type HttpClientOptions,
} from './index.js'

// --- helpers --------------------------------------------------------------------------------------

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

interface Upstream {
  readonly port: number
  readonly origin: string
  url(path?: string): string
  /** Connections accepted so far. */
  readonly accepted: number
  /** Connections still open. */
  readonly open: number
  readonly seen: readonly Seen[]
  readonly sockets: readonly Socket[]
  /** The server-side socket each request path arrived on. */
  readonly socketOf: ReadonlyMap<string, Socket>
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
  vi.restoreAllMocks()
})

function track(server: HttpServer | net.Server): {
  sockets: Socket[]
  accepted: () => number
  open: () => number
} {
  const sockets: Socket[] = []
  let open = 0
  server.on('connection', (socket: Socket) => {
    sockets.push(socket)
    open++
    socket.on('close', () => open--)
  })
  return { sockets, accepted: () => sockets.length, open: () => open }
}

async function listen(
  server: HttpServer | net.Server,
  t: ReturnType<typeof track>,
): Promise<Upstream> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of t.sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  const origin = `http://127.0.0.1:${port}`
  return {
    port,
    origin,
    url: (path = '/') => `${origin}${path}`,
    get accepted() {
      return t.accepted()
    },
    get open() {
      return t.open()
    },
    seen: [],
    sockets: t.sockets,
    socketOf: new Map(),
  }
}

/** An HTTP server whose handler gets the request body read in full. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void,
): Promise<Upstream> {
  const seen: Seen[] = []
  const socketOf = new Map<string, Socket>()
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const entry = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      }
      seen.push(entry)
      socketOf.set(req.url!, req.socket)
      handler(req, res, entry)
    })
  })
  const upstream = await listen(server, track(server))
  return Object.assign(upstream, { seen, socketOf })
}

/** A TCP server speaking raw bytes: `onRequest` gets the socket once the request head has arrived. */
async function serveRaw(onRequest: (socket: Socket) => void): Promise<Upstream> {
  const server = createNetServer((socket) => {
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return
      head += chunk.toString('latin1')
      if (head.includes('\r\n\r\n')) onRequest(socket)
    })
    socket.on('error', () => {})
  })
  return listen(server, track(server))
}

/** A client for loopback upstreams. Without retries: these tests look at one attempt (the client's own retries are in client-features.test.ts). */
function client(options: HttpClientOptions = {}): HttpClient {
  const c = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false, ...options })
  cleanups.push(() => c.close())
  return c
}

async function waitFor(condition: () => boolean, what: string, ms = 3_000): Promise<void> {
  const until = Date.now() + ms
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

/** A signal whose listener count can be read (cockatiel #81's technique). */
function countedSignal(): { controller: AbortController; readonly listeners: number } {
  const controller = new AbortController()
  let listeners = 0
  const add = controller.signal.addEventListener.bind(controller.signal)
  const remove = controller.signal.removeEventListener.bind(controller.signal)
  controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listeners++
    add(...args)
  }) as typeof add
  controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listeners--
    remove(...args)
  }) as typeof remove
  return {
    controller,
    get listeners() {
      return listeners
    },
  }
}

const echo = (res: ServerResponse, seen: Seen): void => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify(seen))
}

// --- basics ---------------------------------------------------------------------------------------

describe('fanout/http: requests and responses', () => {
  it('sends default and request headers, the query and a JSON body; keeps connections alive', async () => {
    const up = await serve((_req, res, seen) => {
      res.setHeader('x-multi', ['a', 'b'])
      echo(res, seen)
    })
    const c = client({ headers: { 'X-Client': 'demo', Accept: 'text/plain' } })
    const res = await c.request(up.url('/items?fixed=1'), {
      method: 'post',
      headers: { 'X-Request': 'one', accept: 'application/json' },
      query: { page: 2, tags: ['a b', 'c'], skip: undefined, on: true },
      json: { name: 'Ada' },
    })
    const seen = res.json<Seen>()
    expect(res.status).toBe(200)
    expect(seen.method).toBe('POST')
    expect(seen.url).toBe('/items?fixed=1&page=2&tags=a%20b&tags=c&on=true')
    expect(seen.headers).toMatchObject({
      'x-client': 'demo',
      'x-request': 'one',
      accept: 'application/json',
      'content-type': 'application/json',
      'accept-encoding': 'br, gzip, deflate',
    })
    expect(seen.body).toBe('{"name":"Ada"}')
    expect(res.headers['x-multi']).toBe('a, b')
    expect(Object.getPrototypeOf(res.headers)).toBe(null)
    // undici reuses a socket one event-loop turn after its response ends, so back-to-back
    // requests alternate between two keep-alive connections at most.
    for (let i = 0; i < 5; i++) await c.get(up.url('/again'))
    expect(up.accepted).toBeLessThanOrEqual(2)
  })

  it('resolves relative URLs against baseUrl, keeping its path', async () => {
    const up = await serve((_req, res, seen) => echo(res, seen))
    const c = client({ baseUrl: up.url('/v1') })
    expect((await c.json<Seen>('users?id=7')).url).toBe('/v1/users?id=7')
    expect((await c.json<Seen>('/root')).url).toBe('/root')
    await expect(client().get('/relative')).rejects.toThrow(
      /relative URL and the client has no `baseUrl`/,
    )
  })

  it('I9: default credential headers go to the baseUrl origin only, never to an absolute URL elsewhere', async () => {
    const home = await serve((_req, res, seen) => echo(res, seen))
    const elsewhere = await serve((_req, res, seen) => echo(res, seen))
    const c = client({
      baseUrl: home.url('/'),
      headers: {
        authorization: 'Bearer canary-default',
        'x-api-key': 'canary-key',
        'x-trace': 't1',
      },
      credentialHeaders: ['x-api-key'],
    })
    const atHome = await c.json<Seen>('me')
    expect(atHome.headers.authorization).toBe('Bearer canary-default')
    expect(atHome.headers['x-api-key']).toBe('canary-key')
    const away = await c.json<Seen>(elsewhere.url('/me'))
    expect(away.headers.authorization).toBeUndefined()
    expect(away.headers['x-api-key']).toBeUndefined()
    expect(away.headers['x-trace']).toBe('t1')
    // A request that sets its own credentials for another origin keeps them.
    const explicit = await c.json<Seen>(elsewhere.url('/me'), {
      headers: { authorization: 'Bearer for-elsewhere' },
    })
    expect(explicit.headers.authorization).toBe('Bearer for-elsewhere')
  })

  it('json() sends accept: application/json; text() drops a BOM; HEAD and 204 have empty bodies', async () => {
    const up = await serve((req, res, seen) => {
      if (req.url === '/bom') return res.end('\uFEFFhello')
      if (req.url === '/empty') {
        res.writeHead(204, { 'content-encoding': 'gzip' })
        return res.end()
      }
      res.setHeader('content-encoding', 'gzip')
      res.end(req.method === 'HEAD' ? undefined : gzipSync(JSON.stringify(seen)))
    })
    const c = client()
    expect((await c.json<Seen>(up.url('/'))).headers.accept).toBe('application/json')
    expect((await c.get(up.url('/bom'))).text()).toBe('hello')
    expect((await c.request(up.url('/'), { method: 'HEAD' })).body.length).toBe(0)
    const empty = await c.request(up.url('/empty'))
    expect([empty.status, empty.body.length]).toEqual([204, 0])
  })

  it('decodes gzip, x-gzip, deflate (zlib-wrapped and raw) and br; passes an unknown coding through', async () => {
    const text = 'fanout '.repeat(1000)
    const encoded: Record<string, Buffer> = {
      gzip: gzipSync(text),
      'x-gzip': gzipSync(text),
      deflate: deflateSync(text),
      br: brotliCompressSync(text),
    }
    const up = await serve((req, res) => {
      const coding = req.url!.slice(1)
      if (coding === 'raw-deflate') {
        res.setHeader('content-encoding', 'deflate')
        return res.end(deflateRawSync(text))
      }
      res.setHeader('content-encoding', coding)
      res.end(encoded[coding] ?? Buffer.from('opaque'))
    })
    const c = client()
    for (const coding of ['gzip', 'x-gzip', 'deflate', 'raw-deflate', 'br'])
      expect([coding, (await c.get(up.url(`/${coding}`))).text()]).toEqual([coding, text])
    const unknown = await c.get(up.url('/zstd'))
    expect([unknown.text(), unknown.headers['content-encoding']]).toEqual(['opaque', 'zstd'])
  })

  it('a corrupt gzip body is an error, not a response', async () => {
    const up = await serve((_req, res) => {
      res.setHeader('content-encoding', 'gzip')
      res.end(gzipSync('hello').subarray(0, 12))
    })
    const error = await failure(client().get(up.url()))
    expect(error).toBeInstanceOf(ProtocolError)
    expect(error).toMatchObject({
      code: 'FANOUT_HTTP_PROTOCOL',
      causeCode: expect.stringMatching(/^Z_/) as unknown,
      method: 'GET',
    })
    expect(isRetryableError(error)).toBe(false)
  })

  it('get() and json() reject a status outside 2xx with HttpError; request() resolves it', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(404, { 'set-cookie': 'sid=1', 'content-type': 'application/json' })
      res.end('{"error":"nope"}')
    })
    const c = client()
    expect((await c.request(up.url('/missing'))).status).toBe(404)
    const error = await failure(c.get(up.url('/missing')))
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({
      status: 404,
      method: 'GET',
      url: up.url('/missing'),
      code: 'FANOUT_HTTP_STATUS',
    })
    expect(error.message).toBe(`GET ${up.url('/missing')} responded 404 Not Found`)
    expect((error as HttpError).headers['set-cookie']).toBeUndefined()
    expect(Buffer.from((error as HttpError).body).toString()).toBe('{"error":"nope"}')
    expect(isRetryableError(error)).toBe(false)
    expect(await failure(c.json(up.url('/missing')))).toBeInstanceOf(HttpError)
  })
})

// --- faults: slow or broken upstream ----------------------------------------------------------------

describe('fanout/http: slow or broken upstream (B)', () => {
  it('B1: headers never sent → HttpTimeoutError in the headers phase, retryable', async () => {
    const up = await serveRaw(() => {})
    const error = await failure(client().get(up.url(), { timeouts: { headers: 150 } }))
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({
      phase: 'headers',
      code: 'FANOUT_TIMEOUT',
      timeoutMs: 150,
      method: 'GET',
    })
    expect(isRetryableError(error)).toBe(true)
  })

  it('B1: the headers limit runs on the client clock: it fires at exactly its value, not before, and destroys the socket', async () => {
    const clock = manualClock()
    let arrived = false
    const up = await serveRaw(() => (arrived = true))
    let settled = false
    const pending = failure(client({ clock, timeouts: { headers: 800 } }).get(up.url())).finally(
      () => (settled = true),
    )
    // The request reached the server, so it was handed to its socket (the headers phase began) at time 0.
    await waitFor(() => arrived, 'the request to reach the server')
    clock.advance(799)
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false)
    clock.advance(1)
    const error = await pending
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ phase: 'headers', code: 'FANOUT_TIMEOUT', timeoutMs: 800 })
    expect(error.message).toBe(
      `GET ${up.url()}: no response headers within 800 ms of sending the request (timeouts.headers)`,
    )
    expect(clock.pending).toBe(0)
    await waitFor(() => up.sockets[0]!.destroyed, 'the socket to be destroyed')
  })

  it('B2: the body limit runs on the client clock: it fires at exactly its value after the last data', async () => {
    const clock = manualClock()
    const up = await serveRaw((socket) =>
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'),
    )
    let settled = false
    const pending = failure(
      client({ clock, timeouts: { headers: 30_000, body: 300 } }).get(up.url()),
    ).finally(() => (settled = true))
    // The body limit, shorter than what is left of the headers limit, takes over the one timer when the headers arrive.
    await waitFor(() => clock.nextAt === 300, 'the headers to arrive')
    clock.advance(299)
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false)
    clock.advance(1)
    const error = await pending
    expect(error).toMatchObject({ phase: 'body', code: 'FANOUT_TIMEOUT', timeoutMs: 300 })
    expect(error.message).toMatch(
      /the response body stalled: no data for 300 ms \(timeouts\.body\)$/,
    )
    expect(clock.pending).toBe(0)
    await waitFor(() => up.sockets[0]!.destroyed, 'the socket to be destroyed')
  })

  it('B4: a connection that never completes (black-holed SYN) → the connect timeout fires, transient; the deadline caps it', async () => {
    // A resolver that never answers stands in for a SYN that is dropped: either way the socket
    // never connects, and only the connect phase's own limit can end the wait.
    let asked = 0
    const lookup: LookupFunction = () => void asked++
    const c = client({ lookup, timeouts: { connect: 150 } })
    const error = await failure(c.get('http://black-hole.test/'))
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ phase: 'connect', code: 'FANOUT_TIMEOUT', timeoutMs: 150 })
    expect(isRetryableError(error)).toBe(true)
    expect(asked).toBe(1)
    // A deadline shorter than the connect limit wins: the connect timeout is never above it.
    const capped = await failure(
      client({ lookup }).get('http://black-hole.test/', { deadline: 100 }),
    )
    expect(capped).toBeInstanceOf(HttpTimeoutError)
    expect(capped).toMatchObject({ phase: 'connect', code: 'FANOUT_DEADLINE' })
  })

  it('B4: the connect limit runs on the client clock, DNS lookup included: it fires at exactly its value', async () => {
    const clock = manualClock()
    let asked = 0
    const c = client({ clock, lookup: () => void asked++, timeouts: { connect: 150 } })
    let settled = false
    const pending = failure(c.get('http://black-hole.test/')).finally(() => (settled = true))
    await waitFor(() => asked === 1, 'the connector to ask for the address')
    clock.advance(149)
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false)
    clock.advance(1)
    const error = await pending
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ phase: 'connect', code: 'FANOUT_TIMEOUT', timeoutMs: 150 })
    expect(error.message).toBe(
      'GET http://black-hole.test/: could not connect within 150 ms (timeouts.connect)',
    )
    expect(clock.pending).toBe(0)
  })

  it('B12: a pooled keep-alive socket the server closed while idle is not reused; a request that reached a dying socket fails retryably', async () => {
    // Each connection answers requests with keep-alive; `closeIdle` ends it from the server side
    // soon after the first answer (an idle timeout), `dropSecond` destroys it on the second request.
    let mode: 'closeIdle' | 'dropSecond' = 'closeIdle'
    const server = createNetServer((socket) => {
      let buffered = ''
      let answered = 0
      socket.on('error', () => {})
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1')
        while (buffered.includes('\r\n\r\n')) {
          buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4)
          if (++answered === 2 && mode === 'dropSecond') return void socket.destroy()
          socket.write(
            'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\nkeep-alive: timeout=60\r\n\r\nok',
          )
          if (mode === 'closeIdle') setTimeout(() => socket.end(), 20)
        }
      })
    })
    const up = await listen(server, track(server))
    const c = client()
    expect((await c.get(up.url('/1'))).text()).toBe('ok')
    await waitFor(() => up.open === 0, 'the server to close the idle connection')
    // The closed socket is dropped from the pool: the next request dials a new one and succeeds.
    expect((await c.get(up.url('/2'))).text()).toBe('ok')
    expect(up.accepted).toBe(2)

    mode = 'dropSecond'
    const d = client({ connections: 1 })
    expect((await d.get(up.url('/3'))).text()).toBe('ok')
    const error = await failure(d.get(up.url('/4')))
    expect(error).toBeInstanceOf(NetworkError)
    expect(TRANSIENT_ERROR_CODES.has((error as NetworkError).causeCode!)).toBe(true)
    expect(isRetryableError(error)).toBe(true)
    // The request reached the server, so nothing retries it behind the caller's back: retry()
    // decides, here with a fresh connection.
    const get = retry({ baseDelay: 1, maxDelay: 5 }).wrap(({ signal }) =>
      d.get(up.url('/5'), { signal }),
    )
    expect((await execute(get)).text()).toBe('ok')
  })

  it('B2: body never ends → HttpTimeoutError in the body phase; the socket is destroyed, not reused', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' })
      res.write('partial')
    })
    const error = await failure(client({ timeouts: { body: 150 } }).get(up.url()))
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ phase: 'body', code: 'FANOUT_TIMEOUT' })
    await waitFor(() => up.socketOf.get('/')!.destroyed, 'the server to see the socket closed')
  })

  it('B3: a slow drip that never trips the body timeout is stopped by the deadline', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(200)
      res.write('x')
      const drip = setInterval(() => res.write('x'), 50)
      res.on('close', () => clearInterval(drip))
    })
    const error = await failure(
      client({ timeouts: { body: 5_000 } }).get(up.url(), { deadline: 600 }),
    )
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ phase: 'body', code: 'FANOUT_DEADLINE' })
    expect(isRetryableError(error)).toBe(false)
    await waitFor(() => up.socketOf.get('/')!.destroyed, 'the server to see the socket closed')
  })

  it('B3: the deadline runs on the client clock (fake time) and leaves no timer behind', async () => {
    const clock = manualClock()
    let wrote = false
    const up = await serve((_req, res) => {
      res.writeHead(200)
      res.write('x', () => (wrote = true))
    })
    const c = client({ clock })
    const pending = failure(c.get(up.url(), { deadline: 1_000 }))
    await waitFor(() => wrote, 'the server to start the body')
    clock.advance(999)
    expect(clock.pending).toBe(2) // the deadline, and the phase limits' one timer
    clock.advance(1)
    const error = await pending
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ code: 'FANOUT_DEADLINE', timeoutMs: 1_000 })
    expect(clock.pending).toBe(0)
  })

  it('B5: ECONNRESET after a partial body is an error, not a response — and retry() gets a fresh answer', async () => {
    let calls = 0
    const up = await serve((_req, res) => {
      if (++calls > 1) return res.end('whole')
      res.writeHead(200, { 'content-length': '1000' })
      res.write(Buffer.alloc(100), () => setTimeout(() => res.socket!.resetAndDestroy(), 10))
    })
    const c = client()
    const error = await failure(c.get(up.url()))
    expect(error).toBeInstanceOf(NetworkError)
    expect(error).toMatchObject({
      code: 'FANOUT_NETWORK',
      causeCode: expect.stringMatching(/^(ECONNRESET|UND_ERR_SOCKET)$/) as unknown,
    })
    expect(isRetryableError(error)).toBe(true)

    calls = 0
    const get = retry({ baseDelay: 1, maxDelay: 5 }).wrap(({ signal }) =>
      c.get(up.url(), { signal }),
    )
    expect((await execute(get)).text()).toBe('whole')
    expect(calls).toBe(2)

    // The same failure on a POST: the error names the method, so retry() does not repeat a
    // request that may have reached the server.
    calls = 0
    const post = retry({ baseDelay: 1, maxDelay: 5 }).wrap(({ signal }) =>
      c.request(up.url(), { method: 'POST', body: 'order', signal }),
    )
    const error2 = await failure(execute(post))
    expect((error2 as { method?: string }).method).toBe('POST')
    expect(isIdempotentError(error2)).toBe(false)
    expect(calls).toBe(1)
  })

  it('B6: a body shorter than its content-length, or a truncated chunked body, is an error', async () => {
    const short = await serveRaw((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'),
    )
    expect(await failure(client().get(short.url()))).toBeInstanceOf(NetworkError)
    const chunked = await serveRaw((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'),
    )
    const error = await failure(client().get(chunked.url()))
    expect(TRANSIENT_ERROR_CODES.has(codeOf(error)!)).toBe(true)
    // Not HTTP at all: a ProtocolError, not retried (the same server would answer the same).
    const garbage = await serveRaw((socket) => socket.end('NOT HTTP\r\n\r\n'))
    const broken = await failure(client().get(garbage.url()))
    expect(broken).toBeInstanceOf(ProtocolError)
    expect(isRetryableError(broken)).toBe(false)
  })

  it('B7: an endless body is cut at maxResponseSize with ResponseTooLargeError; the socket is destroyed', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(200)
      const chunk = Buffer.alloc(64 * 1024, 'a')
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump)
      }
      pump()
    })
    const error = await failure(client({ maxResponseSize: 256 * 1024 }).get(up.url()))
    expect(error).toBeInstanceOf(ResponseTooLargeError)
    expect(error).toMatchObject({ part: 'body', limit: 256 * 1024, code: 'FANOUT_HTTP_TOO_LARGE' })
    expect(isRetryableError(error)).toBe(false)
    await waitFor(() => up.socketOf.get('/')!.destroyed, 'the server to see the socket closed')
  })

  it('B7, R15: the default maxResponseSize is finite — 10 MiB, as documented: exactly 10 MiB is read, one byte more is refused', async () => {
    const limit = 10 * 1024 * 1024
    const documented = /^\| `maxResponseSize` \| (\d+) MiB \|/m.exec(
      readFileSync(new URL('../../docs/http.md', import.meta.url), 'utf8'),
    )?.[1]
    expect(Number(documented) * 1024 * 1024).toBe(limit)
    const chunk = Buffer.alloc(64 * 1024, 'a')
    const up = await serve((req, res) => {
      const size = req.url === '/over' || req.url === '/over-declared' ? limit + 1 : limit
      // Streamed without a content-length, so every byte is counted; or declared up front.
      res.writeHead(200, req.url === '/over-declared' ? { 'content-length': String(size) } : {})
      let left = size
      const pump = (): void => {
        while (left > 0 && !res.destroyed) {
          const n = Math.min(left, chunk.length)
          left -= n
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
            return void res.once('drain', pump)
        }
        if (!res.destroyed) res.end()
      }
      pump()
    })
    const c = client() // the default maxResponseSize
    expect((await c.get(up.url('/exact'))).body.length).toBe(limit)
    for (const path of ['/over', '/over-declared']) {
      const error = await failure(c.get(up.url(path)))
      expect(error).toBeInstanceOf(ResponseTooLargeError)
      expect(error).toMatchObject({ part: 'body', limit, code: 'FANOUT_HTTP_TOO_LARGE' })
    }
  })

  it('B7: a content-length over the limit fails at the headers; a per-request limit applies', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) })
      res.write('x')
    })
    const error = await failure(client().get(up.url(), { maxResponseSize: 1024 }))
    expect(error).toBeInstanceOf(ResponseTooLargeError)
    expect(error.message).toContain('content-length says 52428800')
  })

  it('B8: gzip, deflate and br bombs are stopped by the limit on decoded bytes', async () => {
    const zeros = Buffer.alloc(32 * 1024 * 1024)
    const bombs: Record<string, Buffer> = {
      gzip: gzipSync(zeros),
      deflate: deflateSync(zeros),
      br: brotliCompressSync(zeros, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }),
    }
    const up = await serve((req, res) => {
      const coding = req.url!.slice(1)
      res.writeHead(200, { 'content-encoding': coding })
      res.end(bombs[coding])
    })
    const c = client({ maxResponseSize: 1024 * 1024 })
    for (const coding of Object.keys(bombs)) {
      expect(bombs[coding]!.length).toBeLessThan(64 * 1024)
      const error = await failure(c.get(up.url(`/${coding}`)))
      expect(error).toBeInstanceOf(ResponseTooLargeError)
      expect(error.message).toContain(`counted after decoding ${coding}`)
    }
  })

  it('B9: a body that is not JSON → InvalidJsonError, without the body in the message, and not retried', async () => {
    let calls = 0
    const up = await serve((_req, res) => {
      calls++
      res.setHeader('content-type', 'application/json')
      res.end('{"token":"CANARY-JSON-BODY", oops')
    })
    const c = client()
    const call = retry({ baseDelay: 1, maxDelay: 5 }).wrap(({ signal }) =>
      c.json(up.url('/data'), { signal }),
    )
    const error = await failure(execute(call))
    expect(error).toBeInstanceOf(InvalidJsonError)
    expect(error).toMatchObject({
      code: 'FANOUT_HTTP_INVALID_JSON',
      status: 200,
      contentType: 'application/json',
      url: up.url('/data'),
    })
    expect(error.message).toMatch(/is not valid JSON at position \d+/)
    expect(error.message).not.toContain('CANARY')
    expect(calls).toBe(1)
    const res = await c.get(up.url())
    expect(() => res.json()).toThrow(InvalidJsonError)
  })

  it('B10: DNS failures are a NetworkError with the original as cause, and transient; so is a refused connection', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND api.test'), {
      code: 'ENOTFOUND',
    })
    const lookup: LookupFunction = (_host, _options, callback) => callback(notFound, '', 0)
    const error = await failure(client({ lookup }).get('http://api.test/'))
    expect(error).toBeInstanceOf(NetworkError)
    expect(error).toMatchObject({
      code: 'FANOUT_NETWORK',
      causeCode: 'ENOTFOUND',
      method: 'GET',
      url: 'http://api.test/',
    })
    expect(error.cause).toBe(notFound)
    expect(isRetryableError(error)).toBe(true)

    const gone = await serve(() => {})
    const port = gone.port
    await cleanups.pop()!()
    const refused = await failure(client().get(`http://127.0.0.1:${port}/`))
    expect(refused).toMatchObject({ code: 'FANOUT_NETWORK', causeCode: 'ECONNREFUSED' })
    expect(isFanoutError(refused)).toBe(true)
    expect(isRetryableError(refused)).toBe(true)
  })

  it('C1: a 429 with Retry-After carries retryAfterMs, and retry() waits that long before the next attempt', async () => {
    let calls = 0
    const up = await serve((_req, res) => {
      if (++calls === 1) {
        res.writeHead(429, { 'retry-after': '2' })
        return res.end()
      }
      res.end('ok')
    })
    const c = client()
    const error = await failure(c.get(up.url()))
    expect(error).toBeInstanceOf(HttpError)
    expect([
      statusOf(error),
      (error as HttpError).retryAfterMs,
      retryAfterOf(error),
      isRetryableError(error),
    ]).toEqual([429, 2_000, 2_000, true])

    // retry() sleeps on the execute() clock; this one records the wait and skips it.
    const sleeps: number[] = []
    let virtual = 0
    const skipping: Clock = {
      now: () => virtual,
      setTimeout: (fn, ms) => {
        sleeps.push(ms)
        virtual += ms
        return setImmediate(fn)
      },
      clearTimeout: (handle) => clearImmediate(handle as NodeJS.Immediate),
    }
    calls = 0
    const get = retry({ maxAttempts: 2 }).wrap(({ signal }) => c.get(up.url(), { signal }))
    expect((await execute(get, { clock: skipping })).text()).toBe('ok')
    expect(calls).toBe(2)
    expect(sleeps).toEqual([2_000])
  })

  it('C15: redirects inside an attempt are not retries: two hops per attempt, two attempts', async () => {
    let finals = 0
    const up = await serve((req, res) => {
      if (req.url === '/start') return res.writeHead(302, { location: '/middle' }).end()
      if (req.url === '/middle') return res.writeHead(307, { location: '/end' }).end()
      res.writeHead(++finals === 1 ? 503 : 200).end('done')
    })
    const c = client()
    const attempts: number[] = []
    const get = retry({ maxAttempts: 3, baseDelay: 1, maxDelay: 2 }).wrap(
      ({ signal, attempt }) => (attempts.push(attempt), c.get(up.url('/start'), { signal })),
    )
    const res = await execute(get)
    expect([res.text(), res.redirects]).toEqual(['done', 2])
    expect(attempts).toEqual([1, 2])
    expect(up.seen.map((r) => r.url)).toEqual([
      '/start',
      '/middle',
      '/end',
      '/start',
      '/middle',
      '/end',
    ])
  })

  it('C8: a streaming request body is refused before anything is sent, so it can never be replayed by a retry', async () => {
    const up = await serve((_req, res) => res.end())
    const stream = new ReadableStream({ start: (controller) => controller.close() })
    const error = await failure(
      client().request(up.url(), { method: 'POST', body: stream as never }),
    )
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect(error.message).toMatch(/`body` must be a string or a Uint8Array/)
    expect(up.accepted).toBe(0)
  })

  it('C1: RateLimit-Reset on a 429 gives retryAfterMs when there is no Retry-After', async () => {
    const up = await serve((req, res) => {
      res.writeHead(
        429,
        req.url === '/draft'
          ? { ratelimit: 'limit=10, remaining=0, reset=7' }
          : req.url === '/draft8'
            ? { ratelimit: '"default";r=0;t=9' }
            : { 'ratelimit-reset': '3' },
      )
      res.end()
    })
    const c = client()
    expect(((await failure(c.get(up.url()))) as HttpError).retryAfterMs).toBe(3_000)
    expect(((await failure(c.get(up.url('/draft')))) as HttpError).retryAfterMs).toBe(7_000)
    expect(((await failure(c.get(up.url('/draft8')))) as HttpError).retryAfterMs).toBe(9_000)
  })
})

// --- cancellation, deadlines, limits, lifecycle ----------------------------------------------------

describe('fanout/http: cancellation, limits and lifecycle', () => {
  it('A6: an already-aborted signal rejects with its reason and connects nothing', async () => {
    const up = await serve((_req, res) => res.end())
    const reason = new Error('caller left')
    await expect(client().get(up.url(), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    expect(up.accepted).toBe(0)
  })

  it('L5: a deadline already past rejects at once and connects nothing', async () => {
    const up = await serve((_req, res) => res.end())
    const clock = manualClock()
    clock.advance(100)
    const error = await failure(client({ clock }).get(up.url(), { deadlineAt: 50 }))
    expect(error).toMatchObject({ code: 'FANOUT_DEADLINE' })
    expect(up.accepted).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('A4: aborting while waiting for headers, or mid-body, rejects with the reason and destroys the socket', async () => {
    const up = await serve((req, res) => {
      if (req.url === '/body') {
        res.writeHead(200)
        res.write('partial')
      }
    })
    const c = client()
    for (const path of ['/headers', '/body']) {
      const counted = countedSignal()
      const pending = failure(c.get(up.url(path), { signal: counted.controller.signal }))
      await waitFor(() => up.seen.some((s) => s.url === path), `the server to receive ${path}`)
      if (path === '/body') await new Promise((resolve) => setTimeout(resolve, 20))
      const reason = new Error(`stop ${path}`)
      counted.controller.abort(reason)
      expect(await pending).toBe(reason)
      expect(counted.listeners).toBe(0)
      await waitFor(() => up.socketOf.get(path)!.destroyed, `the socket of ${path} to be closed`)
    }
  })

  it('J2: a long-lived signal used for many requests keeps no listener, and the hand-driven clock no timer', async () => {
    const up = await serve((_req, res) => res.end('ok'))
    const clock = manualClock()
    const c = client({ clock })
    const counted = countedSignal()
    for (let i = 0; i < 20; i++)
      await c.get(up.url(), { signal: counted.controller.signal, deadline: 60_000 })
    await failure(
      c.request(up.url(), {
        signal: counted.controller.signal,
        deadline: 60_000,
        method: 'PATCH',
        maxResponseSize: 0,
      }),
    )
    expect(counted.listeners).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('a request’s timeouts.connect also bounds waiting for a free connection', async () => {
    const up = await serve((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end(), 400)
      else res.end()
    })
    const c = client({ connections: 1 })
    const slow = c.get(up.url('/slow'))
    const error = await failure(c.get(up.url('/fast'), { timeouts: { connect: 100 } }))
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect(error).toMatchObject({ phase: 'connect', code: 'FANOUT_TIMEOUT' })
    await slow
  })

  it('every request goes through the limiter, keyed by origin for perKey', async () => {
    const busiest = async (): Promise<{ up: Upstream; readonly most: number }> => {
      let running = 0
      let most = 0
      const up = await serve((_req, res) => {
        most = Math.max(most, ++running)
        setTimeout(() => {
          running--
          res.end()
        }, 20)
      })
      return {
        up,
        get most() {
          return most
        },
      }
    }
    const a = await busiest()
    const b = await busiest()
    const limiter = limit({ concurrency: 10, perKey: 1, key: (ctx) => ctx.task })
    const c = client({ limit: limiter })
    let peak = 0
    const get = async (url: string): Promise<void> => {
      const pending = c.get(url)
      peak = Math.max(peak, limiter.activeCount)
      await pending
    }
    await Promise.all([a, a, a, b, b, b].map((s) => get(s.up.url())))
    expect([a.most, b.most]).toEqual([1, 1])
    expect(peak).toBeLessThanOrEqual(2)
    expect([limiter.activeCount, limiter.pendingCount]).toEqual([0, 0])
  })

  it('J1: 600 requests mixing success, timeouts and aborts, then close(): sockets and timers back to their baseline', async () => {
    const up = await serve((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('late'), 200).unref()
      else res.end('ok')
    })
    const count = (): Record<string, number> => {
      const out: Record<string, number> = {}
      for (const r of process.getActiveResourcesInfo())
        if (r === 'TCPSocketWrap' || r === 'Timeout') out[r] = (out[r] ?? 0) + 1
      return out
    }
    const baseline = count()
    const c = createHttpClient({ ssrf: { allow: ['loopback'] }, connections: 16 })
    const outcomes = await Promise.all(
      Array.from({ length: 600 }, (_, i) => {
        if (i % 3 === 0)
          return c.get(up.url('/ok')).then(
            () => 'ok',
            () => 'failed',
          )
        if (i % 3 === 1)
          return c.get(up.url('/slow'), { deadline: 20 }).then(
            () => 'ok',
            (e: unknown) => (isFanoutError(e, 'FANOUT_DEADLINE') ? 'deadline' : 'failed'),
          )
        const controller = new AbortController()
        setTimeout(() => controller.abort(new Error('left')), 5)
        return c.get(up.url('/slow'), { signal: controller.signal }).then(
          () => 'ok',
          (e: unknown) => ((e as Error).message === 'left' ? 'aborted' : 'failed'),
        )
      }),
    )
    expect(new Set(outcomes)).toEqual(new Set(['ok', 'deadline', 'aborted']))
    await c.close()
    const settled = (): boolean => {
      const now = count()
      return (
        (now['TCPSocketWrap'] ?? 0) <= (baseline['TCPSocketWrap'] ?? 0) &&
        (now['Timeout'] ?? 0) <= (baseline['Timeout'] ?? 0)
      )
    }
    // Within 2 s: undici would close idle keep-alive sockets by itself after 4 s, which would hide a close() that does nothing.
    await waitFor(
      settled,
      `sockets and timers to return to ${JSON.stringify(baseline)} (now ${JSON.stringify(count())})`,
      2_000,
    )
  })

  it('J5: close() is idempotent and later requests reject with AbortedError', async () => {
    const up = await serve((_req, res) => res.end('ok'))
    const c = createHttpClient({ ssrf: { allow: ['loopback'] } })
    await c.get(up.url())
    const first = c.close()
    expect(c.close()).toBe(first)
    await first
    const error = await failure(c.get(up.url()))
    expect(error).toBeInstanceOf(AbortedError)
    expect(isRetryableError(error)).toBe(false)
    await waitFor(() => up.open === 0, 'the pool to close its sockets')
  })
})

// --- security ---------------------------------------------------------------------------------------

describe('fanout/http: SSRF guard (I1–I4)', () => {
  const PAYLOADS = [
    '127.1',
    '0x7f.0.0.1',
    '2130706433',
    '017700000001',
    '[::ffff:a9fe:a9fe]',
    '[64:ff9b::a9fe:a9fe]',
    '[2002:a9fe:a9fe::]',
    '169.254.169.254',
    '[::1]',
    '0',
    'localhost.',
    '[::]',
    '①②⑦.0.0.1',
    '[::ffff:7f00:1]',
  ]

  it('I1, I2: every payload is refused before any socket is opened or any name resolved', async () => {
    const up = await serve((_req, res) => res.end('reached'))
    const connect = vi.spyOn(net, 'connect')
    const lookup = vi.fn<LookupFunction>((_host, _options, callback) =>
      callback(null, [{ address: '127.0.0.1', family: 4 }]),
    )
    const c = createHttpClient({ lookup })
    cleanups.push(() => c.close())
    for (const host of PAYLOADS) {
      const error = await failure(c.get(`http://${host}:${up.port}/latest/meta-data`))
      expect([host, error]).toEqual([host, expect.any(SsrfBlockedError)])
    }
    const metadata = (await failure(
      c.get('http://169.254.169.254/latest/meta-data'),
    )) as SsrfBlockedError
    expect(metadata).toMatchObject({
      rule: 'metadata',
      address: '169.254.169.254',
      url: 'http://169.254.169.254/latest/meta-data',
    })
    expect(metadata.message).toContain('rule "metadata"')
    expect(connect).not.toHaveBeenCalled()
    expect(lookup).not.toHaveBeenCalled()
    expect(up.accepted).toBe(0)
  })

  it('I3: a name that resolves to 169.254.169.254 or to loopback is refused at connect, on the resolved address', async () => {
    const up = await serve((_req, res) => res.end('reached'))
    const answers: Record<string, string> = {
      'metadata.test': '169.254.169.254',
      '127.0.0.1.nip.io': '127.0.0.1',
    }
    const lookup: LookupFunction = (host, _options, callback) =>
      callback(null, [{ address: answers[host]!, family: 4 }])
    const c = createHttpClient({ lookup })
    cleanups.push(() => c.close())
    const error = (await failure(c.get('http://metadata.test/latest'))) as SsrfBlockedError
    expect(error).toBeInstanceOf(SsrfBlockedError)
    expect(error).toMatchObject({
      rule: 'metadata',
      address: '169.254.169.254',
      hostname: 'metadata.test',
      url: 'http://metadata.test/latest',
    })
    const loop = await failure(c.get(`http://127.0.0.1.nip.io:${up.port}/`))
    expect(loop).toMatchObject({ rule: 'loopback', address: '127.0.0.1' })
    expect(up.accepted).toBe(0)
  })

  it('I3: DNS rebinding — each new connection is checked on the address it dials', async () => {
    // 127.0.0.1 plays the public address, 127.0.0.2 (denied) the private one.
    const up = await serve((_req, res) => {
      res.setHeader('connection', 'close')
      res.end('ok')
    })
    const sequence = ['127.0.0.1', '127.0.0.2']
    const lookup: LookupFunction = (_host, _options, callback) =>
      callback(null, [{ address: sequence.shift() ?? '127.0.0.2', family: 4 }])
    const c = client({ lookup, ssrf: { allow: ['loopback'], deny: ['127.0.0.2/32'] } })
    expect((await c.get(`http://rebind.test:${up.port}/`)).text()).toBe('ok')
    const error = await failure(c.get(`http://rebind.test:${up.port}/`))
    expect(error).toMatchObject({ rule: 'deny', address: '127.0.0.2', hostname: 'rebind.test' })
    expect(up.accepted).toBe(1)
  })

  it('I4: every redirect hop is re-validated: to 169.254.169.254, to [::1], to localhost, to a name resolving privately', async () => {
    const targets: Record<string, string> = {
      '/metadata': 'http://169.254.169.254/latest/meta-data/iam',
      '/v6': 'http://[::1]:1/',
      '/localhost': 'http://localhost:1/',
      '/name': 'http://intranet.test/',
    }
    const up = await serve((req, res) => {
      res.writeHead(302, { location: targets[req.url!] })
      res.end()
    })
    const connect = vi.spyOn(net, 'connect')
    const lookup: LookupFunction = (_host, _options, callback) =>
      callback(null, [{ address: '10.1.2.3', family: 4 }])
    const c = client({ lookup, ssrf: { allow: ['127.0.0.1/32'] } })
    const rules: string[] = []
    for (const path of Object.keys(targets)) {
      const error = await failure(c.get(up.url(path)))
      expect(error).toBeInstanceOf(SsrfBlockedError)
      rules.push((error as SsrfBlockedError).rule)
    }
    expect(rules).toEqual(['metadata', 'loopback', 'loopback', 'private'])
    // Sockets for the loopback server only; the private name got as far as its lookup, which refused it.
    expect(
      new Set(connect.mock.calls.map(([options]) => (options as unknown as { host: string }).host)),
    ).toEqual(new Set(['127.0.0.1', 'intranet.test']))
  })

  it('ssrf: false lets loopback through (dangerous; for tests and trusted networks)', async () => {
    const up = await serve((_req, res) => res.end('ok'))
    const c = createHttpClient({ ssrf: false })
    cleanups.push(() => c.close())
    expect((await c.get(up.url())).text()).toBe('ok')
  })
})

describe('fanout/http: redirects (I5, I6)', () => {
  const secrets = {
    authorization: 'Bearer s3cret',
    cookie: 'sid=s3cret',
    'proxy-authorization': 'Basic s3cret',
    'x-api-key': 's3cret',
    'x-trace': 'keep',
  }

  it('I5: credential headers are stripped on a port change and a host change, kept on the same origin', async () => {
    const b = await serve((_req, res, seen) => echo(res, seen))
    const a = await serve((req, res) => {
      const to: Record<string, string> = {
        '/port': b.url('/landed'),
        '/host': `http://api.localhost:${b.port}/landed`,
        '/same': '/landed',
      }
      if (req.url === '/landed') return res.end(JSON.stringify({ headers: req.headers }))
      res.writeHead(302, { location: to[req.url!] })
      res.end()
    })
    const lookup: LookupFunction = (_host, _options, callback) =>
      callback(null, [{ address: '127.0.0.1', family: 4 }])
    const c = client({ headers: secrets, credentialHeaders: ['X-API-Key'], lookup })
    for (const path of ['/port', '/host']) {
      const res = await c.get(a.url(path))
      const seen = res.json<Seen>()
      expect([path, res.redirects]).toEqual([path, 1])
      for (const name of ['authorization', 'cookie', 'proxy-authorization', 'x-api-key'])
        expect([path, name, seen.headers[name]]).toEqual([path, name, undefined])
      expect(seen.headers['x-trace']).toBe('keep')
    }
    const same = (await c.get(a.url('/same'))).json<Seen>()
    expect(same.headers).toMatchObject(secrets)
  })

  it('I5, I6 on the wire: an http → https redirect (a scheme change) drops credentials; https → http is refused; tls.ca trusts a private CA', async () => {
    const fixtures = new URL('../../test/fixtures/tls/', import.meta.url)
    const cert = readFileSync(new URL('cert.pem', fixtures), 'utf8')
    const key = readFileSync(new URL('key.pem', fixtures), 'utf8')
    const tlsSeen: IncomingHttpHeaders[] = []
    let downgradeTo = ''
    const secure = createHttpsServer({ cert, key }, (req, res) => {
      tlsSeen.push(req.headers)
      if (req.url === '/down') {
        res.writeHead(302, { location: downgradeTo })
        return res.end()
      }
      res.end('secure')
    })
    const secureUp = await listen(secure, track(secure))
    const secureOrigin = `https://127.0.0.1:${secureUp.port}`
    const plain = await serve((_req, res) => {
      res.writeHead(302, { location: `${secureOrigin}/landing` })
      res.end()
    })
    downgradeTo = plain.url('/plain')
    const c = client({
      tls: { ca: cert },
      headers: { authorization: 'Bearer canary-scheme', cookie: 'sid=canary' },
    })
    const moved = await c.get(plain.url('/start'))
    expect(moved.text()).toBe('secure')
    expect(moved.redirects).toBe(1)
    // The https origin differs from the http one by scheme (and port): no credential crossed.
    expect(tlsSeen[0]!.authorization).toBeUndefined()
    expect(tlsSeen[0]!.cookie).toBeUndefined()
    expect(plain.seen[0]!.headers.authorization).toBe('Bearer canary-scheme')
    // https → http is a downgrade: refused, nothing sent to the plain origin.
    const before = plain.seen.length
    const error = await failure(c.get(`${secureOrigin}/down`))
    expect(error).toBeInstanceOf(RedirectError)
    expect(plain.seen.length).toBe(before)
    // Without the private CA the certificate is not trusted: a TLS error, never a silent success.
    const untrusted = client()
    await expect(untrusted.get(`${secureOrigin}/landing`)).rejects.toThrow()
    expect(() => createHttpClient({ tls: { rejectUnauthorized: false } as never })).toThrow(
      /cannot be turned off/,
    )
  })

  it('I5: credentials in Location are dropped; the body goes on 303 and on a cross-origin 307, stays on a same-origin 307', async () => {
    const b = await serve((_req, res, seen) => echo(res, seen))
    const a = await serve((req, res, seen) => {
      const to: Record<string, [number, string]> = {
        '/creds': [302, `http://user:pass@127.0.0.1:${b.port}/landed`],
        '/see-other': [303, '/landed'],
        '/temp-away': [307, b.url('/landed')],
        '/temp-here': [307, '/landed'],
      }
      const hop = to[req.url!]
      if (hop === undefined) return echo(res, seen)
      res.writeHead(hop[0], { location: hop[1] })
      res.end()
    })
    const c = client()
    const creds = (await c.get(a.url('/creds'))).json<Seen>()
    expect(creds.headers.authorization).toBeUndefined()
    const post = { body: 'payload', headers: { 'content-type': 'text/plain' } }
    expect((await c.post(a.url('/see-other'), post)).json<Seen>()).toMatchObject({
      method: 'GET',
      body: '',
    })
    const away = (await c.post(a.url('/temp-away'), post)).json<Seen>()
    expect(away).toMatchObject({ method: 'POST', body: '' })
    expect(away.headers['content-type']).toBeUndefined()
    expect((await c.post(a.url('/temp-here'), post)).json<Seen>()).toMatchObject({
      method: 'POST',
      body: 'payload',
      headers: { 'content-type': 'text/plain' },
    })
  })

  it('I6: a loop, too many redirects, a file: Location and redirect: error fail with RedirectError; manual returns the 3xx', async () => {
    const up = await serve((req, res) => {
      const n = Number(req.url!.slice('/chain/'.length))
      const to: Record<string, string> = { '/a': '/b', '/b': '/a', '/file': 'file:///etc/passwd' }
      res.writeHead(302, { location: to[req.url!] ?? `/chain/${n + 1}` })
      res.end()
    })
    const c = client({ maxRedirects: 3 })
    const reasons: string[] = []
    for (const path of ['/a', '/chain/0', '/file'])
      reasons.push(((await failure(c.get(up.url(path)))) as RedirectError).reason)
    reasons.push(
      ((await failure(c.get(up.url('/a'), { redirect: 'error' }))) as RedirectError).reason,
    )
    expect(reasons).toEqual(['loop', 'too-many', 'scheme', 'not-allowed'])
    const manual = await c.request(up.url('/a'), { redirect: 'manual' })
    expect([manual.status, manual.headers.location, manual.redirects]).toEqual([302, '/b', 0])
  })
})

describe('fanout/http: credentials and input hygiene (I7–I16)', () => {
  it('I7, I8: userinfo becomes basic auth and never shows; secret query values are redacted in urls and errors', async () => {
    const up = await serve((req, res, seen) => {
      res.statusCode = req.url!.startsWith('/missing') ? 404 : 200
      echo(res, seen)
    })
    const c = client()
    const res = await c.get(
      `http://ada:CANARY-PASS@127.0.0.1:${up.port}/ok?sig=CANARY-SIG&page=2&X-Goog-Signature=CANARY-G`,
    )
    expect(res.json<Seen>().headers.authorization).toBe(
      `Basic ${Buffer.from('ada:CANARY-PASS').toString('base64')}`,
    )
    expect(res.url).toBe(`${up.origin}/ok?sig=REDACTED&page=2&X-Goog-Signature=REDACTED`)
    const error = await failure(
      c.get(
        `http://ada:CANARY-PASS@127.0.0.1:${up.port}/missing?token=CANARY-TOKEN&api_key=CANARY-KEY`,
      ),
    )
    expect((error as HttpError).url).toBe(`${up.origin}/missing?token=REDACTED&api_key=REDACTED`)
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('CANARY')
  })

  it('I9: no credential reaches a message, a stack, JSON.stringify or inspect of any error', async () => {
    const CANARY = 'CANARY-7f3a9c'
    const up = await serve((req, res) => {
      switch (req.url!.split('?')[0]) {
        case '/404':
          res.writeHead(404, { 'set-cookie': `sid=${CANARY}` })
          return res.end()
        case '/big':
          return res.end(Buffer.alloc(4096))
        case '/loop':
          res.writeHead(302, { location: '/loop?token=' + CANARY })
          return res.end()
        case '/metadata':
          res.writeHead(302, { location: `http://user:${CANARY}@169.254.169.254/?key=${CANARY}` })
          return res.end()
        case '/json':
          return res.end(`{"secret":"${CANARY}"`)
        case '/reset':
          res.writeHead(200, { 'content-length': '100' })
          return res.write('x', () => res.socket!.resetAndDestroy())
        default:
          // /hang: no answer
          return undefined
      }
    })
    const c = client({
      headers: { authorization: `Bearer ${CANARY}`, 'x-api-key': CANARY, cookie: `sid=${CANARY}` },
      credentialHeaders: ['x-api-key'],
      maxResponseSize: 1024,
    })
    const url = (path: string): string =>
      `http://u:${CANARY}@127.0.0.1:${up.port}${path}?token=${CANARY}&access_token=${CANARY}`
    const errors = [
      await failure(c.get(url('/404'))),
      await failure(c.get(url('/big'))),
      await failure(c.get(url('/loop'))),
      await failure(c.get(url('/metadata'))),
      await failure(c.json(url('/json'))),
      await failure(c.get(url('/reset'))),
      await failure(c.get(url('/hang'), { timeouts: { headers: 100 } })),
      await failure(c.get(url('/hang'), { deadline: 100 })),
      await failure(c.get(url('/x'), { headers: { 'x-bad': `${CANARY}\r\nInjected: 1` } })),
      await failure(c.get(`http://u:${CANARY}@169.254.169.254/?sig=${CANARY}`)),
    ]
    expect(errors.map((e) => e.name)).toEqual([
      'HttpError',
      'ResponseTooLargeError',
      'RedirectError',
      'SsrfBlockedError',
      'InvalidJsonError',
      'NetworkError',
      'HttpTimeoutError',
      'HttpTimeoutError',
      'InvalidOptionError',
      'SsrfBlockedError',
    ])
    expect(errors.filter((e) => !isFanoutError(e))).toEqual([])
    for (const error of errors) {
      const captured = [
        error.message,
        error.stack,
        JSON.stringify(error),
        inspect(error, { depth: 6 }),
        String(error),
      ].join('\n')
      expect(captured.includes(CANARY), `${error.name}: ${captured}`).toBe(false)
    }
  })

  it('I10: a polluted Object.prototype changes no default; options parsed from JSON cannot smuggle __proto__', async () => {
    const up = await serve((_req, res, seen) => echo(res, seen))
    const proto = Object.prototype as Record<string, unknown>
    const polluted = {
      method: 'DELETE',
      ssrf: false,
      maxResponseSize: 1,
      redirect: 'manual',
      timeouts: { headers: 1 },
      headers: { 'x-evil': '1' },
      baseUrl: 'http://evil.test/',
      lookup: () => {},
    }
    Object.assign(proto, polluted)
    try {
      const guarded = createHttpClient()
      cleanups.push(() => guarded.close())
      expect(await failure(guarded.get(up.url()))).toBeInstanceOf(SsrfBlockedError)
      const seen = (await client().get(up.url(), {})).json<Seen>()
      expect(seen.method).toBe('GET')
      expect(seen.headers['x-evil']).toBeUndefined()
    } finally {
      for (const key of Object.keys(polluted)) delete proto[key]
    }
    expect(() =>
      createHttpClient(JSON.parse('{"__proto__": {"ssrf": false}}') as HttpClientOptions),
    ).toThrow(/unknown option `__proto__`/)
    await expect(
      client().get(up.url(), JSON.parse('{"__proto__": {"method": "DELETE"}}') as object),
    ).rejects.toThrow(/unknown option `__proto__`/)
    expect(({} as Record<string, unknown>).method).toBeUndefined()
  })

  it('I12: CR/LF in a header value, a bad header name or CR/LF in the URL is refused before anything is sent', async () => {
    const up = await serve((_req, res) => res.end())
    const c = client()
    const refused = [
      c.get(up.url(), { headers: { 'x-a': 'v\r\nInjected: 1' } }),
      c.get(up.url(), { headers: { 'x-a': 'v\nx' } }),
      c.get(up.url(), { headers: { 'x-a': 'v\u0000' } }),
      c.get(up.url(), { headers: { 'bad name': 'v' } }),
      c.get(up.url('/a\r\nInjected: 1')),
      c.get(`${up.url('/')}%0d%0a`.replace('%0d%0a', '\r\n')),
    ]
    for (const pending of refused) expect(await failure(pending)).toBeInstanceOf(InvalidOptionError)
    expect(() => createHttpClient({ headers: { 'x-a': 'v\r\n' } })).toThrow(/CR, LF, NUL/)
    expect(up.accepted).toBe(0)
  })

  it('I13: file:, data:, ftp: and gopher: URLs are refused', async () => {
    const c = client()
    for (const url of [
      'file:///etc/passwd',
      'data:text/plain,hi',
      'ftp://127.0.0.1/',
      'gopher://127.0.0.1/',
    ]) {
      const error = await failure(c.get(url))
      expect(error).toBeInstanceOf(InvalidOptionError)
      expect(error.message).toMatch(/must be an http: or https: URL/)
    }
    expect(await failure(c.get(new URL('file:///etc/passwd')))).toBeInstanceOf(InvalidOptionError)
  })

  it('I13: port 0 is refused before anything is dialled — in a URL, a baseUrl, a proxy and a redirect’s Location', async () => {
    const up = await serve((req, res) =>
      res
        .writeHead(302, {
          location: req.url === '/ipv6' ? 'http://[::1]:0/' : 'http://127.0.0.1:0/next',
        })
        .end(),
    )
    let asked = 0
    const c = client({
      lookup: (_host, _options, callback) => (
        asked++,
        callback(new Error('no lookup expected'), '', 0)
      ),
    })
    for (const url of [
      'http://127.0.0.1:0/',
      'http://api.example:0/items',
      'https://api.example:00/',
      new URL('http://api.example:0/'),
    ]) {
      const error = await failure(c.get(url))
      expect(error).toBeInstanceOf(InvalidOptionError)
      expect(error.message).toBe(
        'client.get(): `url` has port 0, which cannot be dialled; give the port the server listens on.',
      )
    }
    expect(() => createHttpClient({ baseUrl: 'http://api.example:0/' })).toThrow(
      /`baseUrl` has port 0/,
    )
    expect(() => createHttpClient({ proxy: 'http://proxy.example:0' })).toThrow(
      /`proxy` has port 0/,
    )
    for (const path of ['/', '/ipv6']) {
      const redirect = await failure(c.get(up.url(path)))
      expect(redirect).toBeInstanceOf(RedirectError)
      expect(redirect).toMatchObject({ reason: 'invalid-location', code: 'FANOUT_HTTP_REDIRECT' })
      expect(redirect.message).toMatch(/a Location on port 0, which cannot be dialled$/)
    }
    expect(asked).toBe(0) // no name was resolved, so nothing was dialled
    expect(up.seen.map((r) => r.url)).toEqual(['/', '/ipv6']) // only the redirecting hops
  })

  it('an error’s message shows at most 200 characters of the URL; its url property keeps all of it, redacted', async () => {
    const up = await serveRaw((socket) =>
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'),
    )
    const c = client()
    const long = `${up.url('/')}${'a'.repeat(1024 * 1024)}?token=CANARY`
    const error = await failure(c.get(long))
    expect(error).toBeInstanceOf(HttpError)
    const url = (error as HttpError).url
    expect(url).toBe(long.replace('CANARY', 'REDACTED'))
    expect(error.message).toBe(`GET ${url.slice(0, 199)}… responded 404 Not Found`)
    // The same for a network failure: the connection to a closed port is refused.
    const gone = await serve(() => {})
    const port = gone.port
    await cleanups.pop()!()
    const refused = await failure(c.get(`http://127.0.0.1:${port}/${'b'.repeat(1024 * 1024)}`))
    expect(refused).toBeInstanceOf(NetworkError)
    expect(refused.message.length).toBeLessThan(400)
    expect((refused as NetworkError).url.length).toBeGreaterThan(1024 * 1024)
  })

  it('I15: response headers over 16 KiB fail with a clear ResponseTooLargeError', async () => {
    const up = await serve((_req, res) => {
      res.setHeader('x-huge', 'a'.repeat(20 * 1024))
      res.end()
    })
    const error = await failure(client().get(up.url()))
    expect(error).toBeInstanceOf(ResponseTooLargeError)
    expect(error).toMatchObject({ part: 'headers', limit: 16 * 1024 })
    expect(error.message).toContain('maxHeaderSize')
  })

  it('I16: with attacker-chosen host names, pools stay bounded by maxOrigins (least recently used closed)', async () => {
    const up = await serve((_req, res) => res.end('ok'))
    const lookup: LookupFunction = (_host, _options, callback) =>
      callback(null, [{ address: '127.0.0.1', family: 4 }])
    const c = client({ lookup, maxOrigins: 4 })
    for (let i = 0; i < 40; i++) await c.get(`http://h${i}.evil.test:${up.port}/`)
    expect(up.accepted).toBe(40)
    await waitFor(() => up.open <= 4, 'evicted pools to close their sockets')
    // The most recent origins still have their pools: reusing one opens no new socket.
    await c.get(`http://h36.evil.test:${up.port}/`)
    expect(up.accepted).toBe(40)
  })
})

describe('fanout/http: de-duplication across users (I14)', () => {
  it('I14: the same GET in flight for two users with different credentials is not coalesced; the same user’s is', async () => {
    const up = await serve((req, res) =>
      setTimeout(() => res.end(JSON.stringify({ caller: req.headers.authorization })), 30),
    )
    const c = client()
    const tokens: Record<string, string> = {
      alice: 'Bearer alice-secret',
      bob: 'Bearer bob-secret',
    }
    // The scope names the user, never the token: store and de-duplication keys hold no credential.
    const keys: string[] = []
    const store = memoryCacheStore({ maxEntries: 100 })
    const spied: CacheStore = {
      get: (k) => (keys.push(k), store.get(k)),
      set: (k, e, ttl) => store.set(k, e, ttl),
      delete: (k) => store.delete(k),
    }
    const me = cached(
      (req: { user: string; path: string }, { signal }) =>
        c.json<{ caller: string }>(up.url(req.path), {
          signal,
          headers: { authorization: tokens[req.user]! },
        }),
      {
        store: spied,
        ttl: 60_000,
        scope: (req) => req.user,
        key: (req) => [req.path],
      },
    )
    const [a1, b, a2] = await Promise.all([
      me({ user: 'alice', path: '/me' }),
      me({ user: 'bob', path: '/me' }),
      me({ user: 'alice', path: '/me' }),
    ])
    expect([a1.caller, b.caller, a2.caller]).toEqual([
      'Bearer alice-secret',
      'Bearer bob-secret',
      'Bearer alice-secret',
    ])
    expect(up.seen.map((r) => r.headers.authorization).sort()).toEqual([
      'Bearer alice-secret',
      'Bearer bob-secret',
    ])
    expect(keys.some((k) => k.includes('secret'))).toBe(false)
  })
})

/** A forward proxy on loopback that tunnels CONNECT requests; `resolve` maps names it is asked for. */
async function serveProxy(options: { refuse?: number; resolve?: Record<string, string> } = {}) {
  const connects: string[] = []
  const auth: (string | undefined)[] = []
  const server = createHttpServer((_req, res) => res.writeHead(405).end())
  const t = track(server)
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    connects.push(req.url!)
    auth.push(req.headers['proxy-authorization'])
    client.on('error', () => {})
    if (options.refuse !== undefined)
      return void client.end(`HTTP/1.1 ${options.refuse} Forbidden\r\n\r\n`)
    const at = req.url!.lastIndexOf(':')
    const host = req.url!.slice(0, at)
    const upstream = net.connect(
      Number(req.url!.slice(at + 1)),
      options.resolve?.[host] ?? host,
      () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        if (head.length > 0) upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      },
    )
    t.sockets.push(upstream)
    upstream.on('error', () => client.destroy())
  })
  const up = await listen(server, t)
  return {
    port: up.port,
    url: up.origin,
    connects,
    auth,
    get open() {
      return up.open
    },
  }
}

describe('fanout/http: proxies', () => {
  it('tunnels http: and https: targets through the proxy; the proxy URL’s credentials go to the proxy only', async () => {
    const up = await serve((_req, res) => res.end('plain'))
    const proxy = await serveProxy()
    const c = client({ proxy: `http://ops:p%40ss@127.0.0.1:${proxy.port}` })
    expect((await c.get(up.url('/a'), { headers: { authorization: 'Bearer t' } })).text()).toBe(
      'plain',
    )
    expect(proxy.connects).toEqual([`127.0.0.1:${up.port}`])
    expect(proxy.auth).toEqual([`Basic ${Buffer.from('ops:p@ss').toString('base64')}`])
    expect(up.seen[0]!.headers['proxy-authorization']).toBeUndefined()
    expect(up.seen[0]!.headers.authorization).toBe('Bearer t')

    const fixtures = new URL('../../test/fixtures/tls/', import.meta.url)
    const cert = readFileSync(new URL('cert.pem', fixtures), 'utf8')
    const key = readFileSync(new URL('key.pem', fixtures), 'utf8')
    const secure = createHttpsServer({ cert, key }, (_req, res) => res.end('secret'))
    const s = await listen(secure, track(secure))
    const d = client({ proxy: { https: proxy.url }, tls: { ca: cert } })
    expect((await d.get(`https://127.0.0.1:${s.port}/`)).text()).toBe('secret')
    // TLS ran end to end through the tunnel: the proxy saw only the CONNECT.
    expect(proxy.connects.at(-1)).toBe(`127.0.0.1:${s.port}`)
    // http: targets are not proxied by { https } alone.
    await d.get(up.url('/direct'))
    expect(proxy.connects).toHaveLength(2)
  })

  it('noProxy hosts (names with their subdomains, addresses, ports, *) go direct', async () => {
    const up = await serve((_req, res) => res.end('ok'))
    const proxy = await serveProxy()
    await client({ proxy: { http: proxy.url, noProxy: ['127.0.0.1'] } }).get(up.url())
    await client({ proxy: { http: proxy.url, noProxy: `example.com, 127.0.0.1:${up.port}` } }).get(
      up.url(),
    )
    await client({ proxy: { http: proxy.url, noProxy: '*' } }).get(up.url())
    expect(proxy.connects).toEqual([])
    await client({ proxy: { http: proxy.url, noProxy: '127.0.0.1:1' } }).get(up.url())
    expect(proxy.connects).toHaveLength(1)

    const config = parseProxyOptions(
      't',
      { http: 'http://p:3128', noProxy: ['.internal.corp', '*.svc', 'db', '[::1]:8080'] },
      {},
    )!
    const via = (u: string): boolean => proxyFor(config, new URL(u)) !== undefined
    expect([
      via('http://api.internal.corp/'),
      via('http://internal.corp/'),
      via('http://x.svc/'),
      via('http://db/'),
      via('http://db.x/'),
    ]).toEqual([false, false, false, false, true])
    expect([
      via('http://[::1]:8080/'),
      via('http://[::1]:8081/'),
      via('http://notinternal.corp/'),
    ]).toEqual([false, true, true])
  })

  it('I3 through a proxy: a name is resolved and checked here first; a refused target never reaches the proxy; a name only the proxy can resolve is left to it', async () => {
    const up = await serve((_req, res) => res.end('ok'))
    const proxy = await serveProxy({
      resolve: { 'only-the-proxy.test': '127.0.0.1', 'api.test': '127.0.0.1' },
    })
    const answers: Record<string, string> = {
      'metadata.test': '169.254.169.254',
      'api.test': '127.0.0.1',
    }
    const lookup: LookupFunction = (host, _options, callback) =>
      answers[host] === undefined
        ? callback(
            Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }),
            [],
          )
        : callback(null, [{ address: answers[host]!, family: 4 }])
    const c = client({ proxy: proxy.url, lookup })
    const blocked = await failure(c.get('http://metadata.test/latest/meta-data'))
    expect(blocked).toBeInstanceOf(SsrfBlockedError)
    expect(blocked).toMatchObject({
      rule: 'metadata',
      address: '169.254.169.254',
      url: 'http://metadata.test/latest/meta-data',
    })
    expect(await failure(c.get('http://169.254.169.254/'))).toMatchObject({ rule: 'metadata' })
    expect(await failure(c.get('http://[::ffff:a9fe:a9fe]/'))).toBeInstanceOf(SsrfBlockedError)
    expect(proxy.connects).toEqual([])
    expect((await c.get(`http://api.test:${up.port}/`)).text()).toBe('ok')
    expect((await c.get(`http://only-the-proxy.test:${up.port}/`)).text()).toBe('ok')
    expect(proxy.connects).toEqual([`api.test:${up.port}`, `only-the-proxy.test:${up.port}`])

    // A resolver that never answers fails the hop in the connect phase instead of hanging.
    const stuck = client({ proxy: proxy.url, lookup: () => {}, timeouts: { connect: 100 } })
    expect(await failure(stuck.get('http://slow-dns.test/'))).toMatchObject({
      phase: 'connect',
      code: 'FANOUT_TIMEOUT',
    })
  })

  it('a proxy refusing the tunnel fails the request with its status; close() closes the proxy connections', async () => {
    const up = await serve((_req, res) => res.end('ok'))
    const refusing = await serveProxy({ refuse: 403 })
    const error = await failure(client({ proxy: refusing.url }).get(up.url()))
    expect(error).toBeInstanceOf(ProtocolError)
    expect(error.message).toMatch(/403/)
    expect(up.accepted).toBe(0)

    const proxy = await serveProxy()
    const c = createHttpClient({ proxy: proxy.url, ssrf: { allow: ['loopback'] } })
    await c.get(up.url())
    await c.close()
    await waitFor(() => proxy.open === 0, 'the proxy connections to close')
  })

  it('L: proxy options are checked at construction; proxy: env reads HTTP(S)_PROXY and NO_PROXY', () => {
    expect(() => createHttpClient({ proxy: 'socks5://127.0.0.1:1080' })).toThrow(
      /http: or https: proxy URL, got socks5: \(SOCKS proxies are not supported\)/,
    )
    expect(() => createHttpClient({ proxy: 'http://proxy.corp:3128/path' })).toThrow(
      /only the proxy's scheme, host and port/,
    )
    expect(() => createHttpClient({ proxy: { htps: 'http://p:1' } as never })).toThrow(
      /unknown option `proxy.htps`. Did you mean `proxy.https`\?/,
    )
    expect(() => createHttpClient({ proxy: {} })).toThrow(/names no proxy/)
    expect(() => createHttpClient({ proxy: 42 as never })).toThrow(/`proxy` must be a proxy URL/)
    expect(() => createHttpClient({ proxy: 'http://user:secret@[bad' })).toThrow(
      /is not a URL: "http:\/\/\*\*\*@\[bad"/,
    )
    const env = {
      HTTP_PROXY: 'proxy.corp:3128',
      https_proxy: 'http://secure.corp:3129',
      HTTPS_PROXY: 'http://ignored:1',
      NO_PROXY: 'localhost,.svc',
    }
    const config = parseProxyOptions('t', 'env', env)!
    expect([config.http?.href, config.https?.href]).toEqual([
      'http://proxy.corp:3128/',
      'http://secure.corp:3129/',
    ])
    expect(proxyFor(config, new URL('http://a.svc/'))).toBeUndefined()
    expect(parseProxyOptions('t', 'env', {})).toBeUndefined()
    expect(parseProxyOptions('t', 'env', { HTTP_PROXY: 'http://only-http:1' })!.https?.href).toBe(
      'http://only-http:1/',
    )
    expect(
      parseProxyOptions('t', 'env', { NO_PROXY: '*', HTTP_PROXY: 'http://p:1' })!.noProxy,
    ).toBe('*')
  })
})

describe('fanout/http: options (L)', () => {
  it('L1, L3, L4, L8: bad options fail at construction, naming the option and the range', () => {
    expect(() => createHttpClient({ maxRedirect: 3 } as HttpClientOptions)).toThrow(
      /unknown option `maxRedirect`. Did you mean `maxRedirects`\?/,
    )
    expect(() => createHttpClient({ maxResponseSize: Infinity })).toThrow(
      /`maxResponseSize` must be finite/,
    )
    expect(() => createHttpClient({ connections: 0 })).toThrow(
      /`connections` must be an integer from 1 to 65536, got 0/,
    )
    expect(() => createHttpClient({ timeouts: { headers: 0 } })).toThrow(
      /`timeouts.headers` must be within .* 0 does not mean "no limit"/,
    )
    expect(() => createHttpClient({ timeouts: { header: 5 } as never })).toThrow(
      /Did you mean `timeouts.headers`\?/,
    )
    expect(() => createHttpClient({ baseUrl: 'ftp://x.test/' })).toThrow(
      /must be an http: or https: URL/,
    )
    expect(() => createHttpClient({ headers: { 'x-n': 5 as unknown as string } })).toThrow(
      /header "x-n" must be a string, got 5/,
    )
    expect(() => createHttpClient({ limit: { concurrency: 2 } as never })).toThrow(
      /`limit` must be a limiter from limit\(\)/,
    )
    expect(() => createHttpClient({ clock: {} as Clock })).toThrow(InvalidOptionError)
    expect(() => createHttpClient({ ssrf: { allow: ['privat'] } })).toThrow(
      /Did you mean 'private'\?/,
    )
    expect(isFanoutError(new InvalidOptionError('x'))).toBe(true)
  })

  it('L4, L8: bad request options reject, naming the option', async () => {
    const c = client()
    await expect(c.get('http://127.0.0.1/', { retries: 3 } as never)).rejects.toThrow(
      /unknown option `retries`/,
    )
    await expect(c.post('http://127.0.0.1/', { body: 'x', json: {} })).rejects.toThrow(
      /`body` or `json`, not both/,
    )
    await expect(c.get('http://127.0.0.1/', { query: { a: { b: 1 } } as never })).rejects.toThrow(
      /query parameter "a" must be/,
    )
    await expect(c.get('http://127.0.0.1/', { redirect: 'never' as never })).rejects.toThrow(
      /`redirect` must be 'follow', 'error' or 'manual'/,
    )
    await expect(c.request('http://127.0.0.1/', { method: 'CONNECT' })).rejects.toThrow(
      /not supported/,
    )
    await expect(c.get('http://127.0.0.1/', { deadline: 0 })).rejects.toThrow(/`deadline`/)
  })
})

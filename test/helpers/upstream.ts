/**
 * Loopback upstreams for fanout/http tests: a node:http server on 127.0.0.1, port 0, that records
 * what it received and which socket each request came on, closed by `closeAll()`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

export interface Upstream {
  readonly origin: string
  url(path?: string): string
  readonly seen: readonly Seen[]
  /** The server-side socket of each request, in arrival order. */
  readonly sockets: readonly Socket[]
  /** Connections still open. */
  readonly open: number
  close(): Promise<void>
}

const servers = new Set<Upstream>()

/** An upstream whose handler runs once the request body has been read. */
export async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void,
): Promise<Upstream> {
  const seen: Seen[] = []
  const sockets: Socket[] = []
  const all = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const entry: Seen = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      }
      seen.push(entry)
      sockets.push(req.socket)
      handler(req, res, entry)
    })
  })
  server.on('connection', (socket: Socket) => {
    all.add(socket)
    socket.on('close', () => all.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const upstream: Upstream = {
    origin,
    url: (path = '/') => `${origin}${path}`,
    seen,
    sockets,
    get open() {
      return all.size
    },
    close: () =>
      new Promise<void>((resolve) => {
        servers.delete(upstream)
        for (const socket of all) socket.destroy()
        server.close(() => resolve())
      }),
  }
  servers.add(upstream)
  return upstream
}

export async function closeAll(): Promise<void> {
  await Promise.all([...servers].map((s) => s.close()))
}

/** Polls `condition` every 5 ms (real time: it waits for sockets, never measures durations). */
export async function waitFor(condition: () => boolean, what: string, ms = 3_000): Promise<void> {
  const until = Date.now() + ms
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

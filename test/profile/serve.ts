/**
 * The application side of the profile tests: a node:http server on 127.0.0.1 whose handler is the
 * route under test, and a client that calls it one request at a time (from outside any request,
 * which the tests' profilers ignore with `unscoped: 'ignore'`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface App {
  readonly origin: string
  /** GETs `path` and resolves with the body once it has been read. */
  get(path: string): Promise<string>
  close(): Promise<void>
}

export async function serveApp(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<App> {
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      res.statusCode = 500
      res.end(String(error))
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    async get(path) {
      const response = await fetch(`${origin}${path}`)
      const body = await response.text()
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body}`)
      return body
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A JSON answer after a fixed delay, as a slow upstream gives it. */
export function answer(
  res: ServerResponse,
  body: unknown,
  delayMs: number,
  headers: Record<string, string> = {},
): void {
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }, delayMs)
}

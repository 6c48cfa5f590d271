/**
 * Real Express servers on 127.0.0.1 (port 0) for fanout/express's tests, and a raw client whose
 * socket a test can destroy mid-request.
 */
import express, { type Express } from 'express'
import { request, type ClientRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Running {
  readonly origin: string
  close(): Promise<void>
}

const running = new Set<Running>()

/** Starts `app` (or a new app set up by `setup`) on a loopback port. */
export async function listen(setup: (app: Express) => void): Promise<Running> {
  const app = express()
  setup(app)
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const handle: Running = {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        running.delete(handle)
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  running.add(handle)
  return handle
}

export async function closeServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.close()))
}

export interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/**
 * A request on its own connection (no agent), so that destroying it is a client disconnect and
 * nothing else. `answer` settles with the response, or rejects when the request is destroyed.
 */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): { readonly req: ClientRequest; readonly answer: Promise<Answer> } {
  const req = request(url, {
    method: options.method ?? 'GET',
    headers: options.headers,
    agent: false,
  })
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      )
    })
  })
  req.end(options.body)
  return { req, answer }
}

/** Timers and immediates alive now (what a leak would add to). */
export function timers(): number {
  return process
    .getActiveResourcesInfo()
    .filter((kind) => kind === 'Timeout' || kind === 'Immediate').length
}

/** Resolves after a few turns of the event loop: callbacks of what just closed have run. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
}

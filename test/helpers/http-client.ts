/**
 * A raw HTTP client for the framework adapters' tests: each request on its own connection (no
 * agent, no keep-alive), so that destroying it is a client disconnect and nothing else.
 */
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'

export interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface SendOptions {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
}

export interface Sent {
  readonly req: ClientRequest
  /** Settles with the response read to the end, or rejects when the request is destroyed. */
  readonly answer: Promise<Answer>
  /** The client's socket, once the request has one. */
  socket(): Socket | undefined
}

/** Starts one request; the caller may destroy `req` (or its socket) mid-request. */
export function open(url: string, options: SendOptions = {}): Sent {
  let socket: Socket | undefined
  const req = httpRequest(url, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    agent: false,
  })
  req.on('socket', (s) => (socket = s))
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      )
    })
  })
  req.end(options.body)
  return { req, answer, socket: () => socket }
}

/** One request read to the end. */
export function send(url: string, options: SendOptions = {}): Promise<Answer> {
  return open(url, options).answer
}

/** A request the test cuts off: `destroy()` closes the client's socket and says when it did. */
export interface Cut {
  destroy(): number
  /** Settles (never rejects) when the request ended, answered or destroyed. */
  readonly done: Promise<unknown>
}

export function sendThenCut(url: string, options: SendOptions = {}): Cut {
  const { answer, socket } = open(url, options)
  return {
    done: answer.catch((error: unknown) => error),
    destroy() {
      const s = socket()
      if (s === undefined) throw new Error('the request has no socket yet')
      const at = performance.now()
      s.destroy()
      return at
    },
  }
}

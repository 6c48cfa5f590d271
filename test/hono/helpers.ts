/**
 * A Hono app on a real @hono/node-server on 127.0.0.1 (port 0), and a raw HTTP client whose
 * socket a test can destroy mid-request (the disconnect a browser tab closing makes).
 */
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Env } from 'hono'

export interface Served {
  readonly origin: string
  readonly server: Server
  close(): Promise<void>
}

export async function listen<E extends Env>(app: Hono<E>): Promise<Served> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(s as Server),
    )
  })
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface Reply {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface SendOptions {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
}

/** One request on its own connection (no keep-alive), read to the end. */
export function send(url: string, options: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A request the test cuts off: `destroy()` closes the client's socket and returns when it did. */
export interface Cut {
  destroy(): number
  /** Settles when the request errors (as it must once destroyed). */
  readonly done: Promise<unknown>
}

export function sendThenCut(url: string, options: SendOptions = {}): Cut {
  let socket: Socket | undefined
  const req = httpRequest(url, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    agent: false,
  })
  req.on('socket', (s) => (socket = s))
  const done = new Promise((resolve) => {
    req.on('error', resolve)
    req.on('response', (res) => {
      res.resume()
      res.on('end', resolve)
      res.on('error', resolve)
    })
  })
  req.end(options.body)
  return {
    done,
    destroy() {
      const at = performance.now()
      if (socket === undefined) throw new Error('the request has no socket yet')
      socket.destroy()
      return at
    },
  }
}

/** Runs `jobs` with at most `concurrency` at a time. */
export async function pool<T>(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array<T>(count)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      out[i] = await job(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return out
}

/** `process.getActiveResourcesInfo()` counted by kind. */
export function resources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

/**
 * What a real-time measurement owes to the machine rather than to the code under test: over a
 * window, how late the event loop ran (the process was ready but did not run) and how much of
 * the wall time the process did not spend on the CPU. Starvation = the smaller of the two, so a
 * wait the code itself causes (a timer, a slow I/O path) is never excused, nor is busy work.
 */
export interface Window {
  /** Milliseconds since `start()`, and the share of them the loop was starved. */
  stop(): { wallMs: number; starvedMs: number }
}

export function measureWindow(): Window {
  const lag = monitorEventLoopDelay({ resolution: 1 })
  lag.enable()
  const startedAt = performance.now()
  const cpuAt = process.cpuUsage()
  return {
    stop() {
      const wallMs = performance.now() - startedAt
      const cpu = process.cpuUsage(cpuAt)
      const cpuMs = (cpu.user + cpu.system) / 1_000
      lag.disable()
      // The histogram's max is the worst lateness of its 1 ms timer, in ns (0 when it never ran).
      const lateMs = Math.max(0, lag.max / 1e6 - 1)
      return { wallMs, starvedMs: Math.max(0, Math.min(lateMs, wallMs - cpuMs)) }
    },
  }
}

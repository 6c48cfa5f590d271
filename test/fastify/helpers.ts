/**
 * Real Fastify servers on 127.0.0.1 (port 0) for fanout/fastify's tests, a raw HTTP client whose
 * socket a test can destroy mid-request (what closing a browser tab does), and the bookkeeping
 * the leak checks need.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface Served {
  readonly app: FastifyInstance
  readonly origin: string
  close(): Promise<void>
}

const running = new Set<Served>()

/** A Fastify app set up by `setup` (which may register plugins), listening on a loopback port. */
export async function listen(
  setup: (app: FastifyInstance) => void | Promise<void>,
  options: FastifyServerOptions = {},
): Promise<Served> {
  const app = Fastify({ logger: false, ...options })
  await setup(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const served: Served = {
    app,
    origin,
    async close() {
      if (!running.delete(served)) return
      app.server.closeAllConnections()
      await app.close()
    },
  }
  running.add(served)
  return served
}

export async function closeServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.close()))
}

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

/** One request on its own connection (no agent), read to the end. */
export function send(url: string, options: SendOptions = {}): Promise<Answer> {
  return start(url, options).answer
}

/** A request the test cuts off: `destroy()` closes the client's socket and says when it did. */
export interface Cut {
  destroy(): number
  /** Settles (never rejects) when the request ended, answered or destroyed. */
  readonly done: Promise<unknown>
}

export function sendThenCut(url: string, options: SendOptions = {}): Cut {
  const { answer, socket } = start(url, options)
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

function start(
  url: string,
  options: SendOptions,
): { answer: Promise<Answer>; socket: () => Socket | undefined } {
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
  return { answer, socket: () => socket }
}

/** Runs `job` `count` times with at most `concurrency` at once. */
export async function pool<T>(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<T>,
): Promise<T[]> {
  const out = new Array<T>(count)
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

/** Resolves after a few turns of the event loop: the callbacks of what just closed have run. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/**
 * How much of a real-time window the machine, not the code, is to blame for: the worst lateness
 * of a 1 ms timer, bounded by the wall time the process spent off the CPU. A wait the code causes
 * (a timer, slow I/O) is never excused this way, nor is busy work.
 */
export function measureWindow(): { stop(): { wallMs: number; starvedMs: number } } {
  const lag = monitorEventLoopDelay({ resolution: 1 })
  lag.enable()
  const startedAt = performance.now()
  const cpuAt = process.cpuUsage()
  return {
    stop() {
      const wallMs = performance.now() - startedAt
      const cpu = process.cpuUsage(cpuAt)
      lag.disable()
      const lateMs = Math.max(0, lag.max / 1e6 - 1)
      const offCpuMs = wallMs - (cpu.user + cpu.system) / 1_000
      return { wallMs, starvedMs: Math.max(0, Math.min(lateMs, offCpuMs)) }
    },
  }
}

/**
 * The example app (examples/next) built with `next build` and served by `next start` on
 * 127.0.0.1, on a port the server picks (`-p 0`), for the end-to-end test; and a raw HTTP client
 * whose socket the test can destroy mid-request.
 *
 * Each child runs in its own process group, killed by its id on every path (a failed build, a
 * server that never says it is ready, the end of the tests), so no `next` process outlives them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const NEXT = 'node_modules/next/dist/bin/next'
const APP = 'examples/next'

function run(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [NEXT, ...args], {
    cwd: ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: `next build` starts workers of its own
  })
}

/** Ends the child and everything it started; resolves once it exited. */
export function kill(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const hard = setTimeout(() => signal(child, 'SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(hard)
      signal(child, 'SIGKILL') // workers left in the group, if any
      resolve()
    })
    signal(child, 'SIGTERM')
  })
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, name)
  } catch {
    // Already gone.
  }
}

/** `next build examples/next`; rejects with its output when it fails or takes over `timeoutMs`. */
export async function build(timeoutMs: number): Promise<{ ms: number; output: string }> {
  const startedAt = performance.now()
  const child = run(['build', APP], {})
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  let timer: NodeJS.Timeout | undefined
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`next build took over ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      )
      child.once('error', reject)
      child.once('exit', (exitCode) => resolve(exitCode))
    })
    if (code !== 0) throw new Error(`next build exited with ${code}:\n${output}`)
    return { ms: performance.now() - startedAt, output }
  } finally {
    clearTimeout(timer)
    await kill(child)
  }
}

export interface NextServer {
  readonly origin: string
  /** What the server printed so far. */
  output(): string
  close(): Promise<void>
}

/** `next start examples/next -p 0 -H 127.0.0.1`, resolved once it listens. */
export async function start(env: Record<string, string>, timeoutMs: number): Promise<NextServer> {
  const child = run(['start', APP, '-p', '0', '-H', '127.0.0.1'], env)
  let output = ''
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  let timer: NodeJS.Timeout | undefined
  try {
    const origin = await new Promise<string>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`next start was not ready in ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      )
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`next start exited with ${code}:\n${output}`)))
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const port = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]
        if (port !== undefined && /Ready in/.test(output)) resolve(`http://127.0.0.1:${port}`)
      })
    })
    return { origin, output: () => output, close: () => kill(child) }
  } catch (error) {
    await kill(child)
    throw error
  } finally {
    clearTimeout(timer)
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

/** A request the test cuts off: `destroy()` closes the client's socket and says when. */
export interface Cut {
  destroy(): number
  /** Settles when the request errors (as it must once destroyed). */
  readonly done: Promise<unknown>
}

export function sendThenCut(url: string): Cut {
  let socket: Socket | undefined
  const req = httpRequest(url, { agent: false })
  req.on('socket', (s) => (socket = s))
  const done = new Promise((resolve) => {
    req.on('error', resolve)
    req.on('response', (res) => {
      res.resume()
      res.on('end', resolve)
      res.on('error', resolve)
    })
  })
  req.end()
  return {
    done,
    destroy() {
      if (socket === undefined) throw new Error('the request has no socket yet')
      const at = performance.now()
      socket.destroy()
      return at
    },
  }
}

/** Runs `count` jobs, at most `concurrency` at a time. */
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

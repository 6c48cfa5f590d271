/**
 * The example app (examples/next) built with `next build` and served by `next start` on
 * 127.0.0.1, on a port the server picks (`-p 0`), for the end-to-end test; and a raw HTTP client
 * whose socket the test can destroy mid-request.
 *
 * Each child runs in its own process group, killed by its id on every path (a failed build, a
 * server that never says it is ready, the end of the tests), so no `next` process outlives them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
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

export { send, sendThenCut } from '../helpers/http-client.js'
export { pool } from '../helpers/load.js'

/**
 * `fanout profile -- node app.js` end to end, as a user runs it: the fanout command in a child
 * process (through tsx, from the source), running a tiny application that serves one route with a
 * waterfall, calls itself, and exits — or waits until a signal ends it.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import type { ProfileReport } from '../../src/profile/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'fanout-profile-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The application: an upstream, a route awaiting two independent calls, three visits to it. */
const APP = `import { createServer } from 'node:http'
const listening = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const upstream = createServer((req, res) => {
  setTimeout(() => res.end(JSON.stringify({ path: req.url })), 10)
})
await listening(upstream)
const base = 'http://127.0.0.1:' + upstream.address().port
const app = createServer(async (req, res) => {
  const a = await (await fetch(base + '/a')).json()
  const b = await (await fetch(base + '/b')).json()
  res.end(JSON.stringify([a, b]))
})
await listening(app)
for (const id of [101, 102, 103]) await (await fetch('http://127.0.0.1:' + app.address().port + '/orders/' + id)).text()
console.log('app: visited')
if (process.argv[2] === 'wait') setInterval(() => {}, 1000)
else {
  app.close()
  upstream.close()
  process.exitCode = Number(process.argv[2] ?? 0)
}
`
const appFile = join(dir, 'app.mjs')
writeFileSync(appFile, APP)

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `fanout …`; `onOutput` sees stdout as it comes (and may signal the process). */
function fanout(
  argv: readonly string[],
  onOutput?: (stdout: string, kill: (signal: NodeJS.Signals) => void) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...argv],
      { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      onOutput?.(stdout, (signal) => child.kill(signal))
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

const ROUTE =
  /GET \/orders\/:id — 3 requests, median \d+ ms; Promise\.all would save \d+ ms a request/

describe('fanout profile', () => {
  it('runs the application and prints its waterfalls when it exits, with its exit code', async () => {
    const run = await fanout(['profile', '--', process.execPath, appFile, '3'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(3)
    expect(run.stdout).toMatch(/^app: visited\nfanout profile: /)
    expect(run.stdout).toMatch(ROUTE)
    expect(run.stdout).toMatch(
      /2 calls one after another, none using another's response: a Promise\.all saves \d+ ms \(median\), \d+ ms in all, seen 3 times in 3 requests/,
    )
    // Each call's line in the application: the two awaits of the route.
    expect(run.stdout).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/a +\d+ ms {2}\S*app\.mjs:9:\d+/)
    expect(run.stdout).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/b +\d+ ms {2}\S*app\.mjs:10:\d+/)
    // The visits from the script itself, outside any request, are one chain too.
    expect(run.stdout).toContain('(outside a request)')
  }, 40_000)

  it('--json --out writes the report as JSON to a file', async () => {
    const out = join(dir, 'report.json')
    const run = await fanout(['profile', '--json', '--out', out, '--', process.execPath, appFile])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe('app: visited\n')
    expect(run.stderr).toBe(`fanout profile: report written to ${out}\n`)
    const written = JSON.parse(readFileSync(out, 'utf8')) as {
      command: string[]
      processes: { pid: number; argv: string[]; report: ProfileReport }[]
    }
    expect(written.command).toEqual([process.execPath, appFile])
    expect(written.processes).toHaveLength(1)
    const route = written.processes[0]!.report.routes.find((r) => r.route === 'GET /orders/:id')!
    expect(route.requests).toBe(3)
    expect(route.chains.map((c) => c.steps.map((s) => new URL(s.target).pathname))).toEqual([
      ['/a', '/b'],
    ])
  }, 40_000)

  it('passes SIGTERM on to the application, and prints the report once it has ended', async () => {
    let sent = false
    const run = await fanout(
      ['profile', '--', process.execPath, appFile, 'wait'],
      (stdout, kill) => {
        if (!sent && stdout.includes('app: visited')) {
          sent = true
          kill('SIGTERM')
        }
      },
    )
    expect(sent).toBe(true)
    expect(run.code).toBe(128 + 15) // the application ended by SIGTERM, as it would have
    expect(run.stdout).toMatch(ROUTE)
  }, 40_000)

  it('usage errors exit 2 with one line; a command that is not Node.js gives no report', async () => {
    const lines: string[] = []
    const io = {
      out: (l: string) => lines.push(`out: ${l}`),
      err: (l: string) => lines.push(`err: ${l}`),
      isTTY: false,
      env: process.env,
    }
    expect(await main(['profile'], io)).toBe(2)
    expect(await main(['profile', 'node', 'app.js'], io)).toBe(2)
    expect(await main(['profile', '--jsn', '--', 'node'], io)).toBe(2)
    expect(await main(['profile', '--', 'no-such-command-here'], io)).toBe(2)
    expect(lines).toEqual([
      'err: fanout profile: no command to run: fanout profile -- node app.js Run "fanout profile --help" for the options.',
      'err: fanout profile: put the command after "--": fanout profile -- node app.js (got "node" as an option of fanout profile). Run "fanout profile --help" for the options.',
      'err: fanout profile: unknown option "--jsn". Did you mean "--json"? Run "fanout profile --help" for the options.',
      'err: fanout profile: cannot run "no-such-command-here": no such command.',
    ])
    lines.length = 0
    expect(await main(['profile', '--', 'true'], io)).toBe(1)
    expect(lines).toEqual([
      'err: fanout profile: no report: "true" ran no Node.js process that loaded the profiler (exit code 0).',
    ])
    lines.length = 0
    expect(await main(['profile', '--help'], io)).toBe(0)
    expect(lines[0]).toMatch(/^out: Usage: fanout profile \[options\] -- <command> \[args…\]/)
    lines.length = 0
    expect(await main(['--help'], io)).toBe(0)
    expect(lines[0]).toContain('  profile   run an application (fanout profile -- node app.js)')
  }, 20_000)
})

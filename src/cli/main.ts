#!/usr/bin/env node
/**
 * The `fanout` command: `fanout demo` (the product-page demo), `fanout lint`, `fanout profile`,
 * `--help` and `--version`. Argument parsing is node:util's parseArgs (through `parseCommandArgs`); every bad
 * value gets a message saying what to pass, and a usage error exits 2.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { runDemo as RunDemo } from '../demo/demo.js'
import { closest } from '../core/validate.js'
import { missingPackage, parseCommandArgs, UsageError } from './usage.js'

const COMMANDS = ['demo', 'lint', 'profile', 'trace'] as const

const HELP = `Usage: fanout <command> [options]

Commands:
  demo      load a simulated product page three ways (sequential awaits, naive Promise.all,
            a fanout flow) and compare latency, upstream calls, 429s and errors
  lint      find waterfalls (independent awaits run one after another) and auth checks run in
            parallel with the data they guard; --fix applies the safe rewrites
  profile   run an application (fanout profile -- node app.js) and report, per route, the
            outbound calls it awaited one after another without using each other's responses
  trace     trace view <file>: a flow run's trace file as an HTML waterfall page to open
            in a browser

Options:
  -h, --help     this help
  -v, --version  fanout's version

Run "fanout <command> --help" for a command's options.`

/** fanout's version, from its package.json: two levels up from both src/cli and dist/cli. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown
  }
  return String(pkg.version)
}

const DEMO_HELP = `Usage: fanout demo [options]

Starts six simulated upstreams on 127.0.0.1 (no servers needed) and loads a product page
three ways, printing one waterfall per way and a summary table.

Options:
  --loads <n>          page loads per way (1–10000, default 100)
  --concurrency <n>    page loads in progress at once (1–256, default 8)
  --failure-rate <x>   share of upstream answers that are a 5xx (0–0.5, default 0.02)
  --seed <n>           seed of the latencies, failures and visitors (default 1)
  --no-color           plain output (colour is on for a terminal unless NO_COLOR is set)
  -h, --help           this help`

/** The demo needs fanout/http's optional peer, undici (its cache is fanout/cache's built-in store). */
async function loadDemo(): Promise<typeof RunDemo> {
  try {
    return (await import('../demo/demo.js')).runDemo
  } catch (error) {
    const missing = missingPackage(error)
    if (missing !== undefined) {
      throw new UsageError(
        `the demo needs the optional peer dependency undici (missing: ${missing}). Install it: npm install undici@7`,
      )
    }
    throw error
  }
}

function number(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
  integer: boolean,
  fallback: number,
): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (
    raw.trim() === '' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new UsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${raw}".`,
    )
  }
  return value
}

const DEMO_OPTIONS = {
  loads: { type: 'string' },
  concurrency: { type: 'string' },
  'failure-rate': { type: 'string' },
  seed: { type: 'string' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

interface Io {
  out: (line: string) => void
  err: (line: string) => void
  isTTY: boolean
  env: Record<string, string | undefined>
  cwd?: string
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined) {
    // No command is a usage error: the usage goes where errors go, and the exit code says so.
    io.err(HELP)
    return 2
  }
  if (command === '-h' || command === '--help' || command === 'help') {
    io.out(HELP)
    return 0
  }
  if (command === '-v' || command === '--version') {
    io.out(version())
    return 0
  }
  if (command === 'demo') return demo(rest, io)
  if (command === 'lint') {
    const { runLint } = await import('./lint.js')
    return await runLint(rest, {
      out: io.out,
      err: io.err,
      cwd: io.cwd ?? process.cwd(),
      isTTY: io.isTTY,
      env: io.env,
    })
  }
  if (command === 'profile') {
    const { runProfile } = await import('./profile.js')
    return await runProfile(rest, {
      out: io.out,
      err: io.err,
      cwd: io.cwd ?? process.cwd(),
      env: io.env,
    })
  }
  if (command === 'trace') {
    const { runTrace } = await import('./trace.js')
    return await runTrace(rest, { out: io.out, err: io.err, cwd: io.cwd ?? process.cwd() })
  }
  const guess = closest(command, command.startsWith('-') ? ['--help', '--version'] : COMMANDS)
  io.err(
    `fanout: unknown ${command.startsWith('-') ? 'option' : 'command'} "${command}".${guess === undefined ? '' : ` Did you mean "${guess}"?`}` +
      ' Run "fanout --help" for the commands.',
  )
  return 2
}

/** `fanout demo`: exit 0, or 2 with a one-line message for a usage error (as `fanout lint` does). */
async function demo(argv: readonly string[], io: Io): Promise<number> {
  try {
    const { values } = parseCommandArgs({
      args: [...argv],
      options: DEMO_OPTIONS,
      strict: true,
      allowPositionals: false,
    })
    if (values.help === true) {
      io.out(DEMO_HELP)
      return 0
    }
    // Every value is checked before the (slow) demo starts.
    const settings = {
      loads: number('loads', values.loads, 1, 10_000, true, 100),
      concurrency: number('concurrency', values.concurrency, 1, 256, true, 8),
      failureRate: number('failure-rate', values['failure-rate'], 0, 0.5, false, 0.02),
      seed: number('seed', values.seed, 0, 2 ** 31 - 1, true, 1),
    }
    const color = values['no-color'] !== true && io.isTTY && io.env.NO_COLOR === undefined
    const runDemo = await loadDemo()
    let statusShown = false
    await runDemo({
      ...settings,
      color,
      print: io.out,
      // A status line that rewrites itself, on a terminal only (logs stay clean).
      progress: io.isTTY
        ? (text) => {
            if (text === undefined) {
              if (statusShown) io.err('\r\x1b[2K')
              statusShown = false
              return
            }
            statusShown = true
            io.err(`\r\x1b[2K${text}`)
          }
        : undefined,
    })
    return 0
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    const hint = /needs the optional peer/.test(error.message)
      ? ''
      : ' Run "fanout demo --help" for the options.'
    io.err(`fanout demo: ${error.message}${hint}`)
    return 2
  }
}

// Run when executed directly (the `fanout` bin, or `tsx src/cli/main.ts`), not when imported by tests.
function isEntry(): boolean {
  const invoked = process.argv[1]
  if (invoked === undefined) return false
  try {
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}
if (isEntry()) {
  main(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (text) =>
      process.stderr.write(text.endsWith('\x1b[2K') || text.startsWith('\r') ? text : `${text}\n`),
    isTTY: process.stdout.isTTY === true && process.stderr.isTTY === true,
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(
        `fanout: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      )
      process.exitCode = 1
    },
  )
}

/**
 * `fanout profile [--out FILE] [--json] -- <command> [args…]`: runs an application with
 * fanout/profile loaded into every Node.js process it starts, and prints what it found when the
 * application exits.
 *
 * The profiler goes in through `NODE_OPTIONS=--import=<register module>`, so `node app.js`,
 * `npm start` or `tsx server.ts` all work; each process writes its report to a temporary
 * directory when it exits (or gets SIGINT/SIGTERM, which this command passes on), and this
 * command reads them there. Built, the register module is dist/profile/register.js; from the
 * source (`tsx src/cli/main.ts`) it is src/profile/register.ts, loaded through tsx.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { constants, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { formatReport } from '../profile/index.js'
import type { ProcessReport } from '../profile/register.js'
import { parseCommandArgs, UsageError } from './usage.js'

export interface ProfileIo {
  out(text: string): void
  err(text: string): void
  cwd: string
  env: Record<string, string | undefined>
}

export const PROFILE_HELP = `Usage: fanout profile [options] -- <command> [args…]

Runs the command — a Node.js application: node app.js, npm start, tsx server.ts — with fanout's
profiler loaded into each Node.js process it starts, and when it has exited prints, per route,
the waterfalls it made: outbound calls awaited one after another that used nothing of each
other's responses, what a Promise.all would save, and where in the code each call is.
Exercise the application while it runs (send it requests), then stop it: Ctrl-C or SIGTERM is
passed on to it, and the report follows its exit.

Options:
  --out <file>   write the report to this file instead of stdout
  --json         the report as JSON
  -h, --help     this help`

const OPTIONS = {
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** The `--import` values that load the register module into a child process. */
export function registerImports(): string[] {
  const self = import.meta.url
  if (!/\.ts$/.test(new URL(self).pathname)) return [new URL('../profile/register.js', self).href]
  // From the source: the child needs tsx to load a TypeScript module.
  const tsx = pathToFileURL(createRequire(self).resolve('tsx')).href
  return [tsx, new URL('../profile/register.ts', self).href]
}

interface Parsed {
  readonly command: readonly string[]
  readonly out: string | undefined
  readonly json: boolean
  readonly help: boolean
}

function parse(argv: readonly string[]): Parsed {
  const dash = argv.indexOf('--')
  const own = dash < 0 ? argv : argv.slice(0, dash)
  const { values, positionals } = parseCommandArgs({
    args: [...own],
    options: OPTIONS,
    strict: true,
    allowPositionals: true,
  })
  const help = values.help === true
  if (!help && positionals.length > 0)
    throw new UsageError(
      `put the command after "--": fanout profile -- ${positionals.join(' ')} (got "${positionals[0]}" as an option of fanout profile).`,
    )
  const command = dash < 0 ? [] : argv.slice(dash + 1)
  if (!help && command.length === 0)
    throw new UsageError('no command to run: fanout profile -- node app.js')
  if (values.out !== undefined && values.out.trim() === '')
    throw new UsageError('--out needs a file name.')
  return { command, out: values.out, json: values.json === true, help }
}

/** Runs the command; resolves with its pid and exit code (128 + the signal's number when a signal ended it). */
function run(
  command: readonly string[],
  io: ProfileIo,
  dir: string,
): Promise<{ pid: number | undefined; code: number }> {
  const imports = registerImports().map((url) => `--import=${url}`)
  const env = {
    ...io.env,
    NODE_OPTIONS: [io.env.NODE_OPTIONS ?? '', ...imports].join(' ').trim(),
    FANOUT_PROFILE_DIR: dir,
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: io.cwd, env, stdio: 'inherit' })
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal)
    }
    const onInt = (): void => forward('SIGINT')
    const onTerm = (): void => forward('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    const done = (): void => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      done()
      reject(
        error.code === 'ENOENT'
          ? new UsageError(`cannot run "${command[0]}": no such command.`)
          : error,
      )
    })
    child.once('exit', (code, signal) => {
      done()
      resolvePromise({
        pid: child.pid,
        code: code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)),
      })
    })
  })
}

/** The reports the processes wrote, the command's own process first. */
function readReports(dir: string, firstPid: number | undefined): ProcessReport[] {
  const reports = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .flatMap((name): ProcessReport[] => {
      try {
        return [JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProcessReport]
      } catch {
        return [] // a process killed while it wrote
      }
    })
  return reports.sort((a, b) => Number(b.pid === firstPid) - Number(a.pid === firstPid))
}

function render(
  reports: readonly ProcessReport[],
  json: boolean,
  command: readonly string[],
): string {
  if (json) return JSON.stringify({ command, processes: reports }, null, 2)
  // Processes that made no outbound call (npm, a build step) are left out when another did.
  const busy = reports.filter((r) => r.report.calls > 0 || r.report.requests > 0)
  const shown = busy.length > 0 ? busy : reports.slice(0, 1)
  if (shown.length === 1) return formatReport(shown[0]!.report)
  return shown
    .map((r) => `── process ${r.pid}: ${r.argv.join(' ')} ──\n${formatReport(r.report)}`)
    .join('\n\n')
}

/** `fanout profile`: the command's exit code, or 2 with one line for a usage error. */
export async function runProfile(argv: readonly string[], io: ProfileIo): Promise<number> {
  let parsed: Parsed
  try {
    parsed = parse(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    io.err(`fanout profile: ${error.message} Run "fanout profile --help" for the options.`)
    return 2
  }
  if (parsed.help) {
    io.out(PROFILE_HELP)
    return 0
  }
  const dir = mkdtempSync(join(tmpdir(), 'fanout-profile-'))
  try {
    let code: number
    let pid: number | undefined
    try {
      ;({ code, pid } = await run(parsed.command, io, dir))
    } catch (error) {
      if (!(error instanceof UsageError)) throw error
      io.err(`fanout profile: ${error.message}`)
      return 2
    }
    const reports = readReports(dir, pid)
    if (reports.length === 0) {
      io.err(
        `fanout profile: no report: "${parsed.command.join(' ')}" ran no Node.js process that loaded the profiler (exit code ${code}).`,
      )
      return code === 0 ? 1 : code
    }
    const text = render(reports, parsed.json, parsed.command)
    if (parsed.out === undefined) io.out(text)
    else {
      const file = resolve(io.cwd, parsed.out)
      writeFileSync(file, `${text}\n`)
      io.err(`fanout profile: report written to ${file}`)
    }
    return code
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * `fanout trace view FILE [-o OUT.html]`: a trace file (a flow run's trace, written with
 * `traceToJSON`) becomes the HTML waterfall page, written next to it unless `-o` says where.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { isFanoutError } from '../core/errors.js'
import { closest } from '../core/validate.js'
import { renderWaterfallHtml, traceFromJSON } from '../index.js'
import { parseCommandArgs, UsageError } from './usage.js'

export interface TraceIo {
  /** Writes one line to stdout. */
  out(line: string): void
  /** Writes one line to stderr. */
  err(line: string): void
  /** Paths are resolved against this directory. */
  cwd: string
}

export const TRACE_HELP = `Usage: fanout trace view <file> [options]

Turns a trace file into a waterfall page: one HTML file that opens in any browser, loads nothing
from the network and needs nothing installed. A trace file is a flow run's trace written with
traceToJSON (run(input, { onTrace })); error messages are not in it, only error names, codes and
statuses. The page's path is printed.

Options:
  -o, --out <file>   where to write the page (default: the trace file's path, .json replaced
                     by .html)
  --title <text>     the page's title (default: the flow's name)
  -h, --help         this help

Exit code: 0 written, 2 usage error or a file that cannot be read, is not a trace, or cannot be
written.`

const SUBCOMMANDS = ['view'] as const

const VIEW_OPTIONS = {
  out: { type: 'string', short: 'o' },
  title: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** A file that cannot be read, is not a trace, or cannot be written: one line, exit 2. */
class FileError extends Error {}

export async function runTrace(argv: readonly string[], io: TraceIo): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    io.out(TRACE_HELP)
    return 0
  }
  try {
    if (sub === undefined)
      throw new UsageError('which subcommand? "fanout trace view <file>" writes a trace\'s page.')
    if (sub !== 'view') {
      const guess = closest(sub, SUBCOMMANDS)
      throw new UsageError(
        `unknown subcommand "${sub}".${guess === undefined ? '' : ` Did you mean "${guess}"?`}`,
      )
    }
    return await view(rest, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`fanout trace: ${error.message} Run "fanout trace --help" for the options.`)
      return 2
    }
    if (error instanceof FileError) {
      io.err(`fanout trace: ${error.message}`)
      return 2
    }
    throw error
  }
}

async function view(argv: readonly string[], io: TraceIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: [...argv],
    options: VIEW_OPTIONS,
    strict: true,
    allowPositionals: true,
  })
  if (values.help === true) {
    io.out(TRACE_HELP)
    return 0
  }
  if (positionals.length === 0)
    throw new UsageError('which trace file? Pass its path, e.g. fanout trace view trace.json.')
  if (positionals.length > 1)
    throw new UsageError(
      `one trace file at a time, got ${positionals.length}: ${positionals.map((p) => `"${p}"`).join(', ')}.`,
    )
  const file = positionals[0]!
  const out = values.out ?? `${file.replace(/\.json$/i, '')}.html`
  if (out === '') throw new UsageError('--out needs a file name.')
  if (resolve(io.cwd, out) === resolve(io.cwd, file))
    throw new UsageError(`--out ${out} is the trace file itself; name another file.`)

  const trace = parse(await read(resolve(io.cwd, file), file), file)
  let html: string
  try {
    html = renderWaterfallHtml(trace, values.title === undefined ? {} : { title: values.title })
  } catch (error) {
    if (!isFanoutError(error, 'FANOUT_INVALID_OPTION')) throw error
    throw new UsageError(
      (error as Error).message.replace(/^renderWaterfallHtml\(\): `title`/, '--title'),
    )
  }
  try {
    await writeFile(resolve(io.cwd, out), html)
  } catch (error) {
    throw new FileError(`cannot write ${out}: ${reason(error)}.`)
  }
  io.out(out)
  return 0
}

async function read(path: string, shown: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new FileError(`cannot read ${shown}: ${reason(error)}.`)
  }
}

function parse(text: string, shown: string): ReturnType<typeof traceFromJSON> {
  try {
    return traceFromJSON(text)
  } catch (error) {
    if (!isFanoutError(error, 'FANOUT_INVALID_ARGUMENT')) throw error
    const why = (error as Error).message.replace(/^traceFromJSON\(\): (not a fanout trace: )?/, '')
    throw new FileError(
      `${shown} is not a fanout trace file (${why.replace(/\.$/, '')}). Write one with traceToJSON(trace).`,
    )
  }
}

/** What went wrong with a file, in words; the code for anything unusual. */
function reason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory'
    case 'EISDIR':
      return 'it is a directory'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    default:
      return typeof code === 'string' ? code : String((error as Error | null)?.message ?? error)
  }
}

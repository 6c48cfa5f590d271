/**
 * Where an outbound call was made: the first frame of the stack at request creation that is the
 * application's own code — not Node's internals, not a package under node_modules, not this
 * profiler nor the rest of fanout (its HTTP client, its policies: in a checkout of fanout they
 * are not under node_modules; its demo plays the application and counts as one). A call made after an `await` inside an async function still has that function's frame
 * (V8's async stack traces), so the line found is usually the `await fetch(…)` itself.
 */
import { dirname, isAbsolute, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Frames read per stack: the HTTP clients' own frames come first, and can be deep. */
const DEPTH = 64

const here = dirname(fileURLToPath(import.meta.url))
/** fanout's own code: src/ (or dist/ when built) of the package this module is part of. */
const library = dirname(here)
const demo = join(library, 'demo')

/** The file, line and column of one stack line, or undefined for a native or eval frame. */
function frameOf(line: string): { file: string; position: string } | undefined {
  const m = /\(?((?:file:\/\/|\/|[A-Za-z]:[\\/]|node:)[^()]*?):(\d+):(\d+)\)?\s*$/.exec(line)
  if (m === null) return undefined
  let file = m[1]!
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file)
    } catch {
      return undefined
    }
  }
  return { file, position: `${m[2]}:${m[3]}` }
}

function isOwnCode(file: string): boolean {
  return (
    !file.startsWith('node:') &&
    isAbsolute(file) &&
    !file.includes(`${sep}node_modules${sep}`) &&
    (!file.startsWith(`${library}${sep}`) || file.startsWith(`${demo}${sep}`))
  )
}

/**
 * The application's frame of the current stack, as `path:line:column` with the path relative to
 * `cwd` when it is under it; undefined when every frame is a library's or Node's.
 */
export function callSite(cwd: string): string | undefined {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = DEPTH
  const holder: { stack?: string } = {}
  try {
    Error.captureStackTrace(holder, callSite)
  } finally {
    Error.stackTraceLimit = limit
  }
  for (const line of (holder.stack ?? '').split('\n').slice(1)) {
    const frame = frameOf(line)
    if (frame === undefined || !isOwnCode(frame.file)) continue
    const rel = relative(cwd, frame.file)
    const shown = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : frame.file
    return `${shown.split(sep).join('/')}:${frame.position}`
  }
  return undefined
}

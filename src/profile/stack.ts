/**
 * Where an outbound call was made: the first frame of the stack at request creation that is the
 * application's own code — not Node's internals, not a package under node_modules, not this
 * profiler nor the rest of fanout (its HTTP client, its policies: in a checkout of fanout they
 * are not under node_modules; its demo plays the application and counts as one). A call made
 * after an `await` inside an async function still has that function's frame (V8's async stack
 * traces), so the line found is usually the `await fetch(…)` itself.
 *
 * The stack is read as V8's structured frames, not as text: formatting 64 frames (and mapping
 * each through a source map) costs several times more than looking at them and mapping the one
 * that is kept, with `node:module`'s source maps when Node has them (`--enable-source-maps`,
 * tsx).
 */
import { findSourceMap } from 'node:module'
import { dirname, isAbsolute, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Frames read per stack: the HTTP clients' own frames come first, and can be deep. */
const DEPTH = 64

const here = dirname(fileURLToPath(import.meta.url))
/** fanout's own code: src/ (or dist/ when built) of the package this module is part of. */
const library = dirname(here)
const demo = join(library, 'demo')

type Site = NodeJS.CallSite

const pathOf = (name: string): string | undefined => {
  if (!name.startsWith('file://')) return isAbsolute(name) ? name : undefined
  try {
    return fileURLToPath(name)
  } catch {
    return undefined
  }
}

function isOwnCode(file: string): boolean {
  return (
    !file.includes(`${sep}node_modules${sep}`) &&
    (!file.startsWith(`${library}${sep}`) || file.startsWith(`${demo}${sep}`))
  )
}

/** The stack's frames, as V8 gives them before any formatting. */
function sites(): readonly Site[] {
  const limit = Error.stackTraceLimit
  const prepare = Error.prepareStackTrace
  Error.stackTraceLimit = DEPTH
  Error.prepareStackTrace = (_error, frames) => frames
  try {
    const holder: { stack?: unknown } = {}
    Error.captureStackTrace(holder, sites)
    const stack = holder.stack // formatted (by the function above) when first read: read it here
    return Array.isArray(stack) ? (stack as Site[]) : []
  } finally {
    Error.prepareStackTrace = prepare
    Error.stackTraceLimit = limit
  }
}

interface Position {
  readonly file: string
  readonly line: number
  readonly column: number
}

/** A generated position mapped back to its source, when a source map for the file is known. */
function original(name: string, at: Position): Position {
  try {
    const map = findSourceMap(name) ?? findSourceMap(at.file)
    const entry = map?.findEntry(at.line - 1, at.column - 1) as
      { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined
    if (entry?.originalSource === undefined || entry.originalLine === undefined) return at
    const file = pathOf(entry.originalSource) ?? at.file
    return { file, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 }
  } catch {
    return at
  }
}

/**
 * The application's frame of the current stack, as `path:line:column` with the path relative to
 * `cwd` when it is under it; undefined when every frame is a library's or Node's.
 */
export function callSite(cwd: string): string | undefined {
  for (const site of sites()) {
    const name = site.getFileName() ?? site.getScriptNameOrSourceURL()
    const file = name === null || name === undefined ? undefined : pathOf(name)
    const line = site.getLineNumber()
    if (file === undefined || line === null || !isOwnCode(file)) continue
    const at = original(name!, { file, line, column: site.getColumnNumber() ?? 1 })
    if (!isOwnCode(at.file)) continue
    const rel = relative(cwd, at.file)
    const shown = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : at.file
    return `${shown.split(sep).join('/')}:${at.line}:${at.column}`
  }
  return undefined
}

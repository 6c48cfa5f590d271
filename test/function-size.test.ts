/**
 * The house rule on units a reader can hold: no function in `src/` spans more than `MAX_LINES`
 * lines, and no module more than `MAX_FILE_LINES`. A factory that returns closures counts as one function with everything inside it, so a
 * long closure is split into module-level functions, or into a class with small methods.
 *
 * Lines are counted as the reader sees them: from the first line of the function to its last,
 * comments and blank lines included. Test files are not measured.
 *
 * To list the longest functions: `FUNCTION_SIZES=60 npx vitest run test/function-size.test.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const MAX_LINES = 120
const MAX_FILE_LINES = 500

/**
 * Functions allowed over the limit, `path#name`, each on its way under it: the Prettier reformat
 * stretched these past 120 lines; each entry goes when its function is split.
 */
const ALLOWED: ReadonlySet<string> = new Set<string>([])

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src')

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return modules(path)
    return /\.ts$/.test(entry.name) && !/\.test(-d)?\.ts$/.test(entry.name) ? [path] : []
  })
}

interface Measured {
  /** `path#name`, the path relative to src/. */
  readonly id: string
  readonly line: number
  readonly lines: number
}

/** The name a function is known by: its own, or the variable, property or method it is bound to. */
function nameOf(node: ts.SignatureDeclaration, file: ts.SourceFile): string {
  if (node.name !== undefined) return node.name.getText(file)
  const parent = node.parent
  if (
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) &&
    parent.name !== undefined
  )
    return parent.name.getText(file)
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  return '<anonymous>'
}

/** Every function with a body in `path`, with its length in lines. */
function measure(path: string): Measured[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true)
  const found: Measured[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = file.getLineAndCharacterOfPosition(node.getStart(file)).line
      const last = file.getLineAndCharacterOfPosition(node.end).line
      const id = `${relative(src, path).split(/[\\/]/).join('/')}#${nameOf(node, file)}`
      found.push({ id, line: first + 1, lines: last - first + 1 })
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

const measured = modules(src).flatMap(measure)

describe('function size in src/', () => {
  it(`no function spans more than ${MAX_LINES} lines (except the allow-list)`, () => {
    const list = Number(process.env.FUNCTION_SIZES)
    if (list > 0)
      for (const m of [...measured].sort((a, b) => b.lines - a.lines))
        if (m.lines >= list) console.log(`${String(m.lines).padStart(4)} ${m.id} (line ${m.line})`)
    const over = measured
      .filter((m) => m.lines > MAX_LINES && !ALLOWED.has(m.id))
      .map((m) => `${m.id} (line ${m.line}): ${m.lines} lines`)
    expect(over).toEqual([])
  })

  it('the allow-list names only functions that exist and are still over the limit', () => {
    const stillLong = new Set(measured.filter((m) => m.lines > MAX_LINES).map((m) => m.id))
    expect([...ALLOWED].filter((id) => !stillLong.has(id))).toEqual([])
  })

  it('the measure sees real functions', () => {
    expect(measured.length).toBeGreaterThan(500)
    expect(measured.some((m) => m.id === 'policies/circuit-breaker.ts#circuitBreaker')).toBe(true)
  })

  it(`no source module spans more than ${MAX_FILE_LINES} lines`, () => {
    const over = modules(src)
      .map((path) => ({ path, lines: readFileSync(path, 'utf8').split('\n').length - 1 }))
      .filter((m) => m.lines > MAX_FILE_LINES)
      .map((m) => `${relative(src, m.path)}: ${m.lines} lines`)
    expect(over).toEqual([])
  })
})

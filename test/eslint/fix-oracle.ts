/**
 * Fix oracle for the waterfall rules, shared by their tests.
 *
 * 1. `lint` / `applyFix` run one rule through ESLint's `Linter` (flat config, typescript-eslint's parser).
 * 2. `typecheck` compiles files in one in-memory TypeScript program (strict, exactOptionalPropertyTypes,
 *    noUncheckedIndexedAccess; each corpus file brings its own types) and returns the diagnostics.
 * 3. `runRecorded` transpiles a module to ESM JS (`ts.transpileModule`), imports it from a temp file and
 *    runs every exported function against recording fakes: each argument is a proxy whose calls are
 *    logged with their arguments and return deferred promises that the driver resolves one at a time,
 *    oldest-first or newest-first. `compareRuns` checks a fixed module against its original: same
 *    results, same calls with the same arguments, and more calls in flight at once (the fix overlaps them).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as parser from '@typescript-eslint/parser'
import { Linter, type Rule } from 'eslint'
import ts from 'typescript'

export interface RuleUnderTest {
  readonly name: string
  readonly rule: Rule.RuleModule
  readonly options?: readonly unknown[]
}

function config(r: RuleUnderTest): Linter.Config[] {
  return [
    {
      files: ['**/*.ts', '**/*.tsx', '**/*.js'],
      languageOptions: {
        parser: parser as unknown as Linter.Parser,
        sourceType: 'module',
        ecmaVersion: 'latest',
      },
      plugins: { fanout: { rules: { [r.name]: r.rule } } },
      rules: { [`fanout/${r.name}`]: ['warn', ...(r.options ?? [])] as Linter.RuleEntry },
    },
  ]
}

export function lint(code: string, r: RuleUnderTest, fileName = 'file.ts'): Linter.LintMessage[] {
  const messages = new Linter({ configType: 'flat' }).verify(code, config(r), fileName)
  const fatal = messages.find((m) => m.fatal)
  if (fatal) throw new Error(`${fileName}: parse error: ${fatal.message}`)
  return messages
}

export function applyFix(code: string, r: RuleUnderTest, fileName = 'file.ts'): Linter.FixReport {
  return new Linter({ configType: 'flat' }).verifyAndFix(code, config(r), fileName)
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: [],
  noEmit: true,
  skipLibCheck: true,
}

/** Type-check in-memory files (name → source) in one program; returns the messages per file (empty when clean). */
export function typecheck(files: Readonly<Record<string, string>>): Record<string, string[]> {
  const root = '/virtual/'
  const host = ts.createCompilerHost(COMPILER_OPTIONS)
  const virtual = new Map(Object.entries(files).map(([name, text]) => [root + name, text]))
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = virtual.get(fileName)
    return text !== undefined
      ? ts.createSourceFile(fileName, text, languageVersion, true)
      : getSourceFile(fileName, languageVersion, onError, shouldCreate)
  }
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (f) => virtual.has(f) || fileExists(f)
  const readFile = host.readFile.bind(host)
  host.readFile = (f) => virtual.get(f) ?? readFile(f)
  const program = ts.createProgram([...virtual.keys()], COMPILER_OPTIONS, host)
  const out: Record<string, string[]> = {}
  for (const [name] of Object.entries(files)) {
    const sf = program.getSourceFile(root + name)!
    out[name] = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map(
      (d) => {
        const pos = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start) : undefined
        return `${name}:${pos ? pos.line + 1 : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
      },
    )
  }
  return out
}

const LABEL = Symbol('fake label')

/** A stable description of a value built from fakes: proxies by their label, the rest structurally. */
export function describe(value: unknown): string {
  if (
    (typeof value === 'function' || typeof value === 'object') &&
    value !== null &&
    (value as Record<symbol, unknown>)[LABEL] !== undefined
  ) {
    return String((value as Record<symbol, unknown>)[LABEL])
  }
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`
  if (value instanceof Promise) return '<promise>'
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${k}: ${describe((value as Record<string, unknown>)[k])}`)
      .join(', ')}}`
  }
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

interface Pending {
  readonly label: string
  readonly resolve: () => void
}

interface Recorder {
  readonly calls: string[]
  readonly pending: Pending[]
}

/** Properties that hold request-scoped promises (Next.js `params`, `searchParams`): awaiting them is deferred too. */
const PROMISE_PROPS = new Set(['params', 'searchParams'])

/**
 * A recording fake. Every property is a fake, every call is logged with its arguments and returns a
 * *thenable* fake: chaining on it (`supabase.from('t').select()`) stays synchronous, and awaiting it
 * parks the call in `rec.pending` until the driver resolves it with a plain (non-thenable) fake.
 * Iterating a fake yields two fakes (`const [a, ...rest] = await f()`).
 */
function fake(label: string, rec: Recorder, thenable = false): unknown {
  const target = function fakeTarget(): void {}
  let settled: Promise<unknown> | undefined
  return new Proxy(target, {
    get(_t, prop) {
      if (prop === LABEL) return label
      if (prop === 'then' || (thenable && (prop === 'catch' || prop === 'finally'))) {
        if (!thenable) return undefined // awaiting a plain fake yields the fake
        settled ??= new Promise((resolve) => {
          rec.pending.push({ label, resolve: () => resolve(fake(label, rec)) })
        })
        // A call's result is a promise: `.catch`/`.finally` on it are the promise's, not calls.
        const promise = settled
        if (prop === 'catch') return (onError: (e: unknown) => unknown) => promise.catch(onError)
        if (prop === 'finally') return (onFinally: () => void) => promise.finally(onFinally)
        return (onValue?: (v: unknown) => unknown, onError?: (e: unknown) => unknown) =>
          promise.then(onValue, onError)
      }
      if (prop === Symbol.iterator) {
        return function* items() {
          yield fake(`${label}[0]`, rec)
          yield fake(`${label}[1]`, rec)
        }
      }
      if (
        prop === Symbol.toPrimitive ||
        prop === 'toString' ||
        prop === 'valueOf' ||
        prop === 'toJSON'
      )
        return () => label
      if (typeof prop === 'symbol') return undefined
      return fake(`${label}.${prop}`, rec, PROMISE_PROPS.has(prop))
    },
    has() {
      return true
    },
    apply(_t, _this, args: unknown[]) {
      const call = `${label}(${args.map(describe).join(', ')})`
      rec.calls.push(call)
      return fake(`<${call}>`, rec, true)
    },
  })
}

export interface Run {
  readonly result: string
  readonly calls: string[]
  /** The most calls that were in flight at once. */
  readonly maxInFlight: number
}

export type Order = 'oldest-first' | 'newest-first'

/** Transpile a TS module to ESM and import it (through a temp file). */
export async function importModule(code: string): Promise<Record<string, unknown>> {
  const js = ts.transpileModule(code, {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: false,
    },
  }).outputText
  const dir = mkdtempSync(join(tmpdir(), 'fanout-oracle-'))
  const file = join(dir, 'module.mjs')
  writeFileSync(file, js)
  try {
    return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Run one exported async function against recording fakes, resolving its calls in `order`.
 * `nullArg`: that argument is `null` instead (a missing session, a falsy flag), so code under a
 * condition takes its other branch.
 */
export async function runRecorded(
  fn: (...args: unknown[]) => unknown,
  order: Order,
  arity = 6,
  nullArg = -1,
): Promise<Run> {
  const rec: Recorder = { calls: [], pending: [] }
  const args = Array.from({ length: arity }, (_, i) =>
    i === nullArg ? null : fake(`arg${i}`, rec),
  )
  let settled = false
  let result = ''
  Promise.resolve(fn(...args)).then(
    (v) => {
      settled = true
      result = `ok ${describe(v)}`
    },
    (e: unknown) => {
      settled = true
      result = `error ${e instanceof Error ? e.message : describe(e)}`
    },
  )
  let maxInFlight = 0
  for (let steps = 0; ; steps++) {
    await new Promise<void>((r) => setImmediate(r))
    if (settled) break
    if (rec.pending.length === 0 || steps > 1000)
      throw new Error(`stuck: no call in flight after ${rec.calls.join(', ')}`)
    maxInFlight = Math.max(maxInFlight, rec.pending.length)
    const next = order === 'oldest-first' ? rec.pending.shift()! : rec.pending.pop()!
    next.resolve()
  }
  return { result, calls: [...rec.calls].sort(), maxInFlight }
}

export interface Comparison {
  readonly problems: string[]
  /** Functions whose fixed version had more calls in flight at once than the original. */
  readonly parallelised: string[]
}

const ARITY = 6

/**
 * Per exported function, the parameters worth running as `null`: not destructured and never the
 * receiver of a call (`db.user.findMany()`, `req.json()`), since a `null` client is not a case
 * any code handles — conditions (a session, an id, a flag) are.
 */
function nullableParams(code: string): Map<string, number[]> {
  const sf = ts.createSourceFile('m.ts', code, ts.ScriptTarget.ES2022, true)
  const out = new Map<string, number[]>()
  for (const stmt of sf.statements) {
    if (!ts.isFunctionDeclaration(stmt) || !stmt.name || !stmt.body) continue
    const body = stmt.body.getText(sf)
    const indexes: number[] = []
    stmt.parameters.forEach((p, i) => {
      if (!ts.isIdentifier(p.name)) return
      const receiver = new RegExp(
        `\\b${p.name.text}\\s*\\??\\.\\s*[\\w$]+(\\s*\\??\\.\\s*[\\w$]+)*\\s*\\(`,
      )
      if (!receiver.test(body)) indexes.push(i)
    })
    out.set(stmt.name.text, indexes)
  }
  return out
}

/**
 * Run every exported function of the original and the fixed module and compare: with fakes for
 * every argument, then with each nullable argument in turn `null` (variants where the original itself
 * fails are skipped: only the original's behaviour is the contract). A rewrite that makes a
 * conditional call unconditional makes an extra call, or crashes on the `null`, in one of them.
 * `successOnly`: compare only runs where the original succeeds — a suggestion's stated change is
 * that when something fails, the other calls have run anyway.
 */
export async function compareRuns(
  original: string,
  fixed: string,
  opts: { readonly successOnly?: boolean } = {},
): Promise<Comparison> {
  const [before, after] = await Promise.all([importModule(original), importModule(fixed)])
  const problems: string[] = []
  const parallelised: string[] = []
  const nullable = nullableParams(original)
  for (const [name, fn] of Object.entries(before)) {
    if (typeof fn !== 'function') continue
    const fixedFn = after[name]
    if (typeof fixedFn !== 'function') {
      problems.push(`${name}: missing from the fixed module`)
      continue
    }
    let overlapped = false
    for (const nullArg of [-1, ...(nullable.get(name) ?? [])]) {
      for (const order of ['oldest-first', 'newest-first'] as const) {
        const run = (f: unknown): Promise<Run> =>
          runRecorded(f as (...args: unknown[]) => unknown, order, ARITY, nullArg)
        const a = await run(fn)
        const b = await run(fixedFn)
        if (b.maxInFlight > a.maxInFlight) overlapped = true
        if ((nullArg >= 0 || opts.successOnly === true) && a.result.startsWith('error')) continue
        const variant = nullArg < 0 ? order : `${order}, arg${nullArg} null`
        if (a.result !== b.result)
          problems.push(`${name} (${variant}): result ${b.result} instead of ${a.result}`)
        if (a.calls.join('\n') !== b.calls.join('\n'))
          problems.push(
            `${name} (${variant}): calls [${b.calls.join('; ')}] instead of [${a.calls.join('; ')}]`,
          )
      }
    }
    if (overlapped) parallelised.push(name)
  }
  return { problems, parallelised }
}

/**
 * `fanout lint` end to end on fixture projects written to a temp dir: which files it checks
 * (.gitignore files, root and nested; node_modules, dist and friends always skipped; test folders;
 * paths named explicitly; --ignore), the report grouped by file with code frames and ranked
 * savings, the JSON documents (ESLint's shape, fanout's own) and SARIF, --fix, --rule, parse
 * errors, exit codes and usage errors. The fixtures rely only on an unmistakable waterfall — two independent awaited reads in a
 * row in an async function — that any no-sequential-await rule reports, and on files with no
 * awaits at all, which no rule can report.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli/main.js'
import { runLint, savingFrom, type LintDeps } from '../src/cli/lint.js'

const WATERFALL = `export async function loadAccount(id: string, companyId: string) {
  const user = await fetchUser(id)
  const settings = await fetchSettings(companyId)
  return { user, settings }
}

declare function fetchUser(id: string): Promise<{ name: string }>
declare function fetchSettings(id: string): Promise<{ theme: string }>
`
const CLEAN = `export function total(prices: readonly number[]): number {
  let sum = 0
  for (const price of prices) sum += price
  return sum
}
`
const CLEAN_TSX = `export function Badge({ label }: { label: string }) {
  return <span className="badge">{label}</span>
}
`
const CLEAN_JSX = `export const Title = ({ text }) => <h1>{text}</h1>
`

const roots: string[] = []
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true })
})

/** Writes `files` (path → text) under a fresh temp dir and returns it. */
function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'fanout-lint-test-'))
  roots.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

interface Run {
  readonly code: number
  readonly out: string
  readonly err: string
}

async function lint(
  cwd: string,
  argv: readonly string[] = [],
  extra: { isTTY?: boolean; env?: Record<string, string | undefined>; deps?: LintDeps } = {},
): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  const code = await runLint(
    argv,
    {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      cwd,
      isTTY: extra.isTTY ?? false,
      env: extra.env ?? {},
    },
    extra.deps,
  )
  return { code, out: out.join('\n'), err: err.join('\n') }
}

interface JsonReport {
  tool: string
  files: {
    path: string
    fixed: boolean
    messages: {
      ruleId: string | null
      severity: 'error' | 'warning'
      line: number
      column: number
      message: string
      fatal: boolean
      fix: 'applied' | 'available' | 'none'
      suggestions: number
      estimatedSaving: string | null
      saving: { roundTrips?: number; ms?: number; calls?: number } | null
    }[]
  }[]
  summary: {
    filesChecked: number
    filesWithFindings: number
    errors: number
    warnings: number
    fixable: number
    fixesApplied: number
    filesFixed: number
  }
}

async function lintJson(
  cwd: string,
  argv: readonly string[] = [],
): Promise<{ code: number; report: JsonReport }> {
  const run = await lint(cwd, [...argv, '--format', 'fanout-json'])
  return { code: run.code, report: JSON.parse(run.out) as JsonReport }
}

/** A project with one waterfall to find and many places it must not look. */
const typical = (): string =>
  project({
    'src/account.ts': WATERFALL,
    'src/total.ts': CLEAN,
    'src/badge.tsx': CLEAN_TSX,
    'src/title.jsx': CLEAN_JSX,
    'src/types.d.ts': 'export declare function f(): Promise<void>\n',
    'README.md': '# not code\n',
    '.gitignore': 'ignored.ts\n/out/\n',
    'ignored.ts': WATERFALL,
    'out/bundle.js': WATERFALL,
    // A nested .gitignore: applies below src/generated only; `!keep.ts` re-includes one file.
    'src/generated/.gitignore': '*.ts\n!keep.ts\n',
    'src/generated/client.ts': WATERFALL,
    'src/generated/keep.ts': CLEAN,
    'node_modules/some-lib/index.js': WATERFALL.replace(/: string|: Promise<.*>/g, ''),
    'dist/account.js': WATERFALL,
    'build/account.ts': WATERFALL,
    'coverage/x.ts': WATERFALL,
    '.next/server.ts': WATERFALL,
    'packages/web/node_modules/dep/index.ts': WATERFALL,
  })

describe('fanout lint', () => {
  it('checks only the project files: .gitignore (root and nested) honoured, node_modules/dist/build/coverage/.next skipped', async () => {
    const root = typical()
    const { code, report } = await lintJson(root)
    expect(code).toBe(1)
    expect(report.tool).toBe('fanout lint')
    // account.ts, total.ts, badge.tsx, title.jsx, generated/keep.ts (the .d.ts holds no code).
    expect(report.summary.filesChecked).toBe(5)
    expect(report.files.map((f) => f.path)).toEqual(['src/account.ts'])
  })

  it('groups findings by file, with the rule, a code frame with a caret and a summary line; plain when not a terminal', async () => {
    const root = typical()
    const { code, out, err } = await lint(root)
    expect(code).toBe(1)
    expect(err).toBe('')
    const lines = out.split('\n')
    expect(lines[0]).toBe('src/account.ts')
    const finding = lines.findIndex((l) =>
      /^\s+[23]:\d+\s+warning\s+.*fanout\/no-sequential-await/.test(l),
    )
    expect(finding).toBeGreaterThan(0)
    // The code frame: the flagged line marked with `>`, a caret line under it.
    const marked = lines.findIndex((l, i) => i > finding && /^>\s+[23] \|/.test(l))
    expect(marked).toBeGreaterThan(finding)
    expect(lines[marked]).toMatch(/await fetch(User|Settings)/)
    expect(lines[marked + 1]).toMatch(/^\s+\|\s+\^+$/)
    expect(lines.at(-1)).toMatch(
      /^✖ \d+ findings? \(0 errors, \d+ warnings?\) in 1 file · 5 files checked/,
    )
    // One group: a file's path starts a line; findings, frames and notes are indented.
    expect(lines.filter((l) => /^[^\s>✖]/.test(l))).toEqual(['src/account.ts'])
    expect(out).not.toContain('\x1b[')
  })

  it('colours on a terminal, unless NO_COLOR or --no-color', async () => {
    const root = project({ 'a.ts': WATERFALL })
    expect((await lint(root, [], { isTTY: true })).out).toContain('\x1b[')
    expect((await lint(root, [], { isTTY: true, env: { NO_COLOR: '1' } })).out).not.toContain(
      '\x1b[',
    )
    expect((await lint(root, ['--no-color'], { isTTY: true })).out).not.toContain('\x1b[')
  })

  it('--format fanout-json: one document with every finding and the totals', async () => {
    const root = typical()
    const { report } = await lintJson(root)
    const [file] = report.files
    const sequential = file!.messages.filter((m) => m.ruleId === 'fanout/no-sequential-await')
    expect(sequential.length).toBeGreaterThanOrEqual(1)
    for (const m of file!.messages) {
      expect(m).toMatchObject({
        severity: expect.stringMatching(/^(error|warning)$/),
        fatal: false,
      })
      expect([2, 3]).toContain(m.line)
      expect(m.column).toBeGreaterThan(0)
      expect(typeof m.message).toBe('string')
      expect(['available', 'none']).toContain(m.fix)
      expect(typeof m.suggestions).toBe('number')
      expect(m.estimatedSaving === null || typeof m.estimatedSaving === 'string').toBe(true)
    }
    expect(file!.fixed).toBe(false)
    expect(report.summary).toMatchObject({
      filesChecked: 5,
      filesWithFindings: 1,
      errors: 0,
      fixesApplied: 0,
      filesFixed: 0,
    })
    expect(report.summary.warnings).toBe(file!.messages.length)
  })

  it('a clean project exits 0 and says so', async () => {
    const root = project({ 'src/total.ts': CLEAN, 'src/badge.tsx': CLEAN_TSX })
    const { code, out } = await lint(root)
    expect(code).toBe(0)
    expect(out).toBe('✔ no findings in 2 files checked')
    const json = await lintJson(root)
    expect(json.code).toBe(0)
    expect(json.report.files).toEqual([])
  })

  it('ranks the findings with the largest estimated savings first, across files', async () => {
    const THREE = `export async function dashboard(id: string, companyId: string) {
  const user = await fetchUser(id)
  const settings = await fetchSettings(companyId)
  const orders = await fetchOrders(id)
  return { user, settings, orders }
}

declare function fetchUser(id: string): Promise<{ name: string }>
declare function fetchSettings(id: string): Promise<{ theme: string }>
declare function fetchOrders(id: string): Promise<string[]>
`
    const root = project({ 'src/a-small.ts': WATERFALL, 'src/b-large.ts': THREE })
    const { code, out } = await lint(root)
    expect(code).toBe(1)
    const lines = out.split('\n')
    const at = lines.indexOf('Largest estimated savings first:')
    expect(at).toBeGreaterThan(-1)
    expect(lines[at + 1]).toMatch(/^ {2}src\/b-large\.ts:2 {2}2 round trips \(3 awaits\)$/)
    expect(lines[at + 2]).toMatch(/^ {2}src\/a-small\.ts:\d+ {2}1 round trip \(2 awaits\)$/)
    // fanout-json carries the same estimate as numbers.
    const json = await lintJson(root)
    const saving = (path: string) =>
      json.report.files.find((f) => f.path === path)!.messages[0]!.saving
    expect(saving('src/b-large.ts')).toEqual({ roundTrips: 2, calls: 3 })
    expect(saving('src/a-small.ts')).toEqual({ roundTrips: 1, calls: 2 })
  })

  it('skips test files (sequential awaits there are usually deliberate) unless --include-tests', async () => {
    const root = project({
      'src/total.ts': CLEAN,
      'src/page.test.ts': WATERFALL,
      'src/__tests__/page.ts': WATERFALL,
      'src/page.spec.tsx': WATERFALL,
    })
    const skipped = await lint(root)
    expect(skipped.code).toBe(0)
    expect(skipped.out).toBe('✔ no findings in 1 file checked')
    const included = await lintJson(root, ['--include-tests'])
    expect(included.code).toBe(1)
    expect(included.report.files.length).toBe(3)
  })

  it('lints only the paths given (files and folders), relative to the working directory', async () => {
    const root = typical()
    expect((await lint(root, ['src/total.ts'])).code).toBe(0)
    expect((await lint(root, ['src/generated'])).code).toBe(0)
    // A file named explicitly is linted even if .gitignore'd.
    const named = await lintJson(root, ['ignored.ts', 'src/total.ts', 'src/total.ts'])
    expect(named.code).toBe(1)
    expect(named.report.summary.filesChecked).toBe(2)
    expect(named.report.files.map((f) => f.path)).toEqual(['ignored.ts'])
    // Run from a subfolder: the repository root's .gitignore still applies.
    writeFileSync(join(root, 'src', 'generated', 'ignored.ts'), WATERFALL)
    writeFileSync(join(root, '.gitignore'), 'ignored.ts\n')
    mkdirSync(join(root, '.git'))
    const sub = await lintJson(join(root, 'src'))
    expect(sub.report.files.map((f) => f.path)).toEqual(['account.ts'])
  })

  it('--fix rewrites the waterfall with Promise.all, reports the fix, and the file is clean afterwards', async () => {
    const root = project({ 'src/account.ts': WATERFALL, 'src/total.ts': CLEAN })
    const before = await lintJson(root)
    expect(
      before.report.files[0]!.messages.some(
        (m) => m.ruleId === 'fanout/no-sequential-await' && m.fix === 'available',
      ),
    ).toBe(true)
    expect(before.report.summary.fixable).toBeGreaterThanOrEqual(1)

    const fixed = await lintJson(root, ['--fix'])
    const after = readFileSync(join(root, 'src/account.ts'), 'utf8')
    expect(after).not.toBe(WATERFALL)
    expect(after).toMatch(
      /await Promise\.all\(\[\s*fetchUser\(id\),\s*fetchSettings\(companyId\),?\s*\]\)/,
    )
    expect(readFileSync(join(root, 'src/total.ts'), 'utf8')).toBe(CLEAN)
    expect(fixed.code).toBe(0)
    expect(fixed.report.files).toHaveLength(1)
    expect(fixed.report.files[0]).toMatchObject({ path: 'src/account.ts', fixed: true })
    expect(fixed.report.files[0]!.messages.every((m) => m.fix === 'applied')).toBe(true)
    expect(fixed.report.summary).toMatchObject({
      errors: 0,
      warnings: 0,
      fixesApplied: before.report.summary.fixable,
      filesFixed: 1,
    })

    const again = await lint(root)
    expect(again.code).toBe(0)
    expect(again.out).toBe('✔ no findings in 2 files checked')
  })

  it('--fix in text format says what it fixed; exit 1 only while findings remain', async () => {
    const root = project({ 'a.ts': WATERFALL, 'broken.ts': 'export const x = (\n' })
    const run = await lint(root, ['--fix'])
    expect(run.code).toBe(1) // the parse error remains
    expect(run.out).toMatch(/a\.ts\n {2}fixed \d+ findings?/)
    expect(run.out).toMatch(/fixed \d+ findings? in 1 file/)
    expect(readFileSync(join(root, 'a.ts'), 'utf8')).toContain('Promise.all')
  })

  it('a file that does not parse is a finding of that file, not a crash; the other files are still checked', async () => {
    const root = project({
      'src/broken.ts': 'export function f( {\n  return 1\n',
      'src/total.ts': CLEAN,
      'src/account.ts': WATERFALL,
    })
    const { code, report } = await lintJson(root)
    expect(code).toBe(1)
    expect(report.summary.filesChecked).toBe(3)
    const broken = report.files.find((f) => f.path === 'src/broken.ts')
    expect(broken!.messages).toEqual([
      expect.objectContaining({
        ruleId: null,
        severity: 'error',
        fatal: true,
        message: expect.stringMatching(/^Parsing error/),
      }),
    ])
    expect(report.files.map((f) => f.path)).toContain('src/account.ts')
    const text = await lint(root)
    expect(text.out).toMatch(/src\/broken\.ts\n {2}\d+:\d+ {2}error {2}Parsing error/)
  })

  it('eslint-disable comments work, and those naming rules of other plugins are not reported', async () => {
    const disabled = WATERFALL.replace(
      '  const user',
      '  // eslint-disable-next-line react-hooks/exhaustive-deps, fanout/no-sequential-await\n  const user',
    )
    const root = project({
      'a.ts': disabled,
      'b.ts': `// eslint-disable-next-line no-console\nconsole.log(1)\n/* eslint no-console: "error" */\nconsole.log(2)\n`,
    })
    const { code, out } = await lint(root)
    expect(out).toBe('✔ no findings in 2 files checked')
    expect(code).toBe(0)
  })

  it('--rule runs one rule', async () => {
    const root = project({ 'a.ts': WATERFALL })
    const only = await lintJson(root, ['--rule', 'fanout/no-sequential-await'])
    expect(only.code).toBe(1)
    expect(
      only.report.files[0]!.messages.every((m) => m.ruleId === 'fanout/no-sequential-await'),
    ).toBe(true)
    const other = await lintJson(root, ['--rule', 'no-parallel-auth'])
    expect(
      other.report.files
        .flatMap((f) => f.messages)
        .filter((m) => m.ruleId === 'fanout/no-sequential-await'),
    ).toEqual([])
  })

  it('usage errors exit 2 with a clear message', async () => {
    const root = project({ 'a.ts': CLEAN, 'notes.md': '# hi\n' })
    const cases: [string[], RegExp][] = [
      [['--frobnicate'], /unknown option "--frobnicate"/],
      [['--formt', 'json'], /unknown option "--formt"\. Did you mean "--format"\?/],
      [['missing-dir'], /no such file or directory: missing-dir/],
      [['notes.md'], /notes\.md is not a JavaScript or TypeScript file/],
      [['--format', 'xml'], /--format must be text, json, sarif or fanout-json, got "xml"/],
      [['--format'], /--format/],
      [
        ['--rule', 'no-such-rule'],
        /unknown rule "no-such-rule". Known rules: .*no-sequential-await/,
      ],
    ]
    for (const [argv, message] of cases) {
      const run = await lint(root, argv)
      expect(run.code, argv.join(' ')).toBe(2)
      expect(run.err).toMatch(/^fanout lint: /)
      expect(run.err).toMatch(message)
      expect(run.out).toBe('')
    }
  })

  it('--help', async () => {
    const run = await lint(project({}), ['--help'])
    expect(run.code).toBe(0)
    expect(run.out).toMatch(/^Usage: fanout lint \[paths…\]/)
    for (const option of [
      '--fix',
      '--format',
      'sarif',
      'fanout-json',
      '--rule',
      'minSaving',
      '--ignore',
      '--ignore-pattern',
      '--include-tests',
      '--no-color',
      '__fixtures__',
    ])
      expect(run.out).toContain(option)
    for (const line of run.out.split('\n')) expect(line.length).toBeLessThanOrEqual(100)
  })

  it('says which optional peer to install when eslint or the parser is missing', async () => {
    const missing = (names: readonly string[]): LintDeps => ({
      importPeer: (specifier) => {
        if (names.includes(specifier)) {
          const error = new Error(
            `Cannot find package '${specifier}' imported from /app/node_modules/fanout/dist/cli/lint.js`,
          ) as Error & { code: string }
          error.code = 'ERR_MODULE_NOT_FOUND'
          return Promise.reject(error)
        }
        return import(specifier)
      },
    })
    const root = project({ 'a.ts': WATERFALL })
    const noEslint = await lint(root, [], { deps: missing(['eslint']) })
    expect(noEslint.code).toBe(2)
    expect(noEslint.err).toMatch(
      /needs the optional peer dependency eslint, not installed here\. Install it: npm install --save-dev eslint@9$/,
    )
    const both = await lint(root, [], { deps: missing(['eslint', '@typescript-eslint/parser']) })
    expect(both.code).toBe(2)
    expect(both.err).toContain('npm install --save-dev eslint@9 @typescript-eslint/parser@8')
  })

  it('the estimated saving comes from the rule message data', () => {
    expect(savingFrom({ saving: '2' })).toBe('2 round trips')
    expect(savingFrom({ saving: 1 })).toBe('1 round trip')
    expect(savingFrom({ savingMs: 120 })).toBe('~120 ms')
    expect(savingFrom({ saving: '0' })).toBeUndefined()
    expect(savingFrom({ estimatedSaving: '~1 round trip' })).toBe('~1 round trip')
    expect(savingFrom({ count: '2' })).toBeUndefined()
    expect(savingFrom(undefined)).toBeUndefined()
  })

  it('is the `lint` command of `fanout`', async () => {
    const root = project({ 'a.ts': WATERFALL })
    const out: string[] = []
    const io = {
      out: (l: string) => out.push(l),
      err: () => undefined,
      isTTY: false,
      env: {},
      cwd: root,
    }
    expect(await main(['lint', '--format', 'fanout-json'], io)).toBe(1)
    expect((JSON.parse(out.join('\n')) as JsonReport).files[0]!.path).toBe('a.ts')
  })
})

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
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli/main.js'
import { runLint, savingFrom, type LintDeps } from '../src/cli/lint.js'
import { formatText, ranked, type FileResult, type Finding } from '../src/cli/lint-format.js'
import { repositoryUrl, sarifLog } from '../src/cli/lint-sarif.js'

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
const AUTH_IN_PARALLEL = `export async function page(req: Request, accountId: string) {
  const [user, orders] = await Promise.all([requireUser(req), getOrders(accountId)])
  return { user, orders }
}
declare function requireUser(req: Request): Promise<{ id: string }>
declare function getOrders(id: string): Promise<string[]>
`

/** The rule ids of every finding in a fanout-json report. */
const ruleIds = (report: JsonReport): (string | null)[] =>
  report.files.flatMap((f) => f.messages.map((m) => m.ruleId))

describe('fanout lint: paths named explicitly', () => {
  it('lints a gitignored directory or file it is given, with the nested .gitignore and the default skips inside it', async () => {
    const root = project({
      '.gitignore': '/out/\ngenerated/\n',
      'out/bundle.js': WATERFALL.replace(/: string|: Promise<.*>/g, ''),
      'out/.gitignore': 'skipped.ts\n',
      'out/skipped.ts': WATERFALL,
      'out/node_modules/dep/index.ts': WATERFALL,
      'src/generated/api/client.ts': WATERFALL,
      'src/app.ts': CLEAN,
    })
    // By default (no paths) .gitignore is honoured, as before.
    const all = await lintJson(root)
    expect(all.code).toBe(0)
    expect(all.report.summary.filesChecked).toBe(1)

    const out = await lintJson(root, ['out'])
    expect(out.code).toBe(1)
    expect(out.report.summary.filesChecked).toBe(1)
    expect(out.report.files.map((f) => f.path)).toEqual(['out/bundle.js'])

    // A directory below an ignored one, and a file in it.
    const below = await lintJson(root, ['src/generated/api'])
    expect(below.code).toBe(1)
    expect(below.report.files.map((f) => f.path)).toEqual(['src/generated/api/client.ts'])
    const file = await lintJson(root, ['out/skipped.ts'])
    expect(file.report.files.map((f) => f.path)).toEqual(['out/skipped.ts'])
  })

  it('a named path with nothing to lint is an error that names it (exit 2); the default `.` is not', async () => {
    const root = project({
      'empty/README.md': '# nothing\n',
      'specs/page.test.ts': WATERFALL,
      'src/app.ts': CLEAN,
      'src/legacy/old.ts': WATERFALL,
      'src/types.d.ts': 'export declare const x: number\n',
    })
    const cases: [string[], RegExp][] = [
      [['no/such/dir'], /^fanout lint: no such file or directory: no\/such\/dir$/],
      [['empty'], /^fanout lint: no \.js .* files to lint in empty\.$/],
      [
        ['specs'],
        /^fanout lint: no \.js .* files to lint in specs: skipped 1 test file or folder \(--include-tests lints them\)\.$/,
      ],
      [
        ['src/legacy', '--ignore', 'src/legacy/'],
        /^fanout lint: no \.js .* files to lint in src\/legacy: skipped 1 path matched by --ignore\.$/,
      ],
      [
        ['src/legacy/old.ts', '--ignore', 'src/legacy/'],
        /src\/legacy\/old\.ts is ignored by --ignore/,
      ],
      [['src/types.d.ts'], /src\/types\.d\.ts is a declaration file/],
      // Every named path must match: one good path does not excuse the other.
      [['src/app.ts', 'empty'], /files to lint in empty/],
    ]
    for (const [argv, message] of cases) {
      const run = await lint(root, argv)
      expect(run.code, argv.join(' ')).toBe(2)
      expect(run.err, argv.join(' ')).toMatch(message)
      expect(run.out).toBe('')
    }
    expect((await lint(root, ['specs', '--include-tests'])).code).toBe(1)
    // Run in an empty folder without paths: nothing to lint is said, not an error.
    const none = await lint(join(root, 'empty'))
    expect(none.code).toBe(0)
    expect(none.err).toMatch(/no \.js .* files under \./)
  })
})

describe('fanout lint: test folders', () => {
  const fixtures = (): string =>
    project({
      'src/app.ts': CLEAN,
      'test/fixtures/waterfall.ts': WATERFALL,
      'tests/helpers.ts': WATERFALL,
      'fixtures/a.ts': WATERFALL,
      'src/__fixtures__/b.ts': WATERFALL,
      'src/__mocks__/api.ts': WATERFALL,
      'e2e/login.ts': WATERFALL,
      'cypress/support/commands.ts': WATERFALL,
      'playwright/setup.ts': WATERFALL,
      'src/page.cy.ts': WATERFALL,
      'src/page.spec.ts': WATERFALL,
    })

  it('skips test, fixture and mock folders by default', async () => {
    const { code, report } = await lintJson(fixtures())
    expect(code).toBe(0)
    expect(report.summary.filesChecked).toBe(1)
  })

  it('lints them with --include-tests', async () => {
    const { code, report } = await lintJson(fixtures(), ['--include-tests'])
    expect(code).toBe(1)
    expect(report.summary.filesChecked).toBe(11)
    expect(report.files.map((f) => f.path)).toEqual([
      'cypress/support/commands.ts',
      'e2e/login.ts',
      'fixtures/a.ts',
      'playwright/setup.ts',
      'src/__fixtures__/b.ts',
      'src/__mocks__/api.ts',
      'src/page.cy.ts',
      'src/page.spec.ts',
      'test/fixtures/waterfall.ts',
      'tests/helpers.ts',
    ])
  })

  it('lints a test folder or test file that is named explicitly', async () => {
    const root = fixtures()
    const folder = await lintJson(root, ['test/fixtures'])
    expect(folder.code).toBe(1)
    expect(folder.report.files.map((f) => f.path)).toEqual(['test/fixtures/waterfall.ts'])
    const files = await lintJson(root, ['src/page.spec.ts', 'e2e/login.ts'])
    expect(files.report.files.map((f) => f.path)).toEqual(['e2e/login.ts', 'src/page.spec.ts'])
    // Under a named folder, deeper test folders are still skipped.
    const src = await lintJson(root, ['src'])
    expect(src.code).toBe(0)
    expect(src.report.summary.filesChecked).toBe(1)
  })
})

describe('fanout lint --ignore', () => {
  it('skips paths matching gitignore-style patterns relative to the working directory (repeatable; --ignore-pattern too)', async () => {
    const root = project({
      'src/app.ts': WATERFALL,
      'src/generated/client.ts': WATERFALL,
      'src/api.gen.ts': WATERFALL,
      'lib/keep.ts': WATERFALL,
    })
    const all = await lintJson(root)
    expect(all.report.summary.filesChecked).toBe(4)
    const some = await lintJson(root, [
      '--ignore',
      'src/generated/',
      '--ignore-pattern',
      '*.gen.ts',
      '--ignore=/lib',
    ])
    expect(some.report.files.map((f) => f.path)).toEqual(['src/app.ts'])
    // Relative to the working directory, also for a named path.
    const named = await lintJson(root, ['src', '--ignore', 'src/app.ts'])
    expect(named.report.files.map((f) => f.path)).toEqual([
      'src/api.gen.ts',
      'src/generated/client.ts',
    ])
    // A negation re-includes, as in .gitignore.
    const back = await lintJson(root, ['--ignore', 'src/*', '--ignore', '!src/app.ts'])
    expect(back.report.files.map((f) => f.path)).toEqual(['lib/keep.ts', 'src/app.ts'])
    const empty = await lint(root, ['--ignore', ' '])
    expect(empty.code).toBe(2)
    expect(empty.err).toMatch(/--ignore needs a pattern/)
  })
})

describe('fanout lint --format json (ESLint)', () => {
  interface EslintResult {
    filePath: string
    messages: Record<string, unknown>[]
    suppressedMessages: Record<string, unknown>[]
    errorCount: number
    fatalErrorCount: number
    warningCount: number
    fixableErrorCount: number
    fixableWarningCount: number
    usedDeprecatedRules: unknown[]
    source?: string
    output?: string
  }
  const eslintJson = async (
    cwd: string,
    argv: readonly string[] = [],
  ): Promise<{ code: number; results: EslintResult[] }> => {
    const run = await lint(cwd, [...argv, '--format', 'json'])
    expect(run.err).toBe('')
    return { code: run.code, results: JSON.parse(run.out) as EslintResult[] }
  }

  it("prints ESLint's LintResult array: one result per checked file, ESLint's own messages and counts", async () => {
    const root = project({
      'src/account.ts': WATERFALL,
      'src/auth.ts': AUTH_IN_PARALLEL,
      'src/total.ts': CLEAN,
      'src/broken.ts': 'export function f( {\n',
    })
    const { code, results } = await eslintJson(root)
    expect(code).toBe(1)
    expect(results.map((r) => r.filePath)).toEqual(
      ['account.ts', 'auth.ts', 'broken.ts', 'total.ts'].map((f) => join(root, 'src', f)),
    )
    const [account, auth, broken, total] = results
    // ESLint's key order: source after the counts, usedDeprecatedRules last.
    expect(Object.keys(account!)).toEqual([
      'filePath',
      'messages',
      'suppressedMessages',
      'errorCount',
      'fatalErrorCount',
      'warningCount',
      'fixableErrorCount',
      'fixableWarningCount',
      'source',
      'usedDeprecatedRules',
    ])
    expect(account!.source).toBe(WATERFALL)
    expect(account!.messages[0]).toMatchObject({
      ruleId: 'fanout/no-sequential-await',
      severity: 1,
      line: 2,
      messageId: 'sequential',
      fix: { range: [expect.any(Number), expect.any(Number)], text: expect.any(String) },
    })
    expect(account!.messages[0]).toHaveProperty('nodeType') // the node's type, or null
    expect(account).toMatchObject({ errorCount: 0, warningCount: 1, fixableWarningCount: 1 })
    expect(auth!.messages[0]).toMatchObject({ ruleId: 'fanout/no-parallel-auth', severity: 1 })
    expect(auth!.messages[0]!['suggestions']).toEqual([
      expect.objectContaining({ desc: expect.any(String), fix: expect.any(Object) }),
    ])
    expect(auth).toMatchObject({ errorCount: 0, warningCount: 1, fixableWarningCount: 0 })
    expect(broken!.messages).toEqual([
      {
        ruleId: null,
        nodeType: null,
        fatal: true,
        severity: 2,
        message: expect.stringMatching(/^Parsing error/),
        line: expect.any(Number),
        column: expect.any(Number),
      },
    ])
    expect(broken).toMatchObject({ errorCount: 1, fatalErrorCount: 1 })
    // A clean file: a result with no messages and no source, as ESLint prints it.
    expect(total).toEqual({
      filePath: join(root, 'src', 'total.ts'),
      messages: [],
      suppressedMessages: [],
      errorCount: 0,
      fatalErrorCount: 0,
      warningCount: 0,
      fixableErrorCount: 0,
      fixableWarningCount: 0,
      usedDeprecatedRules: [],
    })
  })

  it("is read by ESLint's own stylish formatter, which prints our findings", async () => {
    const root = project({ 'src/account.ts': WATERFALL, 'src/auth.ts': AUTH_IN_PARALLEL })
    const { results } = await eslintJson(root)
    const { ESLint } = await import('eslint')
    const formatter = await new ESLint({ cwd: root, overrideConfigFile: true }).loadFormatter(
      'stylish',
    )
    const text = await formatter.format(results as never)
    expect(text).toContain(join(root, 'src', 'account.ts'))
    expect(text).toMatch(/2:\d+\s+warning\s+2 independent awaits .*fanout\/no-sequential-await/)
    expect(text).toMatch(/2:\d+\s+warning\s+.*requireUser.*fanout\/no-parallel-auth/)
    expect(text).toMatch(/✖ 2 problems \(0 errors, 2 warnings\)/)
    expect(text).toMatch(/0 errors and 1 warning potentially fixable with the `--fix` option/)
  })

  it('after --fix: the output of a fixed file, no source, only what is left; suppressed messages listed', async () => {
    const disabled = WATERFALL.replace(
      '  const user',
      '  // eslint-disable-next-line fanout/no-sequential-await -- ordered on purpose\n  const user',
    )
    const root = project({ 'a.ts': WATERFALL, 'b.ts': disabled })
    const { code, results } = await eslintJson(root, ['--fix'])
    expect(code).toBe(0)
    const [a, b] = results
    expect(a!.messages).toEqual([])
    expect(a!.output).toContain('Promise.all')
    expect(a!.source).toBeUndefined()
    expect(b!.messages).toEqual([])
    expect(b!.suppressedMessages).toEqual([
      expect.objectContaining({
        ruleId: 'fanout/no-sequential-await',
        suppressions: [{ kind: 'directive', justification: 'ordered on purpose' }],
      }),
    ])
  })
})

describe('fanout lint --format sarif', () => {
  type Json = Record<string, unknown>
  const isObject = (v: unknown): v is Json =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
  const isAbsoluteUri = (v: unknown): boolean => typeof v === 'string' && /^[a-z][\w+.-]*:/i.test(v)
  const LEVELS = ['none', 'note', 'warning', 'error']

  /**
   * The SARIF 2.1.0 spec's requirements on what we emit (the schema cannot be fetched here), and
   * GitHub code scanning's: a rule id on every result, one location with a region.
   */
  function sarifProblems(log: unknown): string[] {
    const problems: string[] = []
    const need = (ok: boolean, what: string): void => {
      if (!ok) problems.push(what)
    }
    if (!isObject(log)) return ['the log is not an object']
    need(log['version'] === '2.1.0', 'version is "2.1.0" (§3.13.2)')
    need(
      log['$schema'] === undefined || isAbsoluteUri(log['$schema']),
      '$schema is a URI (§3.13.3)',
    )
    const runs = log['runs']
    need(Array.isArray(runs), 'runs is an array (§3.13.4)')
    for (const [r, run] of (Array.isArray(runs) ? runs : []).entries()) {
      const at = `runs[${r}]`
      if (!isObject(run)) {
        problems.push(`${at} is an object`)
        continue
      }
      const driver = isObject(run['tool']) ? run['tool']['driver'] : undefined
      need(isObject(driver), `${at}.tool.driver is an object (§3.18.2)`)
      if (!isObject(driver)) continue
      need(
        typeof driver['name'] === 'string' && driver['name'] !== '',
        `${at}: driver.name (§3.19.8)`,
      )
      need(
        driver['version'] === undefined || typeof driver['version'] === 'string',
        'driver.version',
      )
      need(
        driver['informationUri'] === undefined || isAbsoluteUri(driver['informationUri']),
        'driver.informationUri is an absolute URI (§3.19.17)',
      )
      const rules = Array.isArray(driver['rules']) ? (driver['rules'] as unknown[]) : []
      need(
        driver['rules'] === undefined || Array.isArray(driver['rules']),
        'driver.rules is an array',
      )
      const ids = rules.map((rule) => (isObject(rule) ? rule['id'] : undefined))
      need(new Set(ids).size === ids.length, 'rule ids are unique (§3.19.23)')
      for (const [i, rule] of rules.entries()) {
        const where = `${at}.tool.driver.rules[${i}]`
        if (!isObject(rule)) {
          problems.push(`${where} is an object`)
          continue
        }
        need(typeof rule['id'] === 'string', `${where}.id (§3.49.3)`)
        for (const key of ['shortDescription', 'fullDescription'])
          need(
            rule[key] === undefined ||
              (isObject(rule[key]) && typeof rule[key]['text'] === 'string'),
            `${where}.${key}.text (§3.12.3)`,
          )
        need(rule['helpUri'] === undefined || isAbsoluteUri(rule['helpUri']), `${where}.helpUri`)
        const level = isObject(rule['defaultConfiguration'])
          ? rule['defaultConfiguration']['level']
          : undefined
        need(level === undefined || LEVELS.includes(level as string), `${where} level (§3.50.3)`)
      }
      const bases = isObject(run['originalUriBaseIds']) ? run['originalUriBaseIds'] : {}
      for (const [id, base] of Object.entries(bases))
        need(
          isObject(base) && isAbsoluteUri(base['uri']) && String(base['uri']).endsWith('/'),
          `originalUriBaseIds.${id}.uri is absolute and ends with "/" (§3.14.14)`,
        )
      const invocations = Array.isArray(run['invocations']) ? run['invocations'] : []
      for (const inv of invocations)
        need(
          isObject(inv) && typeof inv['executionSuccessful'] === 'boolean',
          'invocation.executionSuccessful (§3.20.14)',
        )
      need(Array.isArray(run['results']), `${at}.results is an array (§3.14.23)`)
      for (const [i, result] of ((run['results'] as unknown[]) ?? []).entries()) {
        const where = `${at}.results[${i}]`
        if (!isObject(result)) {
          problems.push(`${where} is an object`)
          continue
        }
        const message = result['message']
        need(
          isObject(message) &&
            (typeof message['text'] === 'string' || typeof message['id'] === 'string'),
          `${where}.message has text or id (§3.11.3)`,
        )
        need(typeof result['ruleId'] === 'string', `${where}.ruleId (GitHub needs it)`)
        if (result['ruleIndex'] !== undefined)
          need(
            Number.isInteger(result['ruleIndex']) &&
              ids[result['ruleIndex'] as number] === result['ruleId'],
            `${where}.ruleIndex points at its rule (§3.27.6)`,
          )
        need(
          result['level'] === undefined || LEVELS.includes(result['level'] as string),
          `${where}.level (§3.27.10)`,
        )
        const locations = result['locations']
        need(Array.isArray(locations) && locations.length === 1, `${where}: one location`)
        for (const location of Array.isArray(locations) ? locations : []) {
          const physical = isObject(location) ? location['physicalLocation'] : undefined
          const artifact = isObject(physical) ? physical['artifactLocation'] : undefined
          const region = isObject(physical) ? physical['region'] : undefined
          need(
            isObject(artifact) && typeof artifact['uri'] === 'string',
            `${where}: artifactLocation.uri`,
          )
          if (isObject(artifact) && artifact['uriBaseId'] !== undefined)
            need(
              typeof artifact['uriBaseId'] === 'string' && artifact['uriBaseId'] in bases,
              `${where}: uriBaseId is in originalUriBaseIds`,
            )
          if (isObject(artifact) && artifact['uriBaseId'] === undefined)
            need(isAbsoluteUri(artifact['uri']), `${where}: a URI without base is absolute`)
          if (!isObject(region)) {
            problems.push(`${where}: region`)
            continue
          }
          const { startLine, startColumn, endLine, endColumn } = region as Record<string, number>
          need(Number.isInteger(startLine) && startLine! >= 1, `${where}: startLine >= 1 (§3.30.5)`)
          need(startColumn === undefined || startColumn >= 1, `${where}: startColumn >= 1`)
          need(endLine === undefined || endLine >= startLine!, `${where}: endLine >= startLine`)
          need(
            endColumn === undefined ||
              endColumn >= 1 ||
              ((endLine ?? startLine) === startLine && endColumn >= (startColumn ?? 1)),
            `${where}: endColumn`,
          )
        }
      }
    }
    return problems
  }

  it('is a valid SARIF 2.1.0 log for GitHub code scanning: rules, results with regions, paths relative to %SRCROOT%', async () => {
    const root = project({
      'src/account.ts': WATERFALL,
      'src/auth.ts': AUTH_IN_PARALLEL,
      'src/my page.ts': WATERFALL,
      'src/total.ts': CLEAN,
      'src/broken.ts': 'export function f( {\n',
    })
    const run = await lint(root, ['--format', 'sarif'])
    expect(run.code).toBe(1)
    expect(run.err).toBe('')
    const log = JSON.parse(run.out) as {
      $schema: string
      runs: {
        tool: { driver: { name: string; version: string; rules: Json[]; informationUri?: string } }
        originalUriBaseIds: Record<string, { uri: string }>
        invocations: Json[]
        results: {
          ruleId: string
          ruleIndex: number
          level: string
          message: { text: string }
          locations: {
            physicalLocation: {
              artifactLocation: { uri: string; uriBaseId: string }
              region: Record<string, number>
            }
          }[]
        }[]
      }[]
    }
    expect(sarifProblems(log)).toEqual([])
    // And the checks catch what they are meant to.
    expect(sarifProblems({ version: '2.1.0', runs: [{ tool: {}, results: [{}] }] })).toEqual([
      'runs[0].tool.driver is an object (§3.18.2)',
    ])
    expect(log.$schema).toMatch(/sarif-2\.1\.0/)
    const [only] = log.runs
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string
      repository?: unknown
    }
    expect(only!.tool.driver).toMatchObject({ name: 'fanout', version: pkg.version })
    const ruleIds = only!.tool.driver.rules.map((r) => r['id'])
    expect(ruleIds).toEqual(
      expect.arrayContaining([
        'fanout/no-sequential-await',
        'fanout/no-parallel-auth',
        'fanout/parse-error',
      ]),
    )
    for (const rule of only!.tool.driver.rules) {
      expect(rule).toMatchObject({
        shortDescription: { text: expect.any(String) },
        fullDescription: { text: expect.any(String) },
        defaultConfiguration: { level: expect.stringMatching(/^(warning|error)$/) },
      })
      // helpUri points at docs/lint.md on the repository package.json names, when it names one.
      if (pkg.repository === undefined) expect(rule['helpUri']).toBeUndefined()
    }
    expect(only!.originalUriBaseIds).toEqual({
      '%SRCROOT%': { uri: `${pathToFileURL(root).href}/` },
    })
    expect(only!.invocations).toEqual([{ executionSuccessful: true }])
    const byUri = new Map(
      only!.results.map((r) => [r.locations[0]!.physicalLocation.artifactLocation.uri, r]),
    )
    expect([...byUri.keys()].sort()).toEqual([
      'src/account.ts',
      'src/auth.ts',
      'src/broken.ts',
      'src/my%20page.ts',
    ])
    expect(byUri.get('src/account.ts')).toMatchObject({
      ruleId: 'fanout/no-sequential-await',
      level: 'warning',
      message: { text: expect.stringMatching(/^2 independent awaits/) },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uriBaseId: '%SRCROOT%' },
            region: { startLine: 2, startColumn: expect.any(Number) },
          },
        },
      ],
    })
    expect(byUri.get('src/auth.ts')).toMatchObject({
      ruleId: 'fanout/no-parallel-auth',
      level: 'warning',
    })
    expect(byUri.get('src/broken.ts')).toMatchObject({
      ruleId: 'fanout/parse-error',
      level: 'error',
      message: { text: expect.stringMatching(/^Parsing error/) },
    })
  })

  it('links each rule to its section of docs/lint.md on the repository package.json names', () => {
    const log = sarifLog({
      cwd: '/work/app',
      rules: [
        {
          id: 'fanout/no-sequential-await',
          severity: 1,
          meta: {
            docs: { description: 'Start independent awaited calls together' },
            fixable: 'code',
          },
        },
      ],
      results: [],
      tool: { version: '1.2.3', repository: 'https://github.com/acme/fanout' },
    })
    expect(sarifProblems(log)).toEqual([])
    const driver = (log['runs'] as { tool: { driver: Json } }[])[0]!.tool.driver
    expect(driver).toMatchObject({
      name: 'fanout',
      version: '1.2.3',
      informationUri: 'https://github.com/acme/fanout',
      rules: [
        {
          id: 'fanout/no-sequential-await',
          shortDescription: { text: 'Start independent awaited calls together' },
          fullDescription: {
            text: expect.stringMatching(/^Start independent awaited calls together\. /),
          },
          helpUri: 'https://github.com/acme/fanout/blob/HEAD/docs/lint.md#no-sequential-await',
          defaultConfiguration: { level: 'warning' },
        },
      ],
    })
    expect(repositoryUrl('git+https://github.com/acme/fanout.git')).toBe(
      'https://github.com/acme/fanout',
    )
    expect(repositoryUrl('github:acme/fanout')).toBe('https://github.com/acme/fanout')
    expect(repositoryUrl('acme/fanout')).toBe('https://github.com/acme/fanout')
    expect(repositoryUrl('gitlab:acme/fanout')).toBe('https://gitlab.com/acme/fanout')
    expect(repositoryUrl('git@github.com:acme/fanout.git')).toBe('https://github.com/acme/fanout')
    expect(repositoryUrl(undefined)).toBeUndefined()
    expect(repositoryUrl('file:../local')).toBeUndefined()
  })
})

describe('fanout lint --rule', () => {
  const waterfalls = (): string => project({ 'src/two.ts': WATERFALL, 'src/three.ts': THREE })

  it('passes options to a rule as ESLint does (name: JSON), and the other recommended rules still run', async () => {
    const root = project({
      'src/two.ts': WATERFALL,
      'src/three.ts': THREE,
      'src/auth.ts': AUTH_IN_PARALLEL,
    })
    const all = await lintJson(root)
    expect(all.report.files.map((f) => f.path).sort()).toEqual([
      'src/auth.ts',
      'src/three.ts',
      'src/two.ts',
    ])
    for (const value of [
      'no-sequential-await: ["warn", {"minSaving": 2}]',
      'fanout/no-sequential-await:["warn",{"minSaving":2}]',
      '{"no-sequential-await": ["warn", {"minSaving": 2}]}',
    ]) {
      const { report } = await lintJson(root, ['--rule', value])
      // Only the group saving two round trips is left, and no-parallel-auth still runs.
      expect(report.files.map((f) => f.path).sort(), value).toEqual(['src/auth.ts', 'src/three.ts'])
    }
  })

  it('sets severities: off, warn, error, 0, 1, 2, with or without the fanout/ prefix', async () => {
    const root = project({ 'src/two.ts': WATERFALL, 'src/auth.ts': AUTH_IN_PARALLEL })
    const off = await lintJson(root, ['--rule', 'fanout/no-sequential-await: off'])
    expect(ruleIds(off.report)).toEqual(['fanout/no-parallel-auth'])
    const zero = await lintJson(root, ['--rule', '{"fanout/no-parallel-auth": 0}'])
    expect(ruleIds(zero.report)).toEqual(['fanout/no-sequential-await'])
    const both = await lintJson(root, [
      '--rule',
      'no-sequential-await: error',
      '--rule',
      '{"fanout/no-parallel-auth": "warn"}',
    ])
    const severity = (id: string) =>
      both.report.files.flatMap((f) => f.messages).find((m) => m.ruleId === id)?.severity
    expect(severity('fanout/no-sequential-await')).toBe('error')
    expect(severity('fanout/no-parallel-auth')).toBe('warning')
    expect(both.report.summary).toMatchObject({ errors: 1, warnings: 1 })
    // A severity alone keeps the options given before it, as in ESLint.
    const kept = await lintJson(waterfalls(), [
      '--rule',
      'no-sequential-await: [1, {"minSaving": 2}]',
      '--rule',
      'no-sequential-await: 2',
    ])
    expect(kept.report.files.map((f) => f.path)).toEqual(['src/three.ts'])
    expect(kept.report.files[0]!.messages[0]!.severity).toBe('error')
  })

  it('a bare name still means "only this rule", and configuring adds to it', async () => {
    const root = project({ 'src/two.ts': WATERFALL, 'src/auth.ts': AUTH_IN_PARALLEL })
    const only = await lintJson(root, ['--rule', 'no-parallel-auth'])
    expect(ruleIds(only.report)).toEqual(['fanout/no-parallel-auth'])
    const plus = await lintJson(root, [
      '--rule',
      'no-parallel-auth',
      '--rule',
      'no-sequential-await: ["warn", {"minSaving": 1}]',
    ])
    expect(ruleIds(plus.report).sort()).toEqual([
      'fanout/no-parallel-auth',
      'fanout/no-sequential-await',
    ])
  })

  it('unknown rules, bad severities, options that do not fit the schema and values that are not JSON are usage errors (exit 2)', async () => {
    const root = project({ 'a.ts': WATERFALL })
    const cases: [string, RegExp][] = [
      ['no-such-rule: warn', /unknown rule "no-such-rule"\. Known rules: .*no-sequential-await/],
      ['{"no-console": "error"}', /unknown rule "no-console"/],
      [
        'no-sequential-await: loud',
        /--rule "no-sequential-await": unknown severity "loud": use off, warn, error, 0, 1 or 2/,
      ],
      [
        'no-sequential-await: ["loud"]',
        /expected a severity \(off, warn, error, 0, 1 or 2\) or \[severity, options\], got \["loud"\]/,
      ],
      ['no-sequential-await: 3', /expected a severity .* got 3/],
      [
        'no-sequential-await: [warn, {minSaving: 2}]',
        /--rule "no-sequential-await": the value .* is not JSON .*Quote it/,
      ],
      ['{"no-sequential-await": "warn"', /is not JSON/],
      ['["no-sequential-await"]', /is not JSON|unknown rule/],
      [
        'no-sequential-await: ["warn", {"minSaving": "two"}]',
        /--rule "no-sequential-await": the options do not fit the rule: Value "two" should be integer\./,
      ],
      [
        'no-sequential-await: ["warn", {"nope": 1}]',
        /the options do not fit the rule: .*Unexpected property "nope"/,
      ],
      [
        'no-sequential-await: ["warn", {}, 3]',
        /the options do not fit the rule: .*should NOT have more than 1 items/,
      ],
      [': warn', /no rule name before the colon/],
    ]
    for (const [value, message] of cases) {
      const run = await lint(root, ['--rule', value])
      expect(run.code, value).toBe(2)
      expect(run.err, value).toMatch(/^fanout lint: /)
      expect(run.err, value).toMatch(message)
      expect(run.out).toBe('')
    }
  })
})

describe('fanout lint: ranking', () => {
  const finding = (line: number, roundTrips: number, calls: number): Finding => ({
    ruleId: 'fanout/no-sequential-await',
    severity: 1,
    line,
    column: 3,
    message: `${calls} independent awaits run one after another`,
    fatal: false,
    fix: 'none',
    suggestions: 0,
    estimatedSaving: `${roundTrips} round trip${roundTrips === 1 ? '' : 's'}`,
    saving: { roundTrips, calls },
    raw: { ruleId: 'fanout/no-sequential-await', severity: 1, message: '', line, column: 3 },
  })
  const file = (path: string, findings: Finding[]): FileResult => ({
    path,
    absolutePath: `/app/${path}`,
    source: 'x\n'.repeat(20),
    fixed: false,
    findings,
    suppressed: [],
  })

  it('puts the largest saving first, then the most awaits in the group, then by place', () => {
    const results = [
      file('a.ts', [finding(2, 1, 2), finding(8, 1, 3)]),
      file('b.ts', [finding(4, 2, 3)]),
      file('c.ts', [finding(1, 1, 2)]),
    ]
    expect(ranked(results).map(({ file, f }) => `${file.path}:${f.line}`)).toEqual([
      'b.ts:4',
      'a.ts:8',
      'a.ts:2',
      'c.ts:1',
    ])
    const text = formatText(results, 3, false)
    const at = text.indexOf('Largest estimated savings first:')
    expect(text.slice(at + 1, at + 5)).toEqual([
      '  b.ts:4  2 round trips (3 awaits)',
      '  a.ts:8  1 round trip (3 awaits)',
      '  a.ts:2  1 round trip (2 awaits)',
      '  c.ts:1  1 round trip (2 awaits)',
    ])
  })
})

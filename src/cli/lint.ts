/**
 * `fanout lint [paths…]`: runs fanout's ESLint rules (the `recommended` config of `fanout/eslint`)
 * over a project without touching its ESLint setup. No eslint.config.js is looked up: one
 * `Linter` with a flat config built here (typescript-eslint's parser for JS, TS, JSX and TSX, no
 * type information) lints the files one after another in this process.
 *
 * eslint, @typescript-eslint/parser and ignore are optional peers of fanout, imported only here,
 * so `fanout demo` works without them and a missing one gets a message saying what to install.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parse as parsePath } from 'node:path'
import type { ESLint, Linter as LinterType, Rule } from 'eslint'
import type IgnoreFactory from 'ignore'
import { displayPath, EXTENSIONS, findFiles, PathError } from './lint-files.js'
import {
  formatJson,
  formatText,
  remaining,
  type FileResult,
  type Finding,
  type Severity,
} from './lint-format.js'
import { missingPackage, parseCommandArgs, UsageError } from './usage.js'
import { unsupportedTypeScript } from './typescript-check.js'
import { isFanoutError, MissingPeerError } from '../core/errors.js'

export interface LintIo {
  /** Writes one line (or block) to stdout. */
  out(line: string): void
  /** Writes one line to stderr. */
  err(line: string): void
  /** Paths are resolved against this directory and shown relative to it. */
  cwd: string
  isTTY: boolean
  env: Record<string, string | undefined>
}

/** Seams for tests: how the optional peers and the rules are loaded. */
export interface LintDeps {
  /** `import(specifier)` for `eslint`, `@typescript-eslint/parser` and `ignore`. */
  readonly importPeer?: (specifier: string) => Promise<unknown>
  /** Loads the ESLint plugin whose `recommended` rules run (default: fanout's, `src/eslint`). */
  readonly loadPlugin?: () => Promise<Peers['plugin']>
}

export const LINT_HELP = `Usage: fanout lint [paths…] [options]

Finds waterfalls (independent awaits run one after another) and auth checks run in parallel with
the data they guard, with fanout's ESLint rules. Your own ESLint configuration is not used or
needed. Lints the ${EXTENSIONS.join(' ')} files under the paths (default: the current
directory), honouring .gitignore files and skipping node_modules, dist, build, coverage, .git
and .next. Test files (*.test.*, *.spec.*, __tests__/) are skipped too: sequential awaits there
are usually deliberate (ordering, pacing); --include-tests lints them.

Options:
  --fix                 apply the safe fixes and write the files
  --format <text|json>  text (default): findings by file with code frames and estimated savings;
                        json: one JSON document for CI
  --rule <name>         run only this rule (repeatable), e.g. --rule no-sequential-await
  --include-tests       lint test files as well
  --no-color            plain output (colour is on for a terminal unless NO_COLOR is set)
  -h, --help            this help

Exit code: 0 no findings, 1 findings (after --fix: findings left), 2 usage error.
Needs the optional peer dependencies: npm install --save-dev eslint @typescript-eslint/parser ignore`

/** The optional peers and the version ranges fanout supports. */
const PEERS = {
  eslint: 'eslint@9',
  '@typescript-eslint/parser': '@typescript-eslint/parser@8',
  ignore: 'ignore@7',
} as const

export interface Peers {
  readonly Linter: typeof LinterType
  readonly parser: LinterType.Parser
  readonly ignore: typeof IgnoreFactory
  readonly plugin: ESLint.Plugin & { configs: { recommended: LinterType.Config } }
}

async function loadPeers(
  importPeer: (specifier: string) => Promise<unknown>,
  loadPlugin: () => Promise<Peers['plugin']>,
): Promise<Peers> {
  const names = Object.keys(PEERS) as (keyof typeof PEERS)[]
  const settled = await Promise.allSettled(names.map((name) => importPeer(name)))
  const missing: (keyof typeof PEERS)[] = []
  settled.forEach((result, i) => {
    if (result.status === 'rejected' && missingPackage(result.reason) !== undefined)
      missing.push(names[i]!)
    else if (result.status === 'rejected' && names[i] !== '@typescript-eslint/parser')
      throw result.reason
  })
  if (missing.length > 0) {
    const install = `npm install --save-dev ${missing.map((name) => PEERS[name]).join(' ')}`
    throw new MissingPeerError(
      missing,
      install,
      `lint needs the optional peer ${missing.length === 1 ? 'dependency' : 'dependencies'} ${missing.join(' and ')}, not installed here. ` +
        `Install ${missing.length === 1 ? 'it' : 'them'}: ${install}`,
    )
  }
  const parserFailure = settled[names.indexOf('@typescript-eslint/parser')]
  if (parserFailure?.status === 'rejected') {
    throw unsupportedTypeScript(parserFailure.reason) ?? parserFailure.reason
  }
  const [eslint, parser, ignore] = settled.map(
    (r) => (r as PromiseFulfilledResult<unknown>).value,
  ) as [
    typeof import('eslint'),
    LinterType.Parser & { default?: LinterType.Parser },
    { default: typeof IgnoreFactory },
  ]
  let plugin: Peers['plugin']
  try {
    plugin = await loadPlugin()
  } catch (error) {
    const name = missingPackage(error)
    if (name === undefined) throw error
    throw new MissingPeerError(
      [name],
      `npm install --save-dev ${name}`,
      `fanout's ESLint rules need the package ${name}, not installed here. Install it: npm install --save-dev ${name}`,
    )
  }
  return { Linter: eslint.Linter, parser: parser.default ?? parser, ignore: ignore.default, plugin }
}

// --- the engine -------------------------------------------------------------------------------------

interface LintedText {
  readonly findings: Finding[]
  /** The text after fixes (the input when nothing was fixed). */
  readonly output: string
  readonly fixed: boolean
}

/** The message data a rule reported, by rule and position, for the estimated saving. */
type DataByPosition = Map<string, Map<string, Record<string, unknown>[]>>

const SAVING_KEY = /sav(e|ed|ing|ings)/i

/** The rule's estimated saving from its message data: the first key naming a saving (`saving`, `savingMs`, …). */
export function savingFrom(data: Record<string, unknown> | undefined): string | undefined {
  if (data === undefined) return undefined
  for (const [key, value] of Object.entries(data)) {
    if (!SAVING_KEY.test(key)) continue
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)
          ? Number(value)
          : undefined
    if (n === undefined) {
      if (typeof value === 'string' && value.trim() !== '') return value.trim()
      continue
    }
    if (!Number.isFinite(n) || n <= 0) continue
    // fanout's rules count the saving in round trips; a key ending in Ms gives milliseconds.
    return /ms$/i.test(key) ? `~${n} ms` : `${n} round trip${n === 1 ? '' : 's'}`
  }
  return undefined
}

function reportStart(
  descriptor: Rule.ReportDescriptor,
): { line: number; column: number } | undefined {
  const d = descriptor as {
    loc?: { start?: { line: number; column: number }; line?: number; column?: number }
    node?: { loc?: { start: { line: number; column: number } } | null }
  }
  if (d.loc !== undefined) {
    if (d.loc.start !== undefined) return d.loc.start
    if (typeof d.loc.line === 'number' && typeof d.loc.column === 'number')
      return { line: d.loc.line, column: d.loc.column }
  }
  return d.node?.loc?.start
}

/**
 * Wraps a rule so the data of each report is kept (ESLint's messages carry the text only): the
 * context handed to the rule is the real one with `report` recording `data` first.
 */
function recording(ruleId: string, rule: Rule.RuleModule, data: DataByPosition): Rule.RuleModule {
  return {
    ...rule,
    create(context) {
      // verifyAndFix runs the rules once per pass: only the last pass's reports count.
      const mine = new Map<string, Record<string, unknown>[]>()
      data.set(ruleId, mine)
      const report = (descriptor: Rule.ReportDescriptor): void => {
        const given = (descriptor as { data?: Record<string, unknown> }).data
        const start = given === undefined ? undefined : reportStart(descriptor)
        if (given !== undefined && start !== undefined) {
          const key = `${start.line}:${start.column + 1}`
          const list = mine.get(key)
          if (list === undefined) mine.set(key, [given])
          else list.push(given)
        }
        context.report(descriptor)
      }
      return rule.create(Object.create(context, { report: { value: report } }) as Rule.RuleContext)
    },
  }
}

export interface Engine {
  lint(text: string, filename: string, fix: boolean): LintedText
}

/** One Linter and one flat config, for every file of the run. */
function createEngine(peers: Peers, only: readonly string[] | undefined, root: string): Engine {
  const recommended = (peers.plugin.configs.recommended.rules ?? {}) as Record<
    string,
    LinterType.RuleEntry
  >
  const available = peers.plugin.rules ?? {}
  const rules: Record<string, LinterType.RuleEntry> = {}
  if (only === undefined) {
    for (const [id, entry] of Object.entries(recommended))
      if (available[id.replace(/^fanout\//, '')] !== undefined) rules[id] = entry
  } else {
    for (const name of only) {
      const entry = recommended[`fanout/${name}`]
      const off =
        entry === undefined ||
        entry === 'off' ||
        entry === 0 ||
        (Array.isArray(entry) && (entry[0] === 'off' || entry[0] === 0))
      rules[`fanout/${name}`] = off ? 'warn' : entry
    }
  }
  const data: DataByPosition = new Map()
  const wrapped: Record<string, Rule.RuleModule> = {}
  for (const [name, rule] of Object.entries(available))
    wrapped[name] = recording(`fanout/${name}`, rule as Rule.RuleModule, data)
  const ours = new Set(Object.keys(rules))

  const config: LinterType.Config[] = [
    {
      name: 'fanout-lint',
      files: [`**/*.{${EXTENSIONS.map((e) => e.slice(1)).join(',')}}`],
      languageOptions: {
        parser: peers.parser,
        ecmaVersion: 'latest',
        sourceType: 'module',
        // No `project`: no type information, so no tsconfig is read and files lint one by one.
        parserOptions: { ecmaFeatures: { jsx: false }, warnOnUnsupportedTypeScriptVersion: false },
      },
      // `eslint-disable` comments for the project's other rules are neither unused nor unknown here.
      linterOptions: { reportUnusedDisableDirectives: 'off' },
      plugins: { fanout: { ...peers.plugin, rules: wrapped } },
      rules,
    },
    {
      name: 'fanout-lint/jsx',
      files: ['**/*.{jsx,tsx}'],
      languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } },
    },
  ]
  // Absolute filenames under the filesystem root, so files outside the working directory match too.
  const linter = new peers.Linter({ configType: 'flat', cwd: root })

  const keep = (m: LinterType.LintMessage): boolean =>
    m.fatal === true || (m.ruleId !== null ? ours.has(m.ruleId) : m.message.includes('fanout/'))

  const findings = (
    messages: readonly LinterType.LintMessage[],
    fix: Finding['fix'] | undefined,
  ): Finding[] =>
    messages.filter(keep).map((m) => {
      const recorded =
        m.ruleId === null ? undefined : data.get(m.ruleId)?.get(`${m.line}:${m.column}`)?.shift()
      return {
        ruleId: m.ruleId,
        severity: (m.severity === 2 ? 2 : 1) as Severity,
        line: m.line,
        column: m.column,
        endLine: m.endLine,
        endColumn: m.endColumn,
        message: m.message,
        fatal: m.fatal === true,
        fix: fix ?? (m.fix !== undefined ? 'available' : 'none'),
        suggestions: m.suggestions?.length ?? 0,
        estimatedSaving: savingFrom(recorded),
      }
    })

  return {
    lint(text, filename, fix) {
      data.clear()
      const first = findings(linter.verify(text, config, { filename }), undefined)
      if (!fix || !first.some((f) => f.fix === 'available'))
        return { findings: first, output: text, fixed: false }
      data.clear()
      const report = linter.verifyAndFix(text, config, { filename, fix: true })
      const left = findings(report.messages, undefined)
      if (!report.fixed) return { findings: left, output: text, fixed: false }
      // The fixable findings of the first pass that are gone now were fixed (lines may have moved).
      const stillThere = new Map<string, number>()
      for (const f of left)
        stillThere.set(
          `${f.ruleId}\0${f.message}`,
          (stillThere.get(`${f.ruleId}\0${f.message}`) ?? 0) + 1,
        )
      const applied: Finding[] = []
      for (const f of first) {
        if (f.fix !== 'available') continue
        const key = `${f.ruleId}\0${f.message}`
        const count = stillThere.get(key) ?? 0
        if (count > 0) stillThere.set(key, count - 1)
        else applied.push({ ...f, fix: 'applied' })
      }
      const all = [...applied, ...left].sort((a, b) => a.line - b.line || a.column - b.column)
      return { findings: all, output: report.output, fixed: true }
    },
  }
}

// --- the command ------------------------------------------------------------------------------------

interface Options {
  readonly paths: readonly string[]
  readonly fix: boolean
  readonly format: 'text' | 'json'
  readonly rules: readonly string[] | undefined
  readonly color: boolean
  readonly help: boolean
  readonly includeTests: boolean
}

function parseOptions(argv: readonly string[], io: LintIo): Options {
  const { values, positionals } = parseCommandArgs({
    args: [...argv],
    options: {
      fix: { type: 'boolean' },
      format: { type: 'string' },
      rule: { type: 'string', multiple: true },
      'include-tests': { type: 'boolean' },
      'no-color': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  })
  const format = values.format ?? 'text'
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--format must be text or json, got "${format}".`)
  return {
    paths: positionals.length === 0 ? ['.'] : positionals,
    fix: values.fix === true,
    format,
    rules: values.rule?.map((name) => name.replace(/^fanout\//, '')),
    color: values['no-color'] !== true && io.isTTY && io.env.NO_COLOR === undefined,
    help: values.help === true,
    includeTests: values['include-tests'] === true,
  }
}

/** Test files: sequential awaits there are usually deliberate (lint-landscape §11). */
function isTestFile(path: string): boolean {
  return /\.(?:test|spec)\.[cm]?[jt]sx?$/.test(path) || /(?:^|[\\/])__tests__[\\/]/.test(path)
}

/** The `fanout lint` command. Returns the exit code: 0 no findings, 1 findings, 2 usage error. */
export async function runLint(
  argv: readonly string[],
  io: LintIo,
  deps: LintDeps = {},
): Promise<number> {
  try {
    const options = parseOptions(argv, io)
    if (options.help) {
      io.out(LINT_HELP)
      return 0
    }
    const peers = await loadPeers(
      deps.importPeer ?? ((specifier) => import(specifier)),
      deps.loadPlugin ?? (async () => (await import('../eslint/index.js')).default),
    )
    if (options.rules !== undefined) {
      const known = Object.keys(peers.plugin.rules ?? {})
      const unknown = options.rules.filter((name) => !known.includes(name))
      if (unknown.length > 0)
        throw new UsageError(
          `unknown rule ${unknown.map((n) => `"${n}"`).join(', ')}. Known rules: ${known.join(', ')}.`,
        )
    }
    const files = (await findFiles(options.paths, io.cwd, peers.ignore)).filter(
      (file) => options.includeTests || !isTestFile(file),
    )
    const engine = createEngine(peers, options.rules, parsePath(io.cwd).root)
    const results: FileResult[] = []
    for (const file of files) {
      const path = displayPath(file, io.cwd)
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (error) {
        results.push({ path, source: '', fixed: false, findings: [unreadable(error)] })
        continue
      }
      const linted = engine.lint(text, file, options.fix)
      if (linted.fixed) await writeFile(file, linted.output)
      if (linted.findings.length > 0 || linted.fixed)
        results.push({
          path,
          source: linted.output,
          fixed: linted.fixed,
          findings: linted.findings,
        })
    }
    if (options.format === 'json') io.out(formatJson(results, files.length))
    else {
      if (files.length === 0)
        io.err(`fanout lint: no ${EXTENSIONS.join(' ')} files under ${options.paths.join(', ')}.`)
      for (const line of formatText(results, files.length, options.color)) io.out(line)
    }
    return results.some((file) => remaining(file).length > 0) ? 1 : 0
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof PathError ||
      isFanoutError(error, 'FANOUT_MISSING_PEER')
    ) {
      const hint =
        error instanceof PathError ||
        /^lint (needs|cannot)|ESLint rules need/.test((error as Error).message)
          ? ''
          : ' Run "fanout lint --help" for the options.'
      io.err(`fanout lint: ${(error as Error).message}${hint}`)
      return 2
    }
    throw error
  }
}

function unreadable(error: unknown): Finding {
  return {
    ruleId: null,
    severity: 2,
    line: 1,
    column: 1,
    message: `Could not read the file: ${(error as Error).message}`,
    fatal: true,
    fix: 'none',
    suggestions: 0,
    estimatedSaving: undefined,
  }
}

/**
 * `fanout lint [paths…]`: runs fanout's ESLint rules (the `recommended` config of `fanout/eslint`)
 * over a project without touching its ESLint setup. No eslint.config.js is looked up: one
 * `Linter` with a flat config built here (lint-engine.ts) lints the files one after another in
 * this process. Reports as text, ESLint's JSON, SARIF or fanout's own JSON.
 *
 * eslint, @typescript-eslint/parser and ignore are optional peers of fanout, imported only here,
 * so `fanout demo` works without them and a missing one gets a message saying what to install.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parse as parsePath } from 'node:path'
import type { Linter as LinterType } from 'eslint'
import type IgnoreFactory from 'ignore'
import { createEngine, type EngineRule, type Peers } from './lint-engine.js'
import { formatEslintJson } from './lint-eslint-json.js'
import { displayPath, EXTENSIONS, findFiles, PathError, TEST_FOLDERS } from './lint-files.js'
import {
  formatFanoutJson,
  formatText,
  remaining,
  type FileResult,
  type Finding,
  type LintMessage,
} from './lint-format.js'
import { parseRuleArgs, type RuleChoice } from './lint-rules.js'
import { formatSarif } from './lint-sarif.js'
import { missingPackage, parseCommandArgs, UsageError } from './usage.js'
import { unsupportedTypeScript } from './typescript-check.js'
import { isFanoutError, MissingPeerError } from '../core/errors.js'

export { savingFrom } from './lint-engine.js'
export type { Peers } from './lint-engine.js'

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
needed.

Lints the ${EXTENSIONS.join(' ')} files under the paths (default: the current
directory), honouring .gitignore files and skipping node_modules, dist, build, coverage, .git
and .next. Tests are skipped too, as sequential awaits there are usually deliberate
(--include-tests lints them): test files (*.test.*, *.spec.*, *.cy.*) and the folders
  ${TEST_FOLDERS.join(' ')}
A path you name is linted even when .gitignore or a test folder would skip it; a named path
with no file to lint is an error.

Options:
  --fix                    apply the safe fixes and write the files
  --format <name>          text (default): findings by file with code frames, then the largest
                           estimated savings first
                           json: ESLint's JSON format, for tools that read ESLint's reports
                           sarif: SARIF 2.1.0, for GitHub code scanning
                           fanout-json: fanout's own document, with totals and savings
  --rule <name>            run only this rule (repeatable), e.g. --rule no-sequential-await
  --rule '<name>: <value>' configure a rule as ESLint's --rule does (the value is a severity
                           off|warn|error|0|1|2 or JSON); the other rules still run, e.g.
                           --rule 'no-sequential-await: ["warn", {"minSaving": 2}]'
                           --rule 'no-parallel-auth: off'  --rule '{"no-parallel-auth": "warn"}'
  --ignore <pattern>       skip paths matching a .gitignore-style pattern, relative to the
                           current directory (repeatable; alias --ignore-pattern),
                           e.g. --ignore 'src/generated/'
  --include-tests          lint test files and test folders as well
  --no-color               plain output (colour is on for a terminal unless NO_COLOR is set)
  -h, --help               this help

Exit code: 0 no findings, 1 findings (after --fix: findings left), 2 usage error (a bad option,
an unknown rule or options, a named path with nothing to lint).
Needs the optional peer dependencies: npm install --save-dev eslint @typescript-eslint/parser ignore`

/** The optional peers and the version ranges fanout supports. */
const PEERS = {
  eslint: 'eslint@9',
  '@typescript-eslint/parser': '@typescript-eslint/parser@8',
  ignore: 'ignore@7',
} as const

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

// --- the command ------------------------------------------------------------------------------------

const FORMATS = ['text', 'json', 'sarif', 'fanout-json'] as const
type Format = (typeof FORMATS)[number]

interface Options {
  readonly paths: readonly string[]
  /** The user named the paths (no paths means `.`, as before: nothing to lint is no error). */
  readonly explicit: boolean
  readonly fix: boolean
  readonly format: Format
  readonly rules: RuleChoice
  readonly ignore: readonly string[]
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
      ignore: { type: 'string', multiple: true },
      'ignore-pattern': { type: 'string', multiple: true },
      'include-tests': { type: 'boolean' },
      'no-color': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  })
  const format = values.format ?? 'text'
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format must be text, json, sarif or fanout-json, got "${format}".`)
  const ignore = [...(values.ignore ?? []), ...(values['ignore-pattern'] ?? [])]
  if (ignore.some((pattern) => pattern.trim() === ''))
    throw new UsageError('--ignore needs a pattern, e.g. --ignore "src/generated/".')
  return {
    paths: positionals.length === 0 ? ['.'] : positionals,
    explicit: positionals.length > 0,
    fix: values.fix === true,
    format: format as Format,
    rules: parseRuleArgs(values.rule ?? []),
    ignore,
    color: values['no-color'] !== true && io.isTTY && io.env.NO_COLOR === undefined,
    help: values.help === true,
    includeTests: values['include-tests'] === true,
  }
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
    // Before any file: an unknown rule or options that do not fit it are usage errors.
    const engine = createEngine(peers, options.rules, parsePath(io.cwd).root)
    const files = await findFiles(options.paths, {
      cwd: io.cwd,
      makeIgnore: peers.ignore,
      includeTests: options.includeTests,
      ignore: options.ignore,
      explicit: options.explicit,
    })
    const results: FileResult[] = []
    for (const file of files) {
      const path = displayPath(file, io.cwd)
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (error) {
        const findings = [unreadable(error)]
        results.push({
          path,
          absolutePath: file,
          source: '',
          fixed: false,
          findings,
          suppressed: [],
        })
        continue
      }
      const linted = engine.lint(text, file, options.fix)
      if (linted.fixed) await writeFile(file, linted.output)
      const shown = linted.findings.length > 0 || linted.fixed
      results.push({
        path,
        absolutePath: file,
        // Kept only where a report shows it: a large project's clean files need no copy.
        source: shown ? linted.output : '',
        fixed: linted.fixed,
        findings: linted.findings,
        suppressed: linted.suppressed,
      })
    }
    report(options, io, files, results, engine.rules)
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

/** Prints the report in the format asked for. */
function report(
  options: Options,
  io: LintIo,
  files: readonly string[],
  results: readonly FileResult[],
  rules: readonly EngineRule[],
): void {
  switch (options.format) {
    case 'json':
      io.out(formatEslintJson(files, results))
      return
    case 'sarif':
      io.out(formatSarif({ cwd: io.cwd, rules, results }))
      return
    case 'fanout-json':
      io.out(formatFanoutJson(results, files.length))
      return
    case 'text':
      if (files.length === 0)
        io.err(`fanout lint: no ${EXTENSIONS.join(' ')} files under ${options.paths.join(', ')}.`)
      for (const line of formatText(results, files.length, options.color)) io.out(line)
  }
}

function unreadable(error: unknown): Finding {
  const message = `Could not read the file: ${(error as Error).message}`
  return {
    ruleId: null,
    severity: 2,
    line: 1,
    column: 1,
    message,
    fatal: true,
    fix: 'none',
    suggestions: 0,
    estimatedSaving: undefined,
    saving: undefined,
    // Shaped as ESLint's Linter reports a file it cannot parse (its type has no null nodeType).
    raw: {
      ruleId: null,
      nodeType: null,
      fatal: true,
      severity: 2,
      message,
      line: 1,
      column: 1,
    } as unknown as LintMessage,
  }
}

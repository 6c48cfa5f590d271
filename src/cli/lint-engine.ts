/**
 * The engine of `fanout lint`: one ESLint `Linter` and one flat config (typescript-eslint's parser
 * for JS, TS, JSX and TSX, no type information) for every file of the run, with each rule's
 * report data kept so the report can give the estimated saving of each finding.
 */
import { join } from 'node:path'
import type { ESLint, Linter as LinterType, Rule } from 'eslint'
import type IgnoreFactory from 'ignore'
import { EXTENSIONS } from './lint-files.js'
import type { Finding, LintMessage, Saving, Severity } from './lint-format.js'
import { resolveRules, type RuleChoice } from './lint-rules.js'
import { UsageError } from './usage.js'

export interface Peers {
  readonly Linter: typeof LinterType
  readonly parser: LinterType.Parser
  readonly ignore: typeof IgnoreFactory
  readonly plugin: ESLint.Plugin & { configs: { recommended: LinterType.Config } }
}

export interface LintedText {
  readonly findings: Finding[]
  /** Findings of our rules silenced by `eslint-disable` comments, as ESLint reports them. */
  readonly suppressed: LintMessage[]
  /** The text after fixes (the input when nothing was fixed). */
  readonly output: string
  readonly fixed: boolean
}

/** A rule that runs, for the SARIF rule descriptors. */
export interface EngineRule {
  /** `fanout/<name>`. */
  readonly id: string
  readonly severity: Severity
  readonly meta: Rule.RuleMetaData | undefined
}

export interface Engine {
  readonly rules: readonly EngineRule[]
  lint(text: string, filename: string, fix: boolean): LintedText
}

/** The message data a rule reported, by rule and position, for the estimated saving. */
type DataByPosition = Map<string, Map<string, Record<string, unknown>[]>>

const SAVING_KEY = /sav(e|ed|ing|ings)/i

/** The saving a rule's message data gives: a number (round trips, or ms for a key ending in Ms) or a text. */
function savingEntry(
  data: Record<string, unknown> | undefined,
): { n: number; ms: boolean } | string | undefined {
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
    return { n, ms: /ms$/i.test(key) }
  }
  return undefined
}

function savingText(entry: { n: number; ms: boolean } | string): string {
  if (typeof entry === 'string') return entry
  // fanout's rules count the saving in round trips; a key ending in Ms gives milliseconds.
  return entry.ms ? `~${entry.n} ms` : `${entry.n} round trip${entry.n === 1 ? '' : 's'}`
}

/** The rule's estimated saving from its message data: the first key naming a saving (`saving`, `savingMs`, …). */
export function savingFrom(data: Record<string, unknown> | undefined): string | undefined {
  const entry = savingEntry(data)
  return entry === undefined ? undefined : savingText(entry)
}

// no-sequential-await's message: "N independent awaits … would save about K round trip(s)". Read
// when the report data does not say (a rule reporting without data, or other data keys).
const CALLS_IN_MESSAGE = /^(?:Low priority: )?(\d+) independent awaits/
const ROUND_TRIPS_IN_MESSAGE = /save about (\d+) round trip/

function estimate(
  data: Record<string, unknown> | undefined,
  message: string,
): { text: string | undefined; saving: Saving | undefined } {
  let entry = savingEntry(data)
  const inMessage = Number(ROUND_TRIPS_IN_MESSAGE.exec(message)?.[1] ?? 0)
  if (entry === undefined && inMessage > 0) entry = { n: inMessage, ms: false }
  if (entry === undefined) return { text: undefined, saving: undefined }
  const count = Number(data?.['count'] ?? CALLS_IN_MESSAGE.exec(message)?.[1])
  const calls = Number.isInteger(count) && count > 0 ? count : undefined
  if (typeof entry === 'string') return { text: entry, saving: undefined }
  const amount = entry.ms ? { ms: entry.n } : { roundTrips: entry.n }
  return { text: savingText(entry), saving: calls === undefined ? amount : { ...amount, calls } }
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

/** ESLint's complaint about a rule's options ("Key "rules": Key "fanout/x": Value … should be integer.") as a usage error. */
function optionsError(error: unknown): UsageError | undefined {
  const message = String((error as Error | null)?.message)
  const match = /Key "fanout\/([^"]+)":\s*([\s\S]*)$/.exec(message)
  if (match === null) return undefined
  const detail = match[2]!.replace(/\s+/g, ' ').trim()
  return new UsageError(`--rule "${match[1]}": the options do not fit the rule: ${detail}`)
}

function configFor(
  peers: Peers,
  rules: LinterType.RulesRecord,
  wrapped: Record<string, Rule.RuleModule>,
): LinterType.Config[] {
  return [
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
}

/**
 * One Linter and one flat config, for every file of the run. Throws `UsageError` for an unknown
 * rule or options that do not fit a rule's schema (ESLint checks them here, before any file).
 */
export function createEngine(peers: Peers, choice: RuleChoice, root: string): Engine {
  const available = (peers.plugin.rules ?? {}) as Record<string, Rule.RuleModule>
  const { rules, enabled } = resolveRules(
    choice,
    (peers.plugin.configs.recommended.rules ?? {}) as Record<string, unknown>,
    Object.keys(available),
  )
  const data: DataByPosition = new Map()
  const wrapped: Record<string, Rule.RuleModule> = {}
  for (const [name, rule] of Object.entries(available))
    wrapped[name] = recording(`fanout/${name}`, rule, data)
  const config = configFor(peers, rules as LinterType.RulesRecord, wrapped)
  // Absolute filenames under the filesystem root, so files outside the working directory match too.
  const linter = new peers.Linter({ configType: 'flat', cwd: root })
  try {
    linter.verify('', config, { filename: join(root, 'fanout-lint.ts') })
  } catch (error) {
    throw optionsError(error) ?? error
  }

  const keep = (m: LinterType.LintMessage): boolean =>
    m.fatal === true || (m.ruleId !== null ? enabled.has(m.ruleId) : m.message.includes('fanout/'))

  const findings = (messages: readonly LinterType.LintMessage[]): Finding[] =>
    messages.filter(keep).map((m) => {
      const recorded =
        m.ruleId === null ? undefined : data.get(m.ruleId)?.get(`${m.line}:${m.column}`)?.shift()
      const { text, saving } = estimate(recorded, m.message)
      return {
        ruleId: m.ruleId,
        severity: (m.severity === 2 ? 2 : 1) as Severity,
        line: m.line,
        column: m.column,
        endLine: m.endLine,
        endColumn: m.endColumn,
        message: m.message,
        fatal: m.fatal === true,
        fix: m.fix !== undefined ? 'available' : 'none',
        suggestions: m.suggestions?.length ?? 0,
        estimatedSaving: text,
        saving,
        raw: m,
      }
    })
  // Not in ESLint's type definitions, though every Linter since 8.8 has it.
  const withSuppressed = linter as LinterType & { getSuppressedMessages?: () => LintMessage[] }
  const suppressed = (): LintMessage[] =>
    (withSuppressed.getSuppressedMessages?.() ?? []).filter(keep)

  return {
    rules: [...enabled].map(([id, severity]) => ({
      id,
      severity,
      meta: available[id.replace(/^fanout\//, '')]?.meta,
    })),
    lint(text, filename, fix) {
      data.clear()
      const first = findings(linter.verify(text, config, { filename }))
      if (!fix || !first.some((f) => f.fix === 'available'))
        return { findings: first, suppressed: suppressed(), output: text, fixed: false }
      data.clear()
      const report = linter.verifyAndFix(text, config, { filename, fix: true })
      const left = findings(report.messages)
      if (!report.fixed)
        return { findings: left, suppressed: suppressed(), output: text, fixed: false }
      return {
        findings: [...appliedFixes(first, left), ...left].sort(
          (a, b) => a.line - b.line || a.column - b.column,
        ),
        suppressed: suppressed(),
        output: report.output,
        fixed: true,
      }
    },
  }
}

/** The fixable findings of the first pass that are gone after fixing were fixed (lines may have moved). */
function appliedFixes(first: readonly Finding[], left: readonly Finding[]): Finding[] {
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
  return applied
}

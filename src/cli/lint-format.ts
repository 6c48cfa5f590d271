/**
 * Output of `fanout lint`: the readable report (findings grouped by file, each with a code frame
 * and the rule's estimated saving, the largest savings ranked, then a summary line) and fanout's
 * own JSON document (`--format fanout-json`). Pure: the results in, lines out. The ESLint-shaped
 * JSON and SARIF are in lint-eslint-json.ts and lint-sarif.ts.
 */
import type { Linter } from 'eslint'

export type Severity = 1 | 2

/** A message as ESLint's Linter reports it (what ESLint's JSON formatter prints). */
export type LintMessage = Linter.LintMessage

/** A finding's estimated saving, as numbers: what the ranking sorts by. */
export interface Saving {
  /** Round trips the fix saves (fanout's rules count in round trips). */
  readonly roundTrips?: number
  /** Milliseconds, for a rule that estimates time instead. */
  readonly ms?: number
  /** Calls in the group (the N of "N independent awaits"): ranks equal savings. */
  readonly calls?: number
}

export interface Finding {
  /** `fanout/<rule>`, or null for a file that does not parse. */
  readonly ruleId: string | null
  readonly severity: Severity
  readonly line: number
  readonly column: number
  readonly endLine?: number | undefined
  readonly endColumn?: number | undefined
  readonly message: string
  /** A parse error: the file could not be checked at all. */
  readonly fatal: boolean
  /** `applied` by `--fix` (the finding is gone from the file), `available` (run with --fix), or `none`. */
  readonly fix: 'applied' | 'available' | 'none'
  readonly suggestions: number
  /** The rule's estimate of the time the fix saves, from its message data, when it gives one. */
  readonly estimatedSaving: string | undefined
  readonly saving: Saving | undefined
  /** The message as ESLint reported it. */
  readonly raw: LintMessage
}

export interface FileResult {
  /** Relative to the working directory, forward slashes. */
  readonly path: string
  readonly absolutePath: string
  /** The file's text as it is now (after `--fix` wrote it); empty for a file with nothing to show. */
  readonly source: string
  /** `--fix` rewrote the file. */
  readonly fixed: boolean
  /** Sorted by position; applied fixes included (with `fix: 'applied'`). */
  readonly findings: readonly Finding[]
  /** Our rules' messages silenced by `eslint-disable` comments. */
  readonly suppressed: readonly LintMessage[]
}

export interface Totals {
  readonly filesChecked: number
  readonly filesWithFindings: number
  readonly errors: number
  readonly warnings: number
  /** Remaining findings `--fix` would fix. */
  readonly fixable: number
  readonly fixesApplied: number
  readonly filesFixed: number
}

/** Findings still in the files (not fixed). */
export function remaining(file: FileResult): readonly Finding[] {
  return file.findings.filter((f) => f.fix !== 'applied')
}

export function totals(results: readonly FileResult[], filesChecked: number): Totals {
  let errors = 0
  let warnings = 0
  let fixable = 0
  let fixesApplied = 0
  let filesWithFindings = 0
  let filesFixed = 0
  for (const file of results) {
    const left = remaining(file)
    if (left.length > 0) filesWithFindings++
    if (file.fixed) filesFixed++
    for (const f of file.findings) {
      if (f.fix === 'applied') {
        fixesApplied++
        continue
      }
      if (f.severity === 2) errors++
      else warnings++
      if (f.fix === 'available') fixable++
    }
  }
  return { filesChecked, filesWithFindings, errors, warnings, fixable, fixesApplied, filesFixed }
}

// --- JSON ------------------------------------------------------------------------------------------

/**
 * fanout's JSON document (`--format fanout-json`): every file with a finding or a fix, and the
 * totals. Stable field order; `saving` gives each finding's estimate as numbers.
 */
export function formatFanoutJson(results: readonly FileResult[], filesChecked: number): string {
  const files = results
    .filter((file) => file.findings.length > 0 || file.fixed)
    .map((file) => ({
      path: file.path,
      fixed: file.fixed,
      messages: file.findings.map((f) => ({
        ruleId: f.ruleId,
        severity: f.severity === 2 ? 'error' : 'warning',
        line: f.line,
        column: f.column,
        endLine: f.endLine ?? null,
        endColumn: f.endColumn ?? null,
        message: f.message,
        fatal: f.fatal,
        fix: f.fix,
        suggestions: f.suggestions,
        estimatedSaving: f.estimatedSaving ?? null,
        saving: f.saving ?? null,
      })),
    }))
  return JSON.stringify(
    { tool: 'fanout lint', version: 1, files, summary: totals(results, filesChecked) },
    null,
    2,
  )
}

// --- text ------------------------------------------------------------------------------------------

export interface Style {
  readonly bold: (s: string) => string
  readonly dim: (s: string) => string
  readonly red: (s: string) => string
  readonly yellow: (s: string) => string
  readonly green: (s: string) => string
  readonly cyan: (s: string) => string
}

const plain = (s: string): string => s
const sgr =
  (open: number, close: number) =>
  (s: string): string =>
    `\x1b[${open}m${s}\x1b[${close}m`

export function style(color: boolean): Style {
  if (!color)
    return { bold: plain, dim: plain, red: plain, yellow: plain, green: plain, cyan: plain }
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    yellow: sgr(33, 39),
    green: sgr(32, 39),
    cyan: sgr(36, 39),
  }
}

const CONTEXT_BEFORE = 2
const CONTEXT_AFTER = 1
const MAX_LINE = 160
const TAB = '  '

/**
 * A few lines around `line` with a gutter, the line marked with `>` and a caret under the finding
 * (underlining it to its end when it ends on the same line).
 */
export function codeFrame(
  lines: readonly string[],
  finding: Pick<Finding, 'line' | 'column' | 'endLine' | 'endColumn'>,
  s: Style,
  mark: (t: string) => string,
): string[] {
  const at = Math.min(Math.max(finding.line, 1), Math.max(lines.length, 1))
  const first = Math.max(1, at - CONTEXT_BEFORE)
  const last = Math.min(lines.length, at + CONTEXT_AFTER)
  const width = String(last).length
  const out: string[] = []
  for (let n = first; n <= last; n++) {
    const text = shown(lines[n - 1] ?? '')
    const gutter = ` ${String(n).padStart(width)} |`
    if (n !== at) {
      out.push(s.dim(`  ${gutter}`) + (text === '' ? '' : ` ${text}`))
      continue
    }
    out.push(`${mark('>')} ${s.dim(gutter)}${text === '' ? '' : ` ${text}`}`)
    const raw = lines[n - 1] ?? ''
    const start = Math.max(0, finding.column - 1)
    const end =
      finding.endLine === finding.line &&
      finding.endColumn !== undefined &&
      finding.endColumn - 1 > start
        ? finding.endColumn - 1
        : start + 1
    const pad = expand(raw.slice(0, start)).replace(/\S/g, ' ')
    const length = Math.max(
      1,
      Math.min(expand(raw.slice(start, end)).length, MAX_LINE - pad.length),
    )
    out.push(`  ${s.dim(` ${' '.repeat(width)} |`)} ${pad}${mark('^'.repeat(length))}`)
  }
  return out
}

const expand = (text: string): string => text.replace(/\t/g, TAB)

function shown(line: string): string {
  const text = expand(line).trimEnd()
  return text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** The readable report: per file its findings (position, severity, message, rule, saving, code frame), then a summary line. */
export function formatText(
  results: readonly FileResult[],
  filesChecked: number,
  color: boolean,
): string[] {
  const s = style(color)
  const out: string[] = []
  for (const file of results) {
    const left = remaining(file)
    const applied = file.findings.length - left.length
    if (left.length === 0 && applied === 0) continue
    const lines = file.source.split(/\r\n|\r|\n/)
    out.push(s.bold(file.path))
    if (applied > 0) out.push(`  ${s.green(`fixed ${plural(applied, 'finding')}`)}`)
    for (const f of left) {
      const mark = f.severity === 2 ? s.red : s.yellow
      const level = mark(f.severity === 2 ? 'error' : 'warning')
      const rule = f.ruleId === null ? '' : `  ${s.dim(f.ruleId)}`
      out.push(`  ${s.dim(`${f.line}:${f.column}`)}  ${level}  ${f.message}${rule}`)
      const extras: string[] = []
      if (f.estimatedSaving !== undefined)
        extras.push(s.cyan(`estimated saving: ${f.estimatedSaving}`))
      if (f.fix === 'available') extras.push('fixable with --fix')
      if (f.suggestions > 0) extras.push(`${plural(f.suggestions, 'suggestion')} in your editor`)
      if (extras.length > 0) out.push(`  ${extras.join(s.dim(' · '))}`)
      out.push(...codeFrame(lines, f, s, mark))
      out.push('')
    }
    if (left.length === 0) out.push('')
  }
  out.push(...ranking(results, s))
  out.push(summaryLine(totals(results, filesChecked), s))
  return out
}

/** How much a finding's fix would save, for ranking: its round trips (or ms ÷ 100), 0 when unknown. */
function savingWeight(f: Finding): number {
  if (f.saving === undefined) return 0
  return f.saving.roundTrips ?? (f.saving.ms ?? 0) / 100
}

/**
 * The findings worth fixing first, across files, when there are several: the largest estimated
 * saving first, then the most calls in the group (three awaits in a row before two).
 */
export function ranked(results: readonly FileResult[]): { file: FileResult; f: Finding }[] {
  return results
    .flatMap((file) => remaining(file).map((f) => ({ file, f, weight: savingWeight(f) })))
    .filter((r) => r.weight > 0)
    .sort(
      (a, b) =>
        b.weight - a.weight ||
        (b.f.saving?.calls ?? 0) - (a.f.saving?.calls ?? 0) ||
        a.file.path.localeCompare(b.file.path) ||
        a.f.line - b.f.line,
    )
    .map(({ file, f }) => ({ file, f }))
}

function ranking(results: readonly FileResult[], s: Style): string[] {
  const all = ranked(results)
  if (all.length < 2) return []
  return [
    s.bold('Largest estimated savings first:'),
    ...all.slice(0, 5).map(({ file, f }) => {
      const calls = f.saving?.calls === undefined ? '' : s.dim(` (${f.saving.calls} awaits)`)
      return `  ${file.path}:${f.line}  ${s.cyan(f.estimatedSaving!)}${calls}`
    }),
    '',
  ]
}

export function summaryLine(t: Totals, s: Style): string {
  const checked = `${plural(t.filesChecked, 'file')} checked`
  const fixed =
    t.fixesApplied > 0
      ? `, fixed ${plural(t.fixesApplied, 'finding')} in ${plural(t.filesFixed, 'file')}`
      : ''
  const problems = t.errors + t.warnings
  if (problems === 0) return s.green(`✔ no findings in ${checked}${fixed}`)
  const mark = t.errors > 0 ? s.red : s.yellow
  const fixable = t.fixable > 0 ? `, ${t.fixable} fixable with --fix` : ''
  return (
    mark(
      s.bold(
        `✖ ${plural(problems, 'finding')} (${plural(t.errors, 'error')}, ${plural(t.warnings, 'warning')}) in ${plural(t.filesWithFindings, 'file')}`,
      ),
    ) + ` · ${checked}${fixed}${fixable}`
  )
}

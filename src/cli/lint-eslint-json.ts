/**
 * `--format json`: what ESLint's own `json` formatter prints — `JSON.stringify` of its
 * `LintResult[]`, one result per checked file — so tools that read ESLint's output (reviewdog's
 * `-f=eslint`, annotation actions, ESLint's other formatters) read fanout's too. The messages are
 * ESLint's own, as the Linter reported them; nothing is added at the result level.
 */
import type { ESLint } from 'eslint'
import { remaining, type FileResult, type LintMessage } from './lint-format.js'

/** ESLint's `calculateStatsPerFile`: a fatal message counts as an error whatever its severity. */
function counts(
  messages: readonly LintMessage[],
): Pick<
  ESLint.LintResult,
  'errorCount' | 'fatalErrorCount' | 'warningCount' | 'fixableErrorCount' | 'fixableWarningCount'
> {
  const c = {
    errorCount: 0,
    fatalErrorCount: 0,
    warningCount: 0,
    fixableErrorCount: 0,
    fixableWarningCount: 0,
  }
  for (const m of messages) {
    if (m.fatal === true || m.severity === 2) {
      c.errorCount++
      if (m.fatal === true) c.fatalErrorCount++
      if (m.fix !== undefined) c.fixableErrorCount++
    } else {
      c.warningCount++
      if (m.fix !== undefined) c.fixableWarningCount++
    }
  }
  return c
}

/**
 * One ESLint `LintResult` per checked file, in the order of `checked` (absolute paths). As ESLint
 * does: `output` when `--fix` changed the file, else `source` when the file has messages.
 */
export function eslintResults(
  checked: readonly string[],
  results: readonly FileResult[],
): ESLint.LintResult[] {
  const byPath = new Map(results.map((r) => [r.absolutePath, r]))
  return checked.map((filePath) => {
    const file = byPath.get(filePath)
    const messages = file === undefined ? [] : remaining(file).map((f) => f.raw)
    const result: ESLint.LintResult = {
      filePath,
      messages,
      suppressedMessages: (file?.suppressed ?? []) as ESLint.LintResult['suppressedMessages'],
      ...counts(messages),
      usedDeprecatedRules: [],
    }
    if (file?.fixed === true) result.output = file.source
    else if (file !== undefined && messages.length > 0) result.source = file.source
    // ESLint adds usedDeprecatedRules last (a getter on the result); keep its key order.
    const { usedDeprecatedRules, ...rest } = result
    return { ...rest, usedDeprecatedRules }
  })
}

/** The `--format json` document. */
export function formatEslintJson(
  checked: readonly string[],
  results: readonly FileResult[],
): string {
  return JSON.stringify(eslintResults(checked, results))
}

/** Runs corpus files through ESLint's Linter (flat config, @typescript-eslint/parser). */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Linter, type Rule } from 'eslint'
import * as tsParser from '@typescript-eslint/parser'

export interface CorpusCase {
  file: string
  code: string
  reports: number
  suggestion: boolean
}

export function readCorpus(dir: string): CorpusCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((file) => {
      const code = readFileSync(join(dir, file), 'utf8')
      const header = [...code.matchAll(/^\/\/ expect: (.+)$/gm)].map((m) => (m[1] ?? '').trim())
      const count = header.map((h) => /^(\d+) reports?$/.exec(h)).find(Boolean)
      const reports = count ? Number(count[1]) : header.includes('none') ? 0 : NaN
      return { file, code, reports, suggestion: header.includes('suggestion') }
    })
}

export function lint(
  rule: Rule.RuleModule,
  code: string,
  options: unknown[] = [],
): Linter.LintMessage[] {
  const linter = new Linter({ configType: 'flat' })
  return linter.verify(
    code,
    [
      {
        files: ['**/*.ts'],
        languageOptions: {
          parser: tsParser as unknown as Linter.Parser,
          ecmaVersion: 'latest',
          sourceType: 'module',
        },
        plugins: { fanout: { rules: { r: rule } } },
        rules: { 'fanout/r': ['error', ...options] as Linter.RuleEntry },
      },
    ],
    { filename: 'case.ts' },
  )
}

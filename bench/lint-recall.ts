/**
 * Part of the `lint` benchmark: how many waterfalls does each rule find, and how many times does
 * it report one that is not there, on the labelled public corpus (test/eslint/corpus/sequential:
 * one module per case, its header saying how many groups it holds, `none` for the negatives —
 * Drizzle, Supabase, Kysely, Knex, Prisma, Mongoose, TypeORM, HTTP and AWS calls, conditional
 * awaits, `*OrThrow` reads, joins to an existing `Promise.all`, gates, writes, transactions).
 *
 * Contenders, each through ESLint's `Linter` with the same parser:
 * - `fanout`: `fanout/no-sequential-await` (from the built dist). A positive counts as found when
 *   it reports exactly the expected number of groups, each group whole (one report per group).
 * - `blumint`: `@blumintinc/eslint-plugin-blumint`'s `parallelize-async-operations`, the one other
 *   ESLint rule that rewrites sequential awaits. A positive counts as found when it reports at all.
 * A negative with any report is a false positive for either.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Linter, type Rule } from 'eslint'
import * as tsParser from '@typescript-eslint/parser'
import type * as FanoutEslint from '../src/eslint/index.js'
import type { Measurement, TableSpec } from './harness.js'

const { noSequentialAwait } = (await import(
  new URL('../dist/eslint/index.js', import.meta.url).href
)) as typeof FanoutEslint

const CORPUS = fileURLToPath(new URL('../test/eslint/corpus/sequential/', import.meta.url))

interface Case {
  readonly file: string
  readonly code: string
  /** Groups the file holds (0 for a negative). */
  readonly groups: number
}

function readCases(): Case[] {
  return readdirSync(CORPUS)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((file) => {
      const code = readFileSync(join(CORPUS, file), 'utf8')
      const header = /^\/\/ expect: (.+)$/m.exec(code)?.[1] ?? ''
      const count = /(\d+) reports?/.exec(header)
      const groups = /^none$/.test(header) ? 0 : count ? Number(count[1]) : 1
      return { file, code, groups }
    })
}

function blumintRule(): Rule.RuleModule {
  const require = createRequire(import.meta.url)
  const plugin = require('@blumintinc/eslint-plugin-blumint') as {
    rules: Record<string, Rule.RuleModule>
  }
  return plugin.rules['parallelize-async-operations']!
}

function reportsOf(rule: Rule.RuleModule, code: string): number {
  const config: Linter.Config[] = [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' },
      plugins: { peer: { rules: { r: rule } } },
      rules: { 'peer/r': 'warn' },
    },
  ]
  const messages = new Linter({ configType: 'flat' }).verify(code, config, 'case.ts')
  const fatal = messages.find((m) => m.fatal)
  if (fatal) throw new Error(`the corpus does not parse: ${fatal.message}`)
  return messages.length
}

export interface RecallResult {
  readonly measurements: Measurement[]
  readonly table: TableSpec
}

export function corpusRecall(): RecallResult {
  const cases = readCases()
  const positives = cases.filter((c) => c.groups > 0)
  const negatives = cases.filter((c) => c.groups === 0)
  const contenders: [string, Rule.RuleModule, (reports: number, c: Case) => boolean][] = [
    ['fanout', noSequentialAwait, (reports, c) => reports === c.groups],
    ['blumint', blumintRule(), (reports) => reports > 0],
  ]
  const measurements: Measurement[] = []
  const notes: string[] = []
  for (const [contender, rule, found] of contenders) {
    let hits = 0
    const missed: string[] = []
    const falsePositives: string[] = []
    for (const c of positives) {
      if (found(reportsOf(rule, c.code), c)) hits++
      else missed.push(c.file)
    }
    for (const c of negatives) if (reportsOf(rule, c.code) > 0) falsePositives.push(c.file)
    measurements.push(
      {
        contender,
        metric: 'corpus_recall',
        value: (100 * hits) / positives.length,
        unit: '%',
      },
      { contender, metric: 'corpus_false_positives', value: falsePositives.length, unit: 'files' },
    )
    notes.push(
      `${contender}: ${hits} of ${positives.length} waterfalls found, ${falsePositives.length} of ${negatives.length} negatives reported` +
        (falsePositives.length > 0 ? ` (${falsePositives.slice(0, 6).join(', ')}…)` : ''),
    )
  }
  return {
    measurements,
    table: {
      title: `lint: waterfalls found on the labelled corpus (${positives.length} positives, ${negatives.length} negatives)`,
      metrics: ['corpus_recall', 'corpus_false_positives'],
      notes,
    },
  }
}

/**
 * `--rule` for `fanout lint`: which of fanout's rules run, and with which severity and options.
 * A bare name (`no-sequential-await`) keeps its old meaning, "only this rule"; ESLint's forms
 * configure a rule — `name: value` with the value as JSON (or a bare severity) and a JSON object
 * of rules — and leave the other recommended rules running. Options are validated by ESLint
 * against the rule's `meta.schema` when the engine is built (see `lint-engine.ts`).
 */
import { UsageError } from './usage.js'

/** ESLint's severities: 0 off, 1 warn, 2 error. */
export type Level = 0 | 1 | 2

export interface RuleSetting {
  readonly level: Level
  /** The options after the severity; undefined when only the severity was given (options kept). */
  readonly options: readonly unknown[] | undefined
}

export interface RuleChoice {
  /** Rules named bare: only these (and the rules configured on) run. Undefined: the recommended ones. */
  readonly only: ReadonlySet<string> | undefined
  /** By rule name (without `fanout/`), in the order given; a later setting of a rule wins. */
  readonly settings: ReadonlyMap<string, RuleSetting>
}

/** A rule entry of a flat config: a severity, or `[severity, ...options]`. */
export type RuleEntry = Level | 'off' | 'warn' | 'error' | readonly [unknown, ...unknown[]]

const LEVELS: Readonly<Record<string, Level>> = { off: 0, warn: 1, error: 2, 0: 0, 1: 1, 2: 2 }

const shortName = (name: string): string => name.trim().replace(/^fanout\//, '')

/** The severity of an entry, or undefined when it is none of off|warn|error|0|1|2. */
export function levelOf(value: unknown): Level | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined
  return Object.hasOwn(LEVELS, String(value)) ? LEVELS[String(value)] : undefined
}

function settingOf(name: string, value: unknown): RuleSetting {
  const entry = Array.isArray(value) ? (value as unknown[]) : [value]
  const level = levelOf(entry[0])
  if (level === undefined)
    throw new UsageError(
      `--rule "${name}": expected a severity (off, warn, error, 0, 1 or 2) or [severity, options], got ${JSON.stringify(value)}.`,
    )
  return { level, options: Array.isArray(value) ? entry.slice(1) : undefined }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new UsageError(
      `--rule ${what} is not JSON (${(error as Error).message}). Quote it for the shell, e.g. --rule 'no-sequential-await: ["warn", {"minSaving": 2}]'.`,
    )
  }
}

/** Reads the `--rule` values: bare names, `name: value` and JSON objects `{"name": value}`. */
export function parseRuleArgs(values: readonly string[]): RuleChoice {
  let only: Set<string> | undefined
  const settings = new Map<string, RuleSetting>()
  const set = (name: string, value: unknown): void => {
    const setting = settingOf(name, value)
    const before = settings.get(name)
    // As in ESLint's configs: a severity alone keeps the options given before.
    settings.set(
      name,
      setting.options === undefined && before !== undefined
        ? { level: setting.level, options: before.options }
        : setting,
    )
  }
  for (const value of values) {
    const text = value.trim()
    if (text.startsWith('{')) {
      const object = parseJson(text, `"${text}"`)
      if (object === null || typeof object !== 'object' || Array.isArray(object))
        throw new UsageError(`--rule "${text}": expected a JSON object of rules.`)
      for (const [name, entry] of Object.entries(object)) set(shortName(name), entry)
      continue
    }
    const colon = text.indexOf(':')
    if (colon === -1) {
      if (text === '') throw new UsageError('--rule needs a rule name.')
      ;(only ??= new Set()).add(shortName(text))
      continue
    }
    const name = shortName(text.slice(0, colon))
    const raw = text.slice(colon + 1).trim()
    if (name === '') throw new UsageError(`--rule "${text}": no rule name before the colon.`)
    if (/^[a-z]+$/i.test(raw) && levelOf(raw) === undefined)
      throw new UsageError(
        `--rule "${name}": unknown severity "${raw}": use off, warn, error, 0, 1 or 2.`,
      )
    set(name, levelOf(raw) !== undefined ? raw : parseJson(raw, `"${name}": the value "${raw}"`))
  }
  return { only, settings }
}

export interface ResolvedRules {
  /** The rules entry of the flat config, by `fanout/<name>`. */
  readonly rules: Record<string, RuleEntry>
  /** The rules that run (not off), by `fanout/<name>`, with their severity. */
  readonly enabled: ReadonlyMap<string, 1 | 2>
}

function entryLevel(entry: unknown): Level {
  return levelOf(Array.isArray(entry) ? (entry as unknown[])[0] : entry) ?? 0
}

/**
 * The rules to run: the recommended ones (or the ones named bare, at their recommended severity,
 * `warn` when that is off), then each setting on top. Throws `UsageError` for an unknown rule.
 */
export function resolveRules(
  choice: RuleChoice,
  recommended: Readonly<Record<string, unknown>>,
  known: readonly string[],
): ResolvedRules {
  const named = [...(choice.only ?? []), ...choice.settings.keys()]
  const unknown = [...new Set(named.filter((name) => !known.includes(name)))]
  if (unknown.length > 0)
    throw new UsageError(
      `unknown rule ${unknown.map((n) => `"${n}"`).join(', ')}. Known rules: ${known.join(', ')}.`,
    )
  const rules: Record<string, RuleEntry> = {}
  if (choice.only === undefined) {
    for (const [id, entry] of Object.entries(recommended))
      if (known.includes(shortName(id))) rules[id] = entry as RuleEntry
  } else {
    for (const name of choice.only) {
      const entry = recommended[`fanout/${name}`]
      rules[`fanout/${name}`] = entryLevel(entry) === 0 ? 'warn' : (entry as RuleEntry)
    }
  }
  for (const [name, { level, options }] of choice.settings) {
    const id = `fanout/${name}`
    const before = rules[id]
    const kept = Array.isArray(before) ? (before as unknown[]).slice(1) : []
    rules[id] = [level, ...(options ?? kept)] as unknown as RuleEntry
  }
  const enabled = new Map<string, 1 | 2>()
  for (const [id, entry] of Object.entries(rules)) {
    const level = entryLevel(entry)
    if (level !== 0) enabled.set(id, level)
  }
  return { rules, enabled }
}

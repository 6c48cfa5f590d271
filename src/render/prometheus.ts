/**
 * `prometheusText(sources)`: the `stats()` of fanout's limiters, breakers, caches, stores and
 * loaders in the Prometheus text exposition format (0.0.4), for a `/metrics` route, with no
 * OpenTelemetry and no package. Runtime-neutral: it builds a string and serves nothing itself.
 *
 * - each component is one series per family, labelled `name="…"` with its `name` option (plus
 *   the constant `labels` given); a family's `# HELP` and `# TYPE` come first, then its series,
 *   and no family appears twice;
 * - label values are escaped as the format asks (backslash, double quote, newline), so any name
 *   is safe; constant label names are checked against the format's grammar;
 * - two different components of one kind with one name would make clashing series: that throws
 *   an `InvalidArgumentError` naming them (the same component given twice is read once);
 * - reading is cheap: each component's `stats()` is a handful of counters, read once per call.
 */
import { InvalidArgumentError, InvalidOptionError } from '../core/errors.js'
import { field } from '../core/own.js'
import { checkKnownKeys, show, snapshot } from '../core/validate.js'
import {
  FAMILIES,
  KIND_NOUNS,
  type Family,
  type StatsKind,
  type StatsSnapshot,
} from './prometheus-metrics.js'

export type { StatsSnapshot }

/** A component with `stats()` (a limiter, a breaker, a `cached()` function, a store, a loader…), or a snapshot it gave. */
export type StatsSource = StatsSnapshot | { stats(): StatsSnapshot }

export interface PrometheusTextOptions {
  /**
   * Labels added to every series, e.g. `{ service: 'checkout' }`. Names follow the format's
   * grammar (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`), and cannot be `name` or `reason`,
   * which fanout sets.
   */
  readonly labels?: Readonly<Record<string, string>>
}

const WHERE = 'prometheusText()'
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const RESERVED: ReadonlySet<string> = new Set(['name', 'reason'])

/**
 * @example
 * const api = limit({ concurrency: 16, name: 'api' })
 * const payments = circuitBreaker({ name: 'payments' })
 * const body = prometheusText([api, payments], { labels: { service: 'checkout' } })
 * // response: 200, content-type "text/plain; version=0.0.4; charset=utf-8", body
 */
export function prometheusText(
  sources: Iterable<StatsSource>,
  options?: PrometheusTextOptions,
): string {
  const constant = constantLabels(options)
  const byKind = readSources(sources)
  let out = ''
  for (const kind of Object.keys(FAMILIES) as StatsKind[]) {
    const snapshots = byKind.get(kind)
    if (snapshots === undefined) continue
    for (const family of FAMILIES[kind] as readonly Family<StatsSnapshot>[])
      out += familyText(family, snapshots, constant)
  }
  return out
}

/** The families' lines for every snapshot of their kind; nothing when none gives a sample. */
function familyText(
  family: Family<StatsSnapshot>,
  snapshots: readonly StatsSnapshot[],
  constant: string,
): string {
  let lines = ''
  for (const s of snapshots) {
    const found = family.samples(s)
    const samples = typeof found === 'number' ? [[{}, found] as const] : found
    for (const [labels, value] of samples) {
      let text = `name="${escapeLabel(s.name)}"`
      for (const [k, v] of Object.entries(labels)) text += `,${k}="${escapeLabel(v)}"`
      lines += `${family.name}{${text}${constant}} ${formatValue(value)}\n`
    }
  }
  if (lines === '') return ''
  return `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n${lines}`
}

/** The snapshots by kind, in the order given; duplicates refused. */
function readSources(sources: Iterable<StatsSource>): Map<StatsKind, StatsSnapshot[]> {
  if (
    typeof sources !== 'object' ||
    sources === null ||
    typeof (sources as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function'
  ) {
    throw new InvalidArgumentError(
      `${WHERE}: \`sources\` must be an array (or another iterable) of components with stats() or their snapshots, got ${show(sources)}.`,
    )
  }
  const byKind = new Map<StatsKind, StatsSnapshot[]>()
  /** The sources read (the same component listed twice is read once), and where each name was seen. */
  const read = new Set<unknown>()
  const named = new Map<string, number>()
  let index = 0
  for (const source of sources) {
    const at = index++
    if (read.has(source)) continue
    read.add(source)
    const s = snapshotOf(source, at)
    const id = JSON.stringify([s.kind, s.name])
    const first = named.get(id)
    if (first !== undefined) {
      const [nouns, example] = KIND_NOUNS[s.kind]
      throw new InvalidArgumentError(
        `${WHERE}: two ${nouns} are named ${JSON.stringify(s.name)} (sources[${first}] and sources[${at}]): their series would clash. Give each its own \`name\`, e.g. ${example}.`,
      )
    }
    named.set(id, at)
    let list = byKind.get(s.kind)
    if (list === undefined) byKind.set(s.kind, (list = []))
    list.push(s)
  }
  return byKind
}

/** The source's snapshot: its `stats()`, or itself; checked to be one of fanout's. */
function snapshotOf(source: unknown, at: number): StatsSnapshot {
  const isObject = (typeof source === 'object' || typeof source === 'function') && source !== null
  const stats = isObject ? field(source, 'stats') : undefined
  const s: unknown = typeof stats === 'function' ? (stats as () => unknown).call(source) : source
  const kind = typeof s === 'object' && s !== null ? field(s, 'kind') : undefined
  const name = typeof s === 'object' && s !== null ? field(s, 'name') : undefined
  if (typeof kind !== 'string' || !Object.hasOwn(FAMILIES, kind) || typeof name !== 'string') {
    throw new InvalidArgumentError(
      `${WHERE}: sources[${at}] is neither a fanout component with stats() (a limiter, rate limiter, adaptive policy, circuit breaker, cached() function, memory store or Loader) nor a snapshot one gave, got ${show(s)}.`,
    )
  }
  return s as StatsSnapshot
}

/** `,k="v"` for each constant label, checked. */
function constantLabels(options: PrometheusTextOptions | undefined): string {
  const opts = snapshot(WHERE, options)
  checkKnownKeys(WHERE, opts, ['labels'])
  if (opts.labels === undefined) return ''
  if (typeof opts.labels !== 'object' || opts.labels === null)
    throw new InvalidOptionError(
      `${WHERE}: \`labels\` must be an object of label names to string values, got ${show(opts.labels)}.`,
    )
  let text = ''
  for (const [key, value] of Object.entries(opts.labels)) {
    if (!LABEL_NAME.test(key) || key.startsWith('__') || RESERVED.has(key))
      throw new InvalidOptionError(
        `${WHERE}: \`labels\` has ${show(key)}, which is not a label name fanout can add: names match [a-zA-Z_][a-zA-Z0-9_]*, do not start with "__", and are not "name" or "reason" (fanout sets those).`,
      )
    if (typeof value !== 'string')
      throw new InvalidOptionError(
        `${WHERE}: \`labels.${key}\` must be a string, got ${show(value)}.`,
      )
    text += `,${key}="${escapeLabel(value)}"`
  }
  return text
}

/** A label value as the format writes it: backslash, double quote and line feed escaped. */
export function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
}

/** Help text: backslash and line feed escaped. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))
}

/** A sample value: a Go float as the format reads it (`+Inf`, `-Inf`, `NaN` spelled its way). */
function formatValue(value: number): string {
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  if (Number.isNaN(value)) return 'NaN'
  return String(value)
}

/**
 * The benchmark harness: argument parsing, output formatting and the main loop. `run.ts` wires it
 * to the registry in `index.ts`; tests drive `main()` with a fake registry.
 *
 * A benchmark measures contenders (fanout and its alternatives) and returns one number per
 * (contender, metric). The harness prints them as tables, or with `--json` as one JSON object per
 * line and nothing else on stdout.
 */

/** The contender every ratio column compares against. */
export const BASELINE = 'fanout'
export const DEFAULT_SEED = 1

export interface Measurement {
  readonly contender: string
  readonly metric: string
  readonly value: number
  /** `ms`, `ns`, `x` (a ratio), ... */
  readonly unit: string
}

export interface TableSpec {
  readonly title: string
  /** The metric columns, in order. Contenders with none of them are left out of the table. */
  readonly metrics: readonly string[]
  /** The metric the "vs fanout" column divides by fanout's value. Default: the first metric. */
  readonly ratioOf?: string
  /** Printed under the table. */
  readonly notes?: readonly string[]
  /** The contender the ratio column divides by. Default: BASELINE. */
  readonly baseline?: string
}

export interface BenchReport {
  readonly measurements: readonly Measurement[]
  /** How to lay the measurements out as tables. Default: one table with every metric. */
  readonly tables?: readonly TableSpec[]
  /** Context printed above the tables (seed, sizes, ...). With `--json`, these and the tables' notes go to stderr. */
  readonly notes?: readonly string[]
}

export interface BenchContext {
  /** Seed for the benchmark's random inputs: `--seed`, or DEFAULT_SEED. */
  readonly seed: number
  /** Progress for people waiting; always goes to stderr. */
  progress(line: string): void
}

export interface Benchmark {
  readonly name: string
  readonly description: string
  run(ctx: BenchContext): Promise<BenchReport>
}

export interface Args {
  /** Benchmarks to run, in the order given; empty = all. */
  readonly names: readonly string[]
  readonly json: boolean
  readonly help: boolean
  readonly seed: number | undefined
}

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Parses the command line (without `node` and the script). Throws `UsageError` on a bad one. */
export function parseArgs(argv: readonly string[]): Args {
  const names: string[] = []
  let json = false
  let help = false
  let seed: number | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--json') json = true
    else if (arg === '--help' || arg === '-h') help = true
    else if (arg === '--seed' || arg.startsWith('--seed=')) {
      const raw = arg === '--seed' ? argv[++i] : arg.slice('--seed='.length)
      if (raw === undefined) throw new UsageError('--seed needs a value, e.g. --seed 7.')
      seed = parseSeed(raw)
    } else if (arg === '--') continue
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${JSON.stringify(arg)}.`)
    else if (!names.includes(arg)) names.push(arg)
  }
  return { names, json, help, seed }
}

function parseSeed(raw: string): number {
  const seed = /^\d+$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(seed) || seed > 0xffffffff) {
    throw new UsageError(
      `--seed must be an integer from 0 to ${0xffffffff}, got ${JSON.stringify(raw)}.`,
    )
  }
  return seed
}

/** One measurement as the single line `--json` prints for it. */
export function formatJsonLine(bench: string, m: Measurement): string {
  if (!Number.isFinite(m.value))
    throw new Error(`${bench}: ${m.contender} ${m.metric} is ${m.value}, not a finite number.`)
  const value = Math.round(m.value * 1000) / 1000
  return JSON.stringify({ bench, contender: m.contender, metric: m.metric, value, unit: m.unit })
}

/** A value with about three significant digits: 1.008, 13.9, 412, 5512. */
export function formatValue(value: number): string {
  const abs = Math.abs(value)
  return value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : 3)
}

/** A ratio against the baseline: "1.00×", "13.9×", "140×". */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—'
  return `${ratio.toFixed(ratio >= 100 ? 0 : ratio >= 10 ? 1 : 2)}×`
}

/**
 * One table: a row per contender (in order of first appearance), a column per metric, and a
 * "vs fanout" column: the row's `ratioOf` metric divided by fanout's.
 */
export function formatTable(measurements: readonly Measurement[], spec: TableSpec): string {
  const ratioOf = spec.ratioOf ?? spec.metrics[0]
  const byKey = new Map<string, Measurement>()
  const contenders: string[] = []
  for (const m of measurements) {
    if (!spec.metrics.includes(m.metric)) continue
    byKey.set(`${m.contender}\u0000${m.metric}`, m)
    if (!contenders.includes(m.contender)) contenders.push(m.contender)
  }
  const get = (contender: string, metric: string | undefined): Measurement | undefined =>
    byKey.get(`${contender}\u0000${metric}`)
  const unitOf = (metric: string): string =>
    measurements.find((m) => m.metric === metric)?.unit ?? ''
  const header = [
    'contender',
    ...spec.metrics.map((metric) => (unitOf(metric) ? `${metric} (${unitOf(metric)})` : metric)),
    `vs ${spec.baseline ?? BASELINE}`,
  ]
  const base = get(spec.baseline ?? BASELINE, ratioOf)
  const rows = contenders.map((contender) => {
    const own = get(contender, ratioOf)
    const ratio =
      own !== undefined && base !== undefined ? formatRatio(own.value / base.value) : '—'
    return [
      contender,
      ...spec.metrics.map((metric) => {
        const m = get(contender, metric)
        return m === undefined ? '—' : formatValue(m.value)
      }),
      ratio,
    ]
  })
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd()
  const out = [
    spec.title,
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
  ]
  for (const note of spec.notes ?? []) out.push(`  * ${note}`)
  return out.join('\n')
}

/** A benchmark's whole readable report: heading, notes, tables. */
export function formatReport(bench: Benchmark, report: BenchReport): string {
  const metrics = [...new Set(report.measurements.map((m) => m.metric))]
  const tables = report.tables ?? [{ title: bench.name, metrics }]
  const parts = [`## ${bench.name}: ${bench.description}`]
  if (report.notes !== undefined && report.notes.length > 0) parts.push(report.notes.join('\n'))
  for (const spec of tables) parts.push(formatTable(report.measurements, spec))
  return parts.join('\n\n') + '\n'
}

export function usage(registry: readonly Benchmark[]): string {
  const width = Math.max(0, ...registry.map((b) => b.name.length))
  return [
    'Usage: npm run bench -- [name ...] [--json] [--seed N]',
    '',
    'Runs the named benchmarks, or all of them when none is named.',
    '',
    '  --json      print only JSON lines {"bench","contender","metric","value","unit"}; progress goes to stderr',
    `  --seed N    seed for the benchmarks' random inputs (default ${DEFAULT_SEED})`,
    '  -h, --help  show this help',
    '',
    'Benchmarks:',
    ...registry.map((b) => `  ${b.name.padEnd(width)}  ${b.description}`),
  ].join('\n')
}

export interface Io {
  /** Writes one line to stdout. */
  out(line: string): void
  /** Writes one line to stderr. */
  err(line: string): void
}

/** The whole command: returns the exit code (0 ok, 1 a benchmark failed, 2 bad usage). */
export async function main(
  argv: readonly string[],
  registry: readonly Benchmark[],
  io: Io,
): Promise<number> {
  let args: Args
  try {
    args = parseArgs(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    io.err(`bench: ${error.message} Run with --help for usage.`)
    return 2
  }
  if (args.help) {
    io.out(usage(registry))
    return 0
  }
  const known = registry.map((b) => b.name)
  const unknown = args.names.filter((name) => !known.includes(name))
  if (unknown.length > 0) {
    io.err(
      `bench: unknown benchmark ${unknown.map((n) => JSON.stringify(n)).join(', ')}. Known benchmarks: ${known.join(', ')}.`,
    )
    return 2
  }
  const selected =
    args.names.length === 0
      ? registry
      : args.names.map((name) => registry.find((b) => b.name === name)!)
  const seed = args.seed ?? DEFAULT_SEED
  for (const bench of selected) {
    let report: BenchReport
    try {
      report = await bench.run({ seed, progress: (line) => io.err(`[${bench.name}] ${line}`) })
    } catch (error) {
      io.err(
        `bench: ${bench.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      )
      return 1
    }
    if (args.json) {
      const notes = [
        ...(report.notes ?? []),
        ...(report.tables ?? []).flatMap((t) => t.notes ?? []),
      ]
      for (const note of notes) io.err(`[${bench.name}] ${note}`)
      for (const m of report.measurements) io.out(formatJsonLine(bench.name, m))
    } else {
      io.out(formatReport(bench, report))
    }
  }
  return 0
}

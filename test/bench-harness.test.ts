/**
 * The benchmark harness (bench/harness.ts): argument parsing, output formatting and the main loop,
 * driven with a fake benchmark that returns fixed numbers. Nothing here measures time.
 */
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SEED,
  formatJsonLine,
  formatRatio,
  formatTable,
  main,
  parseArgs,
  UsageError,
  type BenchContext,
  type Benchmark,
  type Measurement,
} from '../bench/harness.js'

const measurements: Measurement[] = [
  { contender: 'fanout', metric: 'makespan_ratio', value: 1.004, unit: 'x' },
  { contender: 'fanout', metric: 'overhead_ns_per_task', value: 5000, unit: 'ns' },
  { contender: 'sequential', metric: 'makespan_ratio', value: 13.9, unit: 'x' },
  { contender: 'slow', metric: 'overhead_ns_per_task', value: 15000.12345, unit: 'ns' },
]

function fake(name: string, seen: BenchContext[] = []): Benchmark {
  return {
    name,
    description: `the ${name} fake`,
    run(ctx) {
      seen.push(ctx)
      ctx.progress('working')
      return Promise.resolve({ measurements, notes: [`seed ${ctx.seed}`] })
    },
  }
}

async function capture(
  argv: string[],
  registry: Benchmark[],
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, registry, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  })
  return { code, out, err }
}

describe('parseArgs', () => {
  it('defaults to every benchmark, as a table, with the default seed', () => {
    expect(parseArgs([])).toEqual({ names: [], json: false, help: false, seed: undefined })
  })

  it('takes names, --json and --seed in any order, both --seed forms, and ignores a bare --', () => {
    expect(parseArgs(['dag', '--json', '--seed', '7', '--', 'limiter', 'dag'])).toEqual({
      names: ['dag', 'limiter'],
      json: true,
      help: false,
      seed: 7,
    })
    expect(parseArgs(['--seed=0'])).toMatchObject({ seed: 0 })
    expect(parseArgs(['-h'])).toMatchObject({ help: true })
    expect(parseArgs(['--help'])).toMatchObject({ help: true })
  })

  it('rejects unknown options and bad seeds', () => {
    expect(() => parseArgs(['--jsn'])).toThrow(UsageError)
    expect(() => parseArgs(['--seed'])).toThrow(/--seed needs a value/)
    for (const bad of ['-1', '1.5', 'abc', '', '4294967296'])
      expect(() => parseArgs(['--seed', bad]), bad).toThrow(/--seed must be an integer/)
  })
})

describe('formatting', () => {
  it('formats a JSON line with exactly the five keys, in order, values rounded to 3 decimals', () => {
    const line = formatJsonLine('dag', measurements[3]!)
    expect(line).toBe(
      '{"bench":"dag","contender":"slow","metric":"overhead_ns_per_task","value":15000.123,"unit":"ns"}',
    )
    expect(Object.keys(JSON.parse(line) as object)).toEqual([
      'bench',
      'contender',
      'metric',
      'value',
      'unit',
    ])
  })

  it('refuses a value JSON cannot carry', () => {
    expect(() =>
      formatJsonLine('dag', { contender: 'x', metric: 'm', value: NaN, unit: 'ms' }),
    ).toThrow(/not a finite number/)
  })

  it('formats ratios with about three significant digits', () => {
    expect([1, 1.004, 13.86, 153.4, Infinity].map(formatRatio)).toEqual([
      '1.00×',
      '1.00×',
      '13.9×',
      '153×',
      '—',
    ])
  })

  it('lays out one row per contender, a column per metric and a ratio against fanout', () => {
    const table = formatTable(measurements, {
      title: 'T',
      metrics: ['makespan_ratio', 'overhead_ns_per_task'],
      notes: ['a note'],
    })
    const lines = table.split('\n')
    expect(lines[0]).toBe('T')
    expect(lines[1]).toMatch(
      /^contender\s+makespan_ratio \(x\)\s+overhead_ns_per_task \(ns\)\s+vs fanout$/,
    )
    expect(lines[3]).toMatch(/^fanout\s+1\.004\s+5000\s+1\.00×$/)
    expect(lines[4]).toMatch(/^sequential\s+13\.9\s+—\s+13\.8×$/)
    expect(lines[5]).toMatch(/^slow\s+—\s+15000\s+—$/)
    expect(lines[6]).toBe('  * a note')
  })

  it('takes the ratio of the chosen metric and leaves out contenders with no column in the table', () => {
    const table = formatTable(measurements, {
      title: 'T',
      metrics: ['overhead_ns_per_task'],
      ratioOf: 'overhead_ns_per_task',
    })
    expect(table).not.toContain('sequential')
    expect(table).toMatch(/slow\s+15000\s+3\.00×/)
  })
})

describe('main', () => {
  it('--json prints only JSON lines on stdout, and progress and notes on stderr', async () => {
    const seen: BenchContext[] = []
    const { code, out, err } = await capture(
      ['--json', '--seed', '9'],
      [fake('one', seen), fake('two')],
    )
    expect(code).toBe(0)
    expect(out).toHaveLength(2 * measurements.length)
    for (const line of out)
      expect(Object.keys(JSON.parse(line) as object)).toEqual([
        'bench',
        'contender',
        'metric',
        'value',
        'unit',
      ])
    expect(out.map((line) => (JSON.parse(line) as { bench: string }).bench)).toEqual([
      ...Array(4).fill('one'),
      ...Array(4).fill('two'),
    ])
    expect(err).toEqual(['[one] working', '[one] seed 9', '[two] working', '[two] seed 9'])
    expect(seen[0]!.seed).toBe(9)
  })

  it("--json sends the tables' notes to stderr too", async () => {
    const withTables: Benchmark = {
      name: 'tabled',
      description: 'has tables',
      run: () =>
        Promise.resolve({
          measurements,
          tables: [{ title: 'T', metrics: ['makespan_ratio'], notes: ['table note'] }],
        }),
    }
    const { out, err } = await capture(['--json'], [withTables])
    expect(out).toHaveLength(measurements.length)
    expect(err).toEqual(['[tabled] table note'])
  })

  it('runs only the named benchmarks, with the default seed, as readable tables', async () => {
    const seen: BenchContext[] = []
    const { code, out } = await capture(['two'], [fake('one'), fake('two', seen)])
    expect(code).toBe(0)
    expect(seen.map((ctx) => ctx.seed)).toEqual([DEFAULT_SEED])
    const text = out.join('\n')
    expect(text).toContain('## two: the two fake')
    expect(text).not.toContain('## one')
    expect(text).toContain(`seed ${DEFAULT_SEED}`)
    expect(text).toMatch(/sequential\s+13\.9\s+—\s+13\.8×/)
  })

  it('rejects an unknown benchmark with exit code 2, listing the known ones, and runs nothing', async () => {
    const seen: BenchContext[] = []
    const { code, out, err } = await capture(['one', 'nope'], [fake('one', seen), fake('two')])
    expect(code).toBe(2)
    expect(out).toEqual([])
    expect(seen).toEqual([])
    expect(err.join('\n')).toMatch(/unknown benchmark "nope"\. Known benchmarks: one, two\./)
  })

  it('exits 2 on a bad option and 0 with usage on --help', async () => {
    expect((await capture(['--nope'], [fake('one')])).code).toBe(2)
    const help = await capture(['--help'], [fake('one')])
    expect(help.code).toBe(0)
    expect(help.out.join('\n')).toMatch(/Usage: npm run bench[\s\S]*one\s+the one fake/)
  })

  it('exits 1 when a benchmark throws', async () => {
    const broken: Benchmark = {
      name: 'broken',
      description: 'throws',
      run: () => Promise.reject(new Error('boom')),
    }
    const { code, err } = await capture([], [broken])
    expect(code).toBe(1)
    expect(err.join('\n')).toMatch(/broken failed: Error: boom/)
  })
})

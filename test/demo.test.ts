/**
 * The demo end to end, small and fast (latencies scaled down): it runs, prints a waterfall per way
 * and the summary, and fanout's structural wins hold — fewer upstream calls than naive
 * Promise.all (batching, caching) and no 429 surfaced. Latency comparisons are the demo's job on
 * a real run, not a test's: they would flake on a loaded machine.
 */
import { describe, expect, it } from 'vitest'
import { main } from '../src/cli/main.js'
import { formatReport, runDemo, type WayReport } from '../src/demo/demo.js'

const way = (name: string, p50: number, surfaced: number): WayReport => ({
  way: name,
  loads: 20,
  p50,
  p95: p50,
  p99: p50,
  upstreamCalls: 100,
  throttled: 0,
  upstreamErrors: 10,
  surfaced,
  absorbed: 0,
  typical: undefined,
})
const FORMAT = { loads: 20, concurrency: 4, failureRate: 0.5, seed: 1, color: false, width: 40 }

describe('fanout demo', () => {
  it('loads the page three ways and reports each', async () => {
    const lines: string[] = []
    const report = await runDemo({
      loads: 24,
      concurrency: 6,
      latencyScale: 0.2,
      seed: 3,
      print: (l) => lines.push(l),
    })
    expect(report.ways.map((w) => w.way)).toEqual(['sequential', 'naive Promise.all', 'fanout'])
    const [sequential, naive, fanout] = report.ways
    expect(fanout!.upstreamCalls).toBeLessThan(naive!.upstreamCalls)
    expect(fanout!.upstreamCalls).toBeLessThan(sequential!.upstreamCalls)
    // A page never fails because of a 429 or an optional part: fanout absorbs upstream errors.
    expect(fanout!.surfaced).toBe(0)
    for (const way of report.ways) {
      expect(way.loads).toBe(24)
      expect(way.typical).toBeDefined()
      expect(way.p50).toBeGreaterThan(0)
    }
    // The recompute went off the request path: every load offloaded it, each product's job ran
    // once (the idempotency key), and all of them finished in the background.
    const background = fanout!.background!
    expect(background.offloads).toBe(24)
    // New jobs are the offloads that were not deduplicated; one more may be the warm-up's.
    expect(background.jobs - (24 - background.deduplicated)).toBeGreaterThanOrEqual(0)
    expect(background.jobs - (24 - background.deduplicated)).toBeLessThanOrEqual(1)
    expect(background.jobs).toBeLessThanOrEqual(20)
    expect(background.completed).toBe(background.jobs)
    expect(background.unfinished).toBe(0)
    expect(background.firstAnswer).toMatch(/^202 Accepted, Location: \/jobs\/\S+, Retry-After: 1$/)
    expect(sequential!.background).toBeUndefined()
    const text = lines.join('\n')
    for (const heading of [
      'recompute recommendations: the hand-written ways wait for it in the request; fanout offloaded it 24 times',
      '── sequential',
      '── naive Promise.all',
      '── fanout',
      'upstream calls',
      'pages failed',
    ])
      expect(text).toContain(heading)
  }, 60_000)

  it('a failure-heavy run: the hand-written ways surface errors, fanout absorbs them', async () => {
    const report = await runDemo({
      loads: 30,
      concurrency: 6,
      latencyScale: 0.2,
      failureRate: 0.1,
      seed: 5,
    })
    const [sequential, naive, fanout] = report.ways
    expect(sequential!.surfaced + naive!.surfaced).toBeGreaterThan(0)
    expect(fanout!.surfaced).toBeLessThanOrEqual(Math.ceil(30 * 0.1))
    expect(fanout!.absorbed).toBeGreaterThan(0)
  }, 60_000)

  it('--failure-rate 0.5: a way whose every load failed has no p50, and the summary says so instead of NaN×', async () => {
    const lines = formatReport(
      {
        ways: [
          way('sequential', Number.NaN, 20),
          way('naive Promise.all', 240, 12),
          way('fanout', 80, 3),
        ],
        seconds: 1,
      },
      FORMAT,
    )
    const summary = lines.find((l) => l.startsWith('fanout: '))!
    expect(summary).toMatch(
      /^fanout: p50 not comparable with sequential \(all 20 of its loads failed\) and p50 3\.0× faster than naive Promise\.all; /,
    )
    const allFailed = formatReport(
      {
        ways: [
          way('sequential', 400, 0),
          way('naive Promise.all', 240, 0),
          way('fanout', Number.NaN, 20),
        ],
        seconds: 1,
      },
      FORMAT,
    )
    expect(allFailed.find((l) => l.startsWith('fanout: '))).toMatch(
      /^fanout: p50 not comparable with sequential \(all 20 of fanout's loads failed\) and p50 not comparable/,
    )
    const slower = formatReport(
      {
        ways: [way('sequential', 40, 0), way('naive Promise.all', 240, 0), way('fanout', 80, 0)],
        seconds: 1,
      },
      FORMAT,
    )
    expect(slower.find((l) => l.startsWith('fanout: '))).toMatch(
      /^fanout: p50 2\.0× slower than sequential and p50 3\.0× faster than naive Promise\.all; /,
    )
    // End to end at the highest failure rate the command accepts: no NaN anywhere in the report.
    const printed: string[] = []
    await runDemo({
      loads: 12,
      concurrency: 6,
      latencyScale: 0.2,
      failureRate: 0.5,
      seed: 2,
      print: (l) => printed.push(l),
    })
    expect(printed.join('\n')).not.toContain('NaN')
  }, 60_000)

  it('the command line: --help, and clear errors for bad options', async () => {
    const out: string[] = []
    const err: string[] = []
    const io = {
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
      isTTY: false,
      env: {},
    }
    expect(await main(['demo', '--help'], io)).toBe(0)
    expect(out.join('\n')).toContain('--loads <n>')
    expect(await main(['--help'], io)).toBe(0)
    expect(await main(['demo', '--loads', '0'], io)).toBe(2)
    expect(err.at(-1)).toMatch(/--loads must be an integer from 1 to 10000, got "0"/)
    expect(await main(['deploy'], io)).toBe(2)
    expect(err.at(-1)).toMatch(/unknown command "deploy"/)
  })

  it("demo flag errors read like lint's: one line naming the flag, a did-you-mean or the valid range, the help hint, exit 2", async () => {
    const cases: [string[], string][] = [
      [['--louds', '5'], 'unknown option "--louds". Did you mean "--loads"?'],
      [['--failure-rate', '0.6'], '--failure-rate must be a number from 0 to 0.5, got "0.6".'],
      [['--concurrency', '2.5'], '--concurrency must be an integer from 1 to 256, got "2.5".'],
      [['--seed'], '--seed needs a value.'],
      [
        ['--loads', '-5'],
        '--loads needs a value (a value starting with "-" is written --loads=-…).',
      ],
      [['--no-color=yes'], '--no-color takes no value.'],
      [['fast'], 'unexpected argument "fast": this command takes options only.'],
    ]
    for (const [argv, message] of cases) {
      const out: string[] = []
      const err: string[] = []
      const code = await main(['demo', ...argv], {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        isTTY: false,
        env: {},
      })
      expect({ argv, code, out, err }).toEqual({
        argv,
        code: 2,
        out: [],
        err: [`fanout demo: ${message} Run "fanout demo --help" for the options.`],
      })
    }
  })
})

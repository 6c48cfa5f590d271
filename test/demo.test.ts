/**
 * The demo end to end, small and fast (latencies scaled down): it runs, prints a waterfall per way
 * and the summary, and fanout's structural wins hold — fewer upstream calls than naive
 * Promise.all (batching, caching) and no 429 surfaced. Latency comparisons are the demo's job on
 * a real run, not a test's: they would flake on a loaded machine.
 */
import { describe, expect, it } from 'vitest'
import { main } from '../src/cli/main.js'
import { runDemo } from '../src/demo/demo.js'

describe('fanout demo', () => {
  it('loads the page three ways and reports each', async () => {
    const lines: string[] = []
    const report = await runDemo({ loads: 24, concurrency: 6, latencyScale: 0.2, seed: 3, print: (l) => lines.push(l) })
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
    const text = lines.join('\n')
    for (const heading of ['── sequential', '── naive Promise.all', '── fanout', 'upstream calls', 'pages failed']) expect(text).toContain(heading)
  }, 60_000)

  it('a failure-heavy run: the hand-written ways surface errors, fanout absorbs them', async () => {
    const report = await runDemo({ loads: 30, concurrency: 6, latencyScale: 0.2, failureRate: 0.1, seed: 5 })
    const [sequential, naive, fanout] = report.ways
    expect(sequential!.surfaced + naive!.surfaced).toBeGreaterThan(0)
    expect(fanout!.surfaced).toBeLessThanOrEqual(Math.ceil(30 * 0.1))
    expect(fanout!.absorbed).toBeGreaterThan(0)
  }, 60_000)

  it('the command line: --help, and clear errors for bad options', async () => {
    const out: string[] = []
    const err: string[] = []
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTTY: false, env: {} }
    expect(await main(['demo', '--help'], io)).toBe(0)
    expect(out.join('\n')).toContain('--loads <n>')
    expect(await main(['--help'], io)).toBe(0)
    expect(await main(['demo', '--loads', '0'], io)).toBe(2)
    expect(err.at(-1)).toMatch(/--loads must be an integer from 1 to 10000, got "0"/)
    expect(await main(['demo', '--louds', '5'], io)).toBe(2)
    expect(err.at(-1)).toMatch(/louds/)
    expect(await main(['deploy'], io)).toBe(2)
    expect(err.at(-1)).toMatch(/unknown command "deploy"/)
  })
})

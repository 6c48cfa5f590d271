/**
 * The per-route tallies a profile keeps: each unit of work is analysed when it ends and only its
 * numbers stay (no calls, no tokens), in bounded tables — at most `maxRoutes` routes, 50 distinct
 * chains a route, and the most recent 1,024 samples behind each median.
 */
import type { ChainInstance } from './chains.js'
import type { ChainReport, ChainStep, RouteReport, SavedMs } from './report.js'

const SAMPLES = 1_024
const MAX_CHAINS_PER_ROUTE = 50

/** The most recent samples, for a median, and the total of all of them. */
class Samples {
  readonly #values: number[] = []
  #next = 0
  total = 0
  count = 0

  add(value: number): void {
    this.total += value
    this.count++
    if (this.#values.length < SAMPLES) this.#values.push(value)
    else this.#values[this.#next] = value
    this.#next = (this.#next + 1) % SAMPLES
  }

  get median(): number {
    if (this.#values.length === 0) return 0
    const sorted = [...this.#values].sort((a, b) => a - b)
    const mid = sorted.length >> 1
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  }

  saved(): SavedMs {
    return { median: round(this.median), total: round(this.total) }
  }
}

const round = (value: number): number => Math.round(value * 10) / 10

interface StepTally {
  readonly method: string
  readonly target: string
  readonly times: number
  readonly location: string | null
  readonly durations: Samples
}

interface ChainTally {
  readonly steps: readonly StepTally[]
  readonly saved: Samples
  requests: number
  lastUnit: number
}

interface RouteTally {
  readonly durations: Samples
  readonly saved: Samples
  requests: number
  calls: number
  truncated: number
  droppedChains: number
  readonly chains: Map<string, ChainTally>
}

/** A chain's steps: consecutive calls to the same method and target folded into one. */
function stepsOf(chain: ChainInstance): { key: string; runs: ChainInstance['calls'][] } {
  const runs: ChainInstance['calls'][] = []
  let run: ChainInstance['calls'][number][] = []
  for (const call of chain.calls) {
    const last = run[run.length - 1]
    if (last !== undefined && (last.method !== call.method || last.target !== call.target)) {
      runs.push(run)
      run = []
    }
    run.push(call)
  }
  runs.push(run)
  const key = runs.map((r) => `${r[0]!.method} ${r[0]!.target} ×${r.length}`).join('\n')
  return { key, runs }
}

export interface UnitSummary {
  readonly route: string
  readonly durationMs: number
  readonly calls: number
  readonly truncated: boolean
}

export class RouteTable {
  readonly #max: number
  readonly #routes = new Map<string, RouteTally>()
  #unit = 0
  /** Requests of routes beyond the bound, and those routes. */
  droppedRequests = 0
  readonly droppedRoutes = new Set<string>()

  constructor(maxRoutes: number) {
    this.#max = maxRoutes
  }

  /** Adds one ended unit and its chains; false when its route is beyond the bound. */
  add(unit: UnitSummary, chains: readonly ChainInstance[]): boolean {
    let route = this.#routes.get(unit.route)
    if (route === undefined) {
      if (this.#routes.size >= this.#max) {
        this.droppedRequests++
        if (this.droppedRoutes.size < 10_000) this.droppedRoutes.add(unit.route)
        return false
      }
      route = {
        durations: new Samples(),
        saved: new Samples(),
        requests: 0,
        calls: 0,
        truncated: 0,
        droppedChains: 0,
        chains: new Map(),
      }
      this.#routes.set(unit.route, route)
    }
    const id = ++this.#unit
    route.requests++
    route.calls += unit.calls
    if (unit.truncated) route.truncated++
    route.durations.add(unit.durationMs)
    route.saved.add(chains.reduce((sum, c) => sum + c.savedMs, 0))
    for (const chain of chains) this.#addChain(route, chain, id)
    return true
  }

  #addChain(route: RouteTally, chain: ChainInstance, unit: number): void {
    const { key, runs } = stepsOf(chain)
    let tally = route.chains.get(key)
    if (tally === undefined) {
      if (route.chains.size >= MAX_CHAINS_PER_ROUTE) {
        route.droppedChains++
        return
      }
      tally = {
        steps: runs.map((run) => ({
          method: run[0]!.method,
          target: run[0]!.target,
          times: run.length,
          location: run[0]!.location ?? null,
          durations: new Samples(),
        })),
        saved: new Samples(),
        requests: 0,
        lastUnit: 0,
      }
      route.chains.set(key, tally)
    }
    tally.saved.add(chain.savedMs)
    if (tally.lastUnit !== unit) tally.requests++
    tally.lastUnit = unit
    runs.forEach((run, i) => {
      for (const call of run) tally.steps[i]!.durations.add(call.durationMs)
    })
  }

  get requests(): number {
    let n = 0
    for (const r of this.#routes.values()) n += r.requests
    return n
  }

  get calls(): number {
    let n = 0
    for (const r of this.#routes.values()) n += r.calls
    return n
  }

  /** The routes that made outbound calls, most to save first. */
  routes(): RouteReport[] {
    return [...this.#routes]
      .filter(([, r]) => r.calls > 0)
      .map(([name, r]): RouteReport => {
        const chains = [...r.chains.values()]
          .map((c): ChainReport => ({
            steps: c.steps.map((s): ChainStep => ({
              method: s.method,
              target: s.target,
              times: s.times,
              medianMs: round(s.durations.median),
              location: s.location,
            })),
            occurrences: c.saved.count,
            requests: c.requests,
            savedMs: c.saved.saved(),
          }))
          .sort((a, b) => b.savedMs.total - a.savedMs.total)
        return {
          route: name,
          requests: r.requests,
          calls: r.calls,
          medianMs: round(r.durations.median),
          savedMs: r.saved.saved(),
          truncated: r.truncated,
          chains,
          droppedChains: r.droppedChains,
        }
      })
      .sort((a, b) => b.savedMs.total - a.savedMs.total || b.requests - a.requests)
  }
}

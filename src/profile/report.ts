/**
 * What `profiler.report()` returns — plain data that survives `JSON.stringify` — and
 * `formatReport()`, its text for a terminal or a log.
 */

/** A duration aggregated over the samples it was seen in. */
export interface SavedMs {
  /** The median sample (over the most recent 1,024). */
  readonly median: number
  /** The sum of every sample. */
  readonly total: number
}

/** One step of a chain: a call, or a run of calls to the same target one after another (a loop). */
export interface ChainStep {
  readonly method: string
  /** Origin, path with ids as `:id`, query with values as `*`: `http://users.internal/users/:id?fields=*` */
  readonly target: string
  /** Calls in the run: 1 for a single call, n for a loop of n awaited calls. */
  readonly times: number
  /** The median duration of one call of this step, in ms. */
  readonly medianMs: number
  /** Where the (first) call was made, `path:line:column` (relative to the working directory), or null when no frame of the application's own code was on the stack. */
  readonly location: string | null
}

export interface ChainReport {
  readonly steps: readonly ChainStep[]
  /** Times the chain was seen. */
  readonly occurrences: number
  /** Requests it was seen in. */
  readonly requests: number
  /** What a `Promise.all` over the chain would save, per occurrence: the sum of its calls' durations minus the longest. */
  readonly savedMs: SavedMs
}

export interface RouteReport {
  /** `GET /orders/:id` for an incoming request, the label of `run()`, or `(outside a request)`. */
  readonly route: string
  /** Requests of the route that ended while the profiler ran. */
  readonly requests: number
  /** Outbound calls recorded in them. */
  readonly calls: number
  /** The median request duration, in ms. */
  readonly medianMs: number
  /** Per request, what a `Promise.all` over each of its chains would save together. */
  readonly savedMs: SavedMs
  /** Requests that made more calls than `maxCallsPerRequest` (the rest were not recorded). */
  readonly truncated: number
  /** By total saving, largest first. */
  readonly chains: readonly ChainReport[]
  /** Chains not kept: more distinct chains than a route keeps (50). */
  readonly droppedChains: number
}

export interface ProfileReport {
  /** How long the profiler has run, in ms. */
  readonly durationMs: number
  /** Requests (and `run()` units) that ended and were analysed. */
  readonly requests: number
  /** Outbound calls recorded in them. */
  readonly calls: number
  /** What the bounds left out: requests beyond `maxRequests` in progress or of a route beyond `maxRoutes`, calls beyond `maxCallsPerRequest`. */
  readonly untracked: {
    readonly requests: number
    readonly calls: number
    readonly routes: number
  }
  /** Routes that made outbound calls, the ones with the most to save first. */
  readonly routes: readonly RouteReport[]
}

const ms = (value: number): string =>
  value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

function chainLines(chain: ChainReport, index: number): string[] {
  const calls = chain.steps.reduce((sum, s) => sum + s.times, 0)
  const lines = [
    `  ${index + 1}. ${calls} calls one after another, none using another's response: ` +
      `a Promise.all saves ${ms(chain.savedMs.median)} (median), ${ms(chain.savedMs.total)} in all, ` +
      `seen ${plural(chain.occurrences, 'time')} in ${plural(chain.requests, 'request')}`,
  ]
  const width = Math.max(...chain.steps.map((s) => s.method.length + s.target.length + 1))
  for (const step of chain.steps) {
    const name = `${step.method} ${step.target}`.padEnd(width)
    const times = step.times > 1 ? ` ×${step.times}` : ''
    lines.push(
      `       ${name}  ${ms(step.medianMs).padStart(6)}${times}  ${step.location ?? '(no frame of the application)'}`,
    )
  }
  return lines
}

/** The report as text: one block per route with waterfalls, then what the profile left out. */
export function formatReport(report: ProfileReport): string {
  const withChains = report.routes.filter((r) => r.chains.length > 0)
  const lines = [
    `fanout profile: ${plural(report.requests, 'request')} and ${plural(report.calls, 'outbound call')} ` +
      `in ${ms(report.durationMs)}; ${plural(withChains.length, 'route')} with waterfalls`,
  ]
  for (const route of withChains) {
    lines.push('')
    lines.push(
      `${route.route} — ${plural(route.requests, 'request')}, median ${ms(route.medianMs)}; ` +
        `Promise.all would save ${ms(route.savedMs.median)} a request (median), ${ms(route.savedMs.total)} in all`,
    )
    route.chains.forEach((chain, i) => lines.push(...chainLines(chain, i)))
    if (route.droppedChains > 0)
      lines.push(`  (${plural(route.droppedChains, 'more chain')} not kept)`)
    if (route.truncated > 0)
      lines.push(
        `  (${plural(route.truncated, 'request')} made more calls than maxCallsPerRequest: the rest were not recorded)`,
      )
  }
  const quiet = report.routes.length - withChains.length
  if (quiet > 0) {
    lines.push('')
    lines.push(
      `No waterfall in ${plural(quiet, 'other route')}: ${report.routes
        .filter((r) => r.chains.length === 0)
        .slice(0, 8)
        .map((r) => r.route)
        .join(', ')}${quiet > 8 ? ', …' : ''}`,
    )
  }
  const u = report.untracked
  if (u.requests + u.calls + u.routes > 0) {
    lines.push('')
    lines.push(
      `Not analysed (bounds): ${plural(u.requests, 'request')}, ${plural(u.calls, 'call')}, ${plural(u.routes, 'route')}.`,
    )
  }
  return lines.join('\n')
}

/**
 * `profile()`: listens to undici's and node:http's diagnostics channels, groups the outbound calls
 * by the unit of work they were made in (an incoming request, or a `run()`), and when a unit ends
 * finds its waterfalls (chains.ts) and adds them to per-route tallies (routes.ts). A unit's calls
 * are dropped once analysed, so what the profiler holds stays bounded however long it runs.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import { InvalidArgumentError } from '../core/errors.js'
import { show } from '../core/validate.js'
import { OutboundCall, type CallStart } from './call.js'
import { findChains } from './chains.js'
import { listenToNodeHttp } from './http-channels.js'
import { routeOf } from './normalise.js'
import { readProfileOptions, type ProfileOptions, type ResolvedOptions } from './options.js'
import type { ProfileReport } from './report.js'
import { RouteTable } from './routes.js'
import { quietly, type CallSink } from './sink.js'
import { callSite } from './stack.js'
import { addRequestHeaderTokens, addUrlTokens } from './tokens.js'
import { listenToUndici } from './undici-channels.js'

export interface Profiler {
  /** Runs `fn` as one unit of work named `label` (a job, a message, a script step), for this profiler. */
  run<T>(label: string, fn: () => T): T
  /** What the profile found so far. */
  report(): ProfileReport
  /** Unsubscribes from every channel; `report()` still answers, with what was found until now. */
  stop(): void
  readonly stopped: boolean
}

/** The route of calls made outside any request, when `unscoped` is `'group'`. */
export const UNSCOPED = '(outside a request)'

class Unit {
  readonly calls: OutboundCall[] = []
  truncated = false
  closed = false
  constructor(
    readonly route: string,
    readonly startedAt: number,
    readonly known: Set<number>,
  ) {}
}

/**
 * Calls held at once across the units in progress (a unit's calls are dropped when it is
 * analysed): beyond it, new calls are counted, not recorded.
 */
export const MAX_HELD_CALLS = 10_000

/** Entered for a request beyond `maxRequests`: its calls are not recorded, nor taken as unscoped. */
const UNTRACKED = new Unit('', 0, new Set())

const active = new Set<ProfilerImpl>()

function checkRun(where: string, label: unknown, fn: unknown): void {
  if (typeof label !== 'string' || label.trim() === '')
    throw new InvalidArgumentError(
      `${where}: \`label\` must be a non-empty string, got ${show(label)}.`,
    )
  if (typeof fn !== 'function')
    throw new InvalidArgumentError(`${where}: \`fn\` must be a function, got ${show(fn)}.`)
}

class ProfilerImpl implements Profiler, CallSink {
  readonly #options: ResolvedOptions
  readonly #als = new AsyncLocalStorage<Unit>()
  readonly #table: RouteTable
  readonly #units = new WeakMap<ServerResponse, Unit>()
  readonly #cwd = process.cwd()
  readonly #startedAt = performance.now()
  #stoppedAt: number | undefined
  #open = 0
  #held = 0
  #unscoped: Unit | undefined
  #droppedRequests = 0
  #droppedCalls = 0
  #unsubscribe: (() => void)[]

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.#table = new RouteTable(options.maxRoutes)
    this.#unsubscribe = [listenToUndici(this), listenToNodeHttp(this)]
    active.add(this)
  }

  get stopped(): boolean {
    return this.#stoppedAt !== undefined
  }

  begin(start: CallStart): OutboundCall | undefined {
    let unit = this.#als.getStore()
    if (unit === UNTRACKED) return undefined
    if (unit === undefined) {
      if (this.#options.unscoped === 'ignore') return undefined
      unit = this.#unscopedUnit()
    }
    if (unit.closed) return undefined
    if (unit.calls.length >= this.#options.maxCallsPerRequest && unit === this.#unscoped)
      unit = this.#flushUnscoped(true)
    if (unit.calls.length >= this.#options.maxCallsPerRequest || this.#held >= MAX_HELD_CALLS) {
      unit.truncated = true
      this.#droppedCalls++
      return undefined
    }
    // The profiler's own work (the stack, the gate) comes before the call's clock starts: a
    // duration is the call's, not the call's plus the profiler's.
    const location = callSite(this.#cwd)
    let gate = false
    try {
      const { origin, pathname } = start.url
      gate = this.#options.gate({ method: start.method.toUpperCase(), origin, path: pathname })
    } catch {
      // A throwing `gate` makes no call a gate; the profiler must never break the application.
    }
    const call = new OutboundCall(start, performance.now(), this.#options.maxBodyBytes)
    call.gate = gate
    call.location = location
    unit.calls.push(call)
    this.#held++
    return call
  }

  serverStart(request: IncomingMessage, response: ServerResponse): void {
    const unit = this.#open_(routeOf(request.method ?? 'GET', request.url ?? '/'), () => {
      const known = new Set<number>()
      try {
        addUrlTokens(known, new URL(request.url ?? '/', 'http://incoming.invalid'))
      } catch {
        // A request line that is no URL: no tokens from it.
      }
      addRequestHeaderTokens(
        known,
        Object.entries(request.headers).map(([k, v]): [string, string] => [k, String(v)]),
      )
      return known
    })
    // The request's handler runs in the rest of this synchronous turn, and all it starts.
    this.#als.enterWith(unit)
    if (unit === UNTRACKED) return
    this.#units.set(response, unit)
    response.once('close', () => quietly(() => this.#close(unit)))
  }

  serverEnd(response: ServerResponse): void {
    const unit = this.#units.get(response)
    if (unit !== undefined) this.#close(unit)
  }

  run<T>(label: string, fn: () => T): T {
    checkRun('profiler.run()', label, fn)
    const unit = this.#open_(label, () => new Set())
    const result = this.#als.run(unit, fn)
    if (unit === UNTRACKED) return result
    const then = (result as { then?: unknown } | null)?.then
    if (typeof then === 'function')
      (then as (ok: () => void, failed: () => void) => unknown).call(
        result,
        () => quietly(() => this.#close(unit)),
        () => quietly(() => this.#close(unit)),
      )
    else this.#close(unit)
    return result
  }

  /** A new unit of work, or UNTRACKED beyond the bound (or once stopped). */
  #open_(route: string, known: () => Set<number>): Unit {
    if (this.stopped) return UNTRACKED
    if (this.#open >= this.#options.maxRequests) {
      this.#droppedRequests++
      return UNTRACKED
    }
    this.#open++
    return new Unit(route, performance.now(), known())
  }

  #close(unit: Unit): void {
    if (unit.closed) return
    unit.closed = true
    this.#open--
    this.#held -= unit.calls.length
    if (this.stopped) return
    this.#analyse(unit, unit.calls, performance.now() - unit.startedAt)
  }

  #analyse(unit: Unit, calls: readonly OutboundCall[], durationMs: number): void {
    const chains = findChains(calls, unit.known)
    const summary = {
      route: unit.route,
      durationMs,
      calls: calls.length,
      truncated: unit.truncated,
    }
    if (!this.#table.add(summary, chains)) this.#droppedCalls += calls.length
  }

  #unscopedUnit(): Unit {
    this.#unscoped ??= new Unit(UNSCOPED, performance.now(), new Set())
    return this.#unscoped
  }

  /**
   * Analyses the unscoped calls that ended, as one unit; calls still in flight go on in a fresh
   * unit (a chain across the cut is not seen). Returns the fresh unit.
   */
  #flushUnscoped(full: boolean): Unit {
    const unit = this.#unscopedUnit()
    const ended = unit.calls.filter((c) => c.ended)
    const next = new Unit(UNSCOPED, performance.now(), new Set())
    next.calls.push(...unit.calls.filter((c) => !c.ended))
    // A window whose every call is still in flight cannot be cut: later calls are not recorded.
    if (full && ended.length === 0) {
      unit.truncated = true
      return unit
    }
    this.#unscoped = next
    this.#held -= ended.length
    if (ended.length > 0) {
      const last = Math.max(...ended.map((c) => c.endedAt!))
      this.#analyse(unit, ended, last - Math.min(...ended.map((c) => c.startedAt)))
    }
    return next
  }

  report(): ProfileReport {
    if (!this.stopped && this.#unscoped !== undefined) this.#flushUnscoped(false)
    return {
      durationMs: Math.round((this.#stoppedAt ?? performance.now()) - this.#startedAt),
      requests: this.#table.requests,
      calls: this.#table.calls,
      untracked: {
        requests: this.#droppedRequests + this.#table.droppedRequests,
        calls: this.#droppedCalls,
        routes: this.#table.droppedRoutes.size,
      },
      routes: this.#table.routes(),
    }
  }

  stop(): void {
    if (this.stopped) return
    if (this.#unscoped !== undefined) this.#flushUnscoped(false)
    this.#stoppedAt = performance.now()
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
    this.#unsubscribe = []
    active.delete(this)
  }
}

/**
 * Starts a profiler: from now until `stop()`, every outbound HTTP call made through undici,
 * `fetch` or `node:http` is recorded in the unit of work it was made in, and each unit is
 * analysed for waterfalls when it ends.
 */
export function profile(options?: ProfileOptions): Profiler {
  return new ProfilerImpl(readProfileOptions(options))
}

/**
 * Runs `fn` as one unit of work named `label` for every profiler running — an entry point that
 * is not an HTTP request (a queue consumer, a cron job, a CLI step). With no profiler running it
 * just calls `fn`.
 */
export function withRequest<T>(label: string, fn: () => T): T {
  checkRun('withRequest()', label, fn)
  let run = fn
  for (const profiler of active) {
    const inner = run
    run = () => profiler.run(label, inner)
  }
  return run()
}

profile.run = withRequest

/**
 * `circuitBreaker()`: stops calling an upstream that keeps failing, and lets one trial call
 * through from time to time to find out whether it has recovered.
 *
 * Invariants:
 * - while `open`, no call reaches `next`: each one rejects at once with a `CircuitOpenError`
 *   saying when a trial call will be let through;
 * - while `halfOpen`, at most one call (the probe) is in flight; every other call fails fast;
 * - only the outcome of a call admitted in the current state moves the breaker: a call that was
 *   let through before a transition and settles after it changes nothing;
 * - an abort by the caller, and an error `isFailure` rejects, count as neither success nor
 *   failure;
 * - memory is constant (a counter, or a fixed ring of time buckets), and the breaker sets no
 *   timer: every transition happens during a call, on the time of that call's `ctx.clock`.
 */
import { invoke, type Call, type CallContext, type Policy } from '../core/call.js'
import { CircuitOpenError, InvalidOptionError, isFanoutError } from '../core/errors.js'
import type { CircuitState } from '../core/trace.js'
import {
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  show,
  snapshot,
  checkName,
} from '../core/validate.js'
import { statusOf } from './classify.js'

interface CommonOptions {
  /** Shown in the policy name, in `CircuitOpenError` and in `circuit.changed` events. Default "circuit". */
  readonly name?: string
  /** Ms the breaker stays open before it lets a probe through. 1–86 400 000, default 30 000. */
  readonly halfOpenAfter?: number
  /**
   * Whether an error counts against the upstream. Default: every error except a `DeadlineError`
   * and one carrying a 4xx status (`status`, `statusCode` or `response.status`) other than 408 and 429. Errors it rejects
   * count as neither success nor failure. An error raised after the caller aborted is never
   * counted, whatever this says.
   */
  readonly isFailure?: (error: unknown) => boolean
}

/** Trip after `consecutive` failures in a row (a success resets the count). */
export interface ConsecutiveBreakerOptions extends CommonOptions {
  /** Failures in a row that open the circuit. Integer 1–1000, default 5. */
  readonly consecutive?: number
  readonly ratio?: never
  readonly minThroughput?: never
  readonly window?: never
}

/** Trip when, over the last `window` ms, enough calls were made and enough of them failed. */
export interface RatioBreakerOptions extends CommonOptions {
  /** Share of failed calls that opens the circuit: more than 0, at most 1 (0.5 = half). */
  readonly ratio: number
  /** Calls the window must hold before the ratio is judged. Integer 1–1 000 000, default 20. */
  readonly minThroughput?: number
  /** Length of the sliding window in ms. 1000–3 600 000, default 10 000. */
  readonly window?: number
  readonly consecutive?: never
}

export type CircuitBreakerOptions = ConsecutiveBreakerOptions | RatioBreakerOptions

/** The breaker's state, what the trip rule currently sees, and counts since creation. */
export type CircuitBreakerStats = {
  readonly kind: 'circuitBreaker'
  /** The `name` option (default "circuit"). */
  readonly name: string
  readonly state: CircuitState
  /** While open: the time on the clock of the call that opened it when a probe will be let through. */
  readonly retryAt?: number
  /** Times the breaker opened (from closed, or again after a failed probe). */
  readonly opened: number
  /** State changes of any kind. */
  readonly transitions: number
  /** Calls failed fast with a `CircuitOpenError` (open, or half-open with the probe out). */
  readonly rejected: number
} & (
  | { readonly strategy: 'consecutive'; readonly consecutiveFailures: number }
  | {
      readonly strategy: 'ratio'
      /** Successes and failures in the window, as of the last call the breaker saw. */
      readonly calls: number
      readonly failures: number
    }
)

export interface CircuitBreaker extends Policy {
  /**
   * The current state. Transitions happen during calls (the breaker has no timer), so after
   * `halfOpenAfter` this still reads `'open'` until the next call arrives and becomes the probe.
   */
  readonly state: CircuitState
  /** A snapshot for a health endpoint or `prometheusText()`. */
  stats(): CircuitBreakerStats
}

const WHERE = 'circuitBreaker()'
const KNOWN = [
  'name',
  'consecutive',
  'ratio',
  'minThroughput',
  'window',
  'halfOpenAfter',
  'isFailure',
] as const
/** The window is kept as this many buckets of `window / BUCKETS` ms each. */
const BUCKETS = 10

/**
 * A circuit breaker: a stateful policy meant to be shared by every call to one upstream (create
 * it once, use it in as many pipelines and flows as you like; they all count together).
 *
 * Closed, it lets calls through and counts failures. When the trip rule fires it opens: calls
 * fail at once with a `CircuitOpenError` without reaching the upstream. After `halfOpenAfter` ms
 * the next call goes through as a probe while the others keep failing fast; if the probe
 * succeeds the circuit closes (counters reset), if it fails it opens for another
 * `halfOpenAfter`.
 *
 * Put `timeout()` after (inside) the breaker: timeouts inside it count as failures, and a probe
 * that never settles would keep the circuit half-open. An abort by the caller (including a
 * deadline or a timeout outside the breaker) is not counted.
 *
 * @example
 * const payments = circuitBreaker({ name: 'payments', ratio: 0.5, minThroughput: 20, window: 10_000 })
 * const charge = pipe(payments, timeout(2_000)).wrap(({ signal }) => fetch(url, { method: 'POST', signal }))
 * try {
 *   await execute(charge)
 * } catch (error) {
 *   if (error instanceof CircuitOpenError) console.log(`payments down, retry in ${error.retryAfterMs} ms`)
 *   throw error
 * }
 */
export function circuitBreaker(options?: CircuitBreakerOptions): CircuitBreaker {
  const settings = parseBreakerOptions(options)
  const breaker = new Breaker(settings)
  return {
    name: `circuitBreaker(${settings.name})`,
    get state() {
      return breaker.state
    },
    stats: () => breaker.stats(),
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return (ctx) => breaker.run(next, ctx)
    },
  }
}

interface BreakerSettings {
  readonly name: string
  readonly halfOpenAfter: number
  readonly isFailure: (error: unknown) => boolean
  readonly rule: TripRule
}

function parseBreakerOptions(options: CircuitBreakerOptions | undefined): BreakerSettings {
  const opts = snapshot(WHERE, options) as Partial<Record<(typeof KNOWN)[number], unknown>>
  checkKnownKeys(WHERE, opts, KNOWN)
  const name = opts.name === undefined ? 'circuit' : checkName(WHERE, opts.name)
  if (opts.consecutive !== undefined && opts.ratio !== undefined) {
    throw new InvalidOptionError(
      `${WHERE}: \`consecutive\` and \`ratio\` are two different trip rules: pass one or the other, not both (got consecutive: ${show(opts.consecutive)}, ratio: ${show(opts.ratio)}).`,
    )
  }
  if (opts.ratio === undefined) {
    for (const key of ['minThroughput', 'window'] as const) {
      if (opts[key] !== undefined) {
        throw new InvalidOptionError(
          `${WHERE}: \`${key}\` only applies to the ratio rule: add \`ratio\` (e.g. ratio: 0.5) or remove \`${key}\`.`,
        )
      }
    }
  }
  const halfOpenAfter =
    opts.halfOpenAfter === undefined
      ? 30_000
      : checkDuration(WHERE, 'halfOpenAfter', opts.halfOpenAfter, { max: 86_400_000 })
  const isFailure =
    opts.isFailure === undefined
      ? isUpstreamFailure
      : checkFunction<(error: unknown) => boolean>(
          WHERE,
          'isFailure',
          opts.isFailure,
          '(error) => boolean',
        )
  return { name, halfOpenAfter, isFailure, rule: tripRule(opts) }
}

function tripRule(opts: Partial<Record<(typeof KNOWN)[number], unknown>>): TripRule {
  if (opts.ratio === undefined)
    return new ConsecutiveRule(
      opts.consecutive === undefined
        ? 5
        : checkNumber(WHERE, 'consecutive', opts.consecutive, { min: 1, max: 1000, integer: true }),
    )
  return new RatioRule(
    checkRatio(opts.ratio),
    opts.minThroughput === undefined
      ? 20
      : checkNumber(WHERE, 'minThroughput', opts.minThroughput, {
          min: 1,
          max: 1_000_000,
          integer: true,
        }),
    opts.window === undefined
      ? 10_000
      : checkDuration(WHERE, 'window', opts.window, { min: 1_000, max: 3_600_000 }),
  )
}

type Outcome = 'success' | 'failure' | 'ignored'

/** The state machine of one breaker: closed, open until `retryAt`, or half-open with one probe. */
class Breaker {
  state: CircuitState = 'closed'
  readonly #settings: BreakerSettings
  /** Incremented on every transition; a call remembers the generation that admitted it. */
  #generation = 0
  #retryAt = 0
  #probeInFlight = false
  /** The latest clock reading, for `stats()` of the sliding window. */
  #lastSeen = -Infinity
  #opened = 0
  #transitions = 0
  #rejected = 0

  constructor(settings: BreakerSettings) {
    this.#settings = settings
  }

  stats(): CircuitBreakerStats {
    const { state } = this
    const head = { kind: 'circuitBreaker' as const, name: this.#settings.name, state }
    return Object.freeze({
      ...(state === 'open' ? { ...head, retryAt: this.#retryAt } : head),
      opened: this.#opened,
      transitions: this.#transitions,
      rejected: this.#rejected,
      ...this.#settings.rule.stats(this.#lastSeen),
    })
  }

  /** Lets the call through (or fails it fast) and counts how it settled. */
  run<T, C extends CallContext>(next: Call<T, C>, ctx: C): Promise<T> {
    const admitted = this.#admit(ctx)
    if (typeof admitted !== 'number') return Promise.reject(admitted)
    const settle = (outcome: Outcome): void => this.#settle(ctx, admitted, outcome)
    return invoke(() => next(ctx)).then(
      (value) => {
        settle('success')
        return value
      },
      (error: unknown) => {
        if (ctx.signal.aborted) {
          settle('ignored')
          throw error
        }
        let failed: boolean
        try {
          failed = Boolean(this.#settings.isFailure(error))
        } catch (bug) {
          // A broken predicate is the caller's bug: surface it, and count the call as failed.
          settle('failure')
          throw bug
        }
        settle(failed ? 'failure' : 'ignored')
        throw error
      },
    )
  }

  #transition(ctx: CallContext, to: CircuitState, at: number): void {
    const from = this.state
    this.state = to
    this.#generation++
    this.#transitions++
    if (to === 'open') this.#opened++
    if (to === 'open') this.#retryAt = at + this.#settings.halfOpenAfter
    if (to === 'closed') this.#settings.rule.reset()
    if (ctx.trace.enabled)
      ctx.trace.emit({
        type: 'circuit.changed',
        task: ctx.task,
        at,
        breaker: this.#settings.name,
        from,
        to,
      })
  }

  /** Admits the call (returns its generation) or returns the error to fail fast with. */
  #admit(ctx: CallContext): number | CircuitOpenError {
    const at = ctx.clock.now()
    const { name } = this.#settings
    this.#lastSeen = Math.max(this.#lastSeen, at)
    if (this.state === 'open') {
      if (at < this.#retryAt) {
        this.#rejected++
        return new CircuitOpenError(name, this.#retryAt, this.#retryAt - at)
      }
      this.#transition(ctx, 'halfOpen', at)
    }
    if (this.state === 'halfOpen') {
      // The probe's outcome decides what happens next: there is no later time to name.
      if (this.#probeInFlight) {
        this.#rejected++
        return new CircuitOpenError(name, at, 0)
      }
      this.#probeInFlight = true
    }
    return this.#generation
  }

  #settle(ctx: CallContext, admitted: number, outcome: Outcome): void {
    if (admitted !== this.#generation) return
    const at = ctx.clock.now()
    this.#lastSeen = Math.max(this.#lastSeen, at)
    if (this.state === 'halfOpen') {
      this.#probeInFlight = false
      if (outcome === 'success') this.#transition(ctx, 'closed', at)
      else if (outcome === 'failure') this.#transition(ctx, 'open', at)
    } else if (this.state === 'closed' && outcome !== 'ignored') {
      if (this.#settings.rule.record(at, outcome === 'failure')) this.#transition(ctx, 'open', at)
    }
  }
}

/**
 * The default `isFailure`: a client error (4xx other than 408 Request Timeout and 429 Too Many
 * Requests) says the request was wrong, not that the upstream is unhealthy; a `DeadlineError`
 * says the caller's overall time budget ran out (a `timeout()` inside the breaker throws one
 * when the deadline, not its own limit, cut the call short), which is the caller's doing too.
 */
function isUpstreamFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true
  if (isFanoutError(error, 'FANOUT_DEADLINE')) return false
  const status = statusOf(error)
  if (status === undefined || status < 400 || status > 499) return true
  return status === 408 || status === 429
}

function checkRatio(value: unknown): number {
  const range = 'a number greater than 0 and at most 1 (the share of calls that failed: 0.5 = half)'
  if (typeof value !== 'number' || Number.isNaN(value) || !(value > 0 && value <= 1)) {
    const hint =
      typeof value === 'number' && value > 1 && value <= 100
        ? ` For ${value}% pass ${value / 100}.`
        : typeof value === 'string'
          ? ' Pass a number, not a string.'
          : value === 0
            ? ' A ratio of 0 would trip on no failure at all.'
            : ''
    throw new InvalidOptionError(`${WHERE}: \`ratio\` must be ${range}, got ${show(value)}.${hint}`)
  }
  return value
}

interface TripRule {
  /** Counts one outcome at time `at`; true when the circuit should open. */
  record(at: number, failed: boolean): boolean
  reset(): void
  stats(
    at: number,
  ):
    | { strategy: 'consecutive'; consecutiveFailures: number }
    | { strategy: 'ratio'; calls: number; failures: number }
}

class ConsecutiveRule implements TripRule {
  private failures = 0
  constructor(private readonly limit: number) {}
  record(_at: number, failed: boolean): boolean {
    this.failures = failed ? this.failures + 1 : 0
    return this.failures >= this.limit
  }
  reset(): void {
    this.failures = 0
  }
  stats() {
    return { strategy: 'consecutive' as const, consecutiveFailures: this.failures }
  }
}

/**
 * The sliding window as a ring of `BUCKETS` buckets of `window / BUCKETS` ms, keyed by
 * `floor(time / bucketMs)`. The window is the current bucket and the `BUCKETS - 1` before it, so
 * an outcome stops counting between 0.9 × window and 1 × window after it happened. The ratio is
 * judged when a failure is recorded (a success never trips the circuit).
 */
class RatioRule implements TripRule {
  private readonly bucketMs: number
  private readonly keys = new Float64Array(BUCKETS).fill(-Infinity)
  private readonly calls = new Uint32Array(BUCKETS)
  private readonly failures = new Uint32Array(BUCKETS)

  constructor(
    private readonly ratio: number,
    private readonly minThroughput: number,
    window: number,
  ) {
    this.bucketMs = window / BUCKETS
  }

  record(at: number, failed: boolean): boolean {
    const key = Math.floor(at / this.bucketMs)
    const slot = ((key % BUCKETS) + BUCKETS) % BUCKETS
    if (this.keys[slot] !== key) {
      this.keys[slot] = key
      this.calls[slot] = 0
      this.failures[slot] = 0
    }
    this.calls[slot]! += 1
    if (!failed) return false
    this.failures[slot]! += 1
    const { calls, failures } = this.totals(at)
    return calls >= this.minThroughput && failures / calls >= this.ratio
  }

  reset(): void {
    this.keys.fill(-Infinity)
    this.calls.fill(0)
    this.failures.fill(0)
  }

  stats(at: number) {
    return { strategy: 'ratio' as const, ...this.totals(at) }
  }

  private totals(at: number): { calls: number; failures: number } {
    const oldest = Math.floor(at / this.bucketMs) - BUCKETS + 1
    let calls = 0
    let failures = 0
    for (let i = 0; i < BUCKETS; i++) {
      if (this.keys[i]! < oldest) continue
      calls += this.calls[i]!
      failures += this.failures[i]!
    }
    return { calls, failures }
  }
}

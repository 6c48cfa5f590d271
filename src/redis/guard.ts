/**
 * `StoreGuard`: every Redis operation a store makes goes through one, so a slow, partitioned or
 * dead Redis costs a call at most `timeout` ms (default clients wait 5 s to 73 s, E3/E14), and a
 * Redis that keeps failing is not asked again until its breaker lets a probe through (at most one
 * attempt per `halfOpenAfter` while it is down, E1/E4).
 *
 * It is fanout's own `circuitBreaker()` around a timer, applied to the store's call, so the store
 * is one more call with a context, not a special case. The timer is a plain race rather than the
 * `timeout()` policy: a Redis call takes no AbortSignal, and the linked signal `timeout()` makes
 * for each call cost 10–15 µs on Node 20 (signal creation and its garbage), as much as the
 * round trip. What happens instead of
 * the answer (`onStoreError`) is the store's decision: a rate store may fall back to a local
 * share, a cache reads a miss. The guard says which failure it was (`StoreUnavailableError`) or
 * that no fallback may hide it (`StoreError`: a key of the wrong type, a refused command).
 */
import type { CallContext } from '../core/call.js'
import type { Clock } from '../core/clock.js'
import {
  CircuitOpenError,
  StoreError,
  StoreUnavailableError,
  TimeoutError,
  type StoreFailure,
} from '../core/errors.js'
import { raceTimer } from '../core/time-limit.js'
import { noopRecorder, type Recorder } from '../core/trace.js'
import { circuitBreaker, type CircuitBreaker } from '../policies/circuit-breaker.js'
import type { Policy } from '../core/call.js'

/** What a store does when Redis cannot answer (see each store for its default). */
export type OnStoreError = 'local' | 'fail-open' | 'fail-closed'

export interface StoreBreakerOptions {
  /** Failures in a row that open the breaker. Integer 1–1000, default 3. */
  readonly consecutive?: number
  /** Ms the breaker stays open before one probe may go to Redis. 1–86 400 000, default 1000. */
  readonly halfOpenAfter?: number
}

/**
 * Reply errors no fallback should hide: the key holds another type (another application shares
 * the prefix, E12), a cross-slot call on a cluster, a bug in a script, a permission refused.
 * `READONLY` (a demoted primary), `LOADING`, `BUSY`, `OOM`, `TRYAGAIN`, `MOVED`/`ASK` storms and
 * network errors are the store being unavailable: the policy applies.
 */
const PERMANENT = /^(WRONGTYPE|CROSSSLOT|NOPERM|ERR )/

export function isPermanentStoreError(error: unknown): boolean {
  return error instanceof Error && PERMANENT.test(error.message)
}

/** The client error's code or name, for events (never its message). */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') return code
  const word = /^[A-Z]+\b/.exec(error.message)?.[0]
  return word ?? error.name
}

/** The signal of every guarded call: nothing aborts a store call from outside. */
const NEVER = new AbortController().signal

/**
 * Rejects with `TimeoutError` when the call has not settled within `ms` on `ctx.clock`; the call
 * itself runs on (a Redis command cannot be withdrawn) and its late outcome is ignored.
 */
function raceTimeout(ms: number): Policy {
  return {
    name: `timeout(${ms})`,
    wrap: (next) => (ctx) =>
      raceTimer(
        ctx.clock,
        ms,
        () => new TimeoutError(`"${ctx.task}" timed out after ${ms} ms`, ms),
        () => next(ctx),
      ),
  }
}

export class StoreGuard {
  readonly #policies: Policy
  readonly #breaker: CircuitBreaker | undefined
  /** Whether the last operation failed, for `store.recovered`. */
  #failing = false

  constructor(
    readonly name: string,
    readonly timeoutMs: number,
    breaker: Required<StoreBreakerOptions> | false,
    readonly clock: Clock,
    readonly recorder: Recorder = noopRecorder,
  ) {
    this.#breaker =
      breaker === false
        ? undefined
        : circuitBreaker({
            name: `${name} store`,
            consecutive: breaker.consecutive,
            halfOpenAfter: breaker.halfOpenAfter,
            // A misconfiguration is not an outage: it must not open the breaker.
            isFailure: (error) => !(error instanceof StoreError),
          })
    const time = raceTimeout(timeoutMs)
    this.#policies =
      this.#breaker === undefined
        ? time
        : { name: 'store', wrap: (next) => this.#breaker!.wrap(time.wrap(next)) }
  }

  /** The breaker's state (`closed` when there is none). */
  get state(): 'closed' | 'open' | 'halfOpen' {
    return this.#breaker?.state ?? 'closed'
  }

  /**
   * Runs `work` (one Redis round trip) within the timeout and behind the breaker. Rejects with
   * `StoreUnavailableError` when Redis did not answer in time, failed or is given a rest by the
   * breaker, and with `StoreError` when its answer is an error no fallback may hide.
   */
  async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const ctx: CallContext = {
      signal: NEVER,
      deadlineAt: Infinity,
      attempt: 1,
      task: `${this.name} ${operation}`,
      clock: this.clock,
      trace: noopRecorder,
    }
    try {
      const result = await this.#policies.wrap(async () => {
        try {
          return await work()
        } catch (error) {
          if (isPermanentStoreError(error))
            throw new StoreError(
              this.name,
              operation,
              `Store "${this.name}": Redis refused ${operation}: ${errorCode(error)} (a key under the store's prefix holds another kind of value, or the server refuses the command; check the prefix and the server)`,
              { cause: error },
            )
          throw error
        }
      })(ctx)
      if (this.#failing) {
        this.#failing = false
        if (this.recorder.enabled)
          this.recorder.emit({
            type: 'store.recovered',
            task: this.name,
            at: this.clock.now(),
            store: this.name,
          })
      }
      return result
    } catch (error) {
      if (error instanceof StoreError) throw error
      this.#failing = true
      throw this.#unavailable(operation, error)
    }
  }

  #unavailable(operation: string, error: unknown): StoreUnavailableError {
    const reason: StoreFailure =
      error instanceof CircuitOpenError
        ? 'circuit-open'
        : error instanceof TimeoutError
          ? 'timeout'
          : 'error'
    const why =
      reason === 'circuit-open'
        ? `Redis failed repeatedly and is given a rest (next try in ${Math.ceil((error as CircuitOpenError).retryAfterMs)} ms)`
        : reason === 'timeout'
          ? `Redis did not answer within ${this.timeoutMs} ms`
          : `Redis failed (${errorCode(error) ?? 'unknown error'})`
    return new StoreUnavailableError(
      this.name,
      operation,
      reason,
      `Store "${this.name}": ${operation} failed: ${why}`,
      { cause: error },
    )
  }

  /** Reports that the store followed `policy` after `error` (a `store.failed` event). */
  reportFallback(error: StoreUnavailableError, policy: OnStoreError | 'miss'): void {
    if (!this.recorder.enabled) return
    const code = errorCode(error.cause)
    this.recorder.emit({
      type: 'store.failed',
      task: this.name,
      at: this.clock.now(),
      store: this.name,
      operation: error.operation,
      reason: error.reason,
      policy,
      ...(code === undefined ? {} : { code }),
    })
  }
}

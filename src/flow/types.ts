/** Public types of flows: what a task receives and returns, and what a run resolves with. */
import type { CallContext, Policy } from '../core/call.js'
import type { Clock } from '../core/clock.js'
import type { RetryOptions } from '../policies/retry.js'
import type { HedgeOptions } from '../policies/hedge.js'
import type { TraceEvent } from '../core/trace.js'
import type { FlowTrace } from './trace.js'

/** `$`: every earlier task's result, as a promise. Awaiting one waits for that task only. */
export type Deps<R> = { readonly [K in keyof R]: Promise<R[K]> }

/** The second argument of a task: the call context plus the run's input and `exit`. */
export interface TaskContext<Input = void, Exit = never> extends CallContext {
  /** The value passed to `run(input)`. */
  readonly input: Input
  /**
   * Ends the whole flow now: `run()` resolves with a `FlowExit` carrying `value`, every other task
   * is aborted and no new task starts. Throws, so code after it does not run.
   */
  exit(value: Exit): never
}

export type TaskFn<R, Input, Exit, T> = (
  $: Deps<R>,
  ctx: TaskContext<Input, Exit>,
) => T | PromiseLike<T>

export interface TaskOptions<Name extends PropertyKey = string> {
  /** Tasks that must finish before this one starts, although it does not read their results. */
  readonly after?: readonly Name[]
  /** Time limit in ms for this task; on expiry its signal aborts and it fails with `TimeoutError`. */
  readonly timeout?: number
  /**
   * Retries on transient failures (`true` for the defaults: 3 attempts, full jitter, Retry-After
   * honoured, a retry budget per task definition). The `timeout` then applies to each attempt.
   */
  readonly retry?: boolean | RetryOptions
  /** A shared `circuitBreaker()`; it sits inside `retry`, so every attempt counts. */
  readonly circuitBreaker?: Policy
  /** Hedged attempts for idempotent calls (see `hedge()`); each attempt gets the `timeout`. */
  readonly hedge?: HedgeOptions
  /** Policies wrapped around the task's function, first listed = outermost, outside `retry` and `timeout`. */
  readonly policies?: readonly Policy[]
}

export interface OptionalTaskOptions<Name extends PropertyKey, F> extends TaskOptions<Name> {
  /**
   * Makes the task optional: if it fails, this value (or the function's result, called with the
   * error) takes its place, dependants receive it, and the failure is recorded in the trace.
   */
  readonly fallback: F | ((error: unknown) => F)
}

/** What `run()` resolves with when a task called `ctx.exit(value)`. */
export class FlowExit<E> {
  constructor(
    /** The task that exited. */
    readonly task: string,
    readonly value: E,
  ) {}
}

export function isExit(value: unknown): value is FlowExit<unknown> {
  return value instanceof FlowExit
}

/** `run()`'s result: the record of task results, or a `FlowExit` if the flow can exit early. */
export type RunResult<R, Exit> = [Exit] extends [never] ? R : R | FlowExit<Exit>

/** One task's outcome in `settle()`, shaped like `Promise.allSettled`'s. */
export type Outcome<T> =
  | { readonly status: 'fulfilled'; readonly value: T }
  | { readonly status: 'rejected'; readonly reason: unknown }

export type Outcomes<R> = { readonly [K in keyof R]: Outcome<R[K]> }

export type SettleResult<R, Exit> = [Exit] extends [never]
  ? Outcomes<R>
  : Outcomes<R> | FlowExit<Exit>

export interface RunOptions {
  /** Cancels the run: running tasks' signals fire and the run rejects with `signal.reason`. */
  readonly signal?: AbortSignal
  /** The whole run must finish within this many ms, queue waits and retries included. */
  readonly deadline?: number
  /** Absolute deadline on `clock` (e.g. inherited from an outer call's `ctx.deadlineAt`). */
  readonly deadlineAt?: number
  /** Source of time; defaults to the flow's clock, which defaults to the system clock. */
  readonly clock?: Clock
  /** Receives the run's trace when it ends, whatever the outcome. Tracing is off without it. */
  readonly onTrace?: (trace: FlowTrace) => void
  /**
   * The run's one observation hook: every event as it happens — the tasks' (`task.started`,
   * `task.settled`), the policies', and those of the caches, loaders and HTTP requests a task
   * passes its `ctx` to — each tagged with the task it belongs to. A listener that throws is
   * ignored. (`onTrace` is the summary at the end: the same policy events, plus the waits.)
   */
  readonly onEvent?: (event: TraceEvent) => void
}

/** `run(input?, options?)` when the flow takes no input, `run(input, options?)` otherwise. */
export type RunArgs<Input> = [Input] extends [void]
  ? [input?: Input, options?: RunOptions]
  : [input: Input, options?: RunOptions]

/** The static shape of a flow, available without running it. */
export interface FlowDescription {
  readonly name: string
  readonly tasks: readonly TaskDescription[]
}

export interface TaskDescription {
  readonly name: string
  readonly gate: boolean
  readonly optional: boolean
  /** Declared ordering edges. Gates are implicit: every non-gate task waits for every gate. */
  readonly after: readonly string[]
  readonly timeout: number | undefined
  /** Policy names, outermost first. */
  readonly policies: readonly string[]
}

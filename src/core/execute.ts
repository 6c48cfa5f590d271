/**
 * Running a call outside a flow: builds the context (signal, deadline, clock, trace) that a flow
 * would give a task, enforces the deadline, and releases its timer and listeners when done.
 */
import type { Call } from './call.js'
import { systemClock, type Clock } from './clock.js'
import { runChannel, subscribed, traced } from './diagnostics.js'
import { DeadlineError, InvalidOptionError } from './errors.js'
import { inheritRequest, type Inheritable } from './inherit.js'
import { withTimeLimit } from './time-limit.js'
import type { Recorder, TraceEvent } from './trace.js'
import { recorderFor } from './trace.js'
import {
  checkFunction,
  checkKnownKeys,
  checkName,
  checkTimeOptions,
  show,
  snapshot,
} from './validate.js'

export interface ExecuteOptions {
  /** Cancels the call; it rejects with `signal.reason`. */
  readonly signal?: AbortSignal
  /** Everything (every attempt, every wait) must finish within this many ms. */
  readonly deadline?: number
  /** Absolute deadline on `clock`, e.g. an outer call's `ctx.deadlineAt`. */
  readonly deadlineAt?: number
  readonly clock?: Clock
  /** Name used in events and error messages. Default "call". */
  readonly name?: string
  /** Receives every event the policies emit (attempts, retries, circuit changes, hedges). */
  readonly onEvent?: (event: TraceEvent) => void
}

const KNOWN = ['signal', 'deadline', 'deadlineAt', 'clock', 'name', 'onEvent'] as const

/**
 * Runs `call` with a fresh context.
 *
 * @example
 * const getUser = pipe(retry(), timeout(500)).wrap(({ signal }) => fetch(url, { signal }).then((r) => r.json()))
 * const user = await execute(getUser, { deadline: 2_000, signal: request.signal })
 */
export function execute<T>(call: Call<T>, options?: ExecuteOptions): Promise<T> {
  const opts = snapshot('execute()', options)
  checkKnownKeys('execute()', opts, KNOWN)
  if (typeof call !== 'function')
    throw new InvalidOptionError(`execute(): expected a call (ctx) => Promise, got ${show(call)}.`)
  checkTimeOptions('execute()', opts)
  const clock = opts.clock ?? systemClock
  const name = opts.name === undefined ? 'call' : checkName('execute()', opts.name)
  const onEvent =
    opts.onEvent === undefined
      ? undefined
      : checkFunction<(event: TraceEvent) => void>(
          'execute()',
          'onEvent',
          opts.onEvent,
          '(event) => void',
        )
  // Inside a request context the call follows the request too (inherit.ts).
  const { options: inherited, release } = inheritRequest(
    { signal: opts.signal, deadlineAt: opts.deadlineAt, onEvent },
    clock,
  )
  const started = startCall(call, name, clock, inherited, opts.deadline)
  return release === undefined ? started : started.finally(release)
}

function startCall<T>(
  call: Call<T>,
  name: string,
  clock: Clock,
  opts: Inheritable,
  deadline: number | undefined,
): Promise<T> {
  const onEvent = opts.onEvent
  const start = clock.now()
  let deadlineAt = opts.deadlineAt ?? Infinity
  if (deadline !== undefined) deadlineAt = Math.min(deadlineAt, start + deadline)
  if (opts.signal?.aborted) return Promise.reject(opts.signal.reason)
  if (deadlineAt <= start)
    return Promise.reject(new DeadlineError(`"${name}": the deadline had already passed`, 0))

  const trace: Recorder = recorderFor(onEvent)
  const ms = deadlineAt - start
  const run = (): Promise<T> =>
    withTimeLimit(
      clock,
      opts.signal,
      ms,
      () => new DeadlineError(`"${name}" missed its deadline of ${Math.round(ms)} ms`, ms),
      (signal) => call({ signal, deadlineAt, attempt: 1, task: name, clock, trace }),
    )
  return subscribed(runChannel) ? traced(runChannel, { kind: 'call', name }, run) : run()
}

/**
 * Starting a run: the deadline and the caller's signal are checked before any task starts, and a
 * run started inside a request context follows the request as well (core/inherit.ts).
 */
import { systemClock, type Clock } from '../core/clock.js'
import { runChannel, subscribed, traced } from '../core/diagnostics.js'
import { DeadlineError } from '../core/errors.js'
import { inheritRequest } from '../core/inherit.js'
import type { CompiledFlow } from './compiled.js'
import { FlowRun, type Mode } from './run.js'
import type { RunOptions } from './types.js'

export function runFlow(
  flow: CompiledFlow,
  input: unknown,
  asked: RunOptions,
  mode: Mode,
): Promise<unknown> {
  const clock = asked.clock ?? flow.clock ?? systemClock
  // Inside a request context the run follows the request too (core/inherit.ts).
  const { options, release } = inheritRequest(asked, clock)
  if (release !== undefined) return settled(startRun(flow, input, options, mode, clock), release)
  return startRun(flow, input, options, mode, clock)
}

function settled(run: Promise<unknown>, release: () => void): Promise<unknown> {
  return run.finally(release)
}

function startRun(
  flow: CompiledFlow,
  input: unknown,
  options: RunOptions,
  mode: Mode,
  clock: Clock,
): Promise<unknown> {
  const signal = options.signal
  if (signal?.aborted) return Promise.reject(signal.reason)
  const startedAt = clock.now()
  let deadlineAt = options.deadlineAt ?? Infinity
  if (options.deadline !== undefined)
    deadlineAt = Math.min(deadlineAt, startedAt + options.deadline)
  if (deadlineAt <= startedAt) {
    return Promise.reject(
      new DeadlineError(
        `Flow "${flow.name}": the deadline had already passed when the run started`,
        0,
      ),
    )
  }
  const run = (): Promise<unknown> =>
    new FlowRun(flow, input, options, mode, clock, startedAt, deadlineAt).promise
  return subscribed(runChannel) ? traced(runChannel, { kind: 'flow', name: flow.name }, run) : run()
}

/** Errors specific to flows. All are `FanoutError`s with a stable `code`. */
import { FanoutError, describeError } from '../core/errors.js'

export interface TaskFailure {
  readonly task: string
  readonly error: unknown
}

/**
 * A required task failed, so the flow failed. `task` names it, `cause` is what it threw, and
 * `failures` lists every task failure recorded up to that moment (the first entry is this one).
 */
export class FlowError extends FanoutError {
  readonly flow: string
  readonly task: string
  readonly failures: readonly TaskFailure[]
  constructor(
    flow: string,
    task: string,
    cause: unknown,
    failures: readonly TaskFailure[],
    gate: boolean,
  ) {
    const others = failures.filter((f) => f.task !== task)
    super(
      'FANOUT_TASK_FAILED',
      `Flow "${flow}": ${gate ? 'gate' : 'task'} "${task}" failed: ${describeError(cause)}` +
        (gate ? ' (no gated task was started)' : '') +
        (others.length > 0
          ? `; other failures: ${others.map((f) => `"${f.task}" (${describeError(f.error)})`).join(', ')}`
          : ''),
      { cause },
    )
    this.name = 'FlowError'
    this.flow = flow
    this.task = task
    this.failures = failures
  }
}

/** Tasks wait for each other in a circle; the flow would hang forever, so it fails instead. */
export class CycleError extends FanoutError {
  readonly cycle: readonly string[]
  constructor(flow: string, cycle: readonly string[]) {
    super(
      'FANOUT_CYCLE',
      `Flow "${flow}": dependency cycle ${cycle.map((n) => `"${n}"`).join(' → ')}: ` +
        (cycle.length === 2
          ? 'a task cannot read its own result'
          : 'these tasks wait for each other and would never finish'),
    )
    this.name = 'CycleError'
    this.cycle = cycle
  }
}

/** A task read a name that is not a task of the flow. */
export class UnknownTaskError extends FanoutError {
  readonly task: string
  constructor(message: string, task: string) {
    super('FANOUT_UNKNOWN_TASK', message)
    this.name = 'UnknownTaskError'
    this.task = task
  }
}

/** In `settle()`, a task read the result of a task that failed. */
export class DependencyError extends FanoutError {
  readonly dependency: string
  constructor(dependency: string, cause: unknown) {
    super(
      'FANOUT_DEPENDENCY_FAILED',
      `dependency "${dependency}" failed: ${describeError(cause)}`,
      { cause },
    )
    this.name = 'DependencyError'
    this.dependency = dependency
  }
}

/** In `settle()`, a task never started because a gate or an `after` task it waits for failed. */
export class SkippedError extends FanoutError {
  readonly blockedBy: string
  constructor(task: string, blockedBy: string, cause: unknown) {
    super(
      'FANOUT_SKIPPED',
      `"${task}" was not started because "${blockedBy}" failed: ${describeError(cause)}`,
      { cause },
    )
    this.name = 'SkippedError'
    this.blockedBy = blockedBy
  }
}

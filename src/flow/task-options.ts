/**
 * A task's options checked into the parts of its `TaskDef`: the `after` edges, the time limit, and
 * the one canonical pipeline its policy options compile to. Kept apart from the builder so
 * `Flow` reads as the builder it is.
 */
import { pipe, type Policy } from '../core/call.js'
import { InvalidOptionError } from '../core/errors.js'
import { checkDuration, checkKnownKeys, closest, show, snapshot } from '../core/validate.js'
import { hedge as hedgePolicy } from '../policies/hedge.js'
import { retry as retryPolicy } from '../policies/retry.js'
import { timeout as timeoutPolicy } from '../policies/timeout.js'
import type { TaskDef } from './task-def.js'
import type { TaskOptions } from './types.js'

export type AnyTaskOptions = TaskOptions<string> & { readonly fallback?: unknown }

/** The parts of a `TaskDef` that come from its options. */
export type TaskParts = Pick<
  TaskDef,
  'after' | 'timeout' | 'policies' | 'pipeline' | 'hasFallback' | 'fallback'
>

const TASK_OPTIONS = [
  'after',
  'timeout',
  'retry',
  'circuitBreaker',
  'hedge',
  'policies',
  'fallback',
] as const
// A gate cannot fall back: every task waits for it, so a failed gate must stop them.
const GATE_OPTIONS = TASK_OPTIONS.filter((k) => k !== 'fallback')

/**
 * Checks the options of task `name` (`where` names it in messages) against the tasks added before
 * it, `byName`; throws `InvalidOptionError` on the first mistake.
 */
export function taskParts(
  where: string,
  name: string,
  rawOptions: AnyTaskOptions | undefined,
  gate: boolean,
  byName: ReadonlyMap<string, TaskDef>,
): TaskParts {
  const options = snapshot(where, rawOptions)
  checkKnownKeys(where, options, gate ? GATE_OPTIONS : TASK_OPTIONS)
  const after = options.after === undefined ? [] : afterEdges(where, name, options.after, byName)
  const timeout =
    options.timeout === undefined ? undefined : checkDuration(where, 'timeout', options.timeout)
  const policies = options.policies === undefined ? [] : checkPolicies(where, options.policies)
  addSugar(where, options, timeout, policies)
  // Nested pipelines are flattened so describe() lists every layer.
  const layers = pipe(...policies).policies
  const hasFallback = 'fallback' in options
  return {
    after,
    timeout,
    policies: layers,
    pipeline: layers.length > 0 ? pipe(...layers) : undefined,
    hasFallback,
    fallback: hasFallback ? options.fallback : undefined,
  }
}

/** The indices of the earlier tasks `after` names, each once. */
function afterEdges(
  where: string,
  name: string,
  value: unknown,
  byName: ReadonlyMap<string, TaskDef>,
): number[] {
  if (!Array.isArray(value))
    throw new InvalidOptionError(
      `${where}: \`after\` must be an array of task names, got ${show(value)}.`,
    )
  const after: number[] = []
  for (const dep of value as unknown[]) {
    const target = typeof dep === 'string' ? byName.get(dep) : undefined
    if (target === undefined) {
      const guess = typeof dep === 'string' ? closest(dep, byName.keys()) : undefined
      throw new InvalidOptionError(
        `${where}: \`after\` names ${show(dep)}, which is not an earlier task of this flow` +
          (dep === name ? ' (a task cannot wait for itself)' : '') +
          (guess !== undefined
            ? `. Did you mean "${guess}"?`
            : '. Tasks can only wait for tasks added before them.'),
      )
    }
    if (!after.includes(target.index)) after.push(target.index)
  }
  return after
}

function checkPolicies(where: string, value: unknown): Policy[] {
  if (!Array.isArray(value))
    throw new InvalidOptionError(`${where}: \`policies\` must be an array, got ${show(value)}.`)
  const policies: Policy[] = []
  for (const p of value as unknown[]) {
    if (typeof p !== 'object' || p === null || typeof (p as Policy).wrap !== 'function') {
      throw new InvalidOptionError(
        `${where}: each entry of \`policies\` must be a policy (an object with wrap()), got ${show(p)}.`,
      )
    }
    policies.push(p as Policy)
  }
  return policies
}

/**
 * Appends the policies the sugar options stand for to `policies`, after any explicit ones: retry,
 * the circuit breaker (each attempt counts), hedging, then the timeout innermost, so the timeout
 * limits each attempt and a backoff wait is not charged to it (the run's deadline covers
 * everything).
 */
function addSugar(
  where: string,
  options: Partial<AnyTaskOptions>,
  timeout: number | undefined,
  policies: Policy[],
): void {
  if (options.retry !== undefined && options.retry !== false) {
    if (options.retry !== true && (typeof options.retry !== 'object' || options.retry === null)) {
      throw new InvalidOptionError(
        `${where}: \`retry\` must be true, false or retry options, got ${show(options.retry)}.`,
      )
    }
    policies.push(retryPolicy(options.retry === true ? {} : options.retry))
  }
  if (options.circuitBreaker !== undefined) {
    const breaker = options.circuitBreaker as Partial<Policy> | null
    if (typeof breaker !== 'object' || breaker === null || typeof breaker.wrap !== 'function') {
      throw new InvalidOptionError(
        `${where}: \`circuitBreaker\` must be a circuitBreaker() (shared, so create it once), got ${show(options.circuitBreaker)}.`,
      )
    }
    policies.push(options.circuitBreaker)
  }
  // Hedging sits inside the breaker and outside the timeout: every hedged attempt gets its own
  // time limit, and the pair counts once against the breaker.
  if (options.hedge !== undefined) policies.push(hedgePolicy(options.hedge))
  if (timeout !== undefined) policies.push(timeoutPolicy(timeout))
}

/**
 * Traces for code that does not use a flow: wrap each outbound call in `rec.step(name, fn)` and
 * get the same `FlowTrace` a flow's `onTrace` receives, so hand-written `await` chains and
 * `Promise.all` groups can be drawn with `renderWaterfall` next to a flow.
 *
 * Hand-written code does not declare what it waits for, so each step says it: `gate: true` for a
 * call every later call waits for, `after: [...]` for the calls whose completion the code awaited
 * before making this one.
 */
import {
  criticalPath,
  type FlowTrace,
  type TaskStatus,
  type TaskTrace,
  type TaskWait,
} from '../index.js'

export interface StepOptions {
  /** Every later non-gate step waits for this one (like a flow's gate). */
  readonly gate?: boolean
  /** Steps the code awaited before starting this one. */
  readonly after?: readonly string[]
}

interface Step {
  readonly name: string
  readonly gate: boolean
  readonly after: readonly string[]
  readonly startedAt: number
  endedAt: number | undefined
  status: TaskStatus
  error?: unknown
}

export class TraceRecorder {
  readonly #flow: string
  readonly #plan: readonly string[]
  readonly #t0: number
  readonly #steps = new Map<string, Step>()

  /** `plan`: every step the code may make, in order; those it never reaches show as skipped. */
  constructor(flow: string, plan: readonly string[]) {
    this.#flow = flow
    this.#plan = plan
    this.#t0 = performance.now()
  }

  /** Runs `fn` as step `name` and records when it started and ended and how. */
  async step<T>(name: string, fn: () => Promise<T>, options: StepOptions = {}): Promise<T> {
    if (this.#steps.has(name)) throw new Error(`TraceRecorder: step "${name}" was already recorded`)
    const step: Step = {
      name,
      gate: options.gate ?? false,
      after: options.after ?? [],
      startedAt: this.#now(),
      endedAt: undefined,
      status: 'aborted',
    }
    this.#steps.set(name, step)
    try {
      const value = await fn()
      step.status = 'fulfilled'
      return value
    } catch (error) {
      step.status = 'rejected'
      step.error = error
      throw error
    } finally {
      step.endedAt = this.#now()
    }
  }

  /** The trace so far. A step still running is `aborted` (its result will not be used). */
  trace(status: FlowTrace['status']): FlowTrace {
    const end = this.#now()
    const names = [...this.#plan, ...[...this.#steps.keys()].filter((n) => !this.#plan.includes(n))]
    const gates = [...this.#steps.values()].filter((s) => s.gate)
    const tasks = names.map((name): TaskTrace => {
      const step = this.#steps.get(name)
      if (step === undefined)
        return {
          name,
          gate: false,
          status: 'skipped',
          startedAt: undefined,
          endedAt: undefined,
          waits: [],
        }
      const waits: TaskWait[] = []
      if (!step.gate)
        for (const g of gates)
          if (g.endedAt !== undefined)
            waits.push({ on: g.name, kind: 'gate', from: 0, to: g.endedAt })
      for (const dep of step.after) {
        const d = this.#steps.get(dep)
        if (d?.endedAt !== undefined) waits.push({ on: dep, kind: 'after', from: 0, to: d.endedAt })
      }
      return {
        name,
        gate: step.gate,
        status: step.status,
        startedAt: step.startedAt,
        endedAt: step.endedAt ?? end,
        waits,
        ...(step.error !== undefined ? { error: step.error } : {}),
      }
    })
    return {
      flow: this.#flow,
      status,
      duration: end,
      tasks,
      criticalPath: criticalPath(tasks),
      events: [],
    }
  }

  #now(): number {
    return performance.now() - this.#t0
  }
}

/**
 * Runs `body` with a fresh recorder and hands its trace to `onTrace` whatever the outcome, like a
 * flow's `run(input, { onTrace })`.
 */
export async function traced<T>(
  flow: string,
  plan: readonly string[],
  body: (rec: TraceRecorder) => Promise<T>,
  onTrace: (trace: FlowTrace) => void,
): Promise<T> {
  const rec = new TraceRecorder(flow, plan)
  let value: T
  try {
    value = await body(rec)
  } catch (error) {
    onTrace(rec.trace('rejected'))
    throw error
  }
  onTrace(rec.trace('fulfilled'))
  return value
}

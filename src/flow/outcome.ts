/** What a finished run reports: its values or outcomes, its trace, and what it taught the scheduler. */
import type { TraceEvent } from '../core/trace.js'
import type { Learned } from './schedule.js'
import { FULFILLED, REJECTED, RUNNING, WAITING, type Task } from './task.js'
import { criticalPath, type FlowTrace, type TaskTrace, type TaskWait } from './trace.js'

export function learn(tasks: readonly Task[], learned: Learned): void {
  for (const t of tasks) {
    if (t.startedAt < 0 || t.endedAt < 0) continue
    learned.observe(t.def.index, t.endedAt - Math.max(t.startedAt, t.resumedAt), t.read)
  }
  learned.update()
}

export function values(tasks: readonly Task[]): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const t of tasks) {
    // Defined, not assigned, so a task named "__proto__" cannot replace the prototype.
    if (t.def.name === '__proto__')
      Object.defineProperty(values, t.def.name, {
        value: t.value,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    else values[t.def.name] = t.value
  }
  return values
}

export function outcomes(tasks: readonly Task[]): Record<string, unknown> {
  return Object.fromEntries(
    tasks.map((t) => [
      t.def.name,
      t.state === FULFILLED
        ? { status: 'fulfilled', value: t.value }
        : { status: 'rejected', reason: t.error },
    ]),
  )
}

export function flowTrace(
  flow: string,
  runTasks: readonly Task[],
  events: TraceEvent[] | undefined,
  status: FlowTrace['status'],
  end: number,
): FlowTrace {
  const gates = runTasks.filter((t) => t.def.gate)
  const tasks: TaskTrace[] = runTasks.map((t) => {
    const waits: TaskWait[] = []
    if (t.startedAt >= 0 || t.state === WAITING) {
      if (!t.def.gate)
        for (const g of gates)
          if (g.endedAt >= 0) waits.push({ on: g.def.name, kind: 'gate', from: 0, to: g.endedAt })
      for (const i of t.def.after) {
        const dep = runTasks[i]!
        if (dep.endedAt >= 0)
          waits.push({ on: dep.def.name, kind: 'after', from: 0, to: dep.endedAt })
      }
    }
    for (const w of t.waits ?? [])
      waits.push({ on: w.on, kind: w.kind, from: w.from, to: w.to < 0 ? end : w.to })
    const state =
      t.state === FULFILLED
        ? t.fellBack
          ? 'fallback'
          : 'fulfilled'
        : t.state === REJECTED
          ? 'rejected'
          : t.state === RUNNING
            ? 'aborted'
            : 'skipped'
    const started = t.startedAt >= 0 ? t.startedAt : undefined
    const trace: TaskTrace = {
      name: t.def.name,
      gate: t.def.gate,
      status: state,
      startedAt: started,
      endedAt: started === undefined ? undefined : t.endedAt >= 0 ? t.endedAt : end,
      waits,
      ...(t.error !== undefined ? { error: t.error } : {}),
    }
    return trace
  })
  return {
    flow,
    status,
    duration: end,
    tasks,
    criticalPath: criticalPath(tasks),
    events: events ?? [],
  }
}

/**
 * The times a waterfall shows for a task, shared by the terminal and the HTML renderers so both
 * say the same thing: when its light part begins, when its run ends, which stretches of its run
 * it spent awaiting other tasks, and from those `ran` (its own work) and `waited` (the rest).
 */
import type { FlowTrace, TaskTrace } from '../flow/trace.js'

/** The axis spans the run; a hand-built trace whose tasks end later still fits. */
export function traceSpan(trace: FlowTrace): number {
  let span = finite(trace.duration)
  for (const t of trace.tasks)
    if (t.startedAt !== undefined)
      span = Math.max(span, finite(t.startedAt), finite(t.endedAt ?? 0))
  return span
}

/** Where the light part of the bar begins: the earliest wait that began before the start. */
export function waitStart(task: TaskTrace): number {
  let from = finite(task.startedAt ?? 0)
  for (const w of task.waits) if (finite(w.from) < from) from = finite(w.from)
  return from
}

/** When the task's run ends on the axis: its end, or the axis' end for a task still running. */
export function runEnd(task: TaskTrace, span: number): number {
  const start = finite(task.startedAt ?? 0)
  return Math.max(start, task.endedAt === undefined ? span : finite(task.endedAt))
}

/** The stretches of the run spent awaiting other tasks' results, merged, in order. */
export function waitsInRun(task: TaskTrace, span: number): [number, number][] {
  if (task.startedAt === undefined) return []
  const start = finite(task.startedAt)
  const end = runEnd(task, span)
  const intervals = task.waits
    .map((w) => [Math.max(finite(w.from), start), Math.min(finite(w.to), end)] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0])
  const merged: [number, number][] = []
  for (const [a, b] of intervals) {
    const last = merged[merged.length - 1]
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b)
    else merged.push([a, b])
  }
  return merged
}

/** Time the task spent working: its duration less the time it spent awaiting other tasks. */
export function busy(task: TaskTrace, span: number): number {
  if (task.startedAt === undefined) return 0
  const start = finite(task.startedAt)
  const waited = waitsInRun(task, span).reduce((sum, [a, b]) => sum + b - a, 0)
  return Math.max(0, runEnd(task, span) - start - waited)
}

/** The light part of the bar: from the first wait that began before the start to the end, less the work. */
export function waitedFor(task: TaskTrace, span: number): number {
  return Math.max(0, runEnd(task, span) - waitStart(task) - busy(task, span))
}

/** Whole milliseconds from 10 ms up, one decimal below. */
export function formatMs(value: number): string {
  return value >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1)
}

export function finite(value: number): number {
  return Number.isFinite(value) ? value : 0
}

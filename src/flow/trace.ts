/**
 * What happened in one run: per task, when it started and ended, what it waited for and how it
 * ended; and the run's critical path. Times are milliseconds since the run started.
 */
import type { TraceEvent } from '../core/trace.js'

export type TaskStatus =
  /** Finished with its own value. */
  | 'fulfilled'
  /** Failed; an optional task's fallback took its place (`error` holds the failure). */
  | 'fallback'
  /** Failed (`error` holds why). */
  | 'rejected'
  /** Never started: a gate or prerequisite failed, or the flow ended first. */
  | 'skipped'
  /** Was running when the flow ended; whatever it returns later is ignored. */
  | 'aborted'

export type WaitKind = 'read' | 'gate' | 'after'

export interface TaskWait {
  /** The task waited on. */
  readonly on: string
  readonly kind: WaitKind
  readonly from: number
  readonly to: number
}

export interface TaskTrace {
  readonly name: string
  readonly gate: boolean
  readonly status: TaskStatus
  /** When the task's function was called; undefined if it never was. */
  readonly startedAt: number | undefined
  readonly endedAt: number | undefined
  readonly waits: readonly TaskWait[]
  readonly error?: unknown
}

export interface FlowTrace {
  readonly flow: string
  readonly status: 'fulfilled' | 'rejected' | 'exited'
  /** Run duration in ms. */
  readonly duration: number
  /** Tasks in declaration order. */
  readonly tasks: readonly TaskTrace[]
  /** The chain of tasks that determined the run's duration, first to last. */
  readonly criticalPath: readonly string[]
  /** Events emitted by policies (timeouts, retries…), in order. */
  readonly events: readonly TraceEvent[]
}

/**
 * Walks back from the task that ended last, each time to the dependency that released it last
 * (the one it was still waiting for when it could proceed). A dependency that was already done
 * when the task started did not delay it and is not followed.
 */
export function criticalPath(tasks: readonly TaskTrace[]): string[] {
  const byName = new Map(tasks.map((t) => [t.name, t]))
  // Tasks cut off when the run ended did not determine its end: they only stopped with it.
  // They are candidates only when nothing else ran (e.g. an external abort of a one-task run).
  const finished = tasks.filter((t) => t.status !== 'aborted')
  let last: TaskTrace | undefined
  for (const t of finished.some((t) => t.endedAt !== undefined) ? finished : tasks) {
    if (
      t.endedAt !== undefined &&
      t.startedAt !== undefined &&
      (last === undefined || t.endedAt > (last.endedAt ?? -1))
    )
      last = t
  }
  const path: string[] = []
  const seen = new Set<string>()
  while (last !== undefined && !seen.has(last.name)) {
    seen.add(last.name)
    path.push(last.name)
    let next: TaskTrace | undefined
    for (const wait of last.waits) {
      const dep = byName.get(wait.on)
      if (dep?.endedAt === undefined || dep.startedAt === undefined) continue
      if (wait.to < wait.from) continue
      if (next === undefined || dep.endedAt > (next.endedAt ?? -1)) next = dep
    }
    last = next
  }
  return path.reverse()
}

/**
 * Traces for the waterfall renderers' tests: a large synthetic run (many tasks, waits, failures
 * and policy events), built by hand so every number is known.
 */
import type { TraceEvent } from '../../src/core/trace.js'
import {
  criticalPath,
  type FlowTrace,
  type TaskStatus,
  type TaskTrace,
  type TaskWait,
} from '../../src/flow/trace.js'

/** A wait for the gate `auth`, from the run's start to `to`. */
export const gate = (to: number): TaskWait => ({ on: 'auth', kind: 'gate', from: 0, to })

/**
 * A gate `auth` (0–20 ms), `data` (20–70 ms), and `report`, which starts at 20 ms, awaits `$.data`
 * until 70 ms and works until 100 ms.
 */
export function splitTasks(): TaskTrace[] {
  return [
    { name: 'auth', gate: true, status: 'fulfilled', startedAt: 0, endedAt: 20, waits: [] },
    {
      name: 'data',
      gate: false,
      status: 'fulfilled',
      startedAt: 20,
      endedAt: 70,
      waits: [gate(20)],
    },
    {
      name: 'report',
      gate: false,
      status: 'fulfilled',
      startedAt: 20,
      endedAt: 100,
      waits: [gate(20), { on: 'data', kind: 'read', from: 20, to: 70 }],
    },
  ]
}

/**
 * `count` tasks: a gate `auth` (0–20 ms), then tasks in waves of 50 where each reads one task of
 * the wave before; every 7th retries once (a failed first attempt), every 31st falls back after a
 * timeout, every 97th is skipped. Events are on a clock that read 1000 when the run started.
 */
export function largeTrace(count: number): FlowTrace {
  const clock0 = 1000
  const tasks: TaskTrace[] = [
    { name: 'auth', gate: true, status: 'fulfilled', startedAt: 0, endedAt: 20, waits: [] },
  ]
  const events: TraceEvent[] = []
  for (let i = 1; i < count; i++) {
    const name = `task-${String(i).padStart(4, '0')}`
    const wave = Math.floor((i - 1) / 50)
    const gate = { on: 'auth', kind: 'gate' as const, from: 0, to: 20 }
    if (i % 97 === 0) {
      tasks.push({
        name,
        gate: false,
        status: 'skipped',
        startedAt: undefined,
        endedAt: undefined,
        waits: [],
      })
      continue
    }
    const start = 20 + (i % 5)
    const dep = wave > 0 ? tasks[1 + (wave - 1) * 50 + (i % 50)] : undefined
    const readTo = dep?.endedAt ?? start
    const end = readTo + 5 + (i % 13)
    const status: TaskStatus = i % 31 === 0 ? 'fallback' : 'fulfilled'
    tasks.push({
      name,
      gate: false,
      status,
      startedAt: start,
      endedAt: end,
      waits:
        dep?.endedAt !== undefined
          ? [gate, { on: dep.name, kind: 'read', from: start, to: readTo }]
          : [gate],
      ...(status === 'fallback' ? { error: { name: 'TimeoutError', code: 'FANOUT_TIMEOUT' } } : {}),
    })
    if (i % 7 === 0) {
      events.push(
        { type: 'attempt.started', task: name, at: clock0 + start, attempt: 1 },
        {
          type: 'retry.scheduled',
          task: name,
          at: clock0 + start + 2,
          attempt: 1,
          delayMs: 1,
          reason: 'backoff',
          cause: '503',
        },
        { type: 'attempt.started', task: name, at: clock0 + start + 3, attempt: 2 },
      )
    }
    if (status === 'fallback')
      events.push({ type: 'timeout.fired', task: name, at: clock0 + end, timeoutMs: end - start })
  }
  const duration = Math.max(...tasks.map((t) => t.endedAt ?? 0))
  return {
    flow: 'large',
    status: 'fulfilled',
    duration,
    tasks,
    criticalPath: criticalPath(tasks),
    events,
  }
}

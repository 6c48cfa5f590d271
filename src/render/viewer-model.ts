/**
 * What the HTML waterfall embeds: per task, the parts of its bar (waits light, work solid), its
 * times as the terminal waterfall counts them, what it waited on, its error's name, code and
 * status (never its message), and its events placed on the run's time axis as marks and
 * sub-bars. The page's script only draws this; every number is computed here.
 */
import type { TraceEvent } from '../core/trace.js'
import type { FlowTrace, TaskStatus, TaskTrace, WaitKind } from '../flow/trace.js'
import { describeEvent, markOf, requestMs, type MarkKind } from './event-text.js'
import { busy, finite, runEnd, traceSpan, waitedFor, waitsInRun, waitStart } from './task-times.js'
import { traceError, type TraceError } from './trace-json.js'

/** A stretch of a bar: from, to, and 1 for work, 0 for waiting. */
export type Segment = readonly [from: number, to: number, work: 0 | 1]
/** A mark on a bar: when, what, and the event's sentence. */
export type Mark = readonly [at: number, kind: MarkKind, text: string]
/** `ok` answered (or the attempt that delivered), `fail` failed, `cut` aborted or never ended. */
export type SubKind = 'ok' | 'fail' | 'cut'
/** An event in the tooltip: when, what, and how many times in a row. */
export type Note = readonly [at: number, text: string, count: number]
/** An attempt or an HTTP request drawn under the bar, in a lane so that overlapping ones both show. */
export type SubBar = readonly [from: number, to: number, lane: number, kind: SubKind, text: string]

export interface ViewerTask {
  readonly name: string
  readonly gate: boolean
  readonly status: TaskStatus
  readonly critical: boolean
  readonly start: number | null
  readonly end: number | null
  readonly ran: number
  readonly waited: number
  readonly segments: readonly Segment[]
  readonly waits: readonly { on: string; kind: WaitKind; from: number; to: number }[]
  readonly error: TraceError | null
  readonly marks: readonly Mark[]
  readonly subs: readonly SubBar[]
  /**
   * The task's events as `[at, sentence, count]`, a run of the same sentence at the same time
   * counted once (a batch's eight cache hits), the first {@link MAX_NOTES}.
   */
  readonly notes: readonly Note[]
  /** Notes left out. */
  readonly more: number
}

export interface ViewerData {
  readonly title: string
  readonly flow: string
  readonly status: FlowTrace['status']
  readonly duration: number
  /** The axis' end: the run's duration, or later if a task ended later. */
  readonly span: number
  readonly criticalPath: readonly string[]
  /** The time the critical-path tasks spent working. */
  readonly criticalMs: number
  readonly tasks: readonly ViewerTask[]
  /** Events whose task is not a task of this run that started (they cannot be placed). */
  readonly unplaced: number
}

const MAX_NOTES = 12
const MAX_LANES = 2

export function viewerData(trace: FlowTrace, title: string): ViewerData {
  const span = traceSpan(trace)
  const critical = new Set(trace.criticalPath)
  const byName = new Map<string, TaskTrace>()
  for (const t of trace.tasks) if (t.startedAt !== undefined) byName.set(t.name, t)
  const offset = clockOffset(trace.events, byName)
  const events = new Map<string, TraceEvent[]>()
  let unplaced = 0
  for (const e of trace.events) {
    if (!byName.has(e.task)) unplaced++
    else (events.get(e.task) ?? events.set(e.task, []).get(e.task)!).push(e)
  }
  const at = (e: TraceEvent): number => round(Math.min(span, Math.max(0, finite(e.at) - offset)))
  const tasks = trace.tasks.map((t) =>
    viewerTask(t, span, critical.has(t.name), events.get(t.name) ?? [], at),
  )
  return {
    title,
    flow: trace.flow,
    status: trace.status,
    duration: finite(trace.duration),
    span,
    criticalPath: trace.criticalPath,
    criticalMs: tasks.filter((t) => t.critical).reduce((sum, t) => sum + t.ran, 0),
    tasks,
    unplaced,
  }
}

function viewerTask(
  t: TaskTrace,
  span: number,
  critical: boolean,
  events: readonly TraceEvent[],
  at: (e: TraceEvent) => number,
): ViewerTask {
  const started = t.startedAt !== undefined
  const end = runEnd(t, span)
  return {
    name: t.name,
    gate: t.gate,
    status: t.status,
    critical,
    start: started ? finite(t.startedAt!) : null,
    end: started ? end : null,
    ran: busy(t, span),
    waited: started ? waitedFor(t, span) : 0,
    segments: started ? segments(t, span) : [],
    waits: t.waits.map((w) => ({
      on: w.on,
      kind: w.kind,
      from: finite(w.from),
      to: finite(w.to),
    })),
    error: t.error === undefined ? null : traceError(t.error),
    marks: events.flatMap((e): Mark[] => {
      const kind = markOf(e)
      return kind === undefined ? [] : [[at(e), kind, describeEvent(e)]]
    }),
    subs: started ? lanes(subBars(events, at, end, t.status)) : [],
    ...notesOf(events, at),
  }
}

/** The bar: waiting before the start, then the run with its waits for other tasks inside it light. */
function segments(t: TaskTrace, span: number): Segment[] {
  const start = finite(t.startedAt ?? 0)
  const end = runEnd(t, span)
  const out: Segment[] = []
  const from = waitStart(t)
  if (from < start) out.push([round(from), round(start), 0])
  let at = start
  for (const [a, b] of waitsInRun(t, span)) {
    if (a > at) out.push([round(at), round(a), 1])
    out.push([round(a), round(b), 0])
    at = b
  }
  // A run spent wholly awaiting others still ends with its own (zero-length) work.
  if (end > at || out.every((s) => s[2] === 0)) out.push([round(at), round(end), 1])
  return out
}

/**
 * Events carry times on the run's clock, tasks times since the run started. The clock's reading
 * at the run's start is taken to be the latest that puts no event before its task's start: exact
 * when some task emitted an event as it started (a retry's first `attempt.started`, a request
 * sent at once), and never placing an event later than it happened.
 */
function clockOffset(
  events: readonly TraceEvent[],
  byName: ReadonlyMap<string, TaskTrace>,
): number {
  let least = Infinity
  for (const e of events) {
    const t = byName.get(e.task)
    if (t !== undefined && Number.isFinite(e.at))
      least = Math.min(least, e.at - finite(t.startedAt!))
  }
  return least === Infinity ? 0 : least
}

/** HTTP requests when the task made any (they say more), otherwise its attempts and hedges. */
function subBars(
  events: readonly TraceEvent[],
  at: (e: TraceEvent) => number,
  end: number,
  status: TaskStatus,
): [number, number, SubKind, string][] {
  const requests = requestBars(events, at, end)
  if (requests.length > 0) return requests
  return attemptBars(events, at, end, status)
}

/**
 * Retried and hedged attempts, when there were several: each until it failed, the next began, a
 * hedge won (the winner delivered, the others were cut off), or the task ended.
 */
function attemptBars(
  events: readonly TraceEvent[],
  at: (e: TraceEvent) => number,
  end: number,
  status: TaskStatus,
): [number, number, SubKind, string][] {
  const starts = events.filter((e) => e.type === 'attempt.started' || e.type === 'hedge.fired')
  if (starts.length < 2) return []
  const won = events.find((e) => e.type === 'hedge.won')
  const settled: SubKind = status === 'fulfilled' ? 'ok' : status === 'aborted' ? 'cut' : 'fail'
  return starts.map((e, i) => {
    const hedge = e.type === 'hedge.fired' ? e.hedge : undefined
    const attempt = e.type === 'attempt.started' ? e.attempt : undefined
    const label = hedge !== undefined ? `hedge ${hedge}` : `attempt ${attempt}`
    const failed = events.find((f) => f.type === 'retry.scheduled' && f.attempt === attempt)
    const next =
      attempt === undefined
        ? undefined
        : starts.slice(i + 1).find((f) => f.type === 'attempt.started')
    let to = failed !== undefined ? at(failed) : next !== undefined ? at(next) : end
    let kind: SubKind = failed !== undefined ? 'fail' : settled
    if (won !== undefined && failed === undefined && next === undefined && at(e) <= at(won)) {
      to = at(won)
      kind = (hedge ?? 0) === won.winner ? 'ok' : 'cut'
    }
    return [
      at(e),
      Math.max(at(e), to),
      kind,
      failed === undefined ? label : `${label}: ${describeEvent(failed)}`,
    ]
  })
}

/** Each request from its `request.started` to the `request.finished` of the same hop. */
function requestBars(
  events: readonly TraceEvent[],
  at: (e: TraceEvent) => number,
  end: number,
): [number, number, SubKind, string][] {
  const open = new Map<string, TraceEvent[]>()
  const bars: [number, number, SubKind, string][] = []
  const keyOf = (e: Record<string, unknown>): string =>
    JSON.stringify([e.method, e.origin, e.path, e.attempt, e.redirects])
  for (const e of events) {
    if (e.type === 'request.started') {
      const key = keyOf(e as unknown as Record<string, unknown>)
      ;(open.get(key) ?? open.set(key, []).get(key)!).push(e)
    } else if (e.type === 'request.finished') {
      const started = open.get(keyOf(e as unknown as Record<string, unknown>))?.shift()
      const from =
        started === undefined
          ? Math.max(0, at(e) - requestMs(e as unknown as Record<string, unknown>))
          : at(started)
      const kind: SubKind =
        e.outcome === 'response' && e.status < 400 ? 'ok' : e.outcome === 'aborted' ? 'cut' : 'fail'
      bars.push([from, at(e), kind, describeEvent(e)])
    }
  }
  for (const waiting of open.values())
    for (const e of waiting)
      bars.push([at(e), round(end), 'cut', `${describeEvent(e)}; no answer before the task ended`])
  return bars.sort((a, b) => a[0] - b[0])
}

/** Greedy lanes: each bar in the first lane free at its start; past the last lane, they overlap there. */
function lanes(bars: readonly (readonly [number, number, SubKind, string])[]): SubBar[] {
  const free: number[] = []
  return [...bars]
    .sort((a, b) => a[0] - b[0])
    .map(([from, to, kind, text]) => {
      let lane = free.findIndex((until) => until <= from)
      if (lane < 0) lane = free.length < MAX_LANES ? free.length : MAX_LANES - 1
      free[lane] = Math.max(free[lane] ?? 0, to)
      return [from, to, lane, kind, text] as const
    })
}

function notesOf(
  events: readonly TraceEvent[],
  at: (e: TraceEvent) => number,
): { notes: Note[]; more: number } {
  const notes: [number, string, number][] = []
  for (const e of events) {
    const note: [number, string, number] = [at(e), describeEvent(e), 1]
    const last = notes[notes.length - 1]
    if (last !== undefined && last[1] === note[1] && Math.abs(last[0] - note[0]) < 0.05) last[2]++
    else notes.push(note)
  }
  return { notes: notes.slice(0, MAX_NOTES), more: Math.max(0, notes.length - MAX_NOTES) }
}

/**
 * Three decimals for what is only drawn: microseconds are more than a bar can show, and the page
 * stays small. The times the tooltip prints are kept whole, so they round as the terminal's do.
 */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

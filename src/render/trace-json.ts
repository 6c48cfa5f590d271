/**
 * The trace file: a `FlowTrace` as JSON, what `fanout trace view` and `renderWaterfallHtml` read.
 *
 * `JSON.stringify(trace)` is not the file: a task's `error` is whatever the task threw, and its
 * own enumerable fields (an HTTP client's request config, a response with its headers) would be
 * written out with any credentials in them. `traceToJSON` keeps of each error only its name, its
 * code and its HTTP status — never its message, which may quote a token or a URL with a key.
 */
import { InvalidArgumentError } from '../core/errors.js'
import { field } from '../core/own.js'
import { show } from '../core/validate.js'
import type { TraceEvent } from '../core/trace.js'
import {
  criticalPath,
  type FlowTrace,
  type TaskStatus,
  type TaskTrace,
  type TaskWait,
} from '../flow/trace.js'
import { codeOf, statusOf } from '../policies/classify.js'

/** What a trace file keeps of a task's error. */
export interface TraceError {
  /** The error's `name` (`TypeError`, `HttpError`…), or the type of a thrown non-error (`string`). */
  readonly name: string
  /** Its `code` (or its cause's), e.g. `ECONNRESET` or `FANOUT_TIMEOUT`. */
  readonly code?: string
  /** The HTTP status it carries. */
  readonly status?: number
}

/** The value of the file's `format` key; a file without one is read as this format. */
export const TRACE_FORMAT = 'fanout-trace/1'

const TEXT_MAX = 100
const TASK_STATUSES: readonly TaskStatus[] = [
  'fulfilled',
  'fallback',
  'rejected',
  'skipped',
  'aborted',
]
const RUN_STATUSES: readonly FlowTrace['status'][] = ['fulfilled', 'rejected', 'exited']
const WAIT_KINDS: readonly TaskWait['kind'][] = ['read', 'gate', 'after']

/** Name, code and status of a thrown value; nothing else of it is ever read. */
export function traceError(error: unknown): TraceError {
  if (typeof error !== 'object' || error === null) return { name: typeof error }
  let name: unknown
  let code: string | undefined
  let status: number | undefined
  try {
    name = field(error, 'name')
    code = codeOf(error)
    status = statusOf(error)
  } catch {
    // A getter that throws tells nothing more.
  }
  return {
    name: typeof name === 'string' && name !== '' ? clip(name) : 'Error',
    ...(code !== undefined ? { code: clip(code) } : {}),
    ...(status !== undefined ? { status } : {}),
  }
}

/**
 * The trace file's text: `trace` as JSON with a `format` key, each task's `error` cut to its
 * name, code and status (see {@link TraceError}), and each event to its own plain fields.
 */
export function traceToJSON(trace: FlowTrace): string {
  checkTrace('traceToJSON()', trace)
  return JSON.stringify({
    format: TRACE_FORMAT,
    flow: trace.flow,
    status: trace.status,
    duration: trace.duration,
    tasks: trace.tasks.map((t) => ({
      name: t.name,
      gate: t.gate,
      status: t.status,
      startedAt: t.startedAt,
      endedAt: t.endedAt,
      waits: t.waits.map((w) => ({ on: w.on, kind: w.kind, from: w.from, to: w.to })),
      ...(t.error !== undefined ? { error: traceError(t.error) } : {}),
    })),
    criticalPath: trace.criticalPath,
    events: trace.events.map(plainEvent),
  })
}

/**
 * Reads a trace file (what {@link traceToJSON} wrote, or a trace's JSON written another way) back
 * into a `FlowTrace`, checking every field; a task's `error` comes back as a {@link TraceError}.
 * Throws `InvalidArgumentError` saying which field is wrong.
 */
export function traceFromJSON(text: string): FlowTrace {
  const where = 'traceFromJSON()'
  if (typeof text !== 'string')
    throw new InvalidArgumentError(`${where}: expected the file's text, got ${show(text)}.`)
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new InvalidArgumentError(`${where}: not JSON (${(error as Error).message}).`)
  }
  const r = object(raw, 'the file')
  const format = get(r, 'format')
  if (format !== undefined && format !== TRACE_FORMAT)
    throw new InvalidArgumentError(
      `${where}: \`format\` is ${show(format)}; this fanout reads ${JSON.stringify(TRACE_FORMAT)}.`,
    )
  const tasks = array(get(r, 'tasks'), 'tasks').map((t, i) => readTask(t, `tasks[${i}]`))
  const path = get(r, 'criticalPath')
  return {
    flow: string(get(r, 'flow'), 'flow'),
    status: oneOf(get(r, 'status'), RUN_STATUSES, 'status'),
    duration: time(get(r, 'duration'), 'duration'),
    tasks,
    criticalPath:
      path === undefined
        ? criticalPath(tasks)
        : array(path, 'criticalPath').map((n, i) => string(n, `criticalPath[${i}]`)),
    events: array(get(r, 'events') ?? [], 'events').map((e, i) => readEvent(e, `events[${i}]`)),
  }
}

function readTask(raw: unknown, at: string): TaskTrace {
  const t = object(raw, at)
  const gate = get(t, 'gate') ?? false
  if (typeof gate !== 'boolean') fail(`${at}.gate`, 'true or false', gate)
  const error = get(t, 'error')
  return {
    name: string(get(t, 'name'), `${at}.name`),
    gate,
    status: oneOf(get(t, 'status'), TASK_STATUSES, `${at}.status`),
    startedAt: optionalTime(get(t, 'startedAt'), `${at}.startedAt`),
    endedAt: optionalTime(get(t, 'endedAt'), `${at}.endedAt`),
    waits: array(get(t, 'waits') ?? [], `${at}.waits`).map((w, i) => {
      const o = object(w, `${at}.waits[${i}]`)
      return {
        on: string(get(o, 'on'), `${at}.waits[${i}].on`),
        kind: oneOf(get(o, 'kind'), WAIT_KINDS, `${at}.waits[${i}].kind`),
        from: time(get(o, 'from'), `${at}.waits[${i}].from`),
        to: time(get(o, 'to'), `${at}.waits[${i}].to`),
      }
    }),
    // Whatever a file holds there, only a name, a code and a status are taken from it.
    ...(error !== undefined && error !== null ? { error: traceError(error) } : {}),
  }
}

function readEvent(raw: unknown, at: string): TraceEvent {
  const e = object(raw, at)
  string(get(e, 'type'), `${at}.type`)
  string(get(e, 'task'), `${at}.task`)
  const when = get(e, 'at')
  // A time on the run's clock, which need not start at 0.
  if (typeof when !== 'number' || !Number.isFinite(when)) fail(`${at}.at`, 'a number', when)
  return plainEvent(e as unknown as TraceEvent)
}

/** An event's own string, number, boolean and null fields: nothing nested travels with it. */
function plainEvent(event: TraceEvent): TraceEvent {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(event))
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value
  return out as unknown as TraceEvent
}

/** Whether `value` has the shape of a `FlowTrace` (what `onTrace` receives). */
export function isFlowTrace(value: unknown): value is FlowTrace {
  const t = value as Partial<FlowTrace> | null
  return (
    typeof t === 'object' &&
    t !== null &&
    Array.isArray(t.tasks) &&
    Array.isArray(t.criticalPath) &&
    Array.isArray(t.events) &&
    typeof t.flow === 'string'
  )
}

function checkTrace(where: string, trace: unknown): asserts trace is FlowTrace {
  if (!isFlowTrace(trace))
    throw new InvalidArgumentError(
      `${where}: expected a FlowTrace (what \`onTrace\` receives), got ${show(trace)}.`,
    )
}

function get(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined
}

function object(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(at, 'an object', value)
  return value as Record<string, unknown>
}

function array(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) fail(at, 'an array', value)
  return value as unknown[]
}

function string(value: unknown, at: string): string {
  if (typeof value !== 'string') fail(at, 'a string', value)
  return value as string
}

function time(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    fail(at, 'a number of ms, 0 or more', value)
  return value as number
}

function optionalTime(value: unknown, at: string): number | undefined {
  return value === undefined || value === null ? undefined : time(value, at)
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], at: string): T {
  if (!allowed.includes(value as T))
    fail(at, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value)
  return value as T
}

function fail(at: string, expected: string, got: unknown): never {
  throw new InvalidArgumentError(
    `traceFromJSON(): not a fanout trace: ${at} must be ${expected}, got ${show(got)}.`,
  )
}

/** Control characters out, and a bound on the length: these strings end up in a page. */
function clip(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
  return clean.length > TEXT_MAX ? `${clean.slice(0, TEXT_MAX - 1)}…` : clean
}

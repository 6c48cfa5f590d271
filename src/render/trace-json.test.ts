import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../core/errors.js'
import type { TraceEvent } from '../core/trace.js'
import { criticalPath, type FlowTrace, type TaskTrace } from '../flow/trace.js'
import { traceError, traceFromJSON, traceToJSON, TRACE_FORMAT } from './trace-json.js'

const SECRET = 'Bearer sk_live_SECRET'

/** What an HTTP client's error may look like: a message quoting the URL's key, the request's headers. */
function leakyError(): Error {
  return Object.assign(new Error(`GET https://api.example/v1?key=${SECRET} failed`), {
    name: 'HttpError',
    status: 503,
    code: 'UPSTREAM_5XX',
    config: { headers: { authorization: SECRET } },
    response: { status: 503, headers: { 'set-cookie': SECRET } },
  })
}

function sample(): FlowTrace {
  const tasks: TaskTrace[] = [
    { name: 'auth', gate: true, status: 'fulfilled', startedAt: 0, endedAt: 40, waits: [] },
    {
      name: 'stock',
      gate: false,
      status: 'rejected',
      startedAt: 40,
      endedAt: 90,
      waits: [{ on: 'auth', kind: 'gate', from: 0, to: 40 }],
      error: leakyError(),
    },
    {
      name: 'audit',
      gate: false,
      status: 'skipped',
      startedAt: undefined,
      endedAt: undefined,
      waits: [],
    },
  ]
  const events: TraceEvent[] = [
    { type: 'attempt.started', task: 'stock', at: 1040, attempt: 1 },
    {
      type: 'retry.scheduled',
      task: 'stock',
      at: 1060,
      attempt: 1,
      delayMs: 10,
      reason: 'backoff',
      cause: '503',
    },
  ]
  return {
    flow: 'checkout',
    status: 'rejected',
    duration: 90,
    tasks,
    criticalPath: criticalPath(tasks),
    events,
  }
}

describe('traceError', () => {
  it('keeps the name, the code and the HTTP status, nothing else', () => {
    expect(traceError(leakyError())).toEqual({
      name: 'HttpError',
      code: 'UPSTREAM_5XX',
      status: 503,
    })
    // fetch wraps a network error: the code is its cause's.
    const fetchError = new TypeError('fetch failed', {
      cause: Object.assign(new Error(`connect ECONNREFUSED ${SECRET}`), { code: 'ECONNREFUSED' }),
    })
    expect(traceError(fetchError)).toEqual({ name: 'TypeError', code: 'ECONNREFUSED' })
  })

  it('names a thrown non-error by its type only, never its value', () => {
    expect(traceError(SECRET)).toEqual({ name: 'string' })
    expect(traceError(42)).toEqual({ name: 'number' })
    expect(traceError({})).toEqual({ name: 'Error' })
  })

  it('survives a getter that throws, and cuts long or control-laden names', () => {
    const hostile = Object.defineProperty({}, 'name', {
      get() {
        throw new Error('no')
      },
    })
    expect(traceError(hostile)).toEqual({ name: 'Error' })
    const long = traceError(Object.assign(new Error('x'), { name: 'N\x1b[31m'.repeat(50) }))
    expect(long.name).toHaveLength(100)
    expect(long.name).not.toContain('\x1b')
  })
})

describe('traceToJSON', () => {
  it('writes the trace with each error cut to name, code and status: no message, no headers', () => {
    const text = traceToJSON(sample())
    expect(text).not.toContain('SECRET')
    expect(text).not.toContain('failed')
    const file = JSON.parse(text) as { format: string; tasks: { error?: unknown }[] }
    expect(file.format).toBe(TRACE_FORMAT)
    expect(file.tasks[1]!.error).toEqual({ name: 'HttpError', code: 'UPSTREAM_5XX', status: 503 })
    expect(file.tasks[0]).not.toHaveProperty('error')
  })

  it('keeps only the plain fields of events', () => {
    const trace = sample()
    const odd = { type: 'custom.thing', task: 'stock', at: 1, n: 2, nested: { token: SECRET } }
    const text = traceToJSON({ ...trace, events: [odd as unknown as TraceEvent] })
    expect(JSON.parse(text).events).toEqual([{ type: 'custom.thing', task: 'stock', at: 1, n: 2 }])
  })

  it('refuses what is not a trace', () => {
    expect(() => traceToJSON({} as FlowTrace)).toThrow(InvalidArgumentError)
  })
})

describe('traceFromJSON', () => {
  it('reads back what traceToJSON wrote, errors as their summaries', () => {
    const trace = sample()
    const read = traceFromJSON(traceToJSON(trace))
    expect(read).toEqual({
      ...trace,
      tasks: trace.tasks.map((t) =>
        t.error === undefined
          ? t
          : { ...t, error: { name: 'HttpError', code: 'UPSTREAM_5XX', status: 503 } },
      ),
    })
    expect(read.tasks[2]!.startedAt).toBeUndefined()
  })

  it('reads a trace written as plain JSON (no format key, nulls for undefined, no critical path)', () => {
    const trace = sample()
    const plain = JSON.parse(JSON.stringify({ ...trace, criticalPath: undefined })) as Record<
      string,
      unknown
    >
    ;(plain.tasks as Record<string, unknown>[])[2]!.startedAt = null
    const read = traceFromJSON(JSON.stringify(plain))
    expect(read.criticalPath).toEqual(trace.criticalPath)
    expect(read.tasks[2]!.startedAt).toBeUndefined()
    // Whatever JSON.stringify made of the error, only its name, code and status are taken.
    expect(read.tasks[1]!.error).toEqual({ name: 'HttpError', code: 'UPSTREAM_5XX', status: 503 })
    expect(JSON.stringify(read)).not.toContain('SECRET')
  })

  it('says what is wrong with a file that is not a trace', () => {
    const message = (text: string): string => {
      try {
        traceFromJSON(text)
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentError)
        return (error as Error).message
      }
      throw new Error('did not throw')
    }
    expect(message('{ nope')).toMatch(/^traceFromJSON\(\): not JSON \(.+\)\.$/)
    expect(message('[]')).toBe(
      'traceFromJSON(): not a fanout trace: the file must be an object, got an array of length 0.',
    )
    expect(message('{"format":"fanout-trace/9"}')).toBe(
      'traceFromJSON(): `format` is "fanout-trace/9"; this fanout reads "fanout-trace/1".',
    )
    const file = JSON.parse(traceToJSON(sample())) as { tasks: Record<string, unknown>[] }
    file.tasks[1]!.status = 'done'
    expect(message(JSON.stringify(file))).toBe(
      'traceFromJSON(): not a fanout trace: tasks[1].status must be one of "fulfilled", "fallback", "rejected", "skipped", "aborted", got "done".',
    )
    file.tasks[1]!.status = 'rejected'
    file.tasks[1]!.startedAt = -1
    expect(message(JSON.stringify(file))).toBe(
      'traceFromJSON(): not a fanout trace: tasks[1].startedAt must be a number of ms, 0 or more, got -1.',
    )
    expect(message('{"flow":"f","status":"fulfilled","duration":1}')).toBe(
      'traceFromJSON(): not a fanout trace: tasks must be an array, got undefined.',
    )
  })
})

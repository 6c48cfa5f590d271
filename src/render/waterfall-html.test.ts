import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../core/errors.js'
import type { TraceEvent } from '../core/trace.js'
import { criticalPath, type FlowTrace, type TaskTrace } from '../flow/trace.js'
import { largeTrace, splitTasks } from '../../test/helpers/traces.js'
import { renderWaterfall } from './waterfall.js'
import { jsonForHtml, renderWaterfallHtml, type WaterfallHtmlOptions } from './waterfall-html.js'
import type { ViewerData } from './viewer-model.js'

const XSS = '<img src=x onerror=alert(1)>'

function trace(tasks: TaskTrace[], events: TraceEvent[] = [], duration = 100): FlowTrace {
  return {
    flow: 'split',
    status: 'fulfilled',
    duration,
    tasks,
    criticalPath: criticalPath(tasks),
    events,
  }
}

/** `report` waits 20 ms for the gate, starts, awaits `$.data` for 50 ms of its 80, and works 30 ms. */
const split = (events: TraceEvent[] = []): FlowTrace => trace(splitTasks(), events)

/** The data the page embeds, read back the way its script reads it. */
function dataOf(html: string): ViewerData {
  const json = /<script type="application\/json" id="fanout-trace">([^<]*)<\/script>/.exec(html)
  expect(json).not.toBeNull()
  return JSON.parse(json![1]!) as ViewerData
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64')

describe('renderWaterfallHtml', () => {
  it('is one document that loads nothing, its CSP allowing exactly its own script and style', () => {
    const html = renderWaterfallHtml(split())
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/)
    expect(html).not.toMatch(/https?:|\bsrc=|<link|@import|url\(/i)
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!
    expect(csp.split('; ')).toEqual([
      "default-src 'none'",
      `script-src 'sha256-${sha256(script)}'`,
      `style-src 'sha256-${sha256(style)}'`,
      "img-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ])
    expect(html.match(/<script/g)).toHaveLength(2)
  })

  it('shows the terminal waterfall’s numbers: ran is the solid part, waited the light part', () => {
    const t = split()
    const { tasks, criticalPath: path, criticalMs } = dataOf(renderWaterfallHtml(t))
    const report = tasks.find((task) => task.name === 'report')!
    expect(report).toMatchObject({ start: 20, end: 100, ran: 30, waited: 70, critical: true })
    expect(report.segments).toEqual([
      [0, 20, 0],
      [20, 70, 0],
      [70, 100, 1],
    ])
    expect(renderWaterfall(t, { width: 10 })).toContain(
      'report  ░░░░░░░███  fulfilled  30 ms   70 ms',
    )
    expect(path).toEqual(['auth', 'data', 'report'])
    expect(criticalMs).toBe(20 + 50 + 30)
  })

  it('escapes every string: a task name, the flow, the title and the data cannot become markup', () => {
    const t = split()
    const evil: FlowTrace = {
      ...t,
      flow: `</script><script>alert(1)</script>`,
      tasks: t.tasks.map((task, i) =>
        i === 1 ? { ...task, name: `${XSS}\u2028</script>` } : task,
      ),
    }
    const html = renderWaterfallHtml(evil, { title: `${XSS} & "quotes"` })
    expect(html).not.toContain(XSS)
    expect(html).not.toContain('alert(1)</script>')
    expect(html.match(/<\/script>/g)).toHaveLength(2)
    expect(html).toContain(
      '<title>&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;</title>',
    )
    expect(html).not.toContain('\u2028')
    expect(dataOf(html).tasks[1]!.name).toBe(`${XSS}\u2028</script>`)
    expect(jsonForHtml({ a: '<>&\u2028\u2029' })).toBe(
      '{"a":"\\u003c\\u003e\\u0026\\u2028\\u2029"}',
    )
  })

  it('never includes an error message, only its name, code and status', () => {
    const t = split()
    const failing: FlowTrace = {
      ...t,
      tasks: t.tasks.map((task, i) =>
        i === 1
          ? {
              ...task,
              status: 'rejected',
              error: Object.assign(new Error('token=SECRET'), { code: 'E_UP', status: 502 }),
            }
          : task,
      ),
    }
    const html = renderWaterfallHtml(failing)
    expect(html).not.toContain('SECRET')
    expect(dataOf(html).tasks[1]!.error).toEqual({ name: 'Error', code: 'E_UP', status: 502 })
  })

  it('places events on the run’s axis: a clock that read 1000 at the start, or one already relative', () => {
    const at1000 = (ms: number): number => 1000 + ms
    const events = (at: (ms: number) => number): TraceEvent[] => [
      { type: 'attempt.started', task: 'data', at: at(20), attempt: 1 },
      {
        type: 'retry.scheduled',
        task: 'data',
        at: at(30),
        attempt: 1,
        delayMs: 5,
        reason: 'backoff',
        cause: '503',
      },
      { type: 'attempt.started', task: 'data', at: at(35), attempt: 2 },
      { type: 'timeout.fired', task: 'report', at: at(99), timeoutMs: 79 },
      { type: 'cache.hit', task: 'elsewhere', at: at(1), cache: 'c' },
    ]
    for (const clock of [at1000, (ms: number) => ms]) {
      const data = dataOf(renderWaterfallHtml(split(events(clock))))
      const dataTask = data.tasks[1]!
      expect(dataTask.marks).toEqual([
        [30, 'retry', 'attempt 1 failed (503); retry in 5 ms (backoff)'],
      ])
      expect(dataTask.subs).toEqual([
        [20, 30, 0, 'fail', 'attempt 1: attempt 1 failed (503); retry in 5 ms (backoff)'],
        [35, 70, 0, 'ok', 'attempt 2'],
      ])
      expect(dataTask.notes.map((n) => n[0])).toEqual([20, 30, 35])
      expect(data.tasks[2]!.marks).toEqual([[99, 'timeout', 'timeout of 79 ms fired']])
      expect(data.unplaced).toBe(1)
    }
  })

  it('counts a run of the same event at the same time once in the tooltip', () => {
    const hit = (at: number): TraceEvent => ({
      type: 'cache.hit',
      task: 'report',
      at,
      cache: 'profiles',
    })
    const { notes, more } = dataOf(renderWaterfallHtml(split([hit(20), hit(20), hit(20), hit(90)])))
      .tasks[2]!
    expect(notes).toEqual([
      [20, 'cache profiles: hit', 3],
      [90, 'cache profiles: hit', 1],
    ])
    expect(more).toBe(0)
  })

  it('draws a hedged call’s attempts in lanes: the winner delivered, the primary cut off', () => {
    const data = dataOf(
      renderWaterfallHtml(
        split([
          { type: 'attempt.started', task: 'data', at: 1020, attempt: 1 },
          { type: 'hedge.fired', task: 'data', at: 1040, hedge: 1, afterMs: 20 },
          { type: 'hedge.won', task: 'data', at: 1055, winner: 1 },
        ]),
      ),
    )
    expect(data.tasks[1]!.subs).toEqual([
      [20, 55, 0, 'cut', 'attempt 1'],
      [40, 55, 1, 'ok', 'hedge 1'],
    ])
    expect(data.tasks[1]!.marks.map((m) => [m[0], m[1]])).toEqual([
      [40, 'hedge'],
      [55, 'won'],
    ])
  })

  it('draws HTTP requests under the bar, overlapping hedges in a lane of their own', () => {
    const request = (at: number, attempt: number): TraceEvent => ({
      type: 'request.started',
      task: 'data',
      at,
      method: 'GET',
      origin: 'https://api.example',
      path: '/items/7',
      attempt,
      redirects: 0,
      budgetMs: Infinity,
    })
    const finished = (at: number, attempt: number, status: number): TraceEvent => ({
      type: 'request.finished',
      task: 'data',
      at,
      method: 'GET',
      origin: 'https://api.example',
      path: '/items/7',
      attempt,
      redirects: 0,
      outcome: status === 0 ? 'aborted' : 'response',
      status,
      phase: status === 0 ? 'headers' : 'body',
      errorCode: status === 0 ? 'ABORT_ERR' : null,
      connectMs: 1,
      headersMs: 8,
      bodyMs: 1,
    })
    const data = dataOf(
      renderWaterfallHtml(
        split([
          request(20, 1),
          { type: 'hedge.fired', task: 'data', at: 40, hedge: 1, afterMs: 20 },
          request(40, 1),
          finished(60, 1, 200),
          { type: 'hedge.won', task: 'data', at: 60, winner: 1 },
          finished(61, 1, 0),
        ]),
      ),
    )
    const { subs, marks } = data.tasks[1]!
    expect(subs).toEqual([
      [20, 60, 0, 'ok', 'GET https://api.example/items/7 → 200 in 10 ms'],
      [40, 61, 1, 'cut', 'GET https://api.example/items/7 → aborted in headers ABORT_ERR'],
    ])
    expect(marks.map((m) => m[1])).toEqual(['hedge', 'won'])
  })

  it('renders 1,000 tasks into one page', () => {
    const html = renderWaterfallHtml(largeTrace(1000))
    const data = dataOf(html)
    expect(data.tasks).toHaveLength(1000)
    expect(data.tasks.filter((t) => t.status === 'skipped')).toHaveLength(10)
    expect(html.length).toBeLessThan(1_000_000)
  })

  it('rejects invalid options and inputs with messages that say how to fix them', () => {
    const message = (options: unknown, input: unknown = split()): string => {
      try {
        renderWaterfallHtml(input as FlowTrace, options as WaterfallHtmlOptions)
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionError)
        return (error as Error).message
      }
      throw new Error('did not throw')
    }
    expect(message({ titel: 'x' })).toBe(
      'renderWaterfallHtml(): unknown option `titel`. Did you mean `title`? Known options: `title`.',
    )
    expect(message({ title: 3 })).toBe(
      'renderWaterfallHtml(): `title` must be a non-empty string of at most 200 characters, got 3.',
    )
    expect(message({ title: ' ' })).toMatch(/`title` must be a non-empty string/)
    expect(message('dark')).toBe(
      'renderWaterfallHtml(): options must be a plain object, got "dark".',
    )
    expect(message(undefined, { tasks: [] })).toBe(
      'renderWaterfallHtml(): expected a FlowTrace (what `onTrace` receives), got an object (Object).',
    )
    expect(
      renderWaterfallHtml(split(), { title: undefined } as unknown as WaterfallHtmlOptions),
    ).toBe(renderWaterfallHtml(split()))
  })
})

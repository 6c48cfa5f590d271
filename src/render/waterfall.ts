/**
 * A text waterfall of one run: when each task waited, ran and how it ended, on a shared time axis.
 * Pure and runtime-neutral (no Node APIs), so it works wherever a `FlowTrace` can be produced.
 *
 * @example
 * await page.run(input, { onTrace: (trace) => console.log(renderWaterfall(trace)) })
 *
 * Output (colour off, `width: 30`), for a gate `auth`, three parallel tasks and `access`, which
 * reads `$.user` (so it waits, light, inside its run until `user` is done):
 *
 *     route · fulfilled · 150 ms total · critical path 150 ms: auth → user → access
 *                 0         50        100 ms                 ran  waited
 *                 ┬─────────┬─────────┬─────────
 *     * auth      ████████                        fulfilled  40 ms    0 ms
 *     * user      ░░░░░░░░████████████            fulfilled  60 ms   40 ms
 *       settings  ░░░░░░░░██████                  fulfilled  30 ms   40 ms
 *       balance   ░░░░░░░░██████████████████      fulfilled  90 ms   40 ms
 *     * access    ░░░░░░░░░░░░░░░░░░░░██████████  fulfilled  50 ms  100 ms
 *     ░ waiting  █ running  × failed  ╌ cut off (aborted)  * critical path
 */
import { InvalidOptionError } from '../core/errors.js'
import { checkKnownKeys, show, snapshot } from '../core/validate.js'
import type { FlowTrace, TaskStatus, TaskTrace } from '../flow/trace.js'
import { busy, finite, formatMs as ms, runEnd, traceSpan, waitedFor } from './task-times.js'

export interface WaterfallOptions {
  /** Columns of the time axis (the bars). An integer from 10 to 1000; default 60. */
  readonly width?: number
  /**
   * Adds ANSI colours (green run, dim wait, red failure, yellow fallback, bold critical path).
   * Colour only adds emphasis: with the codes stripped the text is exactly the colourless output.
   * Default false.
   */
  readonly color?: boolean
}

const WHERE = 'renderWaterfall()'
const OPTIONS = ['width', 'color'] as const
const MIN_WIDTH = 10
const MAX_WIDTH = 1000
/** Longer task names are cut to this many characters, the last one an ellipsis. */
const NAME_MAX = 24
/** Fewest columns between two ticks of the axis. */
const MIN_TICK_GAP = 8
/** Headers of the two times: the solid part of a bar and the light part. */
const RAN = 'ran'
const WAITED = 'waited'

const GLYPH = {
  wait: '░',
  run: '█',
  failed: '×',
  aborted: '╌',
  critical: '*',
} as const

/** What one column of a bar shows. */
type Cell = 'empty' | 'wait' | 'run' | 'failed' | 'aborted'

const SGR = {
  bold: ['1', '22'],
  dim: ['2', '22'],
  red: ['31', '39'],
  green: ['32', '39'],
  yellow: ['33', '39'],
  magenta: ['35', '39'],
} as const
type Style = keyof typeof SGR

const STATUS_STYLE: Record<TaskStatus, Style> = {
  fulfilled: 'green',
  fallback: 'yellow',
  rejected: 'red',
  aborted: 'magenta',
  skipped: 'dim',
}

/**
 * Renders `trace` as a waterfall: a title line (flow, status, total time, critical path), a time
 * axis, one row per task and a legend. Each row shows, on the shared axis, the time the task
 * waited (light: from when it began waiting, which is the run's start for gated and `after`
 * tasks, until it started; and, inside its run, the time it spent awaiting `$.x`), the time it
 * ran (solid; `×` if it failed, `╌` if the run ended while it was still running), a `*` if it is on
 * the critical path, its status, and two times under a header: `ran`, the solid part (its own
 * work), and `waited`, the light part (before its start and awaiting `$.x`) — together the whole
 * bar, so a slow task is never confused with one that waited. A task that started always gets at
 * least one glyph, however short it was. Skipped tasks have no bar.
 *
 * "critical path" in the title is the time the critical-path tasks spent working: the sum of their
 * durations less the time they spent awaiting other tasks' results.
 */
export function renderWaterfall(trace: FlowTrace, options?: WaterfallOptions): string {
  const { width, color } = checkOptions(options)
  checkTrace(trace)
  const paint = (text: string, style: Style): string =>
    color && text.length > 0 ? `\x1b[${SGR[style][0]}m${text}\x1b[${SGR[style][1]}m` : text

  const tasks = trace.tasks
  const critical = new Set(trace.criticalPath)
  const span = traceSpan(trace)
  const col = (ms: number): number =>
    span <= 0 ? 0 : clamp(Math.round((finite(ms) / span) * width), 0, width)

  const names = tasks.map((t) => fitName(t.name))
  const nameWidth = Math.max(0, ...names.map((n) => n.length))
  const indent = ' '.repeat(2 + nameWidth + 2)
  const ran = tasks.map((t) => (t.startedAt === undefined ? '' : `${ms(busy(t, span))} ms`))
  const waited = tasks.map((t) => (t.startedAt === undefined ? '' : `${ms(waitedFor(t, span))} ms`))
  const started = tasks.some((t) => t.startedAt !== undefined)
  const ranWidth = Math.max(RAN.length, ...ran.map((d) => d.length))
  const waitedWidth = Math.max(WAITED.length, ...waited.map((d) => d.length))
  const statusWidth = Math.max(0, ...tasks.map((t) => t.status.length))

  const lines: string[] = []

  // Title.
  const path = trace.criticalPath.map(fitName)
  const pathMs = tasks
    .filter((t) => critical.has(t.name))
    .reduce((sum, t) => sum + busy(t, span), 0)
  lines.push(
    `${paint(clean(trace.flow), 'bold')} · ${paint(trace.status, trace.status === 'fulfilled' ? 'green' : trace.status === 'rejected' ? 'red' : 'yellow')}` +
      ` · ${ms(finite(trace.duration))} ms total · critical path ` +
      (path.length > 0 ? `${ms(pathMs)} ms: ${path.join(' → ')}` : 'none'),
  )

  // Time axis: tick labels, then a ruler.
  const ticks = axisTicks(span, width)
  let labels = ''
  let ruler = ''
  for (let c = 0; c < width; c++) ruler += ticks.some((tick) => tick.col === c) ? '┬' : '─'
  // axisTicks spaces the ticks so that each label ends before the next one begins.
  for (const [i, tick] of ticks.entries())
    labels = labels.padEnd(tick.col) + (i === ticks.length - 1 ? `${tick.label} ms` : tick.label)
  // The times' header sits on the labels' line, over its columns (the last label may run past the axis).
  if (started)
    labels =
      labels.padEnd(Math.max(labels.length + 2, width + 2 + statusWidth + 2)) +
      `${RAN.padStart(ranWidth)}  ${WAITED.padStart(waitedWidth)}`
  lines.push(paint(indent + labels, 'dim'))
  lines.push(indent + paint(ruler, 'dim'))

  // One row per task.
  for (const [i, task] of tasks.entries()) {
    const onPath = critical.has(task.name)
    const mark = onPath ? paint(GLYPH.critical, 'bold') : ' '
    const name = names[i]!.padEnd(nameWidth)
    const label = onPath ? paint(name, 'bold') : name
    if (task.startedAt === undefined) {
      lines.push(
        `${mark} ${label}  ${' '.repeat(width)}  ${paint(task.status, STATUS_STYLE[task.status])}`,
      )
      continue
    }
    const bar = paintBar(cells(task, span, width, col), task.status, paint)
    const status =
      paint(task.status, STATUS_STYLE[task.status]) + ' '.repeat(statusWidth - task.status.length)
    lines.push(
      `${mark} ${label}  ${bar}  ${status}  ${ran[i]!.padStart(ranWidth)}  ${waited[i]!.padStart(waitedWidth)}`,
    )
  }

  lines.push(
    `${paint(GLYPH.wait, 'dim')} waiting  ${paint(GLYPH.run, 'green')} running  ${paint(GLYPH.failed, 'red')} failed` +
      `  ${paint(GLYPH.aborted, 'magenta')} cut off (aborted)  ${paint(GLYPH.critical, 'bold')} critical path`,
  )
  return lines.join('\n')
}

function checkOptions(raw: WaterfallOptions | undefined): { width: number; color: boolean } {
  const options = snapshot(WHERE, raw)
  checkKnownKeys(WHERE, options, OPTIONS)
  const width = options.width ?? 60
  if (
    typeof width !== 'number' ||
    !Number.isInteger(width) ||
    width < MIN_WIDTH ||
    width > MAX_WIDTH
  ) {
    throw new InvalidOptionError(
      `${WHERE}: \`width\` must be a whole number of columns from ${MIN_WIDTH} to ${MAX_WIDTH}, got ${show(width)}.` +
        (typeof width === 'string' ? ' Pass a number, e.g. 80, not a string.' : ''),
    )
  }
  const color = options.color ?? false
  if (typeof color !== 'boolean') {
    throw new InvalidOptionError(`${WHERE}: \`color\` must be true or false, got ${show(color)}.`)
  }
  return { width, color }
}

function checkTrace(trace: unknown): asserts trace is FlowTrace {
  const t = trace as Partial<FlowTrace> | null
  if (
    typeof t !== 'object' ||
    t === null ||
    !Array.isArray(t.tasks) ||
    !Array.isArray(t.criticalPath) ||
    typeof t.flow !== 'string'
  ) {
    throw new InvalidOptionError(
      `${WHERE}: expected a FlowTrace (what \`onTrace\` receives), got ${show(trace)}.`,
    )
  }
}

/** One glyph per column: wait before the start, then the run, with `$.x` waits inside it light. */
function cells(task: TaskTrace, span: number, width: number, col: (ms: number) => number): Cell[] {
  const out: Cell[] = new Array<Cell>(width).fill('empty')
  const start = finite(task.startedAt ?? 0)
  const end = runEnd(task, span)
  let runFrom = col(start)
  let runTo = col(end)
  if (runTo <= runFrom) {
    // Too short to fill a column: still one glyph.
    runFrom = Math.min(runFrom, width - 1)
    runTo = runFrom + 1
  }
  // Waiting before the start: from the earliest wait that began before it.
  let waitFrom = start
  for (const w of task.waits) if (finite(w.from) < waitFrom) waitFrom = finite(w.from)
  for (let c = col(waitFrom); c < runFrom; c++) out[c] = 'wait'

  const ran: Cell =
    task.status === 'rejected' || task.status === 'fallback'
      ? 'failed'
      : task.status === 'aborted'
        ? 'aborted'
        : 'run'
  for (let c = runFrom; c < runTo; c++) out[c] = ran
  // Waiting inside the run (reading another task's pending result).
  let working = false
  for (let c = runFrom; c < runTo; c++) {
    const inWait = task.waits.some(
      (w) =>
        w.to > start &&
        w.from < end &&
        col(Math.max(w.from, start)) <= c &&
        c < col(Math.min(w.to, end)),
    )
    if (inWait) out[c] = 'wait'
    else working = true
  }
  // A task that only awaited others still did something: its end is shown.
  if (!working) out[runTo - 1] = ran
  return out
}

function paintBar(
  row: Cell[],
  status: TaskStatus,
  paint: (text: string, style: Style) => string,
): string {
  let out = ''
  let i = 0
  while (i < row.length) {
    const kind = row[i]!
    let j = i
    while (j < row.length && row[j] === kind) j++
    const n = j - i
    switch (kind) {
      case 'empty':
        out += ' '.repeat(n)
        break
      case 'wait':
        out += paint(GLYPH.wait.repeat(n), 'dim')
        break
      case 'run':
        out += paint(GLYPH.run.repeat(n), 'green')
        break
      case 'failed':
        out += paint(GLYPH.failed.repeat(n), status === 'fallback' ? 'yellow' : 'red')
        break
      case 'aborted':
        out += paint(GLYPH.aborted.repeat(n), 'magenta')
        break
    }
    i = j
  }
  return out
}

interface Tick {
  readonly col: number
  readonly label: string
}

/** Ticks at the smallest round step (1, 2 or 5 × 10ⁿ ms) that keeps them apart and labels from touching. */
function axisTicks(span: number, width: number): Tick[] {
  if (span <= 0) return [{ col: 0, label: '0' }]
  for (let exp = -1; exp <= 15; exp++) {
    for (const base of [1, 2, 5]) {
      const step = base * 10 ** exp
      const decimals = exp < 0 ? 1 : 0
      const gap = (step / span) * width
      const widest = (Math.floor(span / step) * step).toFixed(decimals).length
      if (gap < Math.max(MIN_TICK_GAP, widest + 2)) continue
      const ticks: Tick[] = []
      for (let k = 0; ; k++) {
        const c = Math.round(((k * step) / span) * width)
        if (c >= width) break
        ticks.push({ col: c, label: (k * step).toFixed(decimals) })
      }
      return ticks
    }
  }
  return [{ col: 0, label: '0' }]
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value))
}

/** Control characters would break the layout (or smuggle in escape codes): shown as `?`. */
function clean(name: string): string {
  return String(name).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

function fitName(name: string): string {
  const n = clean(name)
  return n.length > NAME_MAX ? `${n.slice(0, NAME_MAX - 1)}…` : n
}

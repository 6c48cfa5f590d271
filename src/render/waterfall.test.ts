import { describe, expect, it } from 'vitest'
import {
  criticalPath,
  type FlowTrace,
  type TaskStatus,
  type TaskTrace,
  type TaskWait,
} from '../flow/trace.js'
import { InvalidOptionError } from '../core/errors.js'
import { renderWaterfall, type WaterfallOptions } from './waterfall.js'

function task(
  name: string,
  status: TaskStatus,
  startedAt: number | undefined,
  endedAt: number | undefined,
  waits: TaskWait[] = [],
  gate = false,
): TaskTrace {
  return { name, gate, status, startedAt, endedAt, waits }
}

function trace(
  flow: string,
  status: FlowTrace['status'],
  duration: number,
  tasks: TaskTrace[],
): FlowTrace {
  return { flow, status, duration, tasks, criticalPath: criticalPath(tasks), events: [] }
}

const gate = (to: number): TaskWait => ({ on: 'auth', kind: 'gate', from: 0, to })

/**
 * A run that failed at 130 ms: gate `auth`, then user/settings/balance in parallel, `recs` failing
 * at once and replaced by its fallback, `access` reading `$.user` and cut off when `balance`
 * failed, and `audit` (after `balance`) never started.
 */
const representative = trace('checkout', 'rejected', 130, [
  task('auth', 'fulfilled', 0, 40, [], true),
  task('user', 'fulfilled', 40, 100, [gate(40)]),
  task('settings', 'fulfilled', 40, 70, [gate(40)]),
  task('balance', 'rejected', 40, 130, [gate(40)]),
  task('recs', 'fallback', 40, 40.2, [gate(40)]),
  task('access', 'aborted', 40, 130, [gate(40), { on: 'user', kind: 'read', from: 40, to: 100 }]),
  task('audit', 'skipped', undefined, undefined, [gate(40)]),
])

const ANSI = /\x1b\[[0-9;]*m/g

describe('renderWaterfall', () => {
  it('draws waits, runs, failures, the critical path and skipped tasks', () => {
    expect(representative.criticalPath).toEqual(['auth', 'balance'])
    expect('\n' + renderWaterfall(representative)).toMatchInlineSnapshot(`
      "
      checkout · rejected · 130 ms total · critical path 130 ms: auth → balance
                  0        20       40        60       80       100      120 ms               ran  waited
                  ┬────────┬────────┬─────────┬────────┬────────┬────────┬────
      * auth      ██████████████████                                            fulfilled   40 ms    0 ms
        user      ░░░░░░░░░░░░░░░░░░████████████████████████████                fulfilled   60 ms   40 ms
        settings  ░░░░░░░░░░░░░░░░░░██████████████                              fulfilled   30 ms   40 ms
      * balance   ░░░░░░░░░░░░░░░░░░××××××××××××××××××××××××××××××××××××××××××  rejected    90 ms   40 ms
        recs      ░░░░░░░░░░░░░░░░░░×                                           fallback   0.2 ms   40 ms
        access    ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░╌╌╌╌╌╌╌╌╌╌╌╌╌╌  aborted     30 ms  100 ms
        audit                                                                   skipped
      ░ waiting  █ running  × failed  ╌ cut off (aborted)  * critical path"
    `)
  })

  it('fits the bars to `width`', () => {
    const out = renderWaterfall(representative, { width: 20 })
    expect('\n' + out).toMatchInlineSnapshot(`
      "
      checkout · rejected · 130 ms total · critical path 130 ms: auth → balance
                  0              100 ms               ran  waited
                  ┬──────────────┬────
      * auth      ██████                fulfilled   40 ms    0 ms
        user      ░░░░░░█████████       fulfilled   60 ms   40 ms
        settings  ░░░░░░█████           fulfilled   30 ms   40 ms
      * balance   ░░░░░░××××××××××××××  rejected    90 ms   40 ms
        recs      ░░░░░░×               fallback   0.2 ms   40 ms
        access    ░░░░░░░░░░░░░░░╌╌╌╌╌  aborted     30 ms  100 ms
        audit                           skipped
      ░ waiting  █ running  × failed  ╌ cut off (aborted)  * critical path"
    `)
  })

  it('with color: adds ANSI codes, and without them the text is exactly the colourless output', () => {
    const plain = renderWaterfall(representative)
    const colored = renderWaterfall(representative, { color: true })
    expect(colored).toMatch(ANSI)
    expect(colored.replace(ANSI, '')).toBe(plain)
    // The emphasis follows the status: green run, dim wait, red failure, yellow fallback, bold critical path.
    expect(colored).toContain('\x1b[32m██████████████████\x1b[39m')
    expect(colored).toContain('\x1b[2m░░░░░░░░░░░░░░░░░░\x1b[22m')
    expect(colored).toContain('\x1b[31m××××')
    expect(colored).toContain('\x1b[33m×\x1b[39m')
    expect(colored).toContain('\x1b[1m*\x1b[22m \x1b[1mbalance ')
    expect(colored).not.toContain('\x1b[1m*\x1b[22m \x1b[1muser')
  })

  it('renders a run that took no time: every task that ran still gets one glyph', () => {
    const zero = trace('instant', 'fulfilled', 0, [
      task('auth', 'fulfilled', 0, 0, [], true),
      task('a', 'fulfilled', 0, 0, [gate(0)]),
      task('b', 'fallback', 0, 0, [gate(0)]),
    ])
    expect('\n' + renderWaterfall(zero, { width: 10 })).toMatchInlineSnapshot(`
      "
      instant · fulfilled · 0 ms total · critical path 0 ms: auth
              0 ms                    ran  waited
              ┬─────────
      * auth  █           fulfilled  0 ms    0 ms
        a     █           fulfilled  0 ms    0 ms
        b     ×           fallback   0 ms    0 ms
      ░ waiting  █ running  × failed  ╌ cut off (aborted)  * critical path"
    `)
  })

  it('gives a task too short for a column one glyph at the end of the axis too', () => {
    const late = trace('late', 'fulfilled', 1000, [
      task('slow', 'fulfilled', 0, 999.9),
      task('blip', 'fulfilled', 999.9, 1000),
    ])
    const rows = renderWaterfall(late, { width: 10 }).split('\n')
    expect(rows[3]).toBe('  slow  ██████████  fulfilled  1000 ms    0 ms')
    expect(rows[4]).toBe('* blip           █  fulfilled   0.1 ms    0 ms')
  })

  it('says which time is waiting: `ran` is the solid part of a bar, `waited` the light part, together the whole bar', () => {
    // `report` waits 20 ms for a gate, starts, awaits `$.data` for 50 ms of its 80, and works 30 ms.
    const t = trace('split', 'fulfilled', 100, [
      task('auth', 'fulfilled', 0, 20, [], true),
      task('data', 'fulfilled', 20, 70, [gate(20)]),
      task('report', 'fulfilled', 20, 100, [
        gate(20),
        { on: 'data', kind: 'read', from: 20, to: 70 },
      ]),
    ])
    const rows = renderWaterfall(t, { width: 10 }).split('\n')
    expect(rows[1]).toMatch(/ran {2}waited$/)
    expect(rows[5]).toBe('* report  ░░░░░░░███  fulfilled  30 ms   70 ms')
    // Each number sits under its header.
    expect(rows[1]!.indexOf('waited') + 'waited'.length).toBe(rows[5]!.length)
    expect(rows[1]!.indexOf('ran') + 'ran'.length).toBe(rows[5]!.indexOf('30 ms') + '30 ms'.length)
  })

  it('cuts very long names and keeps every bar on the same axis', () => {
    const long = 'fetch-the-recommendations-for-the-current-user-from-the-legacy-service'
    const t = trace('names', 'fulfilled', 100, [
      task('a', 'fulfilled', 0, 50),
      task(long, 'fulfilled', 50, 100, [{ on: 'a', kind: 'after', from: 0, to: 50 }]),
    ])
    const out = renderWaterfall(t, { width: 20 })
    expect('\n' + out).toMatchInlineSnapshot(`
      "
      names · fulfilled · 100 ms total · critical path 100 ms: a → fetch-the-recommendatio…
                                  0         50 ms                    ran  waited
                                  ┬─────────┬─────────
      * a                         ██████████            fulfilled  50 ms    0 ms
      * fetch-the-recommendatio…  ░░░░░░░░░░██████████  fulfilled  50 ms   50 ms
      ░ waiting  █ running  × failed  ╌ cut off (aborted)  * critical path"
    `)
    const rows = out.split('\n').slice(3, 5)
    expect(new Set(rows.map((r) => r.search(/[█░]/))).size).toBe(1)
  })

  it('neutralises control characters in names', () => {
    const t = trace('evil\nflow', 'fulfilled', 10, [task('a\x1b[31mred', 'fulfilled', 0, 10)])
    const out = renderWaterfall(t, { width: 10 })
    expect(out).not.toContain('\x1b')
    expect(out.split('\n')[0]).toBe(
      'evil?flow · fulfilled · 10 ms total · critical path 10 ms: a?[31mred',
    )
  })

  it('shows an exited run and a flow with no tasks', () => {
    const exited = trace('early', 'exited', 20, [
      task('cache', 'fulfilled', 0, 20),
      task('db', 'aborted', 0, 20),
    ])
    expect(renderWaterfall(exited, { width: 10 }).split('\n')[0]).toBe(
      'early · exited · 20 ms total · critical path 20 ms: cache',
    )
    expect(renderWaterfall(trace('empty', 'fulfilled', 0, []), { width: 10 })).toBe(
      [
        'empty · fulfilled · 0 ms total · critical path none',
        '    0 ms',
        '    ┬─────────',
        '░ waiting  █ running  × failed  ╌ cut off (aborted)  * critical path',
      ].join('\n'),
    )
  })

  it('rejects invalid options with messages that say how to fix them', () => {
    const message = (options: unknown): string => {
      try {
        renderWaterfall(representative, options as WaterfallOptions)
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionError)
        return (error as Error).message
      }
      throw new Error('did not throw')
    }
    expect(message({ width: 5 })).toBe(
      'renderWaterfall(): `width` must be a whole number of columns from 10 to 1000, got 5.',
    )
    expect(message({ width: 60.5 })).toBe(
      'renderWaterfall(): `width` must be a whole number of columns from 10 to 1000, got 60.5.',
    )
    expect(message({ width: Infinity })).toBe(
      'renderWaterfall(): `width` must be a whole number of columns from 10 to 1000, got Infinity.',
    )
    expect(message({ width: '80' })).toBe(
      'renderWaterfall(): `width` must be a whole number of columns from 10 to 1000, got "80". Pass a number, e.g. 80, not a string.',
    )
    expect(message({ color: 'auto' })).toBe(
      'renderWaterfall(): `color` must be true or false, got "auto".',
    )
    expect(message({ colour: true })).toBe(
      'renderWaterfall(): unknown option `colour`. Did you mean `color`? Known options: `width`, `color`.',
    )
    expect(message(80)).toBe('renderWaterfall(): options must be a plain object, got 80.')
    expect(() => renderWaterfall({} as FlowTrace)).toThrow(
      new InvalidOptionError(
        'renderWaterfall(): expected a FlowTrace (what `onTrace` receives), got an object (Object).',
      ),
    )
    // `undefined` means "default", as everywhere in fanout.
    expect(
      renderWaterfall(representative, {
        width: undefined,
        color: undefined,
      } as unknown as WaterfallOptions),
    ).toBe(renderWaterfall(representative))
  })
})

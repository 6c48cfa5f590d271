/**
 * The HTML waterfall in a real browser (Debian's chromium through playwright-core): the page
 * `fanout trace view` writes for the demo's trace, a hand-built trace with known numbers, a
 * hostile one, and 1,000 tasks. Every network request is aborted and recorded, and none may be
 * attempted; no console error, no CSP violation, no dialog.
 *
 * Skipped without /usr/bin/chromium, failed instead under FANOUT_REQUIRE_CHROMIUM=1.
 *
 * `FANOUT_VIEWER_SCREENSHOT=docs/images/viewer-demo.png npx vitest run test/viewer-browser.test.ts`
 * also runs the demo at its real latencies and saves the docs' screenshot of its trace.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli/main.js'
import { runDemo } from '../src/demo/demo.js'
import {
  criticalPath,
  renderWaterfall,
  renderWaterfallHtml,
  traceToJSON,
  type FlowTrace,
  type TaskTrace,
} from '../src/index.js'
import {
  chromiumPresent,
  launchChromium,
  requireChromiumWhenAsked,
  watchedPage,
  type PageWatch,
} from './helpers/chromium.js'
import { gate, largeTrace, splitTasks } from './helpers/traces.js'

requireChromiumWhenAsked()

const dir = mkdtempSync(join(tmpdir(), 'fanout-viewer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The tooltip's fields (`data-k` → text), or undefined while it is hidden. */
async function tooltip(page: Page): Promise<Record<string, string> | undefined> {
  return page.evaluate(() => {
    const tip = document.getElementById('tip')!
    if (tip.hidden) return undefined
    const fields: Record<string, string> = { name: tip.querySelector('h2')!.textContent ?? '' }
    for (const dd of Array.from(tip.querySelectorAll('dd')))
      fields[dd.dataset.k!] = dd.textContent ?? ''
    fields.notes = Array.from(tip.querySelectorAll('li'), (li) => li.textContent).join('\n')
    return fields
  })
}

interface RowView {
  name: string
  critical: boolean
  status: string
  work: number
  subs: number
  marks: string[]
}

function rowsOf(page: Page): Promise<RowView[]> {
  return page.$$eval('.row', (rows) =>
    rows.map((r) => ({
      name: r.querySelector('.name')!.firstChild!.textContent ?? '',
      critical: r.classList.contains('critical'),
      status: r.querySelector('.status')!.textContent ?? '',
      work: r.querySelectorAll('.seg.work').length,
      subs: r.querySelectorAll('.sub').length,
      marks: Array.from(r.querySelectorAll('.mark'), (m) => m.textContent ?? ''),
    })),
  )
}

/** Opens `html` (as page content) in a watched page and waits for its script to have drawn it. */
async function open(browser: Browser, html: string): Promise<PageWatch> {
  const watch = await watchedPage(browser)
  await watch.page.setContent(html)
  await watch.page.waitForSelector('body[data-render-ms]')
  return watch
}

/** Nothing loaded, nothing logged, no policy violation, no dialog. */
async function expectClean(watch: PageWatch): Promise<void> {
  expect(watch.requests).toEqual([])
  expect(watch.errors).toEqual([])
  expect(watch.dialogs).toEqual([])
  expect(await watch.cspViolations()).toEqual([])
}

/** The `ran` and `waited` columns of the terminal waterfall, per task name. */
function terminalTimes(trace: FlowTrace): Map<string, { ran: string; waited: string }> {
  const lines = renderWaterfall(trace, { width: 60 })
    .split('\n')
    .slice(3, 3 + trace.tasks.length)
  const out = new Map<string, { ran: string; waited: string }>()
  for (const [i, line] of lines.entries()) {
    const m = /(\S+ ms)\s+(\S+ ms)$/.exec(line)
    if (m !== null) out.set(trace.tasks[i]!.name, { ran: m[1]!, waited: m[2]! })
  }
  return out
}

describe.runIf(chromiumPresent)('the HTML waterfall in chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchChromium()
  }, 30_000)
  afterAll(async () => {
    await browser?.close()
  })

  it('the demo’s trace, from the file fanout trace view wrote: a row per task, the terminal’s numbers on hover', async () => {
    const screenshot = process.env.FANOUT_VIEWER_SCREENSHOT
    const report = await runDemo(
      screenshot === undefined
        ? { loads: 12, concurrency: 4, latencyScale: 0.2, seed: 3 }
        : { loads: 40, concurrency: 6, seed: 1 },
    )
    const trace = report.ways.find((w) => w.way === 'fanout')!.typical!
    const file = join(dir, 'demo.json')
    writeFileSync(file, traceToJSON(trace))
    const printed: string[] = []
    const code = await main(['trace', 'view', file], {
      out: (line) => printed.push(line),
      err: (line) => printed.push(line),
      isTTY: false,
      env: {},
      cwd: dir,
    })
    expect({ code, printed }).toEqual({ code: 0, printed: [join(dir, 'demo.html')] })

    // Opened from disk, as a reader opens it: only the page's own URL may be fetched.
    const url = pathToFileURL(join(dir, 'demo.html')).href
    const watch = await watchedPage(browser, { viewport: { width: 1100, height: 640 }, allow: url })
    const { page } = watch
    await page.goto(url)
    await page.waitForSelector('body[data-render-ms]')

    const rows = await rowsOf(page)
    expect(rows.map((r) => r.name)).toEqual(trace.tasks.map((t) => t.name))
    expect(rows.map((r) => r.status)).toEqual(trace.tasks.map((t) => t.status))
    expect(
      rows
        .filter((r) => r.critical)
        .map((r) => r.name)
        .sort(),
    ).toEqual([...trace.criticalPath].sort())
    for (const [i, t] of trace.tasks.entries())
      if (t.startedAt === undefined) expect(rows[i]!.work, t.name).toBe(0)
      else expect(rows[i]!.work, t.name).toBeGreaterThan(0)
    if (trace.events.some((e) => e.type === 'request.started'))
      expect(rows.some((r) => r.subs > 0)).toBe(true)
    expect(await page.textContent('#summary')).toContain(`${trace.flow} · ${trace.status} · `)

    const terminal = terminalTimes(trace)
    for (const [i, t] of trace.tasks.entries()) {
      await page.hover(`.row[data-i="${i}"] .name`)
      const tip = await tooltip(page)
      expect(tip?.name).toBe(t.name)
      if (t.startedAt !== undefined) expect(tip).toMatchObject(terminal.get(t.name)!)
    }
    if (screenshot !== undefined) {
      // The last task of the critical path hovered, its details below the rows, the bars in view.
      const last = trace.tasks.findIndex((t) => t.name === trace.criticalPath.at(-1))
      const track = (await page.locator(`.row[data-i="${last}"] .track`).boundingBox())!
      await page.hover(`.row[data-i="${last}"] .track`, {
        position: { x: track.width * 0.55, y: track.height / 2 },
      })
      const bottom = await page.evaluate(() =>
        Math.max(
          document.getElementById('rows')!.getBoundingClientRect().bottom,
          document.getElementById('tip')!.getBoundingClientRect().bottom,
        ),
      )
      await page.screenshot({
        path: screenshot,
        clip: { x: 0, y: 0, width: 1100, height: bottom + 16 },
      })
    }
    await expectClean(watch)
  }, 120_000)

  it('a known trace: bars where the times say, the tooltip’s numbers, marks and attempts, no error message', async () => {
    const tasks: TaskTrace[] = [
      ...splitTasks(),
      {
        name: 'prices',
        gate: false,
        status: 'rejected',
        startedAt: 20,
        endedAt: 45,
        waits: [gate(20)],
        error: Object.assign(new Error('upstream said: token sk_live_SECRET is invalid'), {
          name: 'HttpError',
          code: 'E_UPSTREAM',
          status: 503,
        }),
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
    const trace: FlowTrace = {
      flow: 'checkout',
      status: 'rejected',
      duration: 100,
      tasks,
      criticalPath: criticalPath(tasks),
      // On a clock that read 5000 when the run started.
      events: [
        { type: 'attempt.started', task: 'data', at: 5020, attempt: 1 },
        {
          type: 'retry.scheduled',
          task: 'data',
          at: 5030,
          attempt: 1,
          delayMs: 5,
          reason: 'backoff',
          cause: '503',
        },
        { type: 'attempt.started', task: 'data', at: 5035, attempt: 2 },
        { type: 'timeout.fired', task: 'prices', at: 5045, timeoutMs: 25 },
      ],
    }
    const watch = await open(browser, renderWaterfallHtml(trace))
    const { page } = watch

    // Geometry: report works from 70 ms to 100 ms, on a 100 ms axis.
    const track = (await page.locator('.row[data-i="2"] .track').boundingBox())!
    const work = (await page.locator('.row[data-i="2"] .seg.work').boundingBox())!
    expect(Math.abs(work.x - (track.x + 0.7 * track.width))).toBeLessThan(1.5)
    expect(Math.abs(work.width - 0.3 * track.width)).toBeLessThan(1.5)
    const retry = (await page.locator('.row[data-i="1"] .mark').boundingBox())!
    expect(Math.abs(retry.x + retry.width / 2 - (track.x + 0.3 * track.width))).toBeLessThan(1.5)

    await page.hover('.row[data-i="2"] .name')
    expect(await tooltip(page)).toEqual({
      name: 'report',
      status: 'fulfilled · critical path',
      start: '20 ms',
      end: '100 ms',
      ran: '30 ms',
      waited: '70 ms',
      waits: 'auth (gate, 0–20 ms), data (read, 20–70 ms)',
      notes: '',
    })
    await page.hover('.row[data-i="1"] .name')
    expect((await tooltip(page))!.notes).toBe(
      [
        '20 ms  attempt 1 started',
        '30 ms  attempt 1 failed (503); retry in 5 ms (backoff)',
        '35 ms  attempt 2 started',
      ].join('\n'),
    )
    await page.hover('.row[data-i="3"] .name')
    const failed = (await tooltip(page))!
    expect(failed.error).toBe('HttpError · code E_UPSTREAM · status 503')
    expect(failed.notes).toBe('45 ms  timeout of 25 ms fired')
    await page.hover('.row[data-i="4"] .name')
    expect(await tooltip(page)).toMatchObject({ status: 'skipped', start: 'never started' })
    expect(await page.content()).not.toContain('SECRET')

    const rows = await rowsOf(page)
    expect(rows.map((r) => [r.name, r.critical, r.subs, r.marks.join('')])).toEqual([
      ['auth', true, 0, ''],
      ['data', true, 2, 'R'],
      ['report', true, 0, ''],
      ['prices', false, 0, 'T'],
      ['audit', false, 0, ''],
    ])
    await page.mouse.move(1, 1)
    expect(await tooltip(page)).toBeUndefined()
    await expectClean(watch)
  }, 30_000)

  it('a hostile name, flow and title show as text: no markup, no script, no request, no dialog', async () => {
    const names = [
      '<img src=x onerror="globalThis.__pwned=1">',
      '<script>globalThis.__pwned=2</script>',
      '"><svg onload=alert(3)>\u2028',
    ]
    const tasks: TaskTrace[] = names.map((name, i) => ({
      name,
      gate: false,
      status: 'fulfilled',
      startedAt: i * 10,
      endedAt: i * 10 + 10,
      waits: [],
    }))
    const trace: FlowTrace = {
      flow: '</script><script>alert(4)</script>',
      status: 'fulfilled',
      duration: 30,
      tasks,
      criticalPath: criticalPath(tasks),
      events: [],
    }
    const watch = await open(
      browser,
      renderWaterfallHtml(trace, { title: '<b onmouseover=alert(5)>t</b>' }),
    )
    const { page } = watch
    expect((await rowsOf(page)).map((r) => r.name)).toEqual(names)
    expect(await page.textContent('h1')).toBe('<b onmouseover=alert(5)>t</b>')
    expect(await page.title()).toBe('<b onmouseover=alert(5)>t</b>')
    expect(await page.textContent('#summary')).toContain('</script><script>alert(4)</script>')
    await page.hover('.row[data-i="0"] .name')
    expect((await tooltip(page))!.name).toBe(names[0])
    expect(await page.$$eval('img, svg', (e) => e.length)).toBe(0)
    const handlers = await page.$$eval(
      '*',
      (all) =>
        all.filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith('on'))).length,
    )
    expect(handlers).toBe(0)
    expect(await page.$$eval('script', (e) => e.length)).toBe(2)
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()
    await expectClean(watch)
  }, 30_000)

  it('1,000 tasks: every row drawn, hover and the arrow keys show a task, the filters hide rows', async () => {
    const trace = largeTrace(1000)
    const t0 = performance.now()
    const html = renderWaterfallHtml(trace)
    const built = performance.now() - t0
    const watch = await watchedPage(browser)
    const { page } = watch
    const t1 = performance.now()
    await page.setContent(html)
    await page.waitForSelector('body[data-render-ms]')
    const loaded = performance.now() - t1
    const script = await page.getAttribute('body', 'data-render-ms')
    // Measured, not asserted: timing belongs in bench/.
    console.log(
      `1,000 tasks: ${Math.round(html.length / 1024)} KB page, built in ${built.toFixed(0)} ms, ` +
        `loaded in ${loaded.toFixed(0)} ms (script ${script} ms)`,
    )
    const rows = await rowsOf(page)
    expect(rows).toHaveLength(1000)
    expect(rows.filter((r) => r.critical).length).toBe(trace.criticalPath.length)
    expect(rows.filter((r) => r.marks.includes('R')).length).toBe(
      trace.events.filter((e) => e.type === 'retry.scheduled').length,
    )

    await page.hover('.row[data-i="700"] .name')
    expect(await tooltip(page)).toMatchObject({
      name: 'task-0700',
      ...terminalTimes(trace).get('task-0700'),
    })

    // The mouse leaves the rows first: rows scrolling under it would be hovered too.
    await page.mouse.move(0, 0)
    expect(await tooltip(page)).toBeUndefined()
    await page.focus('#chart')
    await page.keyboard.press('ArrowDown')
    expect((await tooltip(page))!.name).toBe('auth')
    await page.keyboard.press('ArrowDown')
    expect((await tooltip(page))!.name).toBe('task-0001')
    await page.keyboard.press('Escape')
    expect(await tooltip(page)).toBeUndefined()

    const visible = (): Promise<number> => page.$$eval('.row:not([hidden])', (r) => r.length)
    await page.fill('#filter', 'TASK-09')
    expect(await visible()).toBe(100)
    await page.fill('#filter', '')
    await page.check('#only-critical')
    expect(await visible()).toBe(trace.criticalPath.length)
    await expectClean(watch)
  }, 60_000)
})

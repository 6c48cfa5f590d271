/**
 * A real browser for tests: Debian's chromium at /usr/bin/chromium, driven by playwright-core.
 *
 * Without it the browser suites are skipped with the reason, except under
 * FANOUT_REQUIRE_CHROMIUM=1 (set by `.ci/run`, which installs it), where their required-check
 * fails instead.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { expect, it } from 'vitest'

export const CHROMIUM = '/usr/bin/chromium'
export const chromiumRequired = process.env.FANOUT_REQUIRE_CHROMIUM === '1'
/** Checked once per file, at import: suites use `describe.runIf(chromiumPresent)`. */
export const chromiumPresent = existsSync(CHROMIUM)
if (!chromiumPresent && !chromiumRequired)
  console.warn(
    `${CHROMIUM} is missing: the browser tests are skipped (apt-get install chromium; FANOUT_REQUIRE_CHROMIUM=1 makes this a failure).`,
  )

/** Registers the suite's required-check: under FANOUT_REQUIRE_CHROMIUM=1 a missing browser fails it. */
export function requireChromiumWhenAsked(): void {
  it.runIf(chromiumRequired)(
    `${CHROMIUM} is installed (required: FANOUT_REQUIRE_CHROMIUM=1)`,
    () => {
      expect(chromiumPresent).toBe(true)
    },
  )
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
}

/** What a page did that a self-contained, script-safe page never does. */
export interface PageWatch {
  readonly page: Page
  /** Every request the page attempted (each was aborted), but for `allow`. */
  readonly requests: string[]
  /** Console errors and warnings, and uncaught exceptions. */
  readonly errors: string[]
  /** alert(), confirm() and prompt() calls (each dismissed). */
  readonly dialogs: string[]
  /** Content-Security-Policy violations the page reported. */
  cspViolations(): Promise<string[]>
}

/**
 * A new page that can reach nothing: every request is aborted and recorded, except a request for
 * `allow` (the page's own file:// URL, when it is opened from disk).
 */
export async function watchedPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; allow?: string } = {},
): Promise<PageWatch> {
  const page = await browser.newPage({ viewport: options.viewport ?? { width: 1200, height: 800 } })
  const requests: string[] = []
  const errors: string[] = []
  const dialogs: string[] = []
  await page.route('**', async (route) => {
    const url = route.request().url()
    if (url === options.allow) return route.continue()
    requests.push(url)
    return route.abort()
  })
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      errors.push(`${message.type()}: ${message.text()}`)
  })
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`))
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`)
    void dialog.dismiss()
  })
  await page.addInitScript(() => {
    const seen: string[] = []
    ;(globalThis as unknown as { __csp: string[] }).__csp = seen
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(`${e.violatedDirective}: ${e.blockedURI}`),
    )
  })
  return {
    page,
    requests,
    errors,
    dialogs,
    cspViolations: () =>
      page.evaluate(() => (globalThis as unknown as { __csp?: string[] }).__csp ?? []),
  }
}

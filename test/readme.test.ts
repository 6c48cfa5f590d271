/**
 * Runs every ```ts block of README.md as a module, importing `fanout` from the source. A line
 * `console.log(…) // expected` is checked: what it prints must be the whole comment, or the whole
 * comment up to a ` — ` that starts an explanation, so the documented output cannot drift from
 * the real one. Whitespace runs compare as one space: util.format wraps long values over lines
 * that the README writes on one.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { format } from 'node:util'
import { describe, expect, it, vi } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const outDir = join(root, 'test', '.readme')

const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim()

/** The whole printed value is the documented one, alone or followed by ` — explanation`. */
export function matchesDocumented(printed: string, documented: string): boolean {
  const out = collapse(printed)
  const doc = collapse(documented)
  return out.length > 0 && (doc === out || doc.startsWith(`${out} — `))
}

interface Check {
  expected: string
  printed: string
}

function instrument(source: string, index: number): { code: string; checks: number } {
  let checks = 0
  const rel = (file: string): string => {
    const path = relative(outDir, join(root, 'src', file)).replaceAll('\\', '/')
    return path.startsWith('.') ? path : `./${path}`
  }
  const code = source
    .replace(/from 'fanout\/compat\/p-limit'/g, `from '${rel('compat/p-limit.js')}'`)
    .replace(/from 'fanout\/compat\/dataloader'/g, `from '${rel('compat/dataloader.js')}'`)
    .replace(/from 'fanout\/cache'/g, `from '${rel('stores/cache.js')}'`)
    .replace(/from 'fanout\/http'/g, `from '${rel('http/index.js')}'`)
    .replace(/from 'fanout\/eslint'/g, `from '${rel('eslint/index.js')}'`)
    .replace(/from 'fanout'/g, `from '${rel('index.js')}'`)
    .split('\n')
    .map((line) => {
      const m = /^(\s*)console\.log\((.*)\)\s*\/\/\s*(.*)$/.exec(line)
      if (m === null) return line
      checks++
      return `${m[1]};(globalThis as unknown as { __readmeCheck: (e: string, ...a: unknown[]) => void }).__readmeCheck(${JSON.stringify(m[3])}, ${m[2]})`
    })
    .join('\n')
  return {
    code: `// Generated from README.md block ${index}; do not edit.\n${code}\nexport {}\n`,
    checks,
  }
}

describe('the README output check', () => {
  it('compares the whole printed value: 5 does not pass for a documented 50, nor 50 for 5', () => {
    expect(matchesDocumented('5', '50')).toBe(false)
    expect(matchesDocumented('50', '5')).toBe(false)
    expect(matchesDocumented('true', 'true true')).toBe(false)
    expect(matchesDocumented('[ 1, 2 ]', '[ 1, 2, 3 ]')).toBe(false)
    expect(matchesDocumented('', '')).toBe(false)
  })

  it('accepts the exact value, a trailing explanation after " — ", and line wrapping', () => {
    expect(matchesDocumented('50', '50')).toBe(true)
    expect(matchesDocumented('50 ', ' 50')).toBe(true)
    expect(matchesDocumented('5', '5 — the burst')).toBe(true)
    expect(matchesDocumented('5', '5— the burst')).toBe(false)
    expect(
      matchesDocumented(
        format({ a: 'x'.repeat(40), b: 'y'.repeat(40) }),
        `{ a: '${'x'.repeat(40)}', b: '${'y'.repeat(40)}' }`,
      ),
    ).toBe(true)
  })
})

describe('README examples', () => {
  it('has examples', () => {
    expect(blocks.length).toBeGreaterThan(5)
  })

  blocks.forEach((block, index) => {
    const title = /^(?:.*\n){0,3}?.*?const (\w+)/.exec(block)?.[1] ?? `block ${index}`
    it(`block ${index + 1} (${title}) runs and prints what it documents`, async () => {
      mkdirSync(outDir, { recursive: true })
      const { code, checks } = instrument(block, index + 1)
      const file = join(outDir, `block-${index + 1}.ts`)
      writeFileSync(file, code)
      const seen: Check[] = []
      const g = globalThis as unknown as {
        __readmeCheck?: (expected: string, ...args: unknown[]) => void
      }
      g.__readmeCheck = (expected, ...args) => seen.push({ expected, printed: format(...args) })
      const log = vi.spyOn(console, 'log').mockImplementation(() => {})
      try {
        await import(`${pathToFileURL(file).href}?t=${Date.now()}`)
      } finally {
        log.mockRestore()
        delete g.__readmeCheck
      }
      expect(seen).toHaveLength(checks)
      for (const { expected, printed } of seen) {
        expect(
          matchesDocumented(printed, expected),
          `printed ${JSON.stringify(printed)}, README says ${JSON.stringify(expected)}`,
        ).toBe(true)
      }
    })
  })
})

/**
 * Runs every ```ts block of docs/context.md as a module, importing `fanout` from the source, and
 * checks each `console.log(…) // expected` line the way test/readme.test.ts checks the README's.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { format } from 'node:util'
import { describe, expect, it, vi } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const doc = readFileSync(join(root, 'docs', 'context.md'), 'utf8')
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const outDir = join(root, 'test', '.docs-context')

const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim()
const matches = (printed: string, documented: string): boolean => {
  const out = collapse(printed)
  const said = collapse(documented)
  return out.length > 0 && (said === out || said.startsWith(`${out} — `))
}

function instrument(source: string): { code: string; checks: number } {
  let checks = 0
  const rel = (file: string): string => {
    const path = relative(outDir, join(root, 'src', file)).replaceAll('\\', '/')
    return path.startsWith('.') ? path : `./${path}`
  }
  const code = source
    .replace(/from 'fanout\/cache'/g, `from '${rel('stores/cache.js')}'`)
    .replace(/from 'fanout\/http'/g, `from '${rel('http/index.js')}'`)
    .replace(/from 'fanout'/g, `from '${rel('index.js')}'`)
    .split('\n')
    .map((line) => {
      const m = /^(\s*)console\.log\((.*)\)\s*\/\/\s*(.*)$/.exec(line)
      if (m === null) return line
      checks++
      return `${m[1]};(globalThis as unknown as { __docCheck: (e: string, ...a: unknown[]) => void }).__docCheck(${JSON.stringify(m[3])}, ${m[2]})`
    })
    .join('\n')
  return { code: `// Generated from docs/context.md; do not edit.\n${code}\nexport {}\n`, checks }
}

describe('docs/context.md examples', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2))

  blocks.forEach((block, index) => {
    it(`block ${index + 1} runs and prints what it documents`, async () => {
      mkdirSync(outDir, { recursive: true })
      const { code, checks } = instrument(block)
      const file = join(outDir, `block-${index + 1}.ts`)
      writeFileSync(file, code)
      const seen: { expected: string; printed: string }[] = []
      const g = globalThis as unknown as {
        __docCheck?: (expected: string, ...args: unknown[]) => void
      }
      g.__docCheck = (expected, ...args) => seen.push({ expected, printed: format(...args) })
      const log = vi.spyOn(console, 'log').mockImplementation(() => {})
      try {
        await import(`${pathToFileURL(file).href}?t=${Date.now()}`)
      } finally {
        log.mockRestore()
        delete g.__docCheck
      }
      expect(seen).toHaveLength(checks)
      for (const { expected, printed } of seen)
        expect(
          matches(printed, expected),
          `printed ${JSON.stringify(printed)}, docs say ${JSON.stringify(expected)}`,
        ).toBe(true)
    })
  })
})

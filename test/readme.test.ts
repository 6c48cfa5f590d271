/**
 * Runs every ```ts block of README.md as a module, importing `fanout` from the source. A line
 * `console.log(…) // expected` is checked: what it prints (whitespace collapsed) must be where
 * the comment starts, so the documented output cannot drift from the real one.
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
  return { code: `// Generated from README.md block ${index}; do not edit.\n${code}\nexport {}\n`, checks }
}

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
      const g = globalThis as unknown as { __readmeCheck?: (expected: string, ...args: unknown[]) => void }
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
        expect(collapse(printed).length).toBeGreaterThan(0)
        expect(collapse(expected).startsWith(collapse(printed)), `printed ${JSON.stringify(printed)}, README says ${JSON.stringify(expected)}`).toBe(true)
      }
    })
  })
})

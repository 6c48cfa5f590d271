/**
 * Runs every ```ts block of README.md and of every page under docs/ as a module, importing
 * `fanout` and its subpaths (read from the package's exports map) from the source. A line
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
import { documents as listDocuments } from './helpers/markdown.js'
import { rabbitRequired, rabbitUp } from './helpers/rabbitmq.js'
import { redisRequired, redisUp } from './helpers/redis.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, 'test', '.readme')
const documents = listDocuments(root)

const examples = (doc: string): string[] =>
  [...readFileSync(join(root, doc), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)

/** `fanout` and `fanout/…` → the source module its exports-map entry is built from. */
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | null | { default: string }>
}
const entries = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
  target !== null && typeof target === 'object'
    ? [
        {
          specifier: `fanout${subpath.slice(1)}`,
          source: target.default.replace(/^\.\/dist\//, ''),
        },
      ]
    : [],
)

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

function instrument(source: string, label: string): { code: string; checks: number } {
  let checks = 0
  const rel = (file: string): string => {
    const path = relative(outDir, join(root, 'src', file)).replaceAll('\\', '/')
    return path.startsWith('.') ? path : `./${path}`
  }
  const code = source
    .replace(/from '(fanout(?:\/[\w/-]+)?)'/g, (whole, specifier: string) => {
      const entry = entries.find((e) => e.specifier === specifier)
      return entry === undefined ? whole : `from '${rel(entry.source)}'`
    })
    .split('\n')
    .map((line) => {
      const m = /^(\s*)console\.log\((.*)\)\s*\/\/\s*(.*)$/.exec(line)
      if (m === null) return line
      checks++
      return `${m[1]};(globalThis as unknown as { __readmeCheck: (e: string, ...a: unknown[]) => void }).__readmeCheck(${JSON.stringify(m[3])}, ${m[2]})`
    })
    .join('\n')
  return {
    code: `// Generated from ${label}; do not edit.\n${code}\nexport {}\n`,
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

describe('README and docs examples', () => {
  it('has examples, and imports only entries the package exports', () => {
    expect(examples('README.md').length).toBeGreaterThan(0)
    expect(documents.flatMap(examples).length).toBeGreaterThan(50)
    const unknown = documents
      .flatMap(examples)
      .flatMap((block) => [...block.matchAll(/from '(fanout(?:\/[\w/-]+)?)'/g)].map((m) => m[1]!))
      .filter((specifier) => !entries.some((e) => e.specifier === specifier))
    expect(unknown).toEqual([])
  })

  for (const doc of documents.filter((d) => examples(d).length > 0)) {
    describe(doc, () => {
      examples(doc).forEach((block, index) => {
        const title = /^(?:.*\n){0,3}?.*?const (\w+)/.exec(block)?.[1] ?? `block ${index + 1}`
        // A block that talks to Redis needs one on 127.0.0.1:6379, one on RabbitMQ needs it on
        // 127.0.0.1:5672: without it the block is skipped with the reason (helpers/redis.ts,
        // helpers/rabbitmq.ts), unless FANOUT_REQUIRE_REDIS=1 / FANOUT_REQUIRE_RABBITMQ=1
        // makes it fail.
        const needsRedis = /from '(?:redis|ioredis)'/.test(block)
        const needsRabbit = /from 'fanout\/queue\/amqp'/.test(block)
        it.skipIf(
          (needsRedis && !redisUp && !redisRequired) ||
            (needsRabbit && !rabbitUp && !rabbitRequired),
        )(`block ${index + 1} (${title}) runs and prints what it documents`, async () => {
          mkdirSync(outDir, { recursive: true })
          const { code, checks } = instrument(block, `${doc} block ${index + 1}`)
          const file = join(outDir, `${doc.replace(/[/.]/g, '-')}-block-${index + 1}.ts`)
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
              `printed ${JSON.stringify(printed)}, ${doc} says ${JSON.stringify(expected)}`,
            ).toBe(true)
          }
        })
      })
    })
  }
})

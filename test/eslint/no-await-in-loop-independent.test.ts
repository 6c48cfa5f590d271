import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { noAwaitInLoopIndependent } from '../../src/eslint/rules/no-await-in-loop-independent.js'
import { lint, readCorpus } from './corpus-harness.js'

const corpus = readCorpus(fileURLToPath(new URL('./corpus/loop/', import.meta.url)))

describe('fanout/no-await-in-loop-independent corpus', () => {
  it('has cases', () => expect(corpus.length).toBeGreaterThanOrEqual(15))
  for (const c of corpus) {
    it(`${c.file}: ${c.reports} report(s)`, () => {
      expect(Number.isNaN(c.reports), 'header').toBe(false)
      const messages = lint(noAwaitInLoopIndependent, c.code)
      expect(
        messages.filter((m) => m.fatal),
        'parse errors',
      ).toEqual([])
      expect(messages.map((m) => m.message)).toHaveLength(c.reports)
      if (c.suggestion) expect(messages.some((m) => (m.suggestions ?? []).length > 0)).toBe(true)
      for (const m of messages) expect(m.fix, 'never an auto-fix').toBeUndefined()
    })
  }
})

const apply = (code: string, fix: { range: [number, number]; text: string }): string =>
  code.slice(0, fix.range[0]) + fix.text + code.slice(fix.range[1])

describe('fanout/no-await-in-loop-independent details', () => {
  it('unknown-size collection: mapLimit with a concurrency, importing it when absent', () => {
    const code = 'async function f(ids) {\n  for (const id of ids) {\n    await getUser(id)\n  }\n}'
    const [m] = lint(noAwaitInLoopIndependent, code)
    expect(m?.message).toContain('mapLimit(ids')
    const s = m!.suggestions![0]!
    const out = apply(code, s.fix)
    expect(out).toContain("import { mapLimit } from 'fanout'")
    expect(out).toContain(
      'await mapLimit(ids, async (id) => {\n    await getUser(id)\n  }, { concurrency: 8 })',
    )
  })

  it('small literal: a bare Promise.all', () => {
    const code = "async function f() { for (const r of ['a', 'b']) { await getStatus(r) } }"
    const [m] = lint(noAwaitInLoopIndependent, code)
    expect(m?.message).toContain('Promise.all')
    expect(apply(code, m!.suggestions![0]!.fix)).toContain(
      "await Promise.all(['a', 'b'].map(async (r) => { await getStatus(r) }))",
    )
  })

  it('options: smallLength, concurrency, mapLimitImport', () => {
    const code = "async function f() { for (const r of ['a', 'b', 'c']) { await getStatus(r) } }"
    const [m] = lint(noAwaitInLoopIndependent, code, [
      { smallLength: 2, concurrency: 3, mapLimitImport: '#fanout' },
    ])
    expect(m?.message).toContain('concurrency: 3')
    expect(apply(code, m!.suggestions![0]!.fix)).toContain("from '#fanout'")
  })

  it('options: extraReadPatterns lets project reads through; writes stay silent by default', () => {
    const code = 'async function f(ids) { for (const id of ids) { await sync(id) } }'
    expect(lint(noAwaitInLoopIndependent, code)).toHaveLength(0)
    expect(lint(noAwaitInLoopIndependent, code, [{ extraReadPatterns: ['sync'] }])).toHaveLength(1)
  })

  it('options: pacingPatterns', () => {
    const code = 'async function f(ids) { for (const id of ids) { await getUser(id); paceMe() } }'
    expect(lint(noAwaitInLoopIndependent, code)).toHaveLength(1)
    expect(lint(noAwaitInLoopIndependent, code, [{ pacingPatterns: ['pace*'] }])).toHaveLength(0)
  })

  it('a closure in the body that writes an outer variable is a dependence', () => {
    expect(
      lint(
        noAwaitInLoopIndependent,
        'async function f(ids) { let last; for (const id of ids) { await getUser(id, () => { last = id }) } }',
      ),
    ).toHaveLength(0)
  })
})

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { Linter } from 'eslint'
import * as tsParser from '@typescript-eslint/parser'
import { noParallelAuth } from '../../src/eslint/rules/no-parallel-auth.js'
import { lint, readCorpus } from './corpus-harness.js'

const corpus = readCorpus(fileURLToPath(new URL('./corpus/auth/', import.meta.url)))

describe('fanout/no-parallel-auth corpus', () => {
  it('has cases', () => expect(corpus.length).toBeGreaterThanOrEqual(15))
  for (const c of corpus) {
    it(`${c.file}: ${c.reports} report(s)`, () => {
      expect(Number.isNaN(c.reports), 'header').toBe(false)
      const messages = lint(noParallelAuth, c.code)
      expect(
        messages.filter((m) => m.fatal),
        'parse errors',
      ).toEqual([])
      expect(messages.map((m) => m.message)).toHaveLength(c.reports)
      if (c.suggestion) expect(messages.some((m) => (m.suggestions ?? []).length > 0)).toBe(true)
    })
  }
})

describe('fanout/no-parallel-auth details', () => {
  it('names the auth call and the data calls, and says the fix', () => {
    const [message] = lint(
      noParallelAuth,
      'async function f(t, a) { await Promise.all([verifyIdToken(t), getBilling(a), getOrders(a)]) }',
    )
    expect(message?.message).toContain('`verifyIdToken()`')
    expect(message?.message).toContain('`getBilling()` and `getOrders()`')
    expect(message?.message).toMatch(/Await `verifyIdToken\(\)` first.*\.gate/)
  })

  it('suggests awaiting the check first, keeping the other calls together', () => {
    const code =
      'async function f(req, id) {\n  const [user, a, b] = await Promise.all([requireUser(req), getOrders(id), getInvoices(id)]);\n  return [user, a, b]\n}'
    const [message] = lint(noParallelAuth, code)
    const fix = message?.suggestions?.[0]?.fix
    expect(fix).toBeDefined()
    const out = code.slice(0, fix!.range[0]) + fix!.text + code.slice(fix!.range[1])
    expect(out).toContain(
      'const user = await requireUser(req);\n  const [a, b] = await Promise.all([getOrders(id), getInvoices(id)]);',
    )
  })

  it('a single remaining call is awaited alone; the fix is never applied automatically', () => {
    const code =
      'async function f(req, id) {\n  const [user, orders] = await Promise.all([requireUser(req), getOrders(id)])\n}'
    const linter = new Linter({ configType: 'flat' })
    const fixed = linter.verifyAndFix(code, [
      {
        languageOptions: { parser: tsParser as unknown as Linter.Parser },
        plugins: { fanout: { rules: { r: noParallelAuth } } },
        rules: { 'fanout/r': 'error' },
      },
    ])
    expect(fixed.fixed).toBe(false)
    const [message] = lint(noParallelAuth, code)
    const fix = message!.suggestions![0]!.fix
    expect(code.slice(0, fix.range[0]) + fix.text + code.slice(fix.range[1])).toContain(
      'const user = await requireUser(req)\n  const orders = await getOrders(id)',
    )
  })

  it('custom gate patterns (extraGatePatterns) recognise project-specific checks', () => {
    const code = 'async function f(id) { await Promise.all([mustBeMember(id), getOrders(id)]) }'
    expect(lint(noParallelAuth, code)).toHaveLength(0)
    expect(lint(noParallelAuth, code, [{ extraGatePatterns: ['mustBe*'] }])).toHaveLength(1)
  })

  it('replacing gatePatterns drops the defaults', () => {
    const code = 'async function f(t, id) { await Promise.all([verifyIdToken(t), getOrders(id)]) }'
    expect(lint(noParallelAuth, code, [{ gatePatterns: ['onlyThis'] }])).toHaveLength(0)
  })

  it('regex patterns and extraPublicPatterns', () => {
    const code = 'async function f(t) { await Promise.all([requireAuth(t), getCatalog()]) }'
    expect(lint(noParallelAuth, code)).toHaveLength(1)
    expect(lint(noParallelAuth, code, [{ extraPublicPatterns: ['/^getCatalog$/'] }])).toHaveLength(
      0,
    )
  })

  it('extraSessionPatterns: an optional session is silent beside public data, reported beside scoped data', () => {
    expect(
      lint(
        noParallelAuth,
        'async function f() { await Promise.all([whoAmI(), getLatestNews()]) }',
        [{ extraSessionPatterns: ['whoAmI'] }],
      ),
    ).toHaveLength(0)
    expect(
      lint(
        noParallelAuth,
        'async function f(userId) { await Promise.all([whoAmI(), getNews(userId)]) }',
        [{ extraSessionPatterns: ['whoAmI'] }],
      ),
    ).toHaveLength(1)
  })

  it('checkStartEarly and checkFlows can be turned off', () => {
    const early =
      'async function f(t, accountId) { const p = getAccount(accountId); await verifyAccessToken(t); return await p }'
    expect(lint(noParallelAuth, early)).toHaveLength(1)
    expect(lint(noParallelAuth, early, [{ checkStartEarly: false }])).toHaveLength(0)
    const flowCode = "flow('x').task('auth', () => verifyToken()).task('data', () => getData())"
    expect(lint(noParallelAuth, flowCode)).toHaveLength(1)
    expect(lint(noParallelAuth, flowCode, [{ checkFlows: false }])).toHaveLength(0)
  })

  it('with type information, a call returning a session type is a session whatever its name; without, the name decides', () => {
    // A project with a tsconfig: the parser gets a real TypeScript program for the file.
    const dir = mkdtempSync(join(tmpdir(), 'fanout-auth-types-'))
    try {
      const file = join(dir, 'route.ts')
      const code = [
        'interface AuthSession { userId: string }',
        'declare function loadActor(): Promise<AuthSession>',
        'declare function loadBanner(): Promise<{ text: string }>',
        'declare function getOrders(userId: string): Promise<unknown[]>',
        'export async function GET(userId: string) {',
        '  const [actor, orders] = await Promise.all([loadActor(), getOrders(userId)])',
        '  const [banner, more] = await Promise.all([loadBanner(), getOrders(userId)])',
        '  return { actor, orders, banner, more }',
        '}',
      ].join('\n')
      writeFileSync(file, code)
      const program = ts.createProgram([file], {
        strict: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        noEmit: true,
      })
      const linter = new Linter({ configType: 'flat', cwd: dir })
      const typed = linter.verify(
        code,
        [
          {
            files: ['**/*.ts'],
            languageOptions: {
              parser: tsParser as unknown as Linter.Parser,
              parserOptions: { programs: [program] },
            },
            plugins: { fanout: { rules: { r: noParallelAuth } } },
            rules: { 'fanout/r': 'error' },
          },
        ],
        { filename: file },
      )
      expect(typed.filter((m) => m.fatal)).toEqual([])
      // loadActor() resolves to an AuthSession: it is the session check the orders depend on.
      expect(typed.map((m) => m.line)).toEqual([6])
      expect(typed[0]!.message).toContain('`loadActor()`')
      // The same code without types: neither name looks like auth, so nothing is reported.
      expect(lint(noParallelAuth, code)).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('rejects unknown options', () => {
    expect(() => lint(noParallelAuth, 'x', [{ gatePattern: ['x'] }])).toThrow(
      /additional properties|gatePattern/i,
    )
  })
})

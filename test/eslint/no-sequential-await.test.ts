/**
 * `fanout/no-sequential-await` against its corpus (test/eslint/corpus/sequential, one realistic module per
 * case with a `// expect:` header), its options, and the fix oracle: every auto-fix must type-check,
 * behave the same against recording fakes, and actually overlap the calls it groups.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { noSequentialAwait } from '../../src/eslint/rules/no-sequential-await.js'
import {
  applyFix,
  compareRuns,
  importModule,
  lint,
  typecheck,
  type RuleUnderTest,
} from './fix-oracle.js'

const RULE: RuleUnderTest = { name: 'no-sequential-await', rule: noSequentialAwait }
const DIR = fileURLToPath(new URL('./corpus/sequential/', import.meta.url))

interface Expectation {
  readonly reports: number
  readonly kind: 'fix' | 'suggestion' | 'none' | 'any'
}

function expectation(source: string, file: string): Expectation {
  const header = /^\/\/ expect: (.+)$/m.exec(source)?.[1]
  if (!header) throw new Error(`${file}: no "// expect:" header`)
  if (/^none$/.test(header)) return { reports: 0, kind: 'none' }
  const count = /(\d+) reports?/.exec(header)
  const kind = /\bfix\b/.test(header)
    ? 'fix'
    : /suggestion only/.test(header)
      ? 'suggestion'
      : 'any'
  return { reports: count ? Number(count[1]) : 1, kind }
}

const corpus = readdirSync(DIR)
  .filter((f) => f.endsWith('.ts'))
  .sort()
  .map((file) => {
    const source = readFileSync(join(DIR, file), 'utf8')
    return { file, source, expect: expectation(source, file) }
  })

describe('no-sequential-await corpus', () => {
  it('has at least 50 cases, positives and negatives', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(50)
    expect(corpus.filter((c) => c.expect.kind === 'none').length).toBeGreaterThanOrEqual(20)
    expect(corpus.filter((c) => c.expect.kind === 'fix').length).toBeGreaterThanOrEqual(15)
  })

  it.each(corpus.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const messages = lint(c.source, RULE, c.file)
    const summary = messages.map((m) => `${m.line}: ${m.message}`)
    expect(messages.length, summary.join('\n')).toBe(c.expect.reports)
    for (const m of messages) {
      expect(m.ruleId).toBe('fanout/no-sequential-await')
      if (c.expect.kind === 'fix') expect(m.fix, `${m.line}: ${m.message}`).toBeDefined()
      if (c.expect.kind === 'suggestion') {
        expect(m.fix).toBeUndefined()
        expect(m.suggestions?.length).toBe(1)
        expect(m.suggestions?.[0]?.desc).toMatch(
          /What changes: if one call rejects, the others still run/,
        )
      }
    }
  })
})

describe('no-sequential-await fix oracle', () => {
  const fixable = corpus.filter((c) => c.expect.kind === 'fix')
  const fixed = Object.fromEntries(
    fixable.map((c) => [c.file, applyFix(c.source, RULE, c.file).output]),
  )

  it('every fix leaves no report behind and type-checks (strict, in-memory program)', () => {
    for (const c of fixable) {
      expect(fixed[c.file], c.file).not.toBe(c.source)
      expect(fixed[c.file], c.file).toMatch(/await Promise\.all\(\[/)
      expect(lint(fixed[c.file]!, RULE, c.file), c.file).toEqual([])
    }
    const originals = typecheck(
      Object.fromEntries(fixable.map((c) => [`original-${c.file}`, c.source])),
    )
    expect(Object.values(originals).flat()).toEqual([])
    const diagnostics = typecheck(fixed)
    expect(Object.values(diagnostics).flat()).toEqual([])
  })

  it.each(fixable.map((c) => [c.file, c] as const))(
    '%s: same results and calls, and the calls overlap',
    async (_file, c) => {
      const { problems, parallelised } = await compareRuns(c.source, fixed[c.file]!)
      expect(problems).toEqual([])
      expect(
        parallelised.length,
        `${c.file}: no function overlaps more calls after the fix`,
      ).toBeGreaterThan(0)
    },
  )

  it('the oracle notices a wrong fix', async () => {
    const original = `export async function f(api: any) { const a = await api.getA(1); const b = await api.getB(a); return b }`
    const wrong = `export async function f(api: any) { const [a, b] = await Promise.all([api.getA(1), api.getB(2)]); return b }`
    const { problems } = await compareRuns(original, wrong)
    expect(problems.length).toBeGreaterThan(0)
    const types = typecheck({
      'bad.ts': `export async function f(): Promise<number> { return 'x' }`,
    })
    expect(types['bad.ts']!.length).toBeGreaterThan(0)
  })
})

describe('no-sequential-await suggestions', () => {
  const suggested = corpus.filter((c) => c.expect.kind === 'suggestion')

  it('every suggestion, applied, type-checks and leaves no report behind', () => {
    expect(suggested.length).toBeGreaterThanOrEqual(5)
    const applied: Record<string, string> = {}
    for (const c of suggested) {
      let code = c.source
      // Apply the suggestions from the last report up, so earlier ranges stay valid.
      for (const m of [...lint(code, RULE, c.file)].reverse()) {
        const fix = m.suggestions![0]!.fix
        code = code.slice(0, fix.range[0]) + fix.text + code.slice(fix.range[1])
      }
      expect(lint(code, RULE, c.file), c.file).toEqual([])
      applied[c.file] = code
    }
    expect(typecheck(applied)).toEqual(Object.fromEntries(suggested.map((c) => [c.file, []])))
  })

  it.each(suggested.map((c) => [c.file, c] as const))(
    '%s: the suggestion, applied, gives the same results and calls (each argument also null)',
    async (_file, c) => {
      let code = c.source
      for (const m of [...lint(code, RULE, c.file)].reverse()) {
        const fix = m.suggestions![0]!.fix
        code = code.slice(0, fix.range[0]) + fix.text + code.slice(fix.range[1])
      }
      const { problems, parallelised } = await compareRuns(c.source, code, { successOnly: true })
      expect(problems).toEqual([])
      expect(
        parallelised.length,
        `${c.file}: nothing overlaps after the suggestion`,
      ).toBeGreaterThan(0)
    },
  )

  it('the oracle notices a conditional call made unconditional', async () => {
    const original = `export async function f(api: any, session: any) { const a = session ? await api.getA(session.id) : null; const b = await api.getB(1); return [a, b] }`
    const wrong = `export async function f(api: any, session: any) { const [r, b] = await Promise.all([api.getA(session.id), api.getB(1)]); const a = session ? r : null; return [a, b] }`
    const right = `export async function f(api: any, session: any) { const [a, b] = await Promise.all([session ? api.getA(session.id) : null, api.getB(1)]); return [a, b] }`
    expect((await compareRuns(original, wrong)).problems).toContainEqual(
      expect.stringMatching(/arg1 null/),
    )
    expect((await compareRuns(original, right)).problems).toEqual([])
  })
})

describe('no-sequential-await output', () => {
  const seed = readFileSync(join(DIR, 'seed-parallel-data-fetching.ts'), 'utf8')

  it('reports once per group, on the first await, with what each call waits for and the saving', () => {
    const [m] = lint(seed, RULE)
    expect(m?.line).toBe(10)
    expect(m?.message).toBe(
      '3 independent awaits run one after another: `api.fetchSettings()` waits for `api.fetchUser()`; ' +
        '`api.fetchBalance()` waits for `api.fetchUser()`, `api.fetchSettings()`. Promise.all would save about 2 round trip(s).',
    )
  })

  it('rewrites to one Promise.all keeping patterns, annotations and comments', () => {
    expect(applyFix(seed, RULE).output).toContain(
      [
        '  const [user, settings, balance] = await Promise.all([',
        '    api.fetchUser(userId),',
        '    api.fetchSettings(companyId),',
        '    api.fetchBalance(userId, companyId),',
        '  ]);',
      ].join('\n'),
    )
    const annotated = readFileSync(join(DIR, 'type-annotations.ts'), 'utf8')
    expect(applyFix(annotated, RULE).output).toContain(
      'const [customer, invoices]: [Customer, readonly Invoice[]] = await Promise.all([',
    )
    const commented = readFileSync(join(DIR, 'comments-preserved.ts'), 'utf8')
    expect(applyFix(commented, RULE).output).toContain(
      [
        '  // the page body',
        '  const [page, nav] = await Promise.all([',
        '    cms.getPage(slug), // slow: 120 ms',
        '    /* the menu, cached upstream */',
        '    cms.getNavigation(locale),',
        '  ])',
      ].join('\n'),
    )
  })

  it('spans the whole group, from its first await to its last', () => {
    const [m] = lint(seed, RULE)
    expect([m?.line, m?.endLine]).toEqual([10, 12])
  })

  it('a conditional await keeps its condition on the element', () => {
    const source = readFileSync(join(DIR, 'conditional-ternary-org.ts'), 'utf8')
    const [m] = lint(source, RULE)
    expect(m?.fix).toBeUndefined()
    expect(m?.suggestions?.[0]?.desc).toMatch(/a call still runs only when its condition holds/)
    expect(m?.suggestions?.[0]?.fix.text).toMatch(/orgId \? db\.org\.findUnique\(/)
  })

  it('a read joins the Promise.all next to it, as a fix', () => {
    const source = readFileSync(join(DIR, 'join-promise-all-after.ts'), 'utf8')
    const { output } = applyFix(source, RULE)
    expect(output).toMatch(/const \[\w+, \w+, \w+\] = await Promise\.all\(\[/)
    expect(output.match(/^ +const [^\n]*= await /gm)).toHaveLength(1)
  })

  it('a fetch and its body ride together as a chain', () => {
    const source = readFileSync(join(DIR, 'fetch-json-chains.ts'), 'utf8')
    const [m] = lint(source, RULE)
    expect(m?.message).toContain('`fetch(`${api}/feed?user=${id}`) → feedRes.json()`')
    expect(m?.suggestions?.[0]?.fix.text).toContain(
      'fetch(`${api}/users/${id}`).then((userRes) => userRes.json()),',
    )
  })

  it('reports request-scoped APIs at low priority, or not at all with reportRequestApis: false', () => {
    const source = readFileSync(join(DIR, 'seed-headers-body.ts'), 'utf8')
    expect(lint(source, RULE)[0]?.message).toMatch(
      /^Low priority: 2 independent awaits of cheap request-scoped APIs/,
    )
    expect(lint(source, { ...RULE, options: [{ reportRequestApis: false }] })).toEqual([])
  })

  it('minSaving drops groups that save fewer round trips', () => {
    expect(lint(seed, { ...RULE, options: [{ minSaving: 2 }] })).toHaveLength(1)
    expect(lint(seed, { ...RULE, options: [{ minSaving: 3 }] })).toEqual([])
  })

  it('ignore keeps matching calls out of any group', () => {
    expect(lint(seed, { ...RULE, options: [{ ignore: ['fetchSettings$'] }] })).toEqual([])
    expect(lint(seed, { ...RULE, options: [{ ignore: ['fetchBalance$'] }] })).toHaveLength(1)
  })

  it('a suggestion keeps what cannot go in the array pattern as a statement after it', () => {
    const source = readFileSync(join(DIR, 'nested-json-parse.ts'), 'utf8')
    const [m] = lint(source, RULE)
    expect(m?.suggestions?.[0]?.fix.text).toBe(
      [
        'const [result1, user] = await Promise.all([',
        '    req.text(),',
        '    users.getUser(id),',
        '  ])',
        '  const body = JSON.parse(result1) as { note: string }',
      ].join('\n'),
    )
  })

  it('reads with their own try/catch fallback: the suggestion keeps each fallback on its call, type-checks, and behaves the same when any of them fails', async () => {
    const source = readFileSync(join(DIR, 'catch-fallback-per-call.ts'), 'utf8')
    const [m] = lint(source, RULE)
    const fix = m!.suggestions![0]!.fix
    expect(m!.fix).toBeUndefined()
    expect(m!.suggestions![0]!.desc).toMatch(/no longer caught by its catch block/)
    const fixed = source.slice(0, fix.range[0]) + fix.text + source.slice(fix.range[1])
    expect(fix.text).toBe(
      [
        'let prefs: Prefs',
        '  const [result1, result2] = await Promise.all([',
        '    api.getProfile(userId).catch((): Profile | null => null),',
        "    api.getPreferences(userId).catch((error): Prefs => ({ theme: 'light' })),",
        '  ]);',
        '  profile = result1;',
        '  prefs = result2;',
      ].join('\n'),
    )
    expect(Object.values(typecheck({ 'fixed.ts': fixed })).flat()).toEqual([])
    expect(lint(fixed, RULE)).toEqual([])
    const before = (await importModule(source))['accountPage'] as (
      api: unknown,
      id: string,
    ) => Promise<unknown>
    const after = (await importModule(fixed))['accountPage'] as (
      api: unknown,
      id: string,
    ) => Promise<unknown>
    for (const [profileFails, prefsFail] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      let running = 0
      let most = 0
      const call = <T>(fails: boolean, value: T) => {
        most = Math.max(most, ++running)
        return new Promise<T>((resolve, reject) =>
          setTimeout(() => (running--, fails ? reject(new Error('503')) : resolve(value)), 1),
        )
      }
      const api = {
        getProfile: () => call(profileFails, { name: 'Ada' }),
        getPreferences: () => call(prefsFail, { theme: 'dark' }),
      }
      const expected = await before(api, 'u1')
      expect(most).toBe(1)
      most = 0
      expect(await after(api, 'u1')).toEqual(expected)
      expect(most).toBe(2)
    }
  })

  it('stays linear on a large function', () => {
    const lines = Array.from(
      { length: 3000 },
      (_, i) => `  const v${i} = await api.getItem${i % 7}(id${i % 3})\n  if (!v${i}) return null`,
    )
    const source = `export async function big(api: any, id0: string, id1: string, id2: string) {\n${lines.join('\n')}\n  return 1\n}\n`
    expect(lint(source, RULE)).toEqual([])
  })
})

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
import { compareRuns, importModule, runRecorded, typecheck } from './fix-oracle.js'

const corpus = readCorpus(fileURLToPath(new URL('./corpus/auth/', import.meta.url)))

describe('fanout/no-parallel-auth corpus', () => {
  it('has cases, most of them negatives', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(45)
    const negatives = corpus.filter((c) => c.reports === 0).length
    expect(negatives).toBeGreaterThanOrEqual(corpus.length - negatives)
  })
  for (const c of corpus) {
    it(`${c.file}: ${c.reports} report(s)`, () => {
      expect(Number.isNaN(c.reports), 'header').toBe(false)
      const messages = lint(noParallelAuth, c.code)
      expect(
        messages.filter((m) => m.fatal),
        'parse errors',
      ).toEqual([])
      expect(
        messages.map((m) => m.message),
        messages.map((m) => `${m.line}: ${m.message}`).join('\n'),
      ).toHaveLength(c.reports)
      // Every report says why its call is treated as a check.
      for (const m of messages) expect(m.message).toMatch(/treated as (a|an auth) check because /)
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
      expect(typed[0]!.message).toContain(
        "it looks up the caller's session (it returns `AuthSession`)",
      )
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

describe('fanout/no-parallel-auth: *OrThrow reads', () => {
  const prelude = [
    'declare const prisma: {',
    '  user: { findUniqueOrThrow(q: object): Promise<{ name: string }> }',
    '  team: { findFirstOrThrow(q: object): Promise<{ name: string }> }',
    '  project: { findFirstOrThrow(q: object): Promise<{ id: string }>; findMany(q: object): Promise<unknown[]> }',
    '  task: { findMany(q: object): Promise<unknown[]>; updateMany(q: object): Promise<unknown> }',
    '}',
  ].join('\n')

  it('reads whose results are used as data are not reported, and no suggestion is offered', () => {
    const code = `${prelude}
export async function page(userId: string, teamId: string) {
  const [user, team, projects] = await Promise.all([
    prisma.user.findUniqueOrThrow({ where: { id: userId } }),
    prisma.team.findFirstOrThrow({ where: { id: teamId } }),
    prisma.project.findMany({ where: { teamId } }),
  ])
  return { user, team, projects }
}`
    expect(lint(noParallelAuth, code)).toEqual([])
  })

  it('a discarded existence check beside a read scoped by its key is reported, saying why', () => {
    const code = `${prelude}
export async function tasks(projectId: string) {
  const [, list] = await Promise.all([
    prisma.project.findFirstOrThrow({ where: { id: projectId } }),
    prisma.task.findMany({ where: { projectId } }),
  ])
  return list
}`
    const [message, ...more] = lint(noParallelAuth, code)
    expect(more).toEqual([])
    expect(message?.message).toContain(
      'is treated as a check because its result is discarded, so it only checks; `prisma.task.findMany()` is scoped by the same `projectId`.',
    )
  })

  it('a result read only in a test is a check; one read as data is not', () => {
    const tested = `${prelude}
export async function tasks(projectId: string, userId: string) {
  const [project, list] = await Promise.all([
    prisma.project.findFirstOrThrow({ where: { id: projectId } }),
    prisma.task.findMany({ where: { projectId } }),
  ])
  if (project.id !== projectId) throw new Error(userId)
  return list
}`
    expect(lint(noParallelAuth, tested).map((m) => m.message)).toEqual([
      expect.stringContaining('its result is only tested, so it only checks'),
    ])
    const shown = tested.replace('return list', 'return { project, list }')
    expect(lint(noParallelAuth, shown)).toEqual([])
  })

  it('an ownership check names the owner key and the shared key; its suggestion says what changes', () => {
    const code = `${prelude}
export async function completeAll(projectId: string, userId: string) {
  await Promise.all([
    prisma.project.findFirstOrThrow({ where: { id: projectId, ownerId: userId } }),
    prisma.task.updateMany({ where: { projectId }, data: { done: true } }),
  ])
}`
    const [message] = lint(noParallelAuth, code)
    expect(message?.message).toContain(
      'because it checks ownership (`ownerId`) and its result is discarded, so it only checks; `prisma.task.updateMany()` is a write scoped by the same `projectId`.',
    )
    expect(message?.message).toContain(
      '`prisma.project.findFirstOrThrow()` is started together with `prisma.task.updateMany()` (in `Promise.all`), so it would run even when the check fails.',
    )
    const suggestion = message?.suggestions?.[0]
    expect(suggestion?.desc).toBe(
      'Await `prisma.project.findFirstOrThrow()` first, then start `prisma.task.updateMany()`: it starts only once the check has passed. A slower order (one more round trip) but a safe one: a failed check runs nothing.',
    )
    const fixed =
      code.slice(0, suggestion!.fix.range[0]) +
      suggestion!.fix.text +
      code.slice(suggestion!.fix.range[1])
    expect(fixed).toContain(
      '  await prisma.project.findFirstOrThrow({ where: { id: projectId, ownerId: userId } })\n  await prisma.task.updateMany(',
    )
    expect(lint(noParallelAuth, fixed)).toEqual([])
  })

  it('an ownership lookup read as data still guards a write on the same key, not a read', () => {
    const write = `${prelude}
export async function archive(projectId: string, userId: string) {
  const [project] = await Promise.all([
    prisma.project.findFirstOrThrow({ where: { id: projectId, ownerId: userId } }),
    prisma.task.updateMany({ where: { projectId }, data: { archived: true } }),
  ])
  return project
}`
    expect(lint(noParallelAuth, write).map((m) => m.message)).toEqual([
      expect.stringContaining(
        'because it checks ownership (`ownerId`); `prisma.task.updateMany()` is a write scoped by the same `projectId`.',
      ),
    ])
    const read = write.replace('prisma.task.updateMany', 'prisma.task.findMany')
    expect(lint(noParallelAuth, read)).toEqual([])
  })

  it('a discarded check beside an unrelated read is not reported', () => {
    const code = `${prelude}
export async function page(slug: string) {
  const [, plans] = await Promise.all([
    prisma.project.findFirstOrThrow({ where: { slug } }),
    prisma.project.findMany({ where: { public: true } }),
  ])
  return plans
}`
    expect(lint(noParallelAuth, code)).toEqual([])
  })

  it('an OrThrow read after an awaited gate is data for that gate; before it, it is guarded data', () => {
    const before = `${prelude}
declare function requireUser(): Promise<{ id: string }>
export async function page(projectId: string) {
  const [user, project] = await Promise.all([
    requireUser(),
    prisma.project.findFirstOrThrow({ where: { id: projectId } }),
  ])
  return { user, project }
}`
    expect(lint(noParallelAuth, before).map((m) => m.message)).toEqual([
      expect.stringContaining(
        '`requireUser()` is started together with `prisma.project.findFirstOrThrow()`',
      ),
    ])
  })

  it('start early: a discarded OrThrow ownership check awaited while its scoped read runs', () => {
    const code = `${prelude}
export async function tasks(projectId: string, userId: string) {
  const list = prisma.task.findMany({ where: { projectId } })
  await prisma.project.findFirstOrThrow({ where: { id: projectId, ownerId: userId } })
  return await list
}`
    expect(lint(noParallelAuth, code).map((m) => m.message)).toEqual([
      expect.stringMatching(
        /^`prisma\.task\.findMany\(\)` is started before `prisma\.project\.findFirstOrThrow\(\)` has finished.*it checks ownership \(`ownerId`\) and its result is discarded/,
      ),
    ])
  })

  it('the names of Kysely, TypeORM, Mongoose and Objection throwing reads; a session lookup that throws is a gate', () => {
    const reads = [
      "db.selectFrom('t').where('id', '=', id).selectAll().executeTakeFirstOrThrow()",
      'repo.findOneOrFail({ where: { id } })',
      'Model.findOne({ _id: id }).orFail()',
      'Person.query().findById(id).throwIfNotFound()',
    ]
    for (const read of reads) {
      const code = `async function f(id) { await Promise.all([${read}, db.items.deleteMany({ where: { parentId: id } })]) }`
      expect(lint(noParallelAuth, code), read).toHaveLength(1)
    }
    const [gate] = lint(
      noParallelAuth,
      'async function f() { await Promise.all([getSessionOrThrow(), getCatalog()]) }',
    )
    expect(gate?.message).toContain(
      'its name is an auth call (`getSession`) that throws when it fails (`OrThrow`)',
    )
  })

  it('orThrowPatterns options: extra names, or none', () => {
    const code =
      'async function f(id) { await Promise.all([loadOrExplode({ id }), remove({ where: { id } })]) }'
    expect(lint(noParallelAuth, code)).toHaveLength(0)
    expect(lint(noParallelAuth, code, [{ extraOrThrowPatterns: ['*OrExplode'] }])).toHaveLength(1)
    const prisma =
      'async function f(id) { await Promise.all([db.a.findUniqueOrThrow({ where: { id } }), db.b.deleteMany({ where: { id } })]) }'
    expect(lint(noParallelAuth, prisma)).toHaveLength(1)
    expect(lint(noParallelAuth, prisma, [{ orThrowPatterns: [] }])).toHaveLength(0)
  })
})

describe('fanout/no-parallel-auth: vocabulary', () => {
  const gates = [
    'requireAuthenticatedUser',
    'getAuthorizedProject',
    'requireMembership',
    'checkTeamMembership',
    'assertMembership',
    'ensureMembership',
    'getUserOrRedirect',
    'requireOrgAccess',
    'assertIsAdmin',
    'ensureOwnership',
    'requireProjectOwner',
  ]
  const sessions = [
    'getAuthenticatedUser',
    'getLoggedInUser',
    'getSignedInUser',
    'getMembership',
    'getTeamMembership',
    'withAuth',
  ]

  it.each(gates)('%s is a gate: reported beside any data call', (name) => {
    const [message, ...more] = lint(
      noParallelAuth,
      `async function f() { await Promise.all([${name}(), getCatalog()]) }`,
    )
    expect(more).toEqual([])
    expect(message?.message.startsWith(`\`${name}()\` is started together`)).toBe(true)
  })

  it.each(sessions)(
    '%s is session-like: silent beside public data, reported beside scoped data or when used as a gate',
    (name) => {
      expect(
        lint(noParallelAuth, `async function f() { await Promise.all([${name}(), getCatalog()]) }`),
      ).toEqual([])
      expect(
        lint(
          noParallelAuth,
          `async function f(teamId) { await Promise.all([${name}(), getProjects(teamId)]) }`,
        ),
      ).toHaveLength(1)
      const [gate] = lint(
        noParallelAuth,
        `async function f() { const [who, items] = await Promise.all([${name}(), getItems()]); if (!who) return new Response(null, { status: 403 }); return items }`,
      )
      expect(gate?.message).toContain('and its result is tested, then the function answers 403')
    },
  )

  it('an authorised client is plumbing, not a check', () => {
    expect(
      lint(
        noParallelAuth,
        'async function f() { await Promise.all([getAuthorizedClient(), getCatalog()]) }',
      ),
    ).toEqual([])
  })

  it('flow tasks say why they are checks', () => {
    const [named] = lint(
      noParallelAuth,
      "flow('x').task('session', () => load()).task('data', () => getData())",
    )
    expect(named?.message).toContain(
      "Flow task 'session' is treated as an auth check because its name matches `session`",
    )
    const [calling] = lint(
      noParallelAuth,
      "flow('x').task('who', () => api.requireMembership()).task('data', () => getData())",
    )
    expect(calling?.message).toContain(
      'because it calls `api.requireMembership()` and its name matches `require*Membership`',
    )
  })
})

describe('fanout/no-parallel-auth suggestions', () => {
  const suggested = corpus.filter((c) => c.suggestion && !/^import /m.test(c.code))

  it('every corpus suggestion, applied, type-checks and leaves no report behind', () => {
    expect(suggested.length).toBeGreaterThanOrEqual(10)
    const originals: Record<string, string> = {}
    const applied: Record<string, string> = {}
    for (const c of suggested) {
      let code = c.code
      // From the last report up, so earlier ranges stay valid.
      for (const m of [...lint(noParallelAuth, code)].reverse()) {
        const fix = m.suggestions?.[0]?.fix
        if (!fix) continue
        code = code.slice(0, fix.range[0]) + fix.text + code.slice(fix.range[1])
      }
      expect(code, c.file).not.toBe(c.code)
      expect(lint(noParallelAuth, code), c.file).toEqual([])
      originals[c.file] = c.code
      applied[c.file] = code
    }
    const none = Object.fromEntries(suggested.map((c) => [c.file, []]))
    expect(typecheck(originals)).toEqual(none)
    expect(typecheck(applied)).toEqual(none)
  })

  it('the applied suggestion makes the same calls with the same result, the check first and alone', async () => {
    const original = [
      'interface Db {',
      '  project: { findFirstOrThrow(q: object): Promise<{ id: string }> }',
      '  task: { updateMany(q: object): Promise<{ count: number }>; findMany(q: object): Promise<unknown[]> }',
      '}',
      'export async function completeAll(db: Db, projectId: string, userId: string) {',
      '  await Promise.all([',
      '    db.project.findFirstOrThrow({ where: { id: projectId, ownerId: userId } }),',
      '    db.task.updateMany({ where: { projectId }, data: { done: true } }),',
      '    db.task.findMany({ where: { projectId } }),',
      '  ])',
      '  return projectId',
      '}',
    ].join('\n')
    const [message] = lint(noParallelAuth, original)
    const fix = message!.suggestions![0]!.fix
    const fixed = original.slice(0, fix.range[0]) + fix.text + original.slice(fix.range[1])
    expect(typecheck({ 'fixed.ts': fixed })).toEqual({ 'fixed.ts': [] })
    const { problems, parallelised } = await compareRuns(original, fixed)
    expect(problems).toEqual([])
    expect(parallelised).toEqual([])
    const before = (await importModule(original)).completeAll as (...args: unknown[]) => unknown
    const after = (await importModule(fixed)).completeAll as (...args: unknown[]) => unknown
    expect((await runRecorded(before, 'oldest-first')).maxInFlight).toBe(3)
    // The check runs alone; the data calls start together once it has passed.
    expect((await runRecorded(after, 'oldest-first')).maxInFlight).toBe(2)
  })
})

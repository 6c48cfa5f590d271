/**
 * fanout/hono on the edge: the module imports nothing from Node and nothing from Hono at run time
 * (checked from the source, through every module it loads), and the middleware works through
 * `app.fetch(new Request(…), env, executionCtx)` with no server at all, handing its post-response
 * work to `executionCtx.waitUntil` as Workers expects. Also: its options are checked up front.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hono } from 'hono'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { currentRequest } from '../../src/core/request-context.js'
import { fanout, type FanoutEnv } from '../../src/hono/index.js'
import { flow, isFanoutError } from '../../src/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const honoDir = join(root, 'src/hono')

interface Import {
  readonly from: string
  readonly specifier: string
  readonly typeOnly: boolean
}

/** Every import, export-from, dynamic import() and require() of a TypeScript file. */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const found: Import[] = []
  const from = relative(root, file)
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const typeOnly = ts.isImportDeclaration(node)
        ? (node.importClause?.isTypeOnly ?? false) ||
          (node.importClause !== undefined &&
            node.importClause.name === undefined &&
            node.importClause.namedBindings !== undefined &&
            ts.isNamedImports(node.importClause.namedBindings) &&
            node.importClause.namedBindings.elements.every((e) => e.isTypeOnly))
        : node.isTypeOnly
      found.push({ from, specifier: node.moduleSpecifier.text, typeOnly })
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ from, specifier: node.arguments[0].text, typeOnly: false })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** The modules `entry` loads at run time, itself included (type-only imports load nothing). */
function runtimeGraph(entry: string): { files: string[]; imports: Import[] } {
  const files = new Set<string>()
  const imports: Import[] = []
  const visit = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    for (const imported of importsOf(file)) {
      imports.push(imported)
      if (imported.typeOnly || !imported.specifier.startsWith('.')) continue
      visit(resolve(dirname(file), imported.specifier.replace(/\.js$/, '.ts')))
    }
  }
  visit(entry)
  return { files: [...files], imports }
}

describe('fanout/hono runs on edge runtimes', () => {
  it('no file in src/hono imports a node: module', () => {
    const files = readdirSync(honoDir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(honoDir, f))
    expect(files.length).toBeGreaterThan(0)
    const nodeImports = files.flatMap(importsOf).filter((i) => i.specifier.startsWith('node:'))
    expect(nodeImports).toEqual([])
  })

  it('what it loads at run time imports no package at all: Hono only as types', () => {
    const { files, imports } = runtimeGraph(join(honoDir, 'index.ts'))
    expect(files.map((f) => relative(root, f))).toContain('src/core/request-context.ts')
    const packages = imports.filter((i) => !i.specifier.startsWith('.'))
    expect(packages.filter((i) => !i.typeOnly)).toEqual([])
    expect(new Set(packages.map((i) => i.specifier))).toEqual(new Set(['hono']))
  })
})

/** A Workers-style execution context that records what it was handed. */
function executionContext() {
  const handed: Promise<unknown>[] = []
  return {
    handed,
    ctx: {
      waitUntil: (promise: Promise<unknown>) => void handed.push(promise),
      passThroughOnException: () => undefined,
      props: {},
    },
  }
}

function gated(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined
  const wait = new Promise<void>((resolve) => (open = resolve))
  return { wait, open }
}

describe('fanout/hono through app.fetch, no server', () => {
  it('hands the post-response work to executionCtx.waitUntil; the work is ambient and not aborted', async () => {
    const mw = fanout({ budget: 5_000, user: (c) => c.req.header('x-user') })
    const app = new Hono<FanoutEnv>()
    app.use(mw)
    const gate = gated()
    const done: unknown[] = []
    app.get('/page', (c) => {
      const ctx = c.get('fanout')
      ctx.waitUntil(async () => {
        await gate.wait
        const inside = currentRequest()
        done.push({ user: inside?.user, aborted: inside?.signal.aborted })
      })
      return c.json({
        ambient: currentRequest() === ctx,
        budget: Math.round(ctx.deadlineAt - ctx.startedAt),
      })
    })
    const platform = executionContext()
    const request = new Request('https://edge.example/page', { headers: { 'x-user': 'alice' } })
    const res = await app.fetch(request, {}, platform.ctx)
    expect(await res.json()).toEqual({ ambient: true, budget: 5_000 })
    // Handed over before the response was returned, still running after it.
    expect(platform.handed).toHaveLength(1)
    expect(done).toEqual([])
    gate.open()
    await platform.handed[0]
    expect(done).toEqual([{ user: 'alice', aborted: false }])
    expect(mw.contexts.pending).toBe(0)
  })

  it('works with no execution context (Node, Bun, Deno) and with one that refuses', async () => {
    const app = new Hono<FanoutEnv>()
    app.use(fanout())
    let ran = 0
    app.get('/', (c) => {
      c.get('fanout').waitUntil(() => void ran++)
      return c.text('ok')
    })
    expect(await (await app.fetch(new Request('https://edge.example/'))).text()).toBe('ok')
    const refusing = {
      waitUntil: () => {
        throw new Error('the request is over')
      },
      passThroughOnException: () => undefined,
      props: {},
    }
    expect(await (await app.fetch(new Request('https://edge.example/'), {}, refusing)).text()).toBe(
      'ok',
    )
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(ran).toBe(2)
  })

  it('the request signal aborts the flows inside with ClientClosedError', async () => {
    const app = new Hono<FanoutEnv>()
    app.onError((error, c) => c.json({ code: isFanoutError(error) ? error.code : error.name }, 500))
    app.use(fanout())
    const started = gated()
    const hang = flow('hang').task(
      'wait',
      (_, { signal }) =>
        new Promise((_resolve, reject) => {
          started.open()
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
        }),
    )
    app.get('/', async (c) => c.json(await hang.run()))
    const client = new AbortController()
    const pending = app.fetch(new Request('https://edge.example/', { signal: client.signal }))
    await started.wait
    client.abort()
    const res = await pending
    expect(await res.json()).toEqual({ code: 'FANOUT_CLIENT_CLOSED' })
  })

  it('a second fanout() on the same request keeps the first context', async () => {
    const outer = fanout()
    const inner = fanout()
    const app = new Hono<FanoutEnv>()
    let seen: unknown
    app.use(outer)
    app.use(async (c, next) => {
      seen = c.get('fanout')
      await next()
    })
    app.use(inner)
    app.get('/', (c) => c.json({ same: c.get('fanout') === seen && currentRequest() === seen }))
    expect(await (await app.fetch(new Request('https://edge.example/'))).json()).toEqual({
      same: true,
    })
  })
})

describe('fanout/hono options', () => {
  it.each([
    [
      { usr: () => 'a' },
      /fanout\(\) from fanout\/hono: unknown option `usr`. Did you mean `user`\?/,
    ],
    [{ budjet: 100 }, /unknown option `budjet`. Did you mean `budget`\?/],
    [{ user: 'alice' }, /`user` must be a function \(c\) => string \| undefined, got "alice"/],
    [{ budget: -1 }, /fanout\(\) from fanout\/hono: .*budget/],
    [
      { budget: 2_000, maxBudget: 1_000 },
      /`budget` \(2000 ms\) is longer than `maxBudget` \(1000 ms\)/,
    ],
    [
      { deadlineHeaders: ['X-Upper'] },
      /`deadlineHeaders` must be false or a list of lower-case header names/,
    ],
    [{ onError: 1 }, /`onError` must be a function/],
    [42, /options must be a plain object, got 42/],
  ])('%o is refused at construction', (options, message) => {
    expect(() => fanout(options as never)).toThrow(message)
  })

  it('reads own properties only', () => {
    const inherited = Object.create({ budget: -1, bogus: true }) as object
    expect(() => fanout(inherited)).not.toThrow()
  })

  it('lists the core options and its own in an unknown-key error', () => {
    expect(() => fanout({ maxBudgit: 100 } as never)).toThrow(
      /unknown option `maxBudgit`\. Did you mean `maxBudget`\? Known options: `budget`, .*`clock`, `user`\.$/,
    )
  })

  it('a polluted Object.prototype is no option', async () => {
    const proto = Object.prototype as Record<string, unknown>
    let middleware: ReturnType<typeof fanout<FanoutEnv>>
    // Polluted while the options are read only: Hono itself does not survive it for a request.
    proto.budget = -1
    proto.deadlineHeaders = 'bogus'
    try {
      middleware = fanout({ user: () => 'ada', margin: 0 })
    } finally {
      delete proto.budget
      delete proto.deadlineHeaders
    }
    const app = new Hono<FanoutEnv>()
    app.use(middleware)
    app.get('/', (c) => c.json({ deadline: c.get('fanout').deadlineAt }))
    const res = await app.fetch(
      new Request('https://edge.example/', { headers: { 'x-request-timeout-ms': '500' } }),
    )
    // No budget of its own, and the default deadline headers: the caller's header sets it.
    expect((await res.json()) as { deadline: number | null }).toEqual({
      deadline: expect.any(Number) as number,
    })
  })

  it('a user option that answers something other than a string fails that request clearly', async () => {
    const app = new Hono<FanoutEnv>()
    app.onError((error, c) => c.text(error.message, 500))
    app.use(fanout({ user: () => 42 as unknown as string }))
    app.get('/', (c) => c.text('ok'))
    const res = await app.fetch(new Request('https://edge.example/'))
    expect(res.status).toBe(500)
    expect(await res.text()).toMatch(
      /`user` option must return a non-empty string or undefined, got number/,
    )
  })
})

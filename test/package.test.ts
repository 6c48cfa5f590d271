/**
 * Packaging: the core stays runtime-neutral, the exports map points at files the build really
 * produces, and the public surface changes only through a reviewed diff of the snapshot below.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'
import { documents, linksOf } from './helpers/markdown.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  type?: string
  exports: Record<string, string | null | { types: string; default: string }>
  dependencies?: Record<string, string>
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.test-d.ts')
      ? [path]
      : []
  })
}

describe('package', () => {
  // Under node_modules, so the built subpaths resolve their peers (undici, eslint…) from the project.
  const outDir = mkdtempSync(join(root, 'node_modules', '.fanout-build-'))
  afterAll(() => rmSync(outDir, { recursive: true, force: true }))

  it('has no runtime dependencies', () => {
    expect(pkg.dependencies ?? {}).toEqual({})
  })

  // The runtime-neutral folders: none imports a node:* module or any package, reads process, or
  // uses AbortSignal.timeout. A part that needs a package (lru-cache, undici) lives in a folder of
  // its own behind its own subpath, so there is no list of exceptions to keep by hand.
  const neutral = [
    'core',
    'flow',
    'policies',
    'render',
    'compat',
    'cache',
    'batch',
    'rest',
    'queue',
    'diagnostics',
  ]
  const importsOf = (file: string): string[] =>
    [...readFileSync(file, 'utf8').matchAll(/^(?:import|export|\})[^\n]*? from '([^']+)'/gm)].map(
      (m) => m[1]!,
    )

  it('keeps the core runtime-neutral: only relative imports, no process or AbortSignal.timeout', () => {
    const core = neutral.flatMap((d) =>
      existsSync(join(root, 'src', d)) ? sources(join(root, 'src', d)) : [],
    )
    expect(core.length).toBeGreaterThan(5)
    for (const file of core) {
      const text = readFileSync(file, 'utf8')
      for (const spec of importsOf(file))
        expect(spec.startsWith('.'), `${file} imports ${spec}`).toBe(true)
      expect(/\bprocess\.\w+\(|\bprocess\.env/.test(text), `${file} uses process`).toBe(false)
      expect(
        text.includes('AbortSignal.timeout('),
        `${file} uses AbortSignal.timeout, which fake timers cannot drive`,
      ).toBe(false)
    }
  })

  // The entries that promise to run anywhere with nothing installed: walking their imports
  // transitively finds only relative modules in the runtime-neutral folders.
  const neutralEntries = {
    '.': 'index.ts',
    './policies': 'policies/index.ts',
    './cache': 'cache/index.ts',
    './rest': 'rest/index.ts',
    './compat/p-limit': 'compat/p-limit.ts',
    './compat/dataloader': 'compat/dataloader.ts',
    './queue': 'queue/index.ts',
    './diagnostics': 'diagnostics/index.ts',
  }

  it.each(Object.entries(neutralEntries))(
    'the %s entry reaches no package and no node:* module, only runtime-neutral folders',
    (subpath, entry) => {
      expect(
        (pkg.exports[subpath] as { default: string }).default,
        `${subpath} is built from src/${entry}`,
      ).toBe(`./dist/${entry.replace(/\.ts$/, '.js')}`)
      const seen = new Set<string>()
      const walk = (file: string): void => {
        if (seen.has(file)) return
        seen.add(file)
        for (const spec of importsOf(file)) {
          expect(spec.startsWith('.'), `${file} imports ${spec}`).toBe(true)
          walk(join(dirname(file), spec.replace(/\.js$/, '.ts')))
        }
      }
      walk(join(root, 'src', entry))
      expect(seen.size).toBeGreaterThan(1)
      const outside = [...seen].filter(
        (file) => !neutral.includes(file.slice(join(root, 'src').length + 1).split(/[\\/]/)[0]!),
      )
      expect(outside).toEqual(entry === 'index.ts' ? [join(root, 'src', 'index.ts')] : [])
    },
  )

  // The framework adapters that promise to run on edge runtimes too (Hono's everywhere, Next's
  // edge runtime): their framework only as types, or through a lazy import() of its own, and
  // otherwise the runtime-neutral folders and their own. Read from what TypeScript emits for each
  // module, where `import type` is gone and everything else (even `import { type X }`) stays.
  const edgeEntries = {
    './hono': { entry: 'hono/index.ts', framework: 'hono' },
    './next': { entry: 'next/index.ts', framework: 'next' },
  }
  const emittedImportsOf = (file: string): { spec: string; lazy: boolean }[] => {
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    }).outputText
    const statics = [
      ...js.matchAll(/^(?:import|export)\b[^\n]*?\bfrom\s*['"]([^'"]+)['"]/gm),
      ...js.matchAll(/^import\s*['"]([^'"]+)['"]/gm),
    ].map((m) => ({ spec: m[1]!, lazy: false }))
    const lazy = [...js.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => ({
      spec: m[1]!,
      lazy: true,
    }))
    return [...statics, ...lazy]
  }

  it.each(Object.entries(edgeEntries))(
    'the %s entry loads no package and no node:* module: its framework as types or lazily only',
    (subpath, { entry, framework }) => {
      expect((pkg.exports[subpath] as { default: string }).default).toBe(
        `./dist/${entry.replace(/\.ts$/, '.js')}`,
      )
      const own = entry.split('/')[0]!
      const seen = new Set<string>()
      const walk = (file: string): void => {
        if (seen.has(file)) return
        seen.add(file)
        const text = readFileSync(file, 'utf8')
        expect(/\bprocess\.\w+\(|\bprocess\.env/.test(text), `${file} uses process`).toBe(false)
        expect(text.includes('AbortSignal.timeout('), `${file} uses AbortSignal.timeout`).toBe(
          false,
        )
        for (const { spec, lazy } of emittedImportsOf(file)) {
          if (spec.startsWith('.')) walk(join(dirname(file), spec.replace(/\.js$/, '.ts')))
          else
            expect(
              lazy && (spec === framework || spec.startsWith(`${framework}/`)),
              `${file} loads ${spec}`,
            ).toBe(true)
        }
      }
      walk(join(root, 'src', entry))
      expect(seen.size).toBeGreaterThan(2)
      const outside = [...seen].filter((file) => {
        const folder = file.slice(join(root, 'src').length + 1).split(/[\\/]/)[0]!
        return folder !== own && !neutral.includes(folder)
      })
      expect(outside).toEqual([])
    },
  )

  it('builds, and every export entry points at a built file with typings', () => {
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(root, 'tsconfig.build.json'),
        '--outDir',
        outDir,
      ],
      {
        stdio: 'pipe',
      },
    )
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (target === null || typeof target === 'string') continue
      for (const file of [target.types, target.default]) {
        expect(
          existsSync(join(outDir, file.replace(/^\.\/dist\//, ''))),
          `${subpath} → ${file}`,
        ).toBe(true)
      }
    }
  }, 120_000)

  /** A copy of the package holding this build as dist/, as `npm pack` sees it. */
  const stage = (): string => {
    const dir = mkdtempSync(join(root, 'node_modules', '.fanout-pack-'))
    for (const file of ['package.json', 'README.md', 'LICENSE'])
      cpSync(join(root, file), join(dir, file))
    cpSync(join(root, 'docs'), join(dir, 'docs'), { recursive: true })
    cpSync(outDir, join(dir, 'dist'), { recursive: true })
    return dir
  }

  // Pages of the repository, not of the package: the README links them for people working on a
  // clone, and a reader of the installed package finds them in the repository; the same for the
  // runnable examples the docs point to, and the docs' screenshots (images would only weigh on
  // every install).
  const repositoryOnly = [
    'DEVELOPERS.md',
    'bench/README.md',
    'examples/many-instances.ts',
    'examples/jobs.ts',
    'docs/images/viewer-demo.png',
  ]

  // What `npm pack` would publish, from a copy holding this build as dist/: the licence, the
  // README and the docs/ pages it links go with it, no source map points at sources that are not
  // shipped, no test is shipped, and every relative link of a shipped page resolves in the package.
  it('packs the licence, the README, the docs and the build, and no source maps or tests', () => {
    const dir = stage()
    try {
      const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const files = (JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path)
      expect(files).toEqual(
        expect.arrayContaining([
          'LICENSE',
          'README.md',
          'package.json',
          'dist/index.js',
          'dist/index.d.ts',
        ]),
      )
      expect(files.filter((f) => f.endsWith('.map'))).toEqual([])
      expect(files.filter((f) => /\.test(-d)?\./.test(f))).toEqual([])
      expect(
        files.filter(
          (f) =>
            !f.startsWith('dist/') &&
            !f.startsWith('docs/') &&
            !['LICENSE', 'README.md', 'package.json'].includes(f),
        ),
      ).toEqual([])
      expect(files.filter((f) => f.startsWith('docs/')).sort()).toEqual(
        documents(root).filter((doc) => doc.startsWith('docs/')),
      )
      expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
      const shipped = new Set(files)
      const unresolved = files
        .filter((f) => f.endsWith('.md'))
        .flatMap((page) =>
          linksOf(readFileSync(join(dir, page), 'utf8'))
            .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
            .map((target) => posix.join(posix.dirname(page), target.split('#')[0]!))
            .filter((file) => !shipped.has(file) && !repositoryOnly.includes(file))
            .map((file) => `${page} → ${file}`),
        )
      expect(unresolved, 'links to files the package does not ship').toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)

  // The packed tarball through publint (package.json fields, the exports map and the files it
  // names) and arethetypeswrong (the typings each entry resolves to, per module resolution). The
  // package is ESM-only, so attw's esm-only profile: CommonJS and node10 resolution are out of scope.
  it('publint and arethetypeswrong find nothing in the packed tarball', () => {
    const dir = stage()
    try {
      const out = execFileSync(
        'npm',
        ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
        { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      )
      const tarball = join(dir, (JSON.parse(out) as [{ filename: string }])[0].filename)
      const bin = (name: string): string => join(root, 'node_modules', '.bin', name)
      const publint = spawnSync(bin('publint'), ['--strict', tarball], { encoding: 'utf8' })
      expect(publint.stdout + publint.stderr).toContain('All good!')
      expect(publint.status).toBe(0)
      const attw = spawnSync(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'json'], {
        encoding: 'utf8',
      })
      const report = JSON.parse(attw.stdout) as {
        analysis: { problems: { kind: string; resolutionKind?: string }[] }
      }
      const counted = report.analysis.problems.filter(
        (p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs',
      )
      expect(counted).toEqual([])
      expect(attw.status).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)

  // What test/install-matrix.test.ts installs them next to: each optional peer takes the previous
  // major as well as the current one, and none is required.
  it('takes every optional peer at its previous major too', () => {
    const manifest = pkg as typeof pkg & {
      peerDependencies: Record<string, string>
      peerDependenciesMeta: Record<string, { optional?: boolean }>
    }
    expect(manifest.peerDependencies).toEqual({
      // 1.x is the API's only stable major; 1.4 is the oldest the install matrix runs.
      '@opentelemetry/api': '^1.4.0',
      '@typescript-eslint/parser': '^7.0.0 || ^8.0.0',
      amqplib: '^0.10.0 || ^1.0.0 || ^2.0.0',
      bullmq: '^5.77.0 || ^6.0.0',
      eslint: '^8.57.0 || ^9.0.0 || ^10.0.0',
      // The framework adapters' frameworks; the install matrix serves a request on Express 4,
      // Fastify 4 and Next 15.
      express: '^4.17.0 || ^5.0.0',
      fastify: '^4.26.0 || ^5.0.0',
      // Hono 4 only: the adapter is typed against Hono 4's Context and MiddlewareHandler.
      hono: '^4.0.0',
      // Next 14.2 has no after(): there the `after` option is needed (fanout/next says so).
      next: '^14.2.0 || ^15.0.0 || ^16.0.0',
      ignore: '^5.0.0 || ^6.0.0 || ^7.0.0',
      'lru-cache': '^10.0.0 || ^11.0.0',
      undici: '^6.21.0 || ^7.16.0',
    })
    for (const name of Object.keys(manifest.peerDependencies))
      expect(manifest.peerDependenciesMeta[name]?.optional, name).toBe(true)
  })

  // What the README promises CommonJS users: on a Node that can require() ES modules (20.19+,
  // 22.12+), every entry loads with require(), which fails on a top-level await anywhere in its graph.
  it.runIf((process.features as { require_module?: boolean }).require_module === true)(
    'is ESM-only, and require() loads every entry, without a warning',
    () => {
      expect(pkg.type).toBe('module')
      const entries = Object.values(pkg.exports).flatMap((target) =>
        target !== null && typeof target === 'object'
          ? [join(outDir, target.default.replace(/^\.\/dist\//, ''))]
          : [],
      )
      expect(entries.length).toBeGreaterThan(3)
      const script = `for (const file of ${JSON.stringify(entries)}) if (Object.keys(require(file)).length === 0) throw new Error('nothing exported by ' + file)`
      const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
      expect(run.stderr).toBe('')
      expect(run.status).toBe(0)
    },
  )

  it('exposes exactly the reviewed public surface, from source and from the build', async () => {
    const fromSource = Object.keys(await import('../src/index.js')).sort()
    expect(fromSource).toMatchInlineSnapshot(`
      [
        "AbortedError",
        "CachedError",
        "CircuitOpenError",
        "ClientClosedError",
        "CycleError",
        "DeadlineError",
        "DependencyError",
        "FanoutError",
        "Flow",
        "FlowError",
        "FlowExit",
        "InvalidArgumentError",
        "InvalidOptionError",
        "LeaseLostError",
        "Loader",
        "MissingPeerError",
        "NoUserError",
        "NotFoundError",
        "QueueFullError",
        "RateLimitExceededError",
        "RateLimitedError",
        "RequestContext",
        "RequestContexts",
        "RetryBudgetError",
        "SkippedError",
        "StoreError",
        "StoreUnavailableError",
        "TimeoutError",
        "UnknownTaskError",
        "adaptiveConcurrency",
        "cached",
        "circuitBreaker",
        "criticalPath",
        "currentRequest",
        "deadlineHeaders",
        "execute",
        "flow",
        "formatGrpcTimeout",
        "hedge",
        "isExit",
        "isFanoutError",
        "limit",
        "loader",
        "mapLimit",
        "parseGrpcTimeout",
        "pipe",
        "prometheusText",
        "rateLimit",
        "renderWaterfall",
        "renderWaterfallHtml",
        "requestContexts",
        "requestScoped",
        "retry",
        "retryBudget",
        "timeout",
        "traceFromJSON",
        "traceToJSON",
        "withFallback",
      ]
    `)
    const built = join(outDir, 'index.js')
    if (existsSync(built))
      expect(Object.keys(await import(pathToFileURL(built).href)).sort()).toEqual(fromSource)
  })

  it('the subpath entries expose exactly their reviewed surfaces', async () => {
    const surface = async (path: string): Promise<string[]> =>
      Object.keys((await import(path)) as object).sort()
    expect({
      policies: await surface('../src/policies/index.js'),
      cache: await surface('../src/cache/index.js'),
      cacheLru: await surface('../src/cache-lru/index.js'),
      rest: await surface('../src/rest/index.js'),
      http: await surface('../src/http/index.js'),
      eslint: await surface('../src/eslint/index.js'),
      pLimit: await surface('../src/compat/p-limit.js'),
      dataloader: await surface('../src/compat/dataloader.js'),
      profile: await surface('../src/profile/index.js'),
      next: await surface('../src/next/index.js'),
      express: await surface('../src/express/index.js'),
      fastify: await surface('../src/fastify/index.js'),
      hono: await surface('../src/hono/index.js'),
    }).toMatchInlineSnapshot(`
      {
        "cache": [
          "CACHE_ENTRY_FORMAT",
          "MAX_CACHE_TTL",
          "cacheKey",
          "memoryCacheStore",
          "singleFlight",
          "tieredCacheStore",
        ],
        "cacheLru": [
          "lruCacheStore",
        ],
        "dataloader": [
          "default",
        ],
        "eslint": [
          "default",
          "noAwaitInLoopIndependent",
          "noParallelAuth",
          "noSequentialAwait",
          "rules",
        ],
        "express": [
          "fanout",
        ],
        "fastify": [
          "fanoutPlugin",
        ],
        "hono": [
          "fanout",
        ],
        "http": [
          "HttpError",
          "HttpTimeoutError",
          "InvalidJsonError",
          "NetworkError",
          "ProtocolError",
          "RedirectError",
          "ResponseTooLargeError",
          "SsrfBlockedError",
          "createHttpClient",
        ],
        "next": [
          "withFanout",
          "withFanoutAction",
        ],
        "pLimit": [
          "default",
          "limitFunction",
        ],
        "policies": [
          "BACKOFF_STRATEGIES",
          "RATE_LIMIT_ALGORITHMS",
          "RETRYABLE_STATUSES",
          "TRANSIENT_ERROR_CODES",
          "backoffDelay",
          "codeOf",
          "exponentialCeiling",
          "isOverloadError",
          "isRetriedError",
          "isRetryableError",
          "memoryConcurrencyStore",
          "memoryRateLimitStore",
          "noopRecorder",
          "parseRateLimitHeader",
          "parseRetryAfter",
          "retryAfterOf",
          "sleep",
          "statusOf",
          "systemClock",
        ],
        "profile": [
          "UNSCOPED",
          "formatReport",
          "profile",
          "withRequest",
        ],
        "rest": [
          "PaginationError",
          "UrlTooLongError",
          "batchEndpoint",
          "collectPages",
          "formatLinkHeader",
          "idsParam",
          "nextLink",
          "pages",
          "paginate",
          "parseLinkHeader",
          "withFields",
        ],
      }
    `)
  })
  // The framework adapters are alternatives, one per framework, so their entry points may share a
  // name (`fanout` is Express's middleware in fanout/express and Hono's in fanout/hono): distinct
  // values, never one value with two homes, and no adapter reuses a name of another entry.
  const adapters = ['./next', './express', './fastify', './hono']

  it('gives every exported value one home: no name is exported by two entries', async () => {
    const homes = new Map<string, { subpath: string; value: unknown }[]>()
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (target === null || typeof target === 'string') continue
      const file = target.default.replace(/^\.\/dist\//, '../src/')
      for (const [name, value] of Object.entries((await import(file)) as object))
        if (name !== 'default') homes.set(name, [...(homes.get(name) ?? []), { subpath, value }])
    }
    expect(homes.size).toBeGreaterThan(60)
    const shared = [...homes].filter(
      ([, entries]) =>
        entries.length > 1 &&
        (entries.some((e) => !adapters.includes(e.subpath)) ||
          new Set(entries.map((e) => e.value)).size < entries.length),
    )
    expect(shared.map(([name, entries]) => [name, entries.map((e) => e.subpath)])).toEqual([])
  })
})

/**
 * Install anywhere: the packed package, installed by npm into consumer projects that already hold
 * an optional peer at its previous major (and one fresh project on the newest TypeScript), must
 * install without ERESOLVE, and the subpath that uses that peer must really work there.
 *
 * Needs the npm registry (packages come from the local npm cache when it has them). Without it the
 * suite is skipped with the reason, unless FANOUT_REQUIRE_REGISTRY=1 or CI is set, which turn a
 * missing registry into a failure. FANOUT_MATRIX_TARBALL=path/to/fanout.tgz runs the matrix
 * against another tarball (e.g. an older release, to see that it catches the ERESOLVEs).
 *
 * The job-queue backends also run a job on the older major, on the shared Redis (127.0.0.1:6379)
 * and RabbitMQ (127.0.0.1:5672): without one that check is skipped with the reason, unless
 * FANOUT_REQUIRE_REDIS=1 or FANOUT_REQUIRE_RABBITMQ=1 make it a failure.
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pingRedis } from './helpers/ping-redis.js'
import { RABBITMQ_URL, rabbitRequired, rabbitUp } from './helpers/rabbitmq.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const required = process.env.FANOUT_REQUIRE_REGISTRY === '1' || process.env.CI === 'true'
const redisRequired = process.env.FANOUT_REQUIRE_REDIS === '1'
const redisUp = await pingRedis()

interface Run {
  readonly code: number
  readonly out: string
  readonly err: string
}

/** Runs a command to completion without a shell; never throws (the exit code says how it went). */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8', env: npmEnv() },
      (error, out, err) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
        done({ code, out, err: err + (code === -1 ? `\n${String(error?.message)}` : '') })
      },
    )
  })
}

/** The environment for npm and the consumer's node: no color, no update notice, no CI-only npm behaviour. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
    // No usage report from `next build` / `next start`.
    NEXT_TELEMETRY_DISABLED: '1',
  }
  // Vitest's own variables must not reach the consumer's node.
  for (const key of Object.keys(env)) if (key.startsWith('VITEST')) delete env[key]
  delete env.NODE_OPTIONS
  return env
}

/** Why the registry cannot be used, or undefined when it answers. */
async function registryProblem(): Promise<string | undefined> {
  const ping = await run(
    'npm',
    ['ping', '--fetch-retries=0', '--fetch-timeout=20000'],
    root,
    30_000,
  )
  return ping.code === 0 ? undefined : `npm ping failed: ${(ping.err || ping.out).trim()}`
}

const problem = await registryProblem()
if (problem !== undefined && !required)
  console.warn(`install-matrix skipped: the npm registry is not reachable (${problem})`)

/** The package as `npm pack` makes it, built from these sources into a staging copy. */
async function packTarball(work: string): Promise<string> {
  const given = process.env.FANOUT_MATRIX_TARBALL
  if (given !== undefined && given !== '') return resolve(given)
  const stage = join(work, 'stage')
  mkdirSync(stage)
  for (const file of ['package.json', 'README.md', 'LICENSE'])
    cpSync(join(root, file), join(stage, file))
  cpSync(join(root, 'docs'), join(stage, 'docs'), { recursive: true })
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const build = await run(
    process.execPath,
    [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')],
    root,
    300_000,
  )
  if (build.code !== 0) throw new Error(`build failed:\n${build.out}${build.err}`)
  const pack = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
    stage,
    120_000,
  )
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.err}`)
  const [{ filename }] = JSON.parse(pack.out) as [{ filename: string }]
  return join(work, filename)
}

/** A consumer project: its dependencies, and what its install printed. */
interface Consumer {
  readonly dir: string
  readonly install: Run
}

/** Creates a project that depends on `deps` and on the tarball, and runs `npm install` in it. */
async function consumer(
  work: string,
  name: string,
  deps: Record<string, string>,
  tarball: string,
): Promise<Consumer> {
  const dir = join(work, name)
  mkdirSync(dir)
  const manifest = {
    name: `consumer-${name}`,
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies: { ...deps, fanout: `file:${tarball}` },
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2))
  const install = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
    dir,
    300_000,
  )
  return { dir, install }
}

/** Runs an ES module script with node in the project; its last stdout line is JSON. */
async function script(project: Consumer, source: string): Promise<unknown> {
  const result = await run(
    process.execPath,
    ['--input-type=module', '-e', source],
    project.dir,
    60_000,
  )
  if (result.code !== 0) throw new Error(`script failed (${result.code}):\n${result.err}`)
  const lines = result.out.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]!) as unknown
}

/** The major version of a package installed in the project. */
function installedMajor(project: Consumer, name: string): number {
  const manifest = join(project.dir, 'node_modules', ...name.split('/'), 'package.json')
  return Number.parseInt(
    (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version,
  )
}

function expectInstalled(project: Consumer): void {
  const printed = project.install.out + project.install.err
  expect(printed, 'npm install printed ERESOLVE').not.toMatch(/ERESOLVE/)
  expect(project.install.code, `npm install failed:\n${printed}`).toBe(0)
}

const WATERFALL = `export async function loadAccount(id: string, companyId: string) {
  const user = await fetchUser(id)
  const settings = await fetchSettings(companyId)
  return { user, settings }
}
declare function fetchUser(id: string): Promise<{ name: string }>
declare function fetchSettings(id: string): Promise<{ theme: string }>
`

/** Runs fanout/eslint's recommended config on WATERFALL through the project's eslint Linter (flat config) and parser. */
const RUN_RULE = `
import { Linter } from 'eslint'
import * as parser from '@typescript-eslint/parser'
import fanout from 'fanout/eslint'
const linter = new Linter({ configType: 'flat' })
const messages = linter.verify(${JSON.stringify(WATERFALL)}, [
  { files: ['**/*.ts'], languageOptions: { parser } },
  fanout.configs.recommended,
], 'src/account.ts')
console.log(JSON.stringify(messages.map((m) => m.ruleId ?? m.message)))
`

/** The core entry and fanout/cache's built-in store, which needs no package. */
const USE_CACHE = `
import { flow } from 'fanout'
import { cached } from 'fanout'
import { memoryCacheStore } from 'fanout/cache'
let calls = 0
const read = cached(async (id) => { calls += 1; return { id } }, { store: memoryCacheStore({ maxEntries: 10 }), ttl: 60_000, scope: 'shared' })
await read('a'); await read('a')
console.log(JSON.stringify({ flow: typeof flow, calls }))
`

/** fanout/cache/lru-cache's store on the project's lru-cache. */
const USE_LRU_CACHE = `
import { cached } from 'fanout'
import { lruCacheStore } from 'fanout/cache/lru-cache'
let calls = 0
const store = lruCacheStore({ maxEntries: 1 })
const read = cached(async (id) => { calls += 1; return { id } }, { store, ttl: 60_000, scope: 'shared' })
await read('a'); await read('a'); await read('b'); await read('a')
console.log(JSON.stringify({ calls, size: store.size }))
`

/**
 * fanout/otel on the oldest OpenTelemetry API it takes (1.4) and the SDK 1.x of that time: a
 * flow's run and task spans, nested.
 */
const USE_OTEL = `
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { flow } from 'fanout'
import { instrumentFanout } from 'fanout/otel'
const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider()
provider.addSpanProcessor(new SimpleSpanProcessor(exporter))
provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() })
const otel = instrumentFanout()
await flow('page').task('a', async () => 1).task('b', async ($) => (await $.a) + 1).run()
otel.stop()
const spans = exporter.getFinishedSpans()
const byId = new Map(spans.map((s) => [s.spanContext().spanId, s.name]))
console.log(JSON.stringify(spans.map((s) => s.name + ' < ' + (byId.get(s.parentSpanId) ?? '-')).sort()))
`

/** fanout/http on the project's undici: one request to a server on the loopback interface. */
const USE_HTTP = `
import http from 'node:http'
import { limit } from 'fanout'
import { createHttpClient } from 'fanout/http'
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ path: req.url }))
})
await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
const client = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
try {
  const response = await client.get('http://127.0.0.1:' + server.address().port + '/ping')
  console.log(JSON.stringify({ limit: typeof limit, status: response.status, body: await response.json() }))
} finally {
  await client.close()
  server.close()
}
`

/** A flow that reports what it inherits from the request context it runs in. */
const PAGE = `
import { currentRequest, flow } from 'fanout'
const page = flow('page').task('ctx', (_, { deadlineAt, clock }) => ({
  inside: currentRequest() !== undefined,
  budget: Math.round(deadlineAt - clock.now()),
}))
`

/** A route serving PAGE, and `get`: a request to it with the caller's 150 ms budget, less 10 ms. */
const ROUTE = `${PAGE}
const get = (port) =>
  fetch('http://127.0.0.1:' + port + '/page', { headers: { 'grpc-timeout': '150m' } }).then(
    async (res) => {
      const { ctx } = await res.json()
      return { status: res.status, inside: ctx.inside, budgetOk: ctx.budget > 100 && ctx.budget <= 140 }
    },
  )
`
const SERVED = { status: 200, inside: true, budgetOk: true }

const USE_EXPRESS = `${ROUTE}
import express from 'express'
import { fanout } from 'fanout/express'
const app = express()
app.use(fanout({ budget: 5_000 }))
app.get('/page', async (_req, res) => res.json(await page.run()))
const server = app.listen(0, '127.0.0.1')
await new Promise((ok) => server.once('listening', ok))
try {
  console.log(JSON.stringify(await get(server.address().port)))
} finally {
  server.close()
}
`

const USE_FASTIFY = `${ROUTE}
import Fastify from 'fastify'
import { fanoutPlugin } from 'fanout/fastify'
const app = Fastify()
await app.register(fanoutPlugin, { budget: 5_000 })
app.get('/page', () => page.run())
await app.listen({ port: 0, host: '127.0.0.1' })
try {
  console.log(JSON.stringify(await get(app.server.address().port)))
} finally {
  await app.close()
}
`

/**
 * A Next App Router route through fanout/next, built by `next build` and served by `next start`:
 * Next's own request signal, and its own `after()` (loaded by fanout/next from next/server), which
 * prints NEXT_AFTER on the server's stdout once the response is out.
 */
const NEXT_AFTER = 'fanout/next: after() ran'
const NEXT_ROUTE = `${PAGE}
import { withFanout } from 'fanout/next'
export const dynamic = 'force-dynamic'
export const GET = withFanout(async () => {
  currentRequest().waitUntil(() => console.log(${JSON.stringify(NEXT_AFTER)}))
  return Response.json(await page.run())
}, { budget: 5_000 })
`

/** Next's server, started on a free loopback port, and what it printed so far. */
interface NextServer {
  readonly port: number
  readonly printed: () => string
  readonly stop: () => Promise<void>
}

/** `next start` in the project, resolved once it says where it listens (its output if it does not). */
function nextStart(project: Consumer): Promise<NextServer> {
  const bin = join(project.dir, 'node_modules', 'next', 'dist', 'bin', 'next')
  const child = spawn(process.execPath, [bin, 'start', '-H', '127.0.0.1', '-p', '0'], {
    cwd: project.dir,
    env: npmEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const printed = (): string => out
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const stop = (): Promise<void> => {
    child.kill()
    return exited
  }
  return new Promise((ready, failed) => {
    const timer = setTimeout(() => {
      void stop()
      failed(new Error(`next start did not listen within 60 s:\n${out}`))
    }, 60_000)
    const read = (chunk: Buffer): void => {
      out += chunk.toString('utf8')
      const port = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]
      if (port === undefined || !/Ready in/.test(out)) return
      clearTimeout(timer)
      ready({ port: Number(port), printed, stop })
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.once('exit', (code) => {
      clearTimeout(timer)
      failed(new Error(`next start exited (${code}):\n${out}`))
    })
  })
}

/** What importing a subpath whose peer is missing throws. */
const importFailure = (subpath: string): string => `
import('${subpath}').then(
  () => console.log(JSON.stringify({ loaded: true })),
  (error) => console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message })),
)
`

/** `instanceof MissingPeerError` (from the root entry) on the lru-cache store's import failure. */
const CATCH_MISSING_LRU = `
import { MissingPeerError } from 'fanout'
const error = await import('fanout/cache/lru-cache').then(() => undefined, (e) => e)
console.log(JSON.stringify({ instance: error instanceof MissingPeerError, packages: error?.packages, install: error?.install }))
`

/** Shared by both round trips: runs between making `queue` and the backend's own cleanup. */
const ROUND_TRIP = `
let runs = 0
const invoices = worker(queue, 'send-invoice', (data) => {
  runs += 1
  if (runs === 1) throw Object.assign(new Error('upstream busy'), { status: 503 })
  return { sent: data.invoiceId }
}, { attempts: 3, backoff: { baseDelay: 10, maxDelay: 20 } })
try {
  const key = { idempotencyKey: 'inv-1', scope: 'acme' }
  const job = await offload(queue, 'send-invoice', { invoiceId: 'inv-1' }, key)
  const again = await offload(queue, 'send-invoice', { invoiceId: 'inv-1' }, key)
  let status = await jobStatus(queue, job.jobId)
  for (const until = Date.now() + 20_000; status?.state !== 'completed' && Date.now() < until; ) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    status = await jobStatus(queue, job.jobId)
  }
  console.log(JSON.stringify({
    deduplicated: [job.deduplicated, again.deduplicated],
    state: status?.state,
    attemptsMade: status?.attemptsMade,
    result: status?.result,
    runs,
  }))
`

const ROUND_TRIP_DONE = {
  deduplicated: [false, true],
  state: 'completed',
  attemptsMade: 2,
  result: { sent: 'inv-1' },
  runs: 2,
}

/**
 * fanout/queue/bullmq on the project's bullmq and ioredis: a job that fails once (503) and
 * completes on its retry, enqueued twice under one key, on the shared Redis under a prefix of its
 * own, whose keys it removes afterwards.
 */
const bullmqRoundTrip = (prefix: string): string => `
import { Redis } from 'ioredis'
import { jobStatus, offload, worker } from 'fanout/queue'
import { bullmqQueue } from 'fanout/queue/bullmq'
const prefix = ${JSON.stringify(prefix)}
const client = new Redis({ host: '127.0.0.1', port: 6379 })
const queue = bullmqQueue({ connection: client, prefix })
${ROUND_TRIP}
} finally {
  await invoices.close({ graceMs: 1000 })
  await queue.close()
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', prefix + ':*', 'COUNT', 1000)
    if (keys.length > 0) await client.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
  client.disconnect()
}
`

/** What constructing fanout/queue/bullmq's queue on a node-redis client throws. */
const BULLMQ_NODE_REDIS = `
import { createClient } from 'redis'
import { bullmqQueue } from 'fanout/queue/bullmq'
try {
  bullmqQueue({ connection: createClient(), prefix: 'never-used' })
  console.log(JSON.stringify({ constructed: true }))
} catch (error) {
  console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }))
}
`

/** fanout/queue/amqp on the project's amqplib: the same job, on the shared RabbitMQ. */
const amqpRoundTrip = (prefix: string): string => `
import amqp from 'amqplib'
import { jobStatus, offload, worker } from 'fanout/queue'
import { amqpQueue } from 'fanout/queue/amqp'
const prefix = ${JSON.stringify(prefix)}
const queue = amqpQueue({ url: ${JSON.stringify(RABBITMQ_URL)}, prefix })
${ROUND_TRIP}
} finally {
  await invoices.close({ graceMs: 1000 })
  await queue.close()
  // The retry's delay queue expires on its own (x-expires).
  const connection = await amqp.connect(${JSON.stringify(RABBITMQ_URL)})
  const ch = await connection.createChannel()
  for (const name of [prefix + '.send-invoice', prefix + '.send-invoice.dead']) await ch.deleteQueue(name)
  await connection.close()
}
`

/** Why a service check is skipped, for its title ('' when it runs). */
const skipped = (up: boolean, required: boolean, what: string): string =>
  up || required ? '' : ` (skipped: ${what} is not answering)`

// Counted as a failure where the registry is required, so a CI without it cannot pass by skipping.
it.runIf(required)('reaches the npm registry (required: FANOUT_REQUIRE_REGISTRY=1 or CI)', () => {
  expect(problem).toBeUndefined()
})

describe.skipIf(problem !== undefined && !required)(
  `install matrix: the packed package next to older peer majors${problem === undefined ? '' : ` (skipped: ${problem})`}`,
  () => {
    const work = mkdtempSync(join(tmpdir(), 'fanout-install-'))
    const projects = new Map<string, Consumer>()
    // Next's install alone is some 10 000 files and 330 MB: removing them takes a while on a busy machine.
    afterAll(() => rmSync(work, { recursive: true, force: true }), 120_000)

    beforeAll(async () => {
      if (problem !== undefined) throw new Error(`the npm registry is required here: ${problem}`)
      const tarball = await packTarball(work)
      const matrix: Record<string, Record<string, string>> = {
        'lru-cache-10': { 'lru-cache': '10' },
        'undici-6': { undici: '6' },
        // The parser resolves to its newest 8, which accepts eslint 8.57, and brings TypeScript 6.
        'eslint-8': { eslint: '8', '@typescript-eslint/parser': '*' },
        // A parser-7 project pins its TypeScript: parser 7 cannot load next to TypeScript 7.
        'parser-7': { '@typescript-eslint/parser': '7', eslint: '8', typescript: '5' },
        'ignore-5': { ignore: '5', eslint: '*', '@typescript-eslint/parser': '*' },
        'typescript-latest': { typescript: 'latest' },
        // BullMQ 5 takes ioredis only; node-redis is there to see it refused with a reason.
        'bullmq-5': { bullmq: '5', ioredis: '5', redis: '5' },
        'amqplib-0.10': { amqplib: '0.10' },
        'express-4': { express: '4' },
        'fastify-4': { fastify: '4' },
        'next-15': { next: '15', react: '19', 'react-dom': '19' },
        'otel-api-1.4': {
          '@opentelemetry/api': '1.4',
          '@opentelemetry/sdk-trace-base': '1',
          '@opentelemetry/context-async-hooks': '1',
        },
      }
      const made = await Promise.all(
        Object.entries(matrix).map(async ([name, deps]) => {
          return [name, await consumer(work, name, deps, tarball)] as const
        }),
      )
      for (const [name, project] of made) projects.set(name, project)
    }, 600_000)

    const project = (name: string): Consumer => projects.get(name)!

    it('lru-cache 10: installs, and fanout/cache/lru-cache stores, hits and evicts on it', async () => {
      expectInstalled(project('lru-cache-10'))
      expect(installedMajor(project('lru-cache-10'), 'lru-cache')).toBe(10)
      expect(await script(project('lru-cache-10'), USE_LRU_CACHE)).toEqual({ calls: 3, size: 1 })
    }, 120_000)

    it('undici 6: installs, and fanout/http makes a real loopback request on it', async () => {
      expectInstalled(project('undici-6'))
      expect(installedMajor(project('undici-6'), 'undici')).toBe(6)
      expect(await script(project('undici-6'), USE_HTTP)).toEqual({
        limit: 'function',
        status: 200,
        body: { path: '/ping' },
      })
    }, 120_000)

    it('bullmq 5: installs, and fanout/queue/bullmq refuses a node-redis client at construction, saying why', async () => {
      const consumer = project('bullmq-5')
      expectInstalled(consumer)
      expect(installedMajor(consumer, 'bullmq')).toBe(5)
      expect(await script(consumer, BULLMQ_NODE_REDIS)).toEqual({
        name: 'InvalidOptionError',
        code: 'FANOUT_INVALID_OPTION',
        message: expect.stringMatching(/ioredis.*bullmq 6/) as unknown,
      })
    }, 120_000)

    it.skipIf(!redisUp && !redisRequired)(
      `bullmq 5 and ioredis: fanout/queue/bullmq runs, retries and dedupes a job on Redis${skipped(redisUp, redisRequired, 'Redis on 127.0.0.1:6379')}`,
      async () => {
        expect(redisUp, 'Redis is required (FANOUT_REQUIRE_REDIS=1) but not answering').toBe(true)
        const prefix = `fanout-matrix:${process.pid}:${randomBytes(4).toString('hex')}`
        expect(await script(project('bullmq-5'), bullmqRoundTrip(prefix))).toEqual(ROUND_TRIP_DONE)
      },
      120_000,
    )

    it('@opentelemetry/api 1.4 with SDK 1.x: fanout/otel makes nested run and task spans', async () => {
      const consumer = project('otel-api-1.4')
      expectInstalled(consumer)
      expect(installedMajor(consumer, '@opentelemetry/sdk-trace-base')).toBe(1)
      expect(await script(consumer, USE_OTEL)).toEqual([
        'flow page < -',
        'task a < flow page',
        'task b < flow page',
      ])
    }, 120_000)

    it('express 4: installs, and fanout/express gives a real request its context', async () => {
      expectInstalled(project('express-4'))
      expect(installedMajor(project('express-4'), 'express')).toBe(4)
      expect(await script(project('express-4'), USE_EXPRESS)).toEqual(SERVED)
    }, 120_000)

    it('fastify 4: installs, and fanout/fastify gives a real request its context', async () => {
      expectInstalled(project('fastify-4'))
      expect(installedMajor(project('fastify-4'), 'fastify')).toBe(4)
      expect(await script(project('fastify-4'), USE_FASTIFY)).toEqual(SERVED)
    }, 120_000)

    it('next 15: installs, builds, and a fanout/next route handler serves a request with its context', async () => {
      const consumer = project('next-15')
      expectInstalled(consumer)
      expect(installedMajor(consumer, 'next')).toBe(15)
      mkdirSync(join(consumer.dir, 'app', 'page'), { recursive: true })
      writeFileSync(join(consumer.dir, 'app', 'page', 'route.js'), NEXT_ROUTE)
      const bin = join(consumer.dir, 'node_modules', 'next', 'dist', 'bin', 'next')
      const build = await run(process.execPath, [bin, 'build'], consumer.dir, 300_000)
      expect(build.code, `next build failed:\n${build.out}${build.err}`).toBe(0)
      const server = await nextStart(consumer)
      try {
        expect(
          await script(
            consumer,
            `${ROUTE}\nconsole.log(JSON.stringify(await get(${server.port})))`,
          ),
        ).toEqual(SERVED)
        // after() runs once the response is out: wait for it, generously (a busy machine).
        for (const until = Date.now() + 20_000; Date.now() < until;) {
          if (server.printed().includes(NEXT_AFTER)) break
          await new Promise((ok) => setTimeout(ok, 50))
        }
        expect(server.printed()).toContain(NEXT_AFTER)
      } finally {
        await server.stop()
      }
    }, 420_000)

    it('amqplib 0.10: installs', () => {
      expectInstalled(project('amqplib-0.10'))
      const manifest = join(project('amqplib-0.10').dir, 'node_modules', 'amqplib', 'package.json')
      expect((JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version).toMatch(
        /^0\.10\./,
      )
    })

    it.skipIf(!rabbitUp && !rabbitRequired)(
      `amqplib 0.10: fanout/queue/amqp runs, retries and dedupes a job on RabbitMQ${skipped(rabbitUp, rabbitRequired, 'RabbitMQ on 127.0.0.1:5672')}`,
      async () => {
        expect(rabbitUp, 'RabbitMQ is required (FANOUT_REQUIRE_RABBITMQ=1) but not answering').toBe(
          true,
        )
        const prefix = `fanout-matrix.${process.pid}.${randomBytes(4).toString('hex')}`
        expect(await script(project('amqplib-0.10'), amqpRoundTrip(prefix))).toEqual(
          ROUND_TRIP_DONE,
        )
      },
      120_000,
    )

    it('eslint 8: installs, and fanout/eslint finds the waterfall in a flat config', async () => {
      expectInstalled(project('eslint-8'))
      expect(installedMajor(project('eslint-8'), 'eslint')).toBe(8)
      expect(await script(project('eslint-8'), RUN_RULE)).toEqual(['fanout/no-sequential-await'])
    }, 120_000)

    it('@typescript-eslint/parser 7: installs, and fanout/eslint runs on what it parses', async () => {
      expectInstalled(project('parser-7'))
      expect(installedMajor(project('parser-7'), '@typescript-eslint/parser')).toBe(7)
      expect(await script(project('parser-7'), RUN_RULE)).toEqual(['fanout/no-sequential-await'])
    }, 120_000)

    it('ignore 5: installs, and `fanout lint` lints a project with it', async () => {
      const consumer = project('ignore-5')
      expectInstalled(consumer)
      expect(installedMajor(consumer, 'ignore')).toBe(5)
      mkdirSync(join(consumer.dir, 'src'))
      writeFileSync(join(consumer.dir, 'src', 'account.ts'), WATERFALL)
      // Ignored by the project's .gitignore, so not linted (the ignore package reads it).
      mkdirSync(join(consumer.dir, 'generated'))
      writeFileSync(join(consumer.dir, 'generated', 'copy.ts'), WATERFALL)
      writeFileSync(join(consumer.dir, '.gitignore'), 'generated/\n')
      const bin = join(consumer.dir, 'node_modules', 'fanout', 'dist', 'cli', 'main.js')
      const lint = await run(
        process.execPath,
        [bin, 'lint', '--format', 'fanout-json', '.'],
        consumer.dir,
        120_000,
      )
      expect(lint.err).toBe('')
      expect(lint.code).toBe(1)
      const report = JSON.parse(lint.out) as { files: { path: string }[] }
      expect(report.files.map((file) => file.path)).toEqual(['src/account.ts'])
    }, 120_000)

    it('newest TypeScript: installs, imports, and a missing peer names its install command', async () => {
      const consumer = project('typescript-latest')
      expectInstalled(consumer)
      expect(installedMajor(consumer, 'typescript')).toBeGreaterThanOrEqual(7)
      expect(
        await script(
          consumer,
          `const m = await import('fanout'); const l = await import('fanout/compat/p-limit'); console.log(JSON.stringify([typeof m.flow, typeof l.default]))`,
        ),
      ).toEqual(['function', 'function'])
      expect(await script(consumer, importFailure('fanout/http'))).toEqual({
        name: 'MissingPeerError',
        code: 'FANOUT_MISSING_PEER',
        message:
          'fanout/http needs the "undici" package, which is not installed here: npm install undici',
      })
      // fanout/cache needs no package; only the lru-cache store does, and says so.
      expect(await script(consumer, USE_CACHE)).toEqual({ flow: 'function', calls: 1 })
      expect(await script(consumer, importFailure('fanout/cache/lru-cache'))).toEqual({
        name: 'MissingPeerError',
        code: 'FANOUT_MISSING_PEER',
        message:
          'fanout/cache/lru-cache needs the "lru-cache" package, which is not installed here: npm install lru-cache',
      })
      // The class is the root entry's, so a project without the peer can check for it.
      expect(await script(consumer, CATCH_MISSING_LRU)).toEqual({
        instance: true,
        packages: ['lru-cache'],
        install: 'npm install lru-cache',
      })
      const bin = join(consumer.dir, 'node_modules', 'fanout', 'dist', 'cli', 'main.js')
      const lint = await run(process.execPath, [bin, 'lint', '.'], consumer.dir, 60_000)
      expect(lint.code).toBe(2)
      expect(lint.err).toContain(
        'npm install --save-dev eslint@9 @typescript-eslint/parser@8 ignore@7',
      )
    }, 120_000)

    // Added anyway (npm refuses the parser's typescript <6.1 peer range next to TypeScript 7),
    // the parser cannot load: `fanout lint` says why and how to lint, exit code 2, no stack.
    it('newest TypeScript with the parser forced in: `fanout lint` explains instead of crashing', async () => {
      const consumer = project('typescript-latest')
      const add = await run(
        'npm',
        [
          'install',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--loglevel=error',
          '--legacy-peer-deps',
          'eslint',
          '@typescript-eslint/parser',
          'ignore',
        ],
        consumer.dir,
        300_000,
      )
      expect(add.code, add.err).toBe(0)
      writeFileSync(join(consumer.dir, 'account.ts'), WATERFALL)
      const bin = join(consumer.dir, 'node_modules', 'fanout', 'dist', 'cli', 'main.js')
      const lint = await run(process.execPath, [bin, 'lint', 'account.ts'], consumer.dir, 60_000)
      expect(lint.code).toBe(2)
      expect(lint.err).toMatch(/^fanout lint: lint cannot parse files next to typescript 7\./m)
      expect(lint.err).toContain('typescript@npm:@typescript/typescript6')
      expect(lint.err).not.toMatch(/\n\s+at /)
    }, 300_000)
  },
)

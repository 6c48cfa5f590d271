/**
 * One route handler, written three ways, against simulated services with realistic latencies:
 *
 *   (a) sequential awaits: one call after another;
 *   (b) hand-grouped `Promise.all`: auth; then user + settings + balance; then access;
 *   (c) a fanout flow: gate `auth`, then `user`, `settings`, `balance`, and `access` reading
 *       `$.user`, so the access check starts the moment the user is known and overlaps `balance`.
 *
 * Prints each one's waterfall and time, then a summary. Every way sees the same latencies (the
 * services replay their schedule), so the differences come from the code alone.
 *
 *   npm run example                      # or: npx tsx examples/route.ts --loads 10 --seed 3
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { flow, renderWaterfall, type FlowTrace } from '../src/index.js'
import { traced, type TraceRecorder } from '../src/demo/record.js'
import {
  DEMO_TOKEN,
  SERVICES,
  startServices,
  TYPICAL_LATENCY,
  type ServiceName,
  type ServiceOptions,
  type ServiceUrls,
} from './lib/services.js'

export { DEMO_TOKEN }

// ---------------------------------------------------------------------------------------------
// The application: an API client for the services, and the route's response.

export interface Account {
  readonly accountId: string
}
export interface User {
  readonly id: string
  readonly name: string
  readonly plan: string
}
export interface Settings {
  readonly theme: string
  readonly locale: string
}
export interface Balance {
  readonly currency: string
  readonly cents: number
}
export interface Access {
  readonly user: string
  readonly resource: string | null
  readonly allowed: boolean
}

/** What the route responds with. */
export interface Page {
  readonly user: User
  readonly settings: Settings
  readonly balance: Balance
  readonly access: Access
}

export interface RouteInput {
  /** The caller's bearer token. */
  readonly token: string
  readonly services: ServiceUrls
}

export class HttpError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`GET ${url} answered HTTP ${status}`)
    this.name = 'HttpError'
  }
}

async function getJson<T>(
  url: string,
  signal: AbortSignal | undefined,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(url, { headers, signal: signal ?? null })
  if (!res.ok) {
    await res.body?.cancel()
    throw new HttpError(url, res.status)
  }
  return (await res.json()) as T
}

const q = encodeURIComponent

export const api = {
  /** Verifies the token; rejects with `HttpError` 401 if the auth service does not accept it. */
  auth: (s: ServiceUrls, token: string, signal?: AbortSignal) =>
    getJson<Account>(`${s.auth}/verify`, signal, { authorization: `Bearer ${token}` }),
  user: (s: ServiceUrls, accountId: string, signal?: AbortSignal) =>
    getJson<User>(`${s.user}/me?account=${q(accountId)}`, signal),
  settings: (s: ServiceUrls, accountId: string, signal?: AbortSignal) =>
    getJson<Settings>(`${s.settings}/settings?account=${q(accountId)}`, signal),
  balance: (s: ServiceUrls, accountId: string, signal?: AbortSignal) =>
    getJson<Balance>(`${s.balance}/balance?account=${q(accountId)}`, signal),
  /** Needs the user id, which only the user service knows. */
  access: (s: ServiceUrls, userId: string, signal?: AbortSignal) =>
    getJson<Access>(`${s.access}/access?user=${q(userId)}&resource=reports`, signal),
}

// ---------------------------------------------------------------------------------------------
// The route handler, three ways. (a) and (b) wrap each call in `rec.step` only to get a trace.

/** (a) One await after another: the obvious code, and every latency adds up. */
export async function sequential(input: RouteInput, rec: TraceRecorder): Promise<Page> {
  const { services: s, token } = input
  const account = await rec.step('auth', () => api.auth(s, token), { gate: true })
  const user = await rec.step('user', () => api.user(s, account.accountId))
  const settings = await rec.step('settings', () => api.settings(s, account.accountId), {
    after: ['user'],
  })
  const balance = await rec.step('balance', () => api.balance(s, account.accountId), {
    after: ['settings'],
  })
  const access = await rec.step('access', () => api.access(s, user.id), { after: ['balance'] })
  return { user, settings, balance, access }
}

/** (b) Hand-grouped `Promise.all`: better, but `access` waits for the whole group, `balance` included. */
export async function grouped(input: RouteInput, rec: TraceRecorder): Promise<Page> {
  const { services: s, token } = input
  const account = await rec.step('auth', () => api.auth(s, token), { gate: true })
  const [user, settings, balance] = await Promise.all([
    rec.step('user', () => api.user(s, account.accountId)),
    rec.step('settings', () => api.settings(s, account.accountId)),
    rec.step('balance', () => api.balance(s, account.accountId)),
  ])
  const access = await rec.step('access', () => api.access(s, user.id), {
    after: ['user', 'settings', 'balance'],
  })
  return { user, settings, balance, access }
}

/** (c) A fanout flow: each call starts as soon as what it reads is ready; nothing else holds it. */
export const routeFlow = flow<RouteInput>('route')
  .gate('auth', (_, { input, signal }) => api.auth(input.services, input.token, signal))
  .tasks({
    user: async ($, { input, signal }) =>
      api.user(input.services, (await $.auth).accountId, signal),
    settings: async ($, { input, signal }) =>
      api.settings(input.services, (await $.auth).accountId, signal),
    balance: async ($, { input, signal }) =>
      api.balance(input.services, (await $.auth).accountId, signal),
  })
  .task('access', async ($, { input, signal }) =>
    api.access(input.services, (await $.user).id, signal),
  )

export async function viaFanout(
  input: RouteInput,
  onTrace: (trace: FlowTrace) => void,
): Promise<Page> {
  const { user, settings, balance, access } = await routeFlow.run(input, { onTrace })
  return { user, settings, balance, access }
}

// ---------------------------------------------------------------------------------------------
// The demo: serve the route a few times each way, print waterfalls and a summary.

const PLAN = ['auth', 'user', 'settings', 'balance', 'access'] as const

export type Way = 'sequential' | 'grouped' | 'fanout'

const WAYS: readonly {
  readonly way: Way
  readonly label: string
  serve(input: RouteInput, onTrace: (trace: FlowTrace) => void): Promise<Page>
}[] = [
  {
    way: 'sequential',
    label: '(a) sequential awaits',
    serve: (input, onTrace) =>
      traced('route (sequential)', PLAN, (rec) => sequential(input, rec), onTrace),
  },
  {
    way: 'grouped',
    label: '(b) hand-grouped Promise.all',
    serve: (input, onTrace) =>
      traced('route (Promise.all)', PLAN, (rec) => grouped(input, rec), onTrace),
  },
  { way: 'fanout', label: '(c) fanout flow', serve: viaFanout },
]

/** Its first load has no slow response; later ones do (load 4: user; load 5: settings and balance). */
const DEFAULT_SEED = 4

export interface ExampleOptions extends ServiceOptions {
  /** How many times each way serves the route. Default 5. */
  readonly loads?: number
  /** Receives each output line. Default `console.log`. */
  readonly log?: (line: string) => void
  /** ANSI colours in the output. Default false. */
  readonly color?: boolean
  /** Columns of the waterfalls' time axis. Default 60. */
  readonly width?: number
}

export interface WayResult {
  readonly label: string
  /** Per load, in order. */
  readonly traces: readonly FlowTrace[]
  readonly pages: readonly Page[]
  /** Wall-clock ms per load, measured around the handler. */
  readonly times: readonly number[]
}

export interface ExampleResult {
  readonly ways: Readonly<Record<Way, WayResult>>
  /** Requests each service received in all. */
  readonly requests: Readonly<Record<ServiceName, number>>
}

export async function runExample(options: ExampleOptions = {}): Promise<ExampleResult> {
  const loads = options.loads ?? 5
  if (!Number.isInteger(loads) || loads < 1)
    throw new RangeError(`runExample(): \`loads\` must be a whole number >= 1, got ${loads}`)
  const log = options.log ?? ((line: string) => console.log(line))
  const color = options.color ?? false
  const width = options.width ?? 60
  const seed = options.seed ?? DEFAULT_SEED
  const bold = (text: string): string => (color ? `\x1b[1m${text}\x1b[22m` : text)
  const dim = (text: string): string => (color ? `\x1b[2m${text}\x1b[22m` : text)

  const services = await startServices({ ...options, seed })
  try {
    const input: RouteInput = { token: DEMO_TOKEN, services: services.urls }
    await services.warmUp()

    const scale = options.latencyScale ?? 1
    const typical = SERVICES.map(
      (s) => `${s} ~${Math.round((options.latency?.[s] ?? TYPICAL_LATENCY[s]) * scale)} ms`,
    ).join(', ')
    log(bold(`One route, three ways: ${loads} load${loads === 1 ? '' : 's'} each, seed ${seed}`))
    log(dim(`services: ${typical}`))
    log(
      dim(
        `(±${Math.round((options.jitter ?? 0.2) * 100)}% jitter, ${Math.round((options.slowRate ?? 0.08) * 100)}% of responses ${options.slowFactor ?? 3}× slower; every way gets the same latencies)`,
      ),
    )

    const ways = {} as Record<Way, WayResult>
    for (const { way, label, serve } of WAYS) {
      services.replay()
      const traces: FlowTrace[] = []
      const pages: Page[] = []
      const times: number[] = []
      for (let i = 0; i < loads; i++) {
        const started = performance.now()
        pages.push(await serve(input, (trace) => traces.push(trace)))
        times.push(performance.now() - started)
      }
      ways[way] = { label, traces, pages, times }
      log('')
      log(bold(`${label}: load 1 of ${loads}`))
      log(renderWaterfall(traces[0]!, { color, width }))
      log(
        `took ${fmt(times[0]!)} ms` +
          (loads > 1
            ? dim(` · all loads: ${times.map(fmt).join(', ')} ms · median ${fmt(median(times))} ms`)
            : ''),
      )
    }

    const m = {
      sequential: median(ways.sequential.times),
      grouped: median(ways.grouped.times),
      fanout: median(ways.fanout.times),
    }
    const pad = Math.max(...WAYS.map((w) => w.label.length))
    const speedup = (slow: number, fast: number): string => `${(slow / fast).toFixed(2)}×`
    log('')
    log(bold(loads > 1 ? `Summary (median of ${loads} loads)` : 'Summary'))
    log(`  ${WAYS[0]!.label.padEnd(pad)}  ${fmt(m.sequential).padStart(5)} ms`)
    log(`  ${WAYS[1]!.label.padEnd(pad)}  ${fmt(m.grouped).padStart(5)} ms`)
    log(
      `  ${WAYS[2]!.label.padEnd(pad)}  ${fmt(m.fanout).padStart(5)} ms  ` +
        bold(
          `${speedup(m.sequential, m.fanout)} as fast as (a), ${speedup(m.grouped, m.fanout)} as fast as (b)`,
        ),
    )
    const same = WAYS.every(({ way }) =>
      ways[way].pages.every((p) => JSON.stringify(p) === JSON.stringify(ways.fanout.pages[0])),
    )
    log(dim(`  all three returned ${same ? 'the same' : 'DIFFERENT'} response data`))
    return { ways, requests: { ...services.requests } }
  } finally {
    await services.close()
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function fmt(ms: number): string {
  return String(Math.round(ms))
}

// ---------------------------------------------------------------------------------------------
// Command line (skipped when a test imports this module).

const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMain) {
  const { values } = parseArgs({
    options: {
      loads: { type: 'string' },
      seed: { type: 'string' },
      scale: { type: 'string' },
      width: { type: 'string' },
    },
  })
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== ''
  const options: ExampleOptions = {
    color: process.stdout.isTTY === true && !noColor,
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
    ...(values.loads !== undefined ? { loads: Number(values.loads) } : {}),
    ...(values.scale !== undefined ? { latencyScale: Number(values.scale) } : {}),
    ...(values.width !== undefined ? { width: Number(values.width) } : {}),
  }
  try {
    await runExample(options)
  } catch (error) {
    console.error(error)
    process.exitCode = 1
  }
}

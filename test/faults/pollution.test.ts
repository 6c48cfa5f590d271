/**
 * Fault I10, prototype pollution: no option of any public constructor or call is read from
 * `Object.prototype`, and options parsed from JSON cannot smuggle a prototype in.
 *
 * Each scenario runs twice — on a clean prototype, then with a hostile value planted on
 * `Object.prototype` for every option name (all at once, as a pollution gadget would) — and must
 * observe exactly the same behaviour. Observations are plain data compared after the prototype is
 * clean again; a hostile function records that it was called. The probe's names are checked
 * against each constructor's own list of options (read from its "unknown option" error, or from
 * the option types), so an option added later without a hostile value here fails a test.
 */
import { readFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { isDeepStrictEqual } from 'node:util'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  adaptiveConcurrency,
  cached,
  circuitBreaker,
  execute,
  flow,
  hedge,
  limit,
  Loader,
  loader,
  mapLimit,
  pipe,
  rateLimit,
  renderWaterfall,
  retry,
  retryBudget,
  timeout,
  withFallback,
  type CachedCallOptions,
  type Call,
  type CallContext,
  type Clock,
  type FallbackOptions,
  type FlowTrace,
  type LimitRunOptions,
  type LoadOptions,
  type Policy,
  type TimerHandle,
} from '../../src/index.js'
import {
  isRetryableError,
  memoryConcurrencyStore,
  memoryRateLimitStore,
  retryAfterOf,
  statusOf,
} from '../../src/policies/index.js'
import {
  cacheKey,
  singleFlight,
  type CacheStore,
  type SingleFlightRunOptions,
} from '../../src/cache/index.js'
import {
  batchEndpoint,
  collectPages,
  formatLinkHeader,
  idsParam,
  nextLink,
  paginate,
  pages,
  parseLinkHeader,
  withFields,
} from '../../src/rest/index.js'
import { memoryCacheStore, type MemoryCacheStore } from '../../src/cache/index.js'
import { lruCacheStore } from '../../src/cache-lru/index.js'
import { createHttpClient, type HttpClient } from '../../src/http/index.js'
import pLimit, { limitFunction, type Options as PLimitOptions } from '../../src/compat/p-limit.js'
import DataLoader from '../../src/compat/dataloader.js'

// --- planting and cleaning -------------------------------------------------------------------

const proto = Object.prototype as Record<string, unknown>
const planted = new Set<string>()

function cleanPrototype(): void {
  for (const key of planted) delete proto[key]
  planted.clear()
}

// A leftover would break every later test in this file: clean after each one whatever happened.
afterEach(cleanPrototype)

/** Runs `fn` with `props` planted on Object.prototype (enumerable, as an assignment plants them), then removes them. */
async function withPollutedPrototype<T>(
  props: Readonly<Record<string, unknown>>,
  fn: () => Promise<T>,
): Promise<T> {
  for (const key of Object.keys(props)) {
    if (Object.prototype.hasOwnProperty.call(proto, key))
      throw new Error(`Object.prototype already has \`${key}\`: not a probe name`)
  }
  try {
    for (const key of Object.keys(props)) {
      planted.add(key)
      proto[key] = props[key]
    }
    return await fn()
  } finally {
    cleanPrototype()
  }
}

// --- hostile values -----------------------------------------------------------------------------

/** Names of hostile functions that were called. */
const touched: string[] = []
function spy<R>(name: string, result: R): (...args: unknown[]) => R {
  return () => {
    touched.push(name)
    return result
  }
}

const hostileClock: Clock = {
  now: spy('clock.now', 1e12),
  setTimeout: spy('clock.setTimeout', {} as TimerHandle),
  clearTimeout: spy('clock.clearTimeout', undefined),
}
const hostilePolicy: Policy = {
  name: 'polluted',
  wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
    touched.push('policy.wrap')
    return next
  },
}
/** One object that is every kind of store (concurrency, rate limit, cache), each method a spy. */
const hostileStore = {
  acquire: spy('store.acquire', { ok: true }),
  renew: spy('store.renew', true),
  release: spy('store.release', undefined),
  reserve: spy('store.reserve', { ok: true, waitMs: 0, ticket: 1 }),
  cancel: spy('store.cancel', undefined),
  get: spy('store.get', undefined),
  set: spy('store.set', undefined),
  delete: spy('store.delete', undefined),
  clear: spy('store.clear', undefined),
  synchronous: true,
}
const abortedSignal = AbortSignal.abort(new Error('the polluted signal'))
const tlsCert = readFileSync(new URL('../fixtures/tls/cert.pem', import.meta.url), 'utf8')
const tlsKey = readFileSync(new URL('../fixtures/tls/key.pem', import.meta.url), 'utf8')

/**
 * A value for every option name of every public constructor and call, each one that would
 * change the behaviour if it were read: more attempts, retrying a POST, a shared cache, tiny
 * limits and timeouts, an aborted signal, a foreign clock or store, headers to leak…
 */
const HOSTILE: Readonly<Record<string, unknown>> = {
  // retry(), retryBudget()
  maxAttempts: 10,
  backoff: 'exponential',
  baseDelay: 1,
  maxDelay: 1,
  maxRetryAfter: 0,
  shouldRetry: spy('shouldRetry', true),
  idempotent: true,
  budget: false,
  random: spy('random', 0),
  maxTokens: 1000,
  tokenRatio: 0.001,
  retryAfterCost: 1,
  perOrigin: false,
  // hedge() and its percentile delay
  delay: 1,
  maxHedges: 4,
  maxExtraRatio: 4,
  percentile: 0.5,
  initial: 1,
  minSamples: 1,
  // circuitBreaker()
  consecutive: 1,
  ratio: 0.5,
  minThroughput: 1,
  window: 1_000,
  halfOpenAfter: 1,
  isFailure: spy('isFailure', true),
  // limit(), its run() options, mapLimit(), the stores
  concurrency: 1,
  maxQueue: 0,
  maxWait: 1,
  perKey: 1,
  key: spy('key', 'polluted'),
  priority: spy('priority', 100),
  agingMs: 1,
  name: 'polluted',
  store: hostileStore,
  leaseMs: 1,
  storePollMs: 1,
  maxKeys: 1,
  // rateLimit() and its adaptive options
  algorithm: 'sliding-window',
  rate: 1,
  per: 1,
  burst: 1000,
  limit: 1,
  weight: spy('weight', 0),
  adaptive: false,
  decrease: 0.01,
  floor: 0.01,
  recovery: 1,
  // adaptiveConcurrency()
  min: 1,
  max: 1,
  windowSize: 1,
  latencyThreshold: 1,
  tolerance: 1.01,
  backoffRatio: 0.5,
  isOverload: spy('isOverload', true),
  // execute(), flow(), tasks, runs, withFallback()
  signal: abortedSignal,
  deadline: 1,
  deadlineAt: 0,
  clock: hostileClock,
  onEvent: spy('onEvent', undefined),
  after: ['polluted'],
  timeout: 1,
  retry: true,
  circuitBreaker: hostilePolicy,
  hedge: { idempotent: true, delay: 1 },
  policies: [hostilePolicy],
  fallback: 'polluted',
  onTrace: spy('onTrace', undefined),
  // a caller's context (cached(), singleFlight(), Loader loads, the HTTP client)
  context: {
    signal: abortedSignal,
    deadlineAt: 0,
    attempt: 9,
    task: 'polluted',
    clock: hostileClock,
    trace: { enabled: true, emit: spy('emit', undefined) },
  },
  when: spy('when', false),
  // Loader, loads, batchEndpoint()
  maxBatchSize: 1,
  maxBatchCost: 1,
  cost: spy('cost', 1),
  wait: 1_000,
  schedule: spy('schedule', undefined),
  id: spy('id', 'polluted'),
  cache: false,
  maxCacheSize: 1,
  onBatch: spy('onBatch', undefined),
  scope: 'shared',
  url: spy('url', 'https://polluted.test/'),
  fetch: spy('fetch', []),
  items: spy('items', []),
  maxUrlLength: 16,
  // cached() and its negative caching
  ttl: 1,
  staleWhileRevalidate: 1e9,
  staleIfError: 1e9,
  storable: spy('storable', false),
  negative: { ttl: 1e9 },
  version: 'polluted',
  storeTimeout: 1,
  // cached()'s cross-process flight: one that says another process always holds the key
  flight: {
    claim: spy('flight.claim', { won: false }),
    release: spy('flight.release', undefined),
    waitForFill: spy('flight.waitForFill', Promise.resolve()),
  },
  flightLease: 10,
  // renderWaterfall(), paginate(), pages(), withFields(), idsParam(), nextLink(), formatLinkHeader()
  width: 10,
  color: true,
  page: spy('page', []),
  first: spy('first', []),
  totalPages: spy('totalPages', 1),
  total: spy('total', 1),
  pageSize: 1,
  maxPages: 1,
  start: 'polluted',
  next: spy('next', 'polluted'),
  param: 'polluted',
  style: 'repeat',
  separator: ';',
  rel: 'polluted',
  base: 'https://polluted.test/',
  crossOrigin: true,
  params: { polluted: '1' },
  uri: 'https://polluted.test/',
  // memoryCacheStore(), lruCacheStore() and what lru-cache reads from the options fanout gives it
  maxEntries: 1,
  maxBytes: 1,
  sizeOf: spy('sizeOf', 1e9),
  maxEntrySize: 1,
  maxSize: 1,
  sizeCalculation: spy('sizeCalculation', 1e9),
  dispose: spy('dispose', undefined),
  allowStale: true,
  noDeleteOnStaleGet: true,
  // fanout/http: client, request, timeouts, ssrf, proxy, tls
  baseUrl: 'http://polluted.test/',
  headers: {
    authorization: 'Bearer polluted',
    'x-polluted': '1',
    'retry-after': '3600',
    'cache-control': 'no-store',
    link: '<https://polluted.test/>; rel="next"',
  },
  connections: 1,
  timeouts: { connect: 1, headers: 1, body: 1 },
  maxResponseSize: 1,
  maxRedirects: 0,
  credentialHeaders: ['x-polluted'],
  ssrf: false,
  maxOrigins: 1,
  lookup: spy('lookup', undefined),
  tls: { ca: tlsCert },
  proxy: 'http://127.0.0.1:9',
  method: 'POST',
  query: { polluted: '1' },
  body: 'polluted',
  json: { polluted: true },
  redirect: 'error',
  beforeRequest: spy('beforeRequest', undefined),
  trace: { enabled: true, emit: spy('trace.emit', undefined) },
  connect: 1,
  allow: ['loopback', 'private'],
  deny: ['0.0.0.0/0'],
  http: 'http://127.0.0.1:9',
  https: 'http://127.0.0.1:9',
  noProxy: '*',
  ca: tlsCert,
  cert: tlsCert,
  // what Node's TLS reads: verification must stay on
  rejectUnauthorized: false,
  // compat/p-limit, compat/dataloader
  rejectOnClear: true,
  batch: false,
  batchScheduleFn: spy('batchScheduleFn', undefined),
  cacheKeyFn: spy('cacheKeyFn', 'polluted'),
  cacheMap: hostileStore,
  // fields read from errors and responses: a plain error must not gain a status, a method…
  status: 503,
  statusCode: 503,
  code: 'ECONNRESET',
  retryAfterMs: 3_600_000,
  response: { status: 503 },
}

// --- driving and observing ---------------------------------------------------------------------

/** A clock driven by hand: timers fire only when a scenario steps it. */
class HandClock implements Clock {
  t = 0
  readonly #timers = new Map<object, { at: number; seq: number; fn: () => void }>()
  #seq = 0
  now(): number {
    return this.t
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {}
    this.#timers.set(handle, { at: this.t + Math.max(0, ms), seq: this.#seq++, fn })
    return handle
  }
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle)
  }
  /** Fires the earliest timer; false when there is none. */
  step(): boolean {
    let first: [object, { at: number; seq: number; fn: () => void }] | undefined
    for (const entry of this.#timers)
      if (
        first === undefined ||
        entry[1].at < first[1].at ||
        (entry[1].at === first[1].at && entry[1].seq < first[1].seq)
      )
        first = entry
    if (first === undefined) return false
    this.#timers.delete(first[0])
    this.t = Math.max(this.t, first[1].at)
    first[1].fn()
    return true
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** An own property, or a class's; never one from Object.prototype (this file reads while polluted). */
function read(value: unknown, key: string): unknown {
  for (
    let o = value as object | null;
    typeof o === 'object' && o !== null && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    if (Object.prototype.hasOwnProperty.call(o, key)) return (value as Record<string, unknown>)[key]
  }
  return undefined
}

function describeError(error: unknown): unknown {
  if (!(error instanceof Error)) return { thrown: JSON.stringify(error) ?? String(error) }
  return { name: error.name, message: error.message, code: read(error, 'code') ?? null }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown } | { pending: true }

/**
 * Settles `work` (a promise, or a function that may throw), stepping `clock` when nothing else
 * moves; a promise still pending when no timer is left is reported as pending, not awaited.
 */
async function outcome(
  work: Promise<unknown> | (() => unknown),
  clock?: HandClock,
  show: (value: unknown) => unknown = (v) => JSON.parse(JSON.stringify(v ?? null)) as unknown,
): Promise<Outcome> {
  let result: Outcome | undefined
  let promise: Promise<unknown>
  try {
    promise = typeof work === 'function' ? Promise.resolve(work()) : work
  } catch (error) {
    return { ok: false, error: describeError(error) }
  }
  promise.then(
    (value) => (result = { ok: true, value: show(value) }),
    (error: unknown) => (result = { ok: false, error: describeError(error) }),
  )
  let idle = 0
  for (let i = 0; i < 5_000 && result === undefined && idle < 20; i++) {
    await turn()
    if (result === undefined && !(clock?.step() ?? false)) idle++
  }
  return result ?? { pending: true }
}

/** Awaits real I/O to the end (a request has its own time limits). */
async function io(
  promise: Promise<unknown>,
  show: (value: unknown) => unknown = (v) => v,
): Promise<Outcome> {
  try {
    return { ok: true, value: show(await promise) }
  } catch (error) {
    return { ok: false, error: describeError(error) }
  }
}

/** Runs a scenario on a clean prototype and on a polluted one; both observations, and what hostile functions were called. */
async function probe(
  scenario: () => Promise<unknown>,
  props: Readonly<Record<string, unknown>> = HOSTILE,
): Promise<{ clean: unknown; polluted: unknown; touched: string[] }> {
  touched.length = 0
  const clean = await scenario()
  touched.length = 0
  const polluted = await withPollutedPrototype(props, scenario)
  return { clean, polluted, touched: [...new Set(touched)].sort() }
}

const fail = (status: number, method?: string): Error =>
  Object.assign(
    new Error(`upstream ${status}`),
    method === undefined ? { status } : { status, method },
  )

// --- scenarios: the root entry -----------------------------------------------------------------

const scenarios: Record<string, () => Promise<unknown>> = {
  'retry(): a POST 503 is not retried, a GET 503 is, a 400 is not; the default budget stops a storm':
    async () => {
      const clock = new HandClock()
      const attempts: number[] = []
      const out: Outcome[] = []
      for (const [status, method] of [
        [503, 'POST'],
        [503, 'GET'],
        [503, undefined],
        [400, 'GET'],
      ] as const) {
        let n = 0
        out.push(
          await outcome(
            execute(
              retry().wrap(() => (n++, Promise.reject(fail(status, method)))),
              { clock },
            ),
            clock,
          ),
        )
        attempts.push(n)
      }
      let storm = 0
      const shared = retry({})
      for (let i = 0; i < 8; i++)
        await outcome(
          execute(
            shared.wrap(() => (storm++, Promise.reject(fail(503, 'GET')))),
            { clock },
          ),
          clock,
        )
      // An upstream asking for a wait longer than maxRetryAfter's default: waited for, not refused.
      const slow = Object.assign(fail(503, 'GET'), { retryAfterMs: 30_000 })
      let waited = 0
      const retryAfter = await outcome(
        execute(
          retry({ budget: false }).wrap(() =>
            waited++ === 0 ? Promise.reject(slow) : Promise.resolve('ok'),
          ),
          { clock },
        ),
        clock,
      )
      return { out, attempts, storm, retryAfter }
    },

  'retryBudget(): 100 tokens per origin, retries while more than half remain, Retry-After failures cost a quarter':
    async () => {
      const budget = retryBudget()
      const a = { url: 'https://a.example/x' }
      const b = { url: 'https://b.example/x' }
      const paced = { url: 'https://c.example/x', headers: { 'retry-after': '1' }, status: 429 }
      const allowed: boolean[] = []
      for (let i = 0; i < 60; i++) {
        budget.onFailure(a)
        budget.onFailure(paced)
        allowed.push(budget.canRetry(a), budget.canRetry(b), budget.canRetry(paced))
      }
      budget.onSuccess(undefined, a)
      return { allowed, tokens: budget.tokens }
    },

  'timeout() and withFallback(): the fallback replaces every failure': async () => {
    const clock = new HandClock()
    const slow = timeout(50).wrap(
      ({ signal }) =>
        new Promise((resolve, reject) => {
          const t = clock.setTimeout(() => resolve('slow'), 100)
          signal.addEventListener('abort', () => (clock.clearTimeout(t), reject(signal.reason)))
        }),
    )
    const timedOut = await outcome(execute(slow, { clock }), clock)
    const fallback = await outcome(
      execute(
        withFallback(
          () => Promise.reject(fail(500)),
          () => 'fallback',
        ),
        { clock },
      ),
      clock,
    )
    const withOptions = await outcome(
      execute(
        withFallback(
          () => Promise.reject(fail(500)),
          () => 'fallback',
          {},
        ),
        { clock },
      ),
      clock,
    )
    return { timedOut, fallback, withOptions }
  },

  'hedge(): idempotent is required; the default delay is 100 ms and one hedge': async () => {
    const missing = await outcome(() => hedge({} as never))
    const clock = new HandClock()
    const starts: number[] = []
    const hedged = hedge({ idempotent: true }).wrap(
      ({ signal }) =>
        new Promise((resolve, reject) => {
          starts.push(clock.now())
          const t = clock.setTimeout(() => resolve('done'), 300)
          signal.addEventListener('abort', () => (clock.clearTimeout(t), reject(signal.reason)))
        }),
    )
    const result = await outcome(execute(hedged, { clock }), clock)
    const percentile = await outcome(
      () => hedge({ idempotent: true, delay: { percentile: 0.9 } }).name,
    )
    return { missing, result, starts, percentile }
  },

  'circuitBreaker(): opens after 5 failures in a row, for 30 s': async () => {
    const clock = new HandClock()
    const breaker = circuitBreaker()
    const states: string[] = []
    const call = breaker.wrap(() => Promise.reject(fail(500)))
    for (let i = 0; i < 6; i++) {
      await outcome(execute(call, { clock }), clock)
      states.push(breaker.state)
    }
    clock.t += 29_999
    const stillOpen = await outcome(execute(call, { clock }), clock)
    return { states, stillOpen, name: breaker.name }
  },

  'limit(): waiting calls queue (10,000 of them), run in order; run() options are the caller’s only':
    async () => {
      const clock = new HandClock()
      const observe = async (limiter: ReturnType<typeof limit>, runOptions?: LimitRunOptions) => {
        const order: string[] = []
        const runs = ['a', 'b', 'c', 'd'].map((id) =>
          outcome(
            limiter.run(
              () =>
                new Promise((resolve) => clock.setTimeout(() => (order.push(id), resolve(id)), 10)),
              runOptions,
            ),
            clock,
          ),
        )
        await turn()
        const counts = [limiter.activeCount, limiter.pendingCount]
        return { counts, results: await Promise.all(runs), order, name: limiter.name }
      }
      const viaPolicy = limit({ concurrency: 2 })
      const ctxResult = await outcome(
        execute(
          viaPolicy.wrap(() => Promise.resolve('policy')),
          { clock },
        ),
        clock,
      )
      return {
        object: await observe(limit({ concurrency: 2 })),
        number: await observe(limit(2), {}),
        ctxResult,
      }
    },

  'mapLimit(): every item, in order, at most `concurrency` at once': async () => {
    let running = 0
    let most = 0
    const result = await outcome(
      mapLimit(
        [1, 2, 3, 4, 5],
        async (n) => {
          most = Math.max(most, ++running)
          await turn()
          running--
          return n * 2
        },
        { concurrency: 3 },
      ),
    )
    return { result, most }
  },

  'Loader: one batch per tick, memoized, per-call options only what the caller passed':
    async () => {
      const seen: unknown[][] = []
      const batchFn = (keys: readonly number[]) => (
        seen.push([...keys]),
        new Map(keys.map((k) => [k, k * 10] as const))
      )
      const a = new Loader(batchFn)
      const b = loader(batchFn, {})
      const first = await outcome(
        Promise.all([a.load(1), a.load(2), a.load(1), a.load(3, {}), b.load(4)]),
      )
      const again = await outcome(Promise.all([a.load(1), a.load(2, {}), a.loadMany([3, 5])]))
      a.clear(1, {})
      a.clearAll({})
      const afterClear = await outcome(a.load(1))
      return { first, again, afterClear, seen, names: [a.name, b.name] }
    },

  'cached(): scope is required; a shared entry is served until its ttl; call options are the caller’s only':
    async () => {
      const entries = new Map<string, unknown>()
      const store: CacheStore = {
        get: (k) => entries.get(k) as never,
        set: (k, v) => void entries.set(k, v),
        delete: (k) => void entries.delete(k),
      }
      const clock = new HandClock()
      const noScope = await outcome(() => cached((k: string) => k, { store, ttl: 1_000 } as never))
      let calls = 0
      const c = cached(async (k: string) => (calls++, { id: k, headers: {} }), {
        store,
        ttl: 1_000,
        scope: 'shared',
        clock,
      })
      const statuses: unknown[] = []
      statuses.push(await outcome(c.entry('a'), clock, (r) => (r as { status: string }).status))
      statuses.push(await outcome(c.entry('a', {}), clock, (r) => (r as { status: string }).status))
      statuses.push(await outcome(c('a', {}), clock))
      clock.t += 1_000
      statuses.push(await outcome(c.entry('a'), clock, (r) => (r as { status: string }).status))
      const failing = cached((_k: string): Promise<string> => Promise.reject(fail(404)), {
        store,
        ttl: 1_000,
        scope: (k) => k,
        negative: { ttl: 500 },
        clock,
      })
      const negative = [await outcome(failing('x'), clock), await outcome(failing('x'), clock)]
      return { noScope, calls, statuses, negative, keys: [...entries.keys()] }
    },

  'singleFlight() and cacheKey(): one flight per key; keys from own properties only': async () => {
    const flights = singleFlight()
    let runs = 0
    const work = async () => (runs++, await turn(), 'v')
    const results = await outcome(Promise.all([flights.run('k', work), flights.run('k', work, {})]))
    return { results, runs, key: cacheKey({ a: 1 }, ['x'], new Map([['m', 1]])) }
  },

  'rateLimit(): gcra lets `rate` through at once (burst = rate), sliding-window `limit` per window':
    async () => {
      const clock = new HandClock()
      const admittedAt = async (policy: Policy) => {
        const at: number[] = []
        const call = policy.wrap(() => (at.push(clock.now()), Promise.resolve()))
        const results = await Promise.all(
          Array.from({ length: 6 }, () => outcome(execute(call, { clock }), clock)),
        )
        return { at, results }
      }
      return {
        gcra: await admittedAt(rateLimit({ rate: 4 })),
        window: await admittedAt(rateLimit({ algorithm: 'sliding-window', limit: 4 })),
      }
    },

  'adaptiveConcurrency(): aimd, backs off on overload down to 1, never above the limiter’s':
    async () => {
      const clock = new HandClock()
      const limiter = limit({ concurrency: 8 })
      const adaptive = adaptiveConcurrency(limiter)
      const call = pipe(limiter, adaptive).wrap(() => Promise.reject(fail(503)))
      const seen: number[] = []
      for (let i = 0; i < 12; i++) {
        await outcome(execute(call, { clock }), clock)
        seen.push(limiter.concurrency)
      }
      return { seen, stats: adaptive.stats() }
    },

  'memoryConcurrencyStore() and memoryRateLimitStore(): 10,000 keys': async () => {
    const concurrencyStore = memoryConcurrencyStore({})
    const grants = Array.from({ length: 3 }, (_, i) =>
      concurrencyStore.acquire({
        permits: [{ key: `k${i}`, limit: 1 }],
        holder: `h${i}`,
        now: 0,
        leaseMs: 1_000,
      } as never),
    )
    const rateStore = memoryRateLimitStore()
    const reservations = Array.from({ length: 3 }, (_, i) =>
      rateStore.reserve(`k${i}`, {
        cost: 1,
        now: 0,
        maxWaitMs: 0,
        notBefore: 0,
        params: { algorithm: 'gcra', interval: 100, tolerance: 100 },
      }),
    )
    return {
      grants: grants.map((g) => read(g, 'ok')),
      reservations: reservations.map((r) => [r.ok, r.waitMs]),
    }
  },

  'execute(): no deadline, name "call", the caller’s signal only': async () => {
    const ctx = await outcome(
      execute(async (c) => ({
        task: c.task,
        deadlineAt: c.deadlineAt,
        aborted: c.signal.aborted,
        attempt: c.attempt,
        traced: c.trace.enabled,
      })),
    )
    const withEmpty = await outcome(execute(async (c) => c.task, {}))
    return { ctx, withEmpty }
  },

  'flow(): tasks run with no limit, no timeout, no fallback; run options are the caller’s only':
    async () => {
      const clock = new HandClock()
      const started: string[] = []
      const sleep = (ms: number, value: string, signal: AbortSignal) =>
        new Promise<string>((resolve, reject) => {
          const t = clock.setTimeout(() => resolve(value), ms)
          signal.addEventListener('abort', () => (clock.clearTimeout(t), reject(signal.reason)))
        })
      const f = flow<{ id: string }>({ clock })
        .task('a', (_, { signal }) => (started.push(`a@${clock.now()}`), sleep(50, 'A', signal)))
        .task('b', (_, { signal }) => (started.push(`b@${clock.now()}`), sleep(50, 'B', signal)))
        .task('c', async ($) => `${await $.a}+${await $.b}`)
      const run = await outcome(f.run({ id: '1' }), clock)
      const runEmpty = await outcome(f.run({ id: '1' }, {}), clock)
      const failing = flow('named').task('x', () => Promise.reject(fail(500)))
      const failed = await outcome(failing.run(), clock)
      const settled = await outcome(failing.settle(undefined, {}), clock)
      let trace: FlowTrace | undefined
      await outcome(f.run({ id: '1' }, { onTrace: (t) => (trace = t) }), clock)
      const noClock = await outcome(
        flow()
          .task('v', () => 'v')
          .run(),
      )
      return {
        run,
        runEmpty,
        started,
        failed,
        settled,
        describe: f.describe(),
        waterfall: trace === undefined ? null : renderWaterfall(trace),
        waterfallEmpty: trace === undefined ? null : renderWaterfall(trace, {}),
        noClock,
      }
    },

  'paginate(), pages(), collectPages(): 4 at a time, up to 1,000 pages': async () => {
    const fetched: string[] = []
    const all = await outcome(
      paginate({ page: async (n: number) => (fetched.push(`p${n}`), [n]), totalPages: () => 5 }),
    )
    const cursor = await outcome(
      collectPages({
        start: 1,
        fetch: async (c: number) => (fetched.push(`c${c}`), c),
        next: (p: number) => (p < 4 ? p + 1 : undefined),
      }),
    )
    const lazy: number[] = []
    for await (const p of pages({
      start: 1,
      fetch: async (c: number) => c,
      next: (p: number) => (p < 3 ? p + 1 : undefined),
    }))
      lazy.push(p)
    return { all, cursor, lazy, fetched }
  },

  'withFields(), idsParam(), batchEndpoint(): default parameter names and separators': async () => {
    const urls: string[] = []
    const endpoint = batchEndpoint({
      url: (ids: readonly number[]) => `https://api.test/users?${idsParam(ids)}`,
      fetch: async (url: string) => (urls.push(url), [{ id: 1 }, { id: 2 }]),
      id: (item: { id: number }) => item.id,
    })
    const loaded = await outcome(Promise.all([endpoint.load(1), endpoint.load(2)]))
    return {
      fields: withFields('https://api.test/x', ['a', 'b']),
      fieldsEmpty: withFields('https://api.test/x', ['a'], {}),
      ids: idsParam([1, 2], {}),
      loaded,
      urls,
    }
  },

  'nextLink(), parseLinkHeader(), formatLinkHeader(): rel next, same origin only': async () => {
    const response = {
      url: 'https://api.test/items',
      headers: {
        link: '<https://api.test/items?page=2>; rel="next", <https://other.test/x>; rel="other"',
      },
    }
    const other = await outcome(() => nextLink(response, { rel: 'other' }))
    return {
      next: nextLink(response),
      nextEmpty: nextLink(response, {}),
      other,
      plain: nextLink({ headers: {} } as never),
      parsed: parseLinkHeader('<a>; rel=next'),
      formatted: formatLinkHeader([{ uri: 'https://api.test/a' }, { uri: 'b', rel: 'next' }]),
    }
  },

  'errors and responses: a plain error has no status, code or wait': async () => {
    const plain = new Error('plain')
    const bare = {}
    return {
      statusOf: [statusOf(plain), statusOf(bare)],
      retryable: [isRetryableError(plain), isRetryableError(bare)],
      retryAfter: [retryAfterOf(plain) ?? null, retryAfterOf(bare) ?? null],
    }
  },
}

// --- scenarios: the subpaths ---------------------------------------------------------------------

/** What an in-memory store keeps of two entries before and after their ttl, on a hand clock. */
function storeLifetimes(make: (clock: HandClock) => MemoryCacheStore): Promise<unknown> {
  const clock = new HandClock()
  const store = make(clock)
  const entry = (value: string) =>
    ({
      format: 1,
      kind: 'value',
      value,
      version: null,
      storedAt: 0,
      freshUntil: 1_000,
      staleUntil: 1_000,
      errorUntil: 0,
    }) as never
  store.set('a', entry('A'), 1_000)
  store.set('b', entry('B'), 1_000)
  clock.t = 10
  const early = [store.get('a') !== undefined, store.get('b') !== undefined, store.size]
  clock.t = 1_000
  const late = [store.get('a') !== undefined, store.size]
  return Promise.resolve({ early, late })
}

const subpathScenarios: Record<string, () => Promise<unknown>> = {
  'fanout/cache memoryCacheStore(): entries live for the ttl they are given; only maxEntries bounds':
    () => storeLifetimes((clock) => memoryCacheStore({ maxEntries: 10, clock })),
  'fanout/cache/lru-cache lruCacheStore(): entries live for the ttl they are given; only maxEntries bounds':
    () => storeLifetimes((clock) => lruCacheStore({ maxEntries: 10, clock })),

  'fanout/compat/p-limit: clearQueue() leaves waiting calls pending (rejectOnClear is off)':
    async () => {
      const observe = async (
        limitOf: (n: number | PLimitOptions) => {
          (fn: () => Promise<string>): Promise<string>
          clearQueue(): void
        },
        options: number | PLimitOptions,
      ) => {
        const run = limitOf(options)
        const first = run(async () => (await turn(), 'first'))
        const second = run(async () => 'second')
        run.clearQueue()
        return [await outcome(first), await outcome(second)]
      }
      return {
        number: await observe((n) => pLimit(n), 1),
        object: await observe((n) => pLimit(n), { concurrency: 1 }),
        fn: await observe((n) => limitFunction((f: () => Promise<string>) => f(), n) as never, {
          concurrency: 1,
        }),
      }
    },

  'fanout/compat/dataloader: batches everything of a tick, caches, no name': async () => {
    const batches: unknown[][] = []
    const dl = new DataLoader(
      async (keys: readonly number[]) => (batches.push([...keys]), keys.map((k) => k * 2)),
    )
    const values = await outcome(Promise.all([dl.load(1), dl.load(2), dl.load(1)]))
    const cachedValue = await outcome(dl.load(2))
    const withOptions = new DataLoader(
      async (keys: readonly number[]) => (batches.push([...keys]), keys.map((k) => k * 3)),
      {},
    )
    const more = await outcome(Promise.all([withOptions.load(1), withOptions.load(2)]))
    return { values, cachedValue, more, batches, names: [dl.name, withOptions.name] }
  },
}

// --- the HTTP client against loopback servers in another process -----------------------------

// The servers run in a child process: Node's own server code reads options from the prototype
// too, and what is probed here is the client, not Node's http server.
const SERVER = `
const http = require('node:http'), https = require('node:https')
const handler = (req, res) => {
  let body = ''
  req.on('data', (c) => (body += c))
  req.on('end', () => {
    const seen = { method: req.method, url: req.url, headers: req.headers, body }
    if (req.url === '/redirect') { res.writeHead(302, { location: '/echo?from=redirect' }); return res.end() }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(seen))
  })
}
const plain = http.createServer(handler).listen(0, '127.0.0.1', () => {
  const secure = https.createServer({ cert: process.env.CERT, key: process.env.KEY }, handler).listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify([plain.address().port, secure.address().port]) + '\\n')
  })
})
process.stdin.on('end', () => process.exit(0)).resume()
`

async function servers(): Promise<{
  http: (path: string) => string
  https: (path: string) => string
  close: () => Promise<void>
}> {
  const child = spawn(process.execPath, ['-e', SERVER], {
    env: { ...process.env, CERT: tlsCert, KEY: tlsKey },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const [httpPort, httpsPort] = await new Promise<[number, number]>((resolve, reject) => {
    child.once('error', reject)
    child.stdout.once('data', (chunk: Buffer) =>
      resolve(JSON.parse(chunk.toString('utf8')) as [number, number]),
    )
  })
  return {
    http: (path) => `http://127.0.0.1:${httpPort}${path}`,
    https: (path) => `https://127.0.0.1:${httpsPort}${path}`,
    close: () =>
      new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.stdin.end())),
  }
}

// --- which option names there are -----------------------------------------------------------

const noop = (): void => {}
const anyStore: CacheStore = { get: () => undefined, set: noop, delete: noop }
const probeClient = createHttpClient()
afterAll(() => probeClient.close())

/**
 * Every public constructor and call that checks its option names, called with `extra` mixed
 * into otherwise valid options. An unknown name makes each list its known options; a `__proto__`
 * or `constructor` key must be refused the same way.
 */
const checked: Record<string, (extra: object) => unknown> = {
  'retry()': (x) => retry({ ...x }),
  'retryBudget()': (x) => retryBudget({ ...x }),
  'hedge()': (x) => hedge({ idempotent: true, ...x }),
  'hedge() delay': (x) => hedge({ idempotent: true, delay: { percentile: 0.9, ...x } }),
  'circuitBreaker()': (x) => circuitBreaker({ ...x }),
  'limit()': (x) => limit({ concurrency: 1, ...x }),
  'mapLimit()': (x) => mapLimit([], (v) => v, { concurrency: 1, ...x }),
  Loader: (x) => new Loader(() => new Map(), { ...x }),
  'cached()': (x) => cached((k: string) => k, { store: anyStore, ttl: 1, scope: 'shared', ...x }),
  'cached() negative': (x) =>
    cached((k: string) => k, {
      store: anyStore,
      ttl: 1,
      scope: 'shared',
      negative: { ttl: 1, ...x },
    }),
  'rateLimit()': (x) => rateLimit({ rate: 1, ...x }),
  'rateLimit() adaptive': (x) => rateLimit({ rate: 1, adaptive: { ...x } }),
  'adaptiveConcurrency()': (x) => adaptiveConcurrency(limit(1), { ...x }),
  'memoryConcurrencyStore()': (x) => memoryConcurrencyStore({ ...x }),
  'memoryRateLimitStore()': (x) => memoryRateLimitStore({ ...x }),
  'execute()': (x) => execute(() => Promise.resolve(1), { ...x }),
  'flow()': (x) => flow({ ...x }),
  'flow task': (x) => flow().task('a', () => 1, { ...x }),
  'flow run': (x) =>
    flow()
      .task('a', () => 1)
      .run(undefined, { ...x }),
  'renderWaterfall()': (x) => renderWaterfall({} as FlowTrace, { ...x }),
  'paginate()': (x) => paginate({ page: async () => 1, totalPages: () => 1, ...x }),
  'pages()': (x) => pages({ start: 1, fetch: async () => 1, next: () => undefined, ...x }),
  'withFields()': (x) => withFields('https://api.test/', ['a'], { ...x }),
  'batchEndpoint()': (x) =>
    batchEndpoint({
      url: () => 'https://api.test/',
      fetch: async () => [],
      id: (i: number) => i,
      ...x,
    }),
  'idsParam()': (x) => idsParam([1], { ...x }),
  'nextLink()': (x) => nextLink({ headers: {} }, { ...x }),
  'fanout/cache memoryCacheStore()': (x) => memoryCacheStore({ maxEntries: 1, ...x }),
  'fanout/cache/lru-cache lruCacheStore()': (x) => lruCacheStore({ maxEntries: 1, ...x }),
  'fanout/http createHttpClient()': (x) => createHttpClient({ ...x }),
  'fanout/http request': (x) => probeClient.get('https://api.test/', { ...x }),
  'fanout/http timeouts': (x) => createHttpClient({ timeouts: { ...x } }),
  'fanout/http ssrf': (x) => createHttpClient({ ssrf: { ...x } }),
  'fanout/http proxy': (x) => createHttpClient({ proxy: { http: 'http://proxy.test:3128', ...x } }),
  'fanout/http tls': (x) => createHttpClient({ tls: { ...x } }),
}

/** Per-call options nothing checks by name: listed from their types, so a new one fails to compile until it is listed. */
const unchecked: Record<string, readonly string[]> = {
  'limiter.run()': Object.keys({
    signal: 0,
    priority: 0,
    key: 0,
    deadline: 0,
    clock: 0,
  } satisfies Record<keyof LimitRunOptions, 0>),
  'loader.load()': Object.keys({ signal: 0, scope: 0, context: 0 } satisfies Record<
    keyof LoadOptions,
    0
  >),
  'cached() call': Object.keys({ signal: 0, context: 0 } satisfies Record<
    keyof CachedCallOptions,
    0
  >),
  'singleFlight().run()': Object.keys({ signal: 0, context: 0 } satisfies Record<
    keyof SingleFlightRunOptions,
    0
  >),
  'withFallback()': Object.keys({ when: 0 } satisfies Record<keyof FallbackOptions, 0>),
  'fanout/compat/p-limit': Object.keys({ concurrency: 0, rejectOnClear: 0 } satisfies Record<
    keyof PLimitOptions,
    0
  >),
  'fanout/compat/dataloader': Object.keys({
    batch: 0,
    maxBatchSize: 0,
    batchScheduleFn: 0,
    cache: 0,
    cacheKeyFn: 0,
    cacheMap: 0,
    name: 0,
  } satisfies Record<keyof DataLoader.Options<unknown, unknown>, 0>),
  'formatLinkHeader() links': Object.keys({ uri: 0, rel: 0, params: 0 } satisfies Record<
    keyof Parameters<typeof formatLinkHeader>[0] extends Iterable<infer L> ? keyof L : never,
    0
  >),
}

async function refusal(make: () => unknown): Promise<string> {
  const result = await outcome(make)
  if (!('ok' in result) || result.ok)
    throw new Error(`expected a refusal, got ${JSON.stringify(result)}`)
  return (result.error as { message: string }).message
}

/** The names a "known options" message lists, without a prefix like `timeouts.`. */
function knownNames(message: string): string[] {
  const list = /Known options: (.*)$/.exec(message)?.[1] ?? /\(known: ([^)]*)\)/.exec(message)?.[1]
  if (list === undefined) throw new Error(`no list of known options in: ${message}`)
  return list.split(',').map((n) =>
    n
      .trim()
      .replace(/[`.]+$/, '')
      .replace(/^`/, '')
      .replace(/^\w+\./, '')
      .replace(/`$/, ''),
  )
}

describe('I10: prototype pollution', () => {
  it('I10: every option name of every public constructor and call has a hostile value in the probe', async () => {
    const missing: string[] = []
    for (const [where, make] of Object.entries(checked)) {
      const message = await refusal(() => make({ zzzNotAnOption: 1 }))
      expect(message, where).toContain('zzzNotAnOption')
      for (const name of knownNames(message))
        if (!Object.prototype.hasOwnProperty.call(HOSTILE, name)) missing.push(`${where}: ${name}`)
    }
    for (const [where, names] of Object.entries(unchecked)) {
      for (const name of names)
        if (!Object.prototype.hasOwnProperty.call(HOSTILE, name)) missing.push(`${where}: ${name}`)
    }
    expect(missing).toEqual([])
  })

  it('I10: options parsed from JSON with __proto__ or constructor.prototype are refused as unknown, and Object.prototype stays untouched', async () => {
    const before = Reflect.ownKeys(Object.prototype)
    for (const json of [
      '{"__proto__": {"maxAttempts": 10, "idempotent": true, "scope": "shared", "polluted": 1}}',
      '{"constructor": {"prototype": {"polluted": 1}}}',
    ]) {
      for (const [where, make] of Object.entries(checked)) {
        const message = await refusal(() => make(JSON.parse(json) as object))
        expect(message, where).toMatch(/__proto__|constructor/)
      }
    }
    expect(Reflect.ownKeys(Object.prototype)).toEqual(before)
    const fresh = {} as Record<string, unknown>
    expect([fresh.maxAttempts, fresh.idempotent, fresh.scope, fresh.polluted]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ])
  })
  for (const [name, scenario] of Object.entries({ ...scenarios, ...subpathScenarios })) {
    it(`I10: ${name} — the same with a polluted Object.prototype`, async () => {
      const { clean, polluted, touched } = await probe(scenario)
      expect(touched, 'hostile functions called').toEqual([])
      expect(polluted).toEqual(clean)
      // Each name alone too: one hostile value failing early must not hide another.
      const leaking: string[] = []
      for (const key of Object.keys(HOSTILE)) {
        const alone = await probe(scenario, { [key]: HOSTILE[key] })
        if (alone.touched.length > 0 || !isDeepStrictEqual(alone.polluted, alone.clean))
          leaking.push(key)
      }
      expect(leaking, 'options read from Object.prototype').toEqual([])
    })
  }

  it('I10: fanout/http — the default client refuses loopback; requests send only what the caller gave and follow redirects; TLS verification holds', async () => {
    const up = await servers()
    try {
      const status = (r: unknown) => (r as { status: number }).status
      const scenario = async () => {
        const guarded = createHttpClient()
        const open: HttpClient = createHttpClient({ ssrf: { allow: ['loopback'] } })
        const withTls = createHttpClient({ ssrf: { allow: ['loopback'] }, tls: {} })
        try {
          return {
            refused: await io(guarded.get(up.http('/echo'))),
            plain: await io(open.get(up.http('/echo')), (r) => (r as { json(): unknown }).json()),
            empty: await io(open.request(up.http('/echo'), {}), (r) =>
              (r as { json(): unknown }).json(),
            ),
            json: await io(open.json(up.http('/echo'))),
            redirected: await io(open.get(up.http('/redirect'), {}), (r) => [
              (r as { redirects: number }).redirects,
              (r as { json(): unknown }).json(),
            ]),
            own: await io(
              open.get(up.http('/echo'), { headers: { 'x-own': '1' }, timeouts: {} }),
              (r) => (r as { json(): unknown }).json(),
            ),
            post: await io(open.request(up.http('/echo'), { method: 'POST', body: 'b' }), status),
            // A self-signed certificate is refused: no polluted `ca` or `rejectUnauthorized` is trusted.
            tls: await io(open.get(up.https('/echo')), status),
            tlsEmpty: await io(withTls.get(up.https('/echo')), status),
          }
        } finally {
          await Promise.all([guarded.close(), open.close(), withTls.close()])
        }
      }
      // `connect` and `timeout` are also socket event names, and Node's EventEmitter reads its
      // listeners from a plain object: planted, they break every socket in the process, whatever
      // the client does. Every other name is planted.
      const { connect: _connect, timeout: _timeout, ...props } = HOSTILE
      const { clean, polluted, touched } = await probe(scenario, props)
      expect(clean).toMatchObject({
        refused: { ok: false },
        plain: { ok: true },
        tls: { ok: false },
      })
      expect(touched, 'hostile functions called').toEqual([])
      expect(polluted).toEqual(clean)
    } finally {
      await up.close()
    }
  })
})

/**
 * `limiter`: what does a concurrency limiter cost per task, how much heap does it hold, and does
 * it keep a pool of slow calls as busy as it could be?
 *
 * Workload A: 200,000 immediately-resolving tasks at concurrency 1, 16 and 256. Wall time of the
 * whole run ÷ 200,000 (median of interleaved runs after a warm-up), and at concurrency 16 the
 * heap the run holds (see `heapRun`).
 *
 * Workload B: 1,000 tasks that each sleep 10 ms (real `setTimeout`) at concurrency 50: wall time ÷
 * the ideal 1,000 / 50 × 10 ms = 200 ms.
 *
 * Every contender runs the same task body (`work(i)`, an async function returning `i`, or in
 * workload B one that sleeps 10 ms first); only the limiting differs. Push-style contenders are
 * handed `() => work(i)` for every task up front, as p-limit users write; map-style contenders get
 * the items and `work`. Every run's results (task i returns i) are checked after the clock stops.
 */
import { mapLimit } from 'async'
import Bottleneck from 'bottleneck'
import { bulkhead } from 'cockatiel'
import { Effect } from 'effect'
import pLimit from 'p-limit'
import pMap from 'p-map'
import PQueue from 'p-queue'
import type * as FanoutPLimit from '../src/compat/p-limit.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'
import { median } from './dag-shape.js'
import { gc, heapProbe } from './gc.js'

/** fanout's p-limit drop-in, compiled (see `fanout.ts` for why dist/ and not src/). */
const fanoutPLimit = (
  (await import(new URL('../dist/compat/p-limit.js', import.meta.url).href)) as typeof FanoutPLimit
).default
/** The object-style `limit()` from the main entry (used by the worker-pool variant in the notes). */
const { limit: fanoutLimit, mapLimit: fanoutMapLimit } = (await import('./fanout.js')).fanout

const TASKS = 200_000
const CONCURRENCIES = [1, 16, 256] as const
const HEAP_CONCURRENCY = 16
/** Workload A: interleaved rounds; the first WARMUP_ROUNDS are discarded. */
const WARMUP_ROUNDS = 1
const ROUNDS = 5
/**
 * Bottleneck spends ~2.5 ms per job whatever the concurrency (its scheduler goes through timers),
 * so 200,000 jobs would take over 8 minutes: it runs BOTTLENECK_TASKS tasks, once per concurrency.
 */
const BOTTLENECK_TASKS = 300
/**
 * cockatiel's bulkhead queue is an array it `shift()`s once per task, which V8 makes O(queue
 * length) for large arrays: its per-task cost grows with the queue (a single 200,000-task run takes
 * ~15 s). It runs COCKATIEL_TASKS tasks.
 */
const COCKATIEL_TASKS = 20_000
/** Workload B. */
const SLEEP_TASKS = 1_000
const SLEEP_MS = 10
const SLEEP_CONCURRENCY = 50
const IDEAL_MS = (SLEEP_TASKS / SLEEP_CONCURRENCY) * SLEEP_MS
const SLEEP_WARMUP = 1
const SLEEP_ROUNDS = 3

type Work = (i: number) => Promise<number>
/** One run: `n` tasks (`work(0)` … `work(n - 1)`) at `concurrency`; resolves with their results in order. */
type Run = (items: readonly number[], concurrency: number, work: Work) => Promise<ArrayLike<number>>

interface Contender {
  readonly name: string
  readonly run: Run
  /** Tasks it runs in workload A when not TASKS (too slow for the full count). */
  readonly tasks?: number
  /** Rounds it runs in workloads A and B, all timed, when fewer than the others (too slow to repeat or warm up). */
  readonly rounds?: number
  /** Left out of workload B (with this reason). */
  readonly skipSleep?: string
  /** Measured, but shown in a note only, not as a contender. */
  readonly noteOnly?: boolean
}

// --- contenders -------------------------------------------------------------------------------------

const pushAll = (
  items: readonly number[],
  submit: (task: () => Promise<number>) => Promise<number>,
  work: Work,
): Promise<number[]> => Promise.all(items.map((i) => submit(() => work(i))))

/** A pool of `concurrency` async loops pulling the next index; the shape of async.mapLimit and p-map. */
async function pool(
  items: readonly number[],
  concurrency: number,
  each: (i: number) => Promise<number>,
): Promise<number[]> {
  const out = new Array<number>(items.length)
  let next = 0
  const loop = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      out[index] = await each(items[index]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, loop))
  return out
}

/** See the `bare-floor` contender. */
function bareLimit(concurrency: number): Submit {
  let ring: unknown[] = new Array<unknown>(2 * 1024)
  let head = 0
  let size = 0
  let active = 0
  const release = (): void => {
    active--
    if (size === 0) return
    active++
    const at = head * 2
    const resolve = ring[at] as (value: unknown) => void
    const task = ring[at + 1] as () => Promise<number>
    ring[at] = ring[at + 1] = undefined
    head = (head + 1) % (ring.length / 2)
    size--
    const result = task()
    resolve(result)
    result.then(release, release)
  }
  let taken: ((value: unknown) => void) | undefined
  const take = (resolve: (value: unknown) => void): void => {
    taken = resolve
  }
  return (task) => {
    if (active < concurrency && size === 0) {
      active++
      const result = task()
      result.then(release, release)
      return result
    }
    if (size === ring.length / 2) {
      const next = new Array<unknown>(ring.length * 2)
      for (let i = 0; i < size * 2; i++) next[i] = ring[(head * 2 + i) % ring.length]
      ring = next
      head = 0
    }
    const promise = new Promise<unknown>(take) as Promise<number>
    const at = ((head + size) % (ring.length / 2)) * 2
    ring[at] = taken
    ring[at + 1] = task
    size++
    return promise
  }
}

/** p-queue's, Bottleneck's and cockatiel's types are loose or overloaded; each is called through this one shape. */
type Submit = (task: () => Promise<number>) => Promise<number>

const CONTENDERS: readonly Contender[] = [
  {
    // Push style with the object-style limiter: `limit({ concurrency }).run(fn)` for every task
    // up front (maxQueue raised: the default 10,000 would refuse most of the 200,000).
    name: 'fanout-limit',
    run: (items, c, work) => {
      const limiter = fanoutLimit({ concurrency: c, maxQueue: items.length })
      return pushAll(items, (task) => limiter.run(task), work)
    },
  },
  {
    // Push style, as p-limit users write it: the drop-in's `limit(fn)` for every task up front.
    name: 'fanout-compat-p-limit',
    run: (items, c, work) => {
      const limit = fanoutPLimit(c)
      return pushAll(items, (task) => limit(task), work)
    },
  },
  {
    // Map style: fanout's mapLimit(items, fn, { concurrency }), a pool of workers.
    name: 'fanout-mapLimit',
    run: (items, c, work) => fanoutMapLimit(items, work, { concurrency: c }),
  },
  {
    // The drop-in's `limit.map(items, fn)`: p-limit's semantics (every item a queued call).
    name: 'fanout-plimit-map',
    noteOnly: true,
    run: (items, c, work) => fanoutPLimit(c).map(items, work),
  },
  {
    // Not a limiter: the floor of any push-style limiter that preserves the caller's async
    // context without Node APIs — one pending gate promise per call with its reaction attached
    // at call time, the caller's promise adopting the task's — with every gate opened at once.
    name: 'context-floor',
    noteOnly: true,
    run: (items, _c, work) => {
      const gates: ((value: unknown) => void)[] = []
      const results = items.map((i) => {
        const gate = new Promise<unknown>((resolve) => gates.push(resolve))
        return gate.then(() => work(i))
      })
      for (const open of gates) open(undefined)
      return Promise.all(results)
    },
  },
  {
    // Not a limiter either: the least any push-style limiter does, with no async context kept at
    // all — the caller's promise (`new Promise`), its resolve and the task in a flat ring, the task
    // run straight from the release of the previous one and adopted by the caller's promise.
    name: 'bare-floor',
    noteOnly: true,
    run: (items, c, work) => pushAll(items, bareLimit(c), work),
  },
  {
    // The alternative for map style: `limit()`'s `run` inside a hand-written pool of c loops.
    name: 'fanout-run-pool',
    noteOnly: true,
    run: (items, c, work) => {
      const limiter = fanoutLimit({ concurrency: c })
      return pool(items, c, (i) => limiter.run(() => work(i)))
    },
  },
  {
    name: 'p-limit',
    run: (items, c, work) => {
      const limit = pLimit(c)
      return pushAll(items, (task) => limit(task), work)
    },
  },
  {
    name: 'p-queue',
    run: (items, c, work) => {
      const queue = new PQueue({ concurrency: c })
      return pushAll(items, (task) => queue.add(task) as Promise<number>, work)
    },
  },
  {
    name: 'p-map',
    run: (items, c, work) => pMap(items, work, { concurrency: c }),
  },
  {
    name: 'bottleneck',
    tasks: BOTTLENECK_TASKS,
    rounds: 1,
    run: (items, c, work) => {
      const limiter = new Bottleneck({ maxConcurrent: c })
      const schedule = limiter.schedule.bind(limiter) as unknown as Submit
      return pushAll(items, schedule, work)
    },
  },
  {
    name: 'cockatiel',
    tasks: COCKATIEL_TASKS,
    run: (items, c, work) => {
      const policy = bulkhead(c, items.length)
      return pushAll(items, (task) => policy.execute(task), work)
    },
  },
  {
    name: 'async',
    run: (items, c, work) => mapLimit<number, number>(items as number[], c, work),
  },
  {
    name: 'effect',
    run: (items, c, work) =>
      Effect.runPromise(
        Effect.forEach(items, (i) => Effect.promise(() => work(i)), { concurrency: c }),
      ),
  },
  {
    // Reference: no limit at all.
    name: 'promise-all',
    skipSleep:
      'promise-all has no limit: all 1,000 sleeps run at once (~10 ms), so a ratio to the limited ideal means nothing.',
    run: (items, _c, work) => Promise.all(items.map(work)),
  },
  {
    // Reference: the hand-written optimum, c async loops pulling from an index.
    name: 'workers',
    run: (items, c, work) => pool(items, c, work),
  },
]

// --- measuring ---------------------------------------------------------------------------------------

const work: Work = async (i) => i
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
/** An `async` function, like `work`: async.mapLimit treats any other function as callback-style. */
const sleepWork: Work = async (i) => {
  await sleep(SLEEP_MS)
  return i
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

function check(name: string, n: number, result: ArrayLike<number>): void {
  if (result.length !== n)
    throw new Error(`${name} returned ${result.length} results, expected ${n}`)
  for (let i = 0; i < n; i++)
    if (result[i] !== i) throw new Error(`${name}: task ${i} returned ${result[i]}, expected ${i}`)
}

/** One run, after a collection (so no contender pays for another's garbage); wall time in ms, checked after the clock stops. */
async function timeRun(
  c: Contender,
  items: readonly number[],
  concurrency: number,
  body: Work,
): Promise<number> {
  gc?.()
  const started = performance.now()
  const result = await c.run(items, concurrency, body)
  const elapsed = performance.now() - started
  check(c.name, items.length, result)
  return elapsed
}

/**
 * Heap held by one run, in bytes: the largest of three samples of `heapUsed` minus the heap
 * before the run, each sample taken right after a full collection — right after every task is
 * submitted (when the run's call returns), when task n/2 starts, and when the run resolves (its
 * results still held). Live memory, not garbage; the same for every contender.
 */
async function heapRun(
  c: Contender,
  items: readonly number[],
  concurrency: number,
): Promise<number> {
  const probe = items.length >> 1
  const heap = await heapProbe()
  const sample = heap.sample
  const body: Work = async (i) => {
    if (i === probe) sample()
    return i
  }
  const pending = c.run(items, concurrency, body)
  sample()
  const result = await pending
  sample()
  check(c.name, items.length, result)
  return heap.peak()
}

const tasksOf = (c: Contender): number => c.tasks ?? TASKS
/** References measured for heap too, shown in notes. */
const FLOORS = ['context-floor', 'bare-floor']
const floorHeap = new Map<string, number>()

async function workloadA(
  ctx: BenchContext,
  out: Measurement[],
  notes: string[],
): Promise<Map<string, Map<number, number>>> {
  const inputs = new Map<number, number[]>()
  for (const c of CONTENDERS) if (!inputs.has(tasksOf(c))) inputs.set(tasksOf(c), range(tasksOf(c)))
  const times = new Map<string, number[]>()
  const key = (name: string, concurrency: number): string => `${name}@${concurrency}`
  const total = WARMUP_ROUNDS + ROUNDS
  for (let round = 0; round < total; round++) {
    ctx.progress(
      `workload A: round ${round + 1}/${total}${round < WARMUP_ROUNDS ? ' (warm-up)' : ''}`,
    )
    for (const concurrency of CONCURRENCIES) {
      for (const c of CONTENDERS) {
        // A contender with its own (smaller) number of rounds runs in the last ones, unwarmed.
        if (c.rounds !== undefined && round < total - c.rounds) continue
        const ms = await timeRun(c, inputs.get(tasksOf(c))!, concurrency, work)
        if (c.rounds === undefined && round < WARMUP_ROUNDS) continue
        const k = key(c.name, concurrency)
        times.set(k, [...(times.get(k) ?? []), ms])
      }
    }
  }
  const nsPerTask = new Map<string, Map<number, number>>()
  for (const c of CONTENDERS) {
    const row = new Map<number, number>()
    for (const concurrency of CONCURRENCIES) {
      const ns = (median(times.get(key(c.name, concurrency))!) * 1e6) / tasksOf(c)
      row.set(concurrency, ns)
      if (!c.noteOnly)
        out.push({
          contender: c.name,
          metric: `ns_per_task_c${concurrency}`,
          value: ns,
          unit: 'ns',
        })
    }
    nsPerTask.set(c.name, row)
  }
  if (gc === undefined) {
    notes.push(
      'heap_mb_c16 skipped: no way to force a garbage collection (neither --expose-gc nor v8.setFlagsFromString worked).',
    )
    return nsPerTask
  }
  ctx.progress(`workload A: heap at concurrency ${HEAP_CONCURRENCY}`)
  for (const c of CONTENDERS) {
    if (c.noteOnly && !FLOORS.includes(c.name)) continue
    const n = tasksOf(c)
    const bytes = await heapRun(c, inputs.get(n)!, HEAP_CONCURRENCY)
    const mb = (bytes * TASKS) / n / 2 ** 20
    if (c.noteOnly) floorHeap.set(c.name, mb)
    else
      out.push({ contender: c.name, metric: `heap_mb_c${HEAP_CONCURRENCY}`, value: mb, unit: 'MB' })
  }
  return nsPerTask
}

async function workloadB(ctx: BenchContext, out: Measurement[], notes: string[]): Promise<void> {
  const items = range(SLEEP_TASKS)
  const runs = CONTENDERS.filter((c) => !c.noteOnly && c.skipSleep === undefined)
  for (const c of CONTENDERS)
    if (c.skipSleep !== undefined) notes.push(`${c.name} skipped in workload B: ${c.skipSleep}`)
  const times = new Map<string, number[]>(runs.map((c) => [c.name, []]))
  const total = SLEEP_WARMUP + SLEEP_ROUNDS
  for (let round = 0; round < total; round++) {
    ctx.progress(
      `workload B: round ${round + 1}/${total}${round < SLEEP_WARMUP ? ' (warm-up)' : ''}`,
    )
    for (const c of runs) {
      if (c.rounds !== undefined && round < total - c.rounds) continue
      const ms = await timeRun(c, items, SLEEP_CONCURRENCY, sleepWork)
      if (c.rounds !== undefined || round >= SLEEP_WARMUP) times.get(c.name)!.push(ms)
    }
  }
  for (const c of runs) {
    out.push({
      contender: c.name,
      metric: `ideal_ratio_${SLEEP_MS}ms_c${SLEEP_CONCURRENCY}`,
      value: median(times.get(c.name)!) / IDEAL_MS,
      unit: 'x',
    })
  }
}

// --- ratios and bars -----------------------------------------------------------------------------------

const fmt = (x: number): string => `${x.toFixed(x >= 10 ? 1 : 2)}×`

/** "1.6× faster" / "2.3× slower": how fanout's time compares with a peer's. */
function speed(fanoutNs: number, peerNs: number): string {
  return fanoutNs <= peerNs
    ? `${fmt(peerNs / fanoutNs)} faster`
    : `${fmt(fanoutNs / peerNs)} slower`
}

function ratioNotes(out: readonly Measurement[]): string[] {
  const get = (contender: string, metric: string): number | undefined =>
    out.find((m) => m.contender === contender && m.metric === metric)?.value
  const notes: string[] = []
  const compare = (mine: string, peers: readonly string[]): void => {
    for (const peer of peers) {
      const parts: string[] = []
      for (const c of CONCURRENCIES) {
        const a = get(mine, `ns_per_task_c${c}`)
        const b = get(peer, `ns_per_task_c${c}`)
        if (a !== undefined && b !== undefined) parts.push(`${speed(a, b)} at c${c}`)
      }
      const heapA = get(mine, `heap_mb_c${HEAP_CONCURRENCY}`)
      const heapB = get(peer, `heap_mb_c${HEAP_CONCURRENCY}`)
      const heap =
        heapA !== undefined && heapB !== undefined ? `, uses ${fmt(heapA / heapB)} its heap` : ''
      const metricB = `ideal_ratio_${SLEEP_MS}ms_c${SLEEP_CONCURRENCY}`
      const sleepA = get(mine, metricB)
      const sleepB = get(peer, metricB)
      const sleep =
        sleepA !== undefined && sleepB !== undefined
          ? `; workload B ${sleepA.toFixed(3)} vs ${sleepB.toFixed(3)}`
          : ''
      notes.push(`${mine} vs ${peer}: ${mine} is ${parts.join(', ')}${heap}${sleep}.`)
    }
  }
  const pushPeers = ['p-limit', 'p-queue', 'bottleneck', 'cockatiel', 'promise-all']
  compare('fanout-limit', pushPeers)
  compare('fanout-compat-p-limit', pushPeers)
  compare('fanout-mapLimit', ['async', 'p-map', 'effect', 'workers'])
  return notes
}

function barNotes(out: readonly Measurement[]): string[] {
  const get = (contender: string, metric: string): number => {
    const value = out.find((m) => m.contender === contender && m.metric === metric)?.value
    if (value === undefined) throw new Error(`no ${contender} ${metric}`)
    return value
  }
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED')
  const each = (f: (c: number) => { ok: boolean; text: string }): { ok: boolean; text: string } => {
    const results = CONCURRENCIES.map((c) => ({ c, ...f(c) }))
    return {
      ok: results.every((r) => r.ok),
      text: results.map((r) => `c${r.c} ${r.text}${r.ok ? '' : ' ✗'}`).join(', '),
    }
  }
  const ns = (contender: string, c: number): number => get(contender, `ns_per_task_c${c}`)
  const vsPLimit = each((c) => {
    const r = ns('p-limit', c) / ns('fanout-limit', c)
    return { ok: r >= 2.5, text: fmt(r) }
  })
  const heap =
    get('fanout-limit', `heap_mb_c${HEAP_CONCURRENCY}`) /
    get('p-limit', `heap_mb_c${HEAP_CONCURRENCY}`)
  const map = each((c) => {
    const r = ns('fanout-mapLimit', c) / ns('async', c)
    return { ok: r <= 1, text: fmt(r) }
  })
  const ideal = get('fanout-limit', `ideal_ratio_${SLEEP_MS}ms_c${SLEEP_CONCURRENCY}`)
  const idealMap = get('fanout-mapLimit', `ideal_ratio_${SLEEP_MS}ms_c${SLEEP_CONCURRENCY}`)
  return [
    `bar "limit().run ≥ 2.5× faster than p-limit": ${verdict(vsPLimit.ok)} (p-limit ÷ fanout-limit time: ${vsPLimit.text}).`,
    `bar "limit().run ≤ 0.6× p-limit's heap": ${verdict(heap <= 0.6)} (fanout-limit ÷ p-limit heap at c${HEAP_CONCURRENCY}: ${fmt(heap)}).`,
    `bar "map style no slower than async.mapLimit": ${verdict(map.ok)} (fanout-mapLimit ÷ async time: ${map.text}).`,
    `bar "≤ 1.05× ideal on workload B": ${verdict(ideal <= 1.05 && idealMap <= 1.05)} (fanout-limit ${ideal.toFixed(3)}, fanout-mapLimit ${idealMap.toFixed(3)}; ` +
      `the timer floor, the workers reference: ${get('workers', `ideal_ratio_${SLEEP_MS}ms_c${SLEEP_CONCURRENCY}`).toFixed(3)}).`,
  ]
}

export const limiter: Benchmark = {
  name: 'limiter',
  description:
    'concurrency limiters: per-task cost and heap on 200,000 instant tasks, and 1,000 × 10 ms tasks at concurrency 50',
  async run(ctx): Promise<BenchReport> {
    const measurements: Measurement[] = []
    const notesA: string[] = []
    const notesB: string[] = []
    const nsPerTask = await workloadA(ctx, measurements, notesA)
    await workloadB(ctx, measurements, notesB)
    const pool = nsPerTask.get('fanout-run-pool')!
    const poolNs = CONCURRENCIES.map((c) => `${pool.get(c)!.toFixed(0)} ns at c${c}`).join(', ')
    const pmap = nsPerTask.get('fanout-plimit-map')!
    const pmapNs = CONCURRENCIES.map((c) => `${pmap.get(c)!.toFixed(0)} ns at c${c}`).join(', ')
    const floor = nsPerTask.get('context-floor')!
    const floorNs = CONCURRENCIES.map((c) => `${floor.get(c)!.toFixed(0)} ns`).join(' / ')
    const bare = nsPerTask.get('bare-floor')!
    const all = nsPerTask.get('promise-all')!
    const bareNs = CONCURRENCIES.map(
      (c) => `${bare.get(c)!.toFixed(0)} ns (${fmt(bare.get(c)! / all.get(c)!)} promise-all)`,
    ).join(' / ')
    const heapOf = (name: string): string =>
      floorHeap.has(name)
        ? `, heap ${floorHeap.get(name)!.toFixed(1)} MB at c${HEAP_CONCURRENCY}`
        : ''
    return {
      measurements,
      notes: [
        `Workload A: ${TASKS.toLocaleString('en-US')} tasks (async i => i) at concurrency ${CONCURRENCIES.join(', ')}; ` +
          `workload B: ${SLEEP_TASKS.toLocaleString('en-US')} tasks of ${SLEEP_MS} ms (setTimeout) at concurrency ${SLEEP_CONCURRENCY}, ideal ${IDEAL_MS} ms. ` +
          `Every run's results are checked outside the timed region.`,
        `The p-limit drop-in's own limit.map (p-limit semantics: every item a queued call): ${pmapNs}.`,
        `context-floor (not a limiter: one pending gate promise per call with its reaction attached at call time, the least a push-style limiter needs to keep the caller's async context without Node APIs): ${floorNs} at c${CONCURRENCIES.join('/c')}${heapOf('context-floor')}.`,
        `bare-floor (the least any push-style limiter does, keeping no async context: the caller's promise, its resolve and the task in a flat ring): ${bareNs} at c${CONCURRENCIES.join('/c')}${heapOf('bare-floor')}. ` +
          "The push-style bars (≤ 2× promise-all, ≤ half p-limit's heap) sit at or below this floor: the caller's promise that limit() must return, and Promise.all over those promises, cost about as much as the whole promise-all reference.",
        'fanout-limit = limit({ concurrency }).run(() => work(i)) for every task up front; ' +
          'fanout-compat-p-limit = the p-limit drop-in (dist/compat/p-limit.js), pLimit(c)(() => work(i)); ' +
          "fanout-mapLimit = mapLimit(items, work, { concurrency }), fanout's map over an iterable.",
      ],
      tables: [
        {
          title: `Workload A: wall time per task (median of ${ROUNDS} interleaved runs after ${WARMUP_ROUNDS} warm-up), heap held at c${HEAP_CONCURRENCY}; lower is better`,
          metrics: CONCURRENCIES.map((c) => `ns_per_task_c${c}`).concat(
            `heap_mb_c${HEAP_CONCURRENCY}`,
          ),
          ratioOf: `ns_per_task_c${HEAP_CONCURRENCY}`,
          baseline: 'fanout-limit',
          notes: [
            `heap_mb_c${HEAP_CONCURRENCY}: the largest heapUsed over the run minus the heap before it, each sample taken after a full gc ` +
              `(${gc === undefined ? 'unavailable' : (globalThis as { gc?: unknown }).gc === gc ? 'global.gc' : 'gc exposed at run time via v8.setFlagsFromString + vm'}): ` +
              'right after every task is submitted, when task n/2 starts, and when the run resolves (results still held). Live memory only, not garbage.',
            `bottleneck runs ${BOTTLENECK_TASKS} tasks once per concurrency (~2.5 ms per job: 200,000 would take 8+ minutes); ` +
              `cockatiel runs ${COCKATIEL_TASKS.toLocaleString('en-US')} (its queue is an array shift()ed per task, so its cost per task grows with the queue: ` +
              `a single 200,000-task run takes ~15 s). Their ns per task are at those sizes; their heap is scaled linearly to ${TASKS.toLocaleString('en-US')} tasks.`,
            `limit()'s run inside a hand-written pool of c loops (the workers reference plus a limiter call per task): ${poolNs}. ` +
              "It beats the drop-in's map because nothing ever waits in the queue — the pool, not the limiter, does the limiting.",
            ...notesA,
            ...ratioNotes(measurements),
            ...barNotes(measurements),
          ],
        },
        {
          title: `Workload B: wall time ÷ ideal ${IDEAL_MS} ms (median of ${SLEEP_ROUNDS} interleaved runs after ${SLEEP_WARMUP} warm-up; bottleneck: 1 run); lower is better`,
          metrics: [`ideal_ratio_${SLEEP_MS}ms_c${SLEEP_CONCURRENCY}`],
          baseline: 'fanout-limit',
          notes: [
            "Node's timers alone give ~1.04–1.06 (a 10 ms setTimeout fires after 10.4 ms or more): the workers reference shows this run's floor.",
            ...notesB,
          ],
        },
      ],
    }
  },
}

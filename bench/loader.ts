/**
 * `loader`: what does a batching loader cost per `load`, and how much heap does it hold?
 *
 * 100,000 `load(key)` calls over 10,000 distinct keys (each key 10 times, in a seeded random
 * order), in two shapes:
 *
 * - (a) tick: every load in one tick, then `Promise.all` — one batch for the whole run (a
 *   GraphQL resolver fanning out over a big list);
 * - (b) rounds: 100 rounds of 1,000 loads, each round awaited before the next — a batch per
 *   round for the keys not cached yet, and ever more cache hits (a request handler loading in
 *   steps).
 *
 * Contenders, each with a fresh loader per run (so a run starts with an empty cache):
 *
 * - `fanout`: fanout's own `Loader` (built dist), default options: memo on, bounded to 10,000
 *   keys; the batch function answers with a Map from id to value;
 * - `dataloader`: DataLoader 2.2, default cache; the batch function answers with an array;
 * - `effect`: Effect 4.1's request resolver — `Effect.runPromise(Effect.request(GetValue({ id }),
 *   resolver))` per load, the resolver `RequestResolver.make` wrapped in
 *   `RequestResolver.withCache({ capacity: 10,000 })` (the same memo as the others).
 *
 * References in the notes: fanout's DataLoader drop-in (`dist/compat/dataloader.js`),
 * DataLoader with `cache: false` (every load a key of the batch), a hand-written floor (keys
 * collected in an array, one promise and one resolve per load, nothing else) and the same floor
 * behind a Map from key to promise (`memo-floor`: the least a memoizing loader does).
 *
 * Every run's results (load i resolves with key i × 3 + 1) are checked after the clock stops.
 * Stampede check: 10,000 concurrent loads of one key must make exactly one upstream call.
 */
import DataLoader from 'dataloader'
import { Effect, Exit, Request, RequestResolver } from 'effect'
import type * as FanoutDataLoader from '../src/compat/dataloader.js'
import { seededRandom } from '../src/core/random.js'
import { fanout } from './fanout.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'
import { median } from './dag-shape.js'
import { gc, heapProbe } from './gc.js'

/** fanout's DataLoader drop-in, compiled (see `fanout.ts` for why dist/ and not src/). */
const CompatDataLoader = (
  (await import(
    new URL('../dist/compat/dataloader.js', import.meta.url).href
  )) as typeof FanoutDataLoader
).default
const { Loader } = fanout

const LOADS = 100_000
const KEYS = 10_000
const ROUND_SIZE = 1_000
const ROUND_COUNT = LOADS / ROUND_SIZE
const WARMUP = 1
const RUNS = 9
/** Effect takes 10–20 µs per load (1–2 s per run): it runs EFFECT_RUNS measured runs, interleaved in the last rounds. */
const EFFECT_RUNS = 3
const STAMPEDE = 10_000

const valueOf = (key: number): number => key * 3 + 1

/** A loader as every contender is driven: `load(key)` → a promise of its value. */
interface Load {
  load(key: number): Promise<number>
}

/** Counts the upstream (batch) calls of one loader and lets the heap probe run inside one. */
interface Upstream {
  batches: number
  keys: number
  /** Called at the start of every batch call (the heap probe). */
  probe: (() => void) | undefined
}

interface Contender {
  readonly name: string
  readonly noteOnly?: boolean
  /** Measured runs when fewer than RUNS (too slow to repeat); they come last, after the warm-up. */
  readonly runs?: number
  /** A fresh loader over a fresh upstream. */
  make(up: Upstream): Load
}

// --- contenders ------------------------------------------------------------------------------------

interface GetValue extends Request.Request<number> {
  readonly _tag: 'GetValue'
  readonly id: number
}
const GetValue = Request.tagged<GetValue>('GetValue')

// One shared promise executor for the floor (no closure per load).
let taken: ((value: number) => void) | undefined
const take = (resolve: (value: number) => void): void => {
  taken = resolve
}
const nextTick = (fn: () => void): void => process.nextTick(fn)
const resolved = Promise.resolve()

/** The floor: keys in an array, one promise and one resolve per load, dispatched after the tick as DataLoader does. */
function floorLoader(up: Upstream): Load {
  let keys: number[] = []
  let resolves: ((value: number) => void)[] = []
  const dispatch = (): void => {
    const batchKeys = keys
    const batchResolves = resolves
    keys = []
    resolves = []
    up.batches++
    up.keys += batchKeys.length
    up.probe?.()
    const values = batchKeys.map(valueOf)
    void Promise.resolve(values).then((vs) => {
      for (let i = 0; i < batchResolves.length; i++) batchResolves[i]!(vs[i]!)
    })
  }
  return {
    load(key) {
      if (keys.length === 0) void resolved.then(() => nextTick(dispatch))
      keys.push(key)
      const promise = new Promise<number>(take)
      resolves.push(taken!)
      taken = undefined
      return promise
    },
  }
}

/** The memoizing floor: the floor plus a Map from key to its promise (a hit returns the promise itself). */
function memoFloorLoader(up: Upstream): Load {
  const floor = floorLoader(up)
  const memo = new Map<number, Promise<number>>()
  return {
    load(key) {
      let promise = memo.get(key)
      if (promise === undefined) memo.set(key, (promise = floor.load(key)))
      return promise
    },
  }
}

/** DataLoader's batch function (also the drop-in's): values in key order. */
const arrayBatch =
  (up: Upstream) =>
  (keys: readonly number[]): Promise<number[]> => {
    up.batches++
    up.keys += keys.length
    up.probe?.()
    return Promise.resolve(keys.map(valueOf))
  }

const CONTENDERS: readonly Contender[] = [
  {
    name: 'fanout',
    make: (up) =>
      new Loader<number, number>((keys) => {
        up.batches++
        up.keys += keys.length
        up.probe?.()
        const answer = new Map<number, number>()
        for (const key of keys) answer.set(key, valueOf(key))
        return Promise.resolve(answer)
      }),
  },
  { name: 'dataloader', make: (up) => new DataLoader<number, number>(arrayBatch(up)) },
  {
    name: 'effect',
    runs: EFFECT_RUNS,
    make: (up) => {
      const base = RequestResolver.make<GetValue>((entries) =>
        Effect.sync(() => {
          up.batches++
          up.keys += entries.length
          up.probe?.()
          for (const entry of entries) entry.completeUnsafe(Exit.succeed(valueOf(entry.request.id)))
        }),
      )
      const resolver = Effect.runSync(RequestResolver.withCache(base, { capacity: KEYS }))
      return { load: (id) => Effect.runPromise(Effect.request(GetValue({ id }), resolver)) }
    },
  },
  {
    name: 'fanout-dataloader',
    noteOnly: true,
    make: (up) => new CompatDataLoader<number, number>(arrayBatch(up)),
  },
  {
    name: 'dataloader-nocache',
    noteOnly: true,
    make: (up) => new DataLoader<number, number>(arrayBatch(up), { cache: false }),
  },
  { name: 'floor', noteOnly: true, make: floorLoader },
  { name: 'memo-floor', noteOnly: true, make: memoFloorLoader },
]

// --- measuring ---------------------------------------------------------------------------------------

type Shape = 'tick' | 'rounds'
const SHAPES: readonly Shape[] = ['tick', 'rounds']

/** 100,000 loads over 10,000 keys: each key 10 times, shuffled with the seed. */
function makeKeys(seed: number): Int32Array {
  const rand = seededRandom(seed)
  const keys = new Int32Array(LOADS)
  for (let i = 0; i < LOADS; i++) keys[i] = i % KEYS
  for (let i = LOADS - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const t = keys[i]!
    keys[i] = keys[j]!
    keys[j] = t
  }
  return keys
}

const newUpstream = (): Upstream => ({ batches: 0, keys: 0, probe: undefined })

/** Shape (a): every load in one tick. `afterSubmit` runs once every load has been made. */
async function runTick(
  loader: Load,
  keys: Int32Array,
  afterSubmit?: () => void,
): Promise<number[]> {
  const promises = new Array<Promise<number>>(keys.length)
  for (let i = 0; i < keys.length; i++) promises[i] = loader.load(keys[i]!)
  afterSubmit?.()
  return Promise.all(promises)
}

/** Shape (b): 100 rounds of 1,000 loads, each awaited before the next. */
async function runRounds(loader: Load, keys: Int32Array): Promise<number[]> {
  const out = new Array<number>(keys.length)
  const promises = new Array<Promise<number>>(ROUND_SIZE)
  for (let r = 0; r < ROUND_COUNT; r++) {
    const from = r * ROUND_SIZE
    for (let i = 0; i < ROUND_SIZE; i++) promises[i] = loader.load(keys[from + i]!)
    const values = await Promise.all(promises)
    for (let i = 0; i < ROUND_SIZE; i++) out[from + i] = values[i]!
  }
  return out
}

function check(name: string, keys: Int32Array, result: readonly number[]): void {
  if (result.length !== keys.length)
    throw new Error(`${name} returned ${result.length} values, expected ${keys.length}`)
  for (let i = 0; i < keys.length; i++) {
    if (result[i] !== valueOf(keys[i]!))
      throw new Error(
        `${name}: load ${i} (key ${keys[i]}) resolved with ${result[i]}, expected ${valueOf(keys[i]!)}`,
      )
  }
}

/** One run after a full collection; wall time in ms (loader construction included), checked after the clock stops. */
async function timeRun(
  c: Contender,
  shape: Shape,
  keys: Int32Array,
): Promise<{ ms: number; batches: number }> {
  gc?.()
  const up = newUpstream()
  const started = performance.now()
  const loader = c.make(up)
  const result = shape === 'tick' ? await runTick(loader, keys) : await runRounds(loader, keys)
  const ms = performance.now() - started
  check(`${c.name} (${shape})`, keys, result)
  return { ms, batches: up.batches }
}

/**
 * Heap held by one run of shape (a), in bytes: the largest of three samples of `heapUsed` minus
 * the heap before the run, each right after a full collection — once every load is made, at the
 * start of the (first) batch call, and when the run resolves (its results still held).
 */
async function heapRun(c: Contender, keys: Int32Array): Promise<number> {
  const heap = await heapProbe()
  const sample = heap.sample
  const up = newUpstream()
  let probed = false
  up.probe = () => {
    if (probed) return
    probed = true
    sample()
  }
  const loader = c.make(up)
  const result = await runTick(loader, keys, sample)
  sample()
  check(`${c.name} (heap)`, keys, result)
  return heap.peak()
}

/** 10,000 concurrent loads of one key: the upstream calls and keys sent. */
async function stampede(c: Contender): Promise<{ batches: number; keys: number }> {
  const up = newUpstream()
  const loader = c.make(up)
  const promises = Array.from({ length: STAMPEDE }, () => loader.load(42))
  const values = await Promise.all(promises)
  if (values.some((v) => v !== valueOf(42)))
    throw new Error(`${c.name}: a stampede load resolved with the wrong value`)
  return { batches: up.batches, keys: up.keys }
}

// --- report ----------------------------------------------------------------------------------------

interface Row {
  tick: number
  rounds: number
  batches: number
  heapMb: number | undefined
}

const fmtNs = (ns: number): string => `${ns.toFixed(0)} ns`
const ratio = (x: number): string => `${x.toFixed(2)}×`

export const loader: Benchmark = {
  name: 'loader',
  description: `batching loaders: ns per load for ${LOADS.toLocaleString('en-US')} loads over ${KEYS.toLocaleString('en-US')} keys, in one tick and in ${ROUND_COUNT} rounds, and heap`,
  async run(ctx: BenchContext): Promise<BenchReport> {
    const keys = makeKeys(ctx.seed)
    const times = new Map<string, number[]>()
    const batches = new Map<string, number>()
    const key = (name: string, shape: Shape): string => `${name}@${shape}`
    const total = WARMUP + RUNS
    for (let round = 0; round < total; round++) {
      ctx.progress(`round ${round + 1}/${total}${round < WARMUP ? ' (warm-up)' : ''}`)
      for (const shape of SHAPES) {
        for (const c of CONTENDERS) {
          // A contender with fewer runs warms up in the round just before its measured ones.
          if (c.runs !== undefined && round < total - c.runs - WARMUP) continue
          const { ms, batches: made } = await timeRun(c, shape, keys)
          if (shape === 'tick') batches.set(c.name, made)
          if (round < (c.runs === undefined ? WARMUP : total - c.runs)) continue
          const k = key(c.name, shape)
          times.set(k, [...(times.get(k) ?? []), ms])
        }
      }
    }
    const rows = new Map<string, Row>()
    for (const c of CONTENDERS) {
      const ns = (shape: Shape): number => (median(times.get(key(c.name, shape))!) * 1e6) / LOADS
      rows.set(c.name, {
        tick: ns('tick'),
        rounds: ns('rounds'),
        batches: batches.get(c.name)!,
        heapMb: undefined,
      })
    }
    const heapNotes: string[] = []
    if (gc === undefined)
      heapNotes.push(
        'heap_mb skipped: no way to force a garbage collection (neither --expose-gc nor v8.setFlagsFromString worked).',
      )
    else {
      ctx.progress('heap')
      for (const c of CONTENDERS) rows.get(c.name)!.heapMb = (await heapRun(c, keys)) / 2 ** 20
    }
    ctx.progress('stampede')
    const stampedes = new Map<string, { batches: number; keys: number }>()
    for (const c of CONTENDERS) stampedes.set(c.name, await stampede(c))

    const measurements: Measurement[] = []
    for (const c of CONTENDERS) {
      if (c.noteOnly) continue
      const row = rows.get(c.name)!
      measurements.push(
        { contender: c.name, metric: 'ns_per_load_tick', value: row.tick, unit: 'ns' },
        { contender: c.name, metric: 'ns_per_load_rounds', value: row.rounds, unit: 'ns' },
        { contender: c.name, metric: 'batches', value: row.batches, unit: 'calls' },
      )
      if (row.heapMb !== undefined)
        measurements.push({ contender: c.name, metric: 'heap_mb', value: row.heapMb, unit: 'MB' })
    }

    const f = rows.get('fanout')!
    const d = rows.get('dataloader')!
    const barTick = f.tick / d.tick
    const barRounds = f.rounds / d.rounds
    const met = barTick <= 0.8 && barRounds <= 0.8
    const describeRow = (name: string, what: string): string => {
      const r = rows.get(name)!
      const heap = r.heapMb === undefined ? '' : `, heap ${r.heapMb.toFixed(1)} MB`
      return `${name} (${what}): ${fmtNs(r.tick)} per load in one tick, ${fmtNs(r.rounds)} in rounds, ${r.batches} batch call${r.batches === 1 ? '' : 's'}${heap}.`
    }
    const fanoutStampede = stampedes.get('fanout')!
    const stampedeLine = CONTENDERS.map((c) => {
      const s = stampedes.get(c.name)!
      return `${c.name} ${s.batches} (${s.keys.toLocaleString('en-US')} key${s.keys === 1 ? '' : 's'} sent)`
    }).join(', ')
    const vsEffect = (shape: Shape): string => ratio(rows.get('effect')![shape] / f[shape])

    return {
      measurements,
      notes: [
        `${LOADS.toLocaleString('en-US')} loads over ${KEYS.toLocaleString('en-US')} distinct keys (each key 10 times, shuffled with seed ${ctx.seed}); ` +
          `shape tick: all in one tick, then Promise.all; shape rounds: ${ROUND_COUNT} rounds of ${ROUND_SIZE.toLocaleString('en-US')}, each awaited. ` +
          "A fresh loader per run; every run's values are checked outside the timed region.",
        'fanout = new Loader(batch) from the built dist (memo on, bounded to 10,000 keys; the batch function answers with a Map from id to value); ' +
          'dataloader = new DataLoader(batch) (default cache); ' +
          `effect = Effect.runPromise(Effect.request(GetValue({ id }), resolver)) per load, resolver = RequestResolver.withCache(RequestResolver.make(…), { capacity: ${KEYS.toLocaleString('en-US')} }).`,
      ],
      tables: [
        {
          title: `ns per load (median of ${RUNS} interleaved runs after ${WARMUP} warm-up; effect: ${EFFECT_RUNS}), batch calls in shape tick, heap held by one tick run; lower is better`,
          metrics: ['ns_per_load_tick', 'ns_per_load_rounds', 'batches', 'heap_mb'],
          ratioOf: 'ns_per_load_tick',
          notes: [
            describeRow(
              'fanout-dataloader',
              "fanout's DataLoader drop-in, dist/compat/dataloader.js, same batch function as dataloader",
            ),
            describeRow(
              'dataloader-nocache',
              'DataLoader with cache: false, every load a key of the batch',
            ),
            describeRow(
              'floor',
              'hand-written: keys collected in an array, one promise and one resolve per load, no memo',
            ),
            describeRow(
              'memo-floor',
              'the floor plus a Map from key to promise: the least a memoizing loader does',
            ),
            `heap_mb: the largest heapUsed during one tick run minus the heap before it, each sample after a full gc: once every load is made, ` +
              'at the start of the batch call, and when the run resolves (values still held). Live memory, not garbage.',
            ...heapNotes,
            `fanout vs dataloader: ${ratio(barTick)} its time per load in one tick, ${ratio(barRounds)} in rounds` +
              (f.heapMb !== undefined && d.heapMb !== undefined
                ? `, ${ratio(f.heapMb / d.heapMb)} its heap.`
                : '.'),
            `effect vs fanout: effect takes ${vsEffect('tick')} fanout's time per load in one tick, ${vsEffect('rounds')} in rounds.`,
            `bar "fanout ≤ 0.8× DataLoader's ns/load in both shapes": ${met ? 'met' : 'MISSED'} (tick ${ratio(barTick)}, rounds ${ratio(barRounds)}).`,
            `stampede: ${fanoutStampede.batches} upstream call${fanoutStampede.batches === 1 ? '' : 's'} for ${STAMPEDE.toLocaleString('en-US')} concurrent loads of one key ` +
              `(${fanoutStampede.batches === 1 && fanoutStampede.keys === 1 ? 'met: exactly 1' : 'MISSED: expected exactly 1 call with 1 key'}); upstream calls per contender: ${stampedeLine}.`,
          ],
        },
      ],
    }
  },
}

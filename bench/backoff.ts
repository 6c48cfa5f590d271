/**
 * `backoff`: how many calls, and how much time, do N clients contending for one row take to all
 * get their write in, per backoff strategy? A deterministic re-run of the simulation behind AWS's
 * "Exponential Backoff and Jitter" (Marc Brooker, 2015;
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/, simulator:
 * https://github.com/aws-samples/aws-arch-backoff-simulator, src/backoff_simulator.py), with
 * fanout's own `backoffDelay` computing every sleep.
 *
 * The model is the study's, constant for constant:
 * - One server holds one row with a version number (optimistic concurrency control). N clients
 *   each want to write it exactly once, and all start at t = 0.
 * - A client reads the row's version, then writes with that version. The write succeeds (and
 *   bumps the version) only if nobody else wrote in between; otherwise the client sleeps
 *   (`backoffDelay`) and starts over with a fresh read. A client whose write succeeded is done.
 * - Every message (read request, read reply, write request, write reply) crosses the network in
 *   |Normal(10 ms, sd 2 ms)|, drawn independently; the server itself takes no time. So one
 *   read-write cycle takes ~40 ms, and of the writes that land while a version is current only
 *   the first wins: "contention" is exactly the overlap of read→write windows.
 * - Backoff: base 5 ms, cap 2000 ms (the study's `backoff_cls(5, 2000)`). The study calls the
 *   backoff with `attempt` = the number of failures so far (1 before the first retry), so its first
 *   sleep is min(cap, 5·2¹) = 10 ms for `exponential`; `n` is passed the same way here. (fanout's
 *   own `retry()` counts `n` from 0; with the study's indexing base 5 behaves like base 10 from
 *   n = 0, except that `decorrelated`'s floor stays 5 ms.) The sleep is added after the failed
 *   write's reply arrives, before the next read request is sent, as in the study.
 * - `decorrelated` is fanout's variant: uniform in [base, min(cap, 3·previous)], capped before
 *   sampling; the study capped after sampling (`min(cap, uniform(base, 3·sleep))`). The two only
 *   differ once 3·previous exceeds the cap.
 * - calls = writes the server received (the study's `stats.calls`; reads are not counted);
 *   completion time = the virtual time at which the last client learns its write succeeded.
 *   Results are means over RUNS independent runs (the study averaged 100), reported in seconds.
 *
 * No real timers: a binary heap of pending messages ordered by (arrival time, sequence number)
 * drives a virtual clock. Every random draw (network delays and jitter) comes from one mulberry32
 * stream per run, seeded from `--seed` and the run index; every strategy sees the same run seeds.
 * After each run the results are checked: every client finished, the row's version equals N, and
 * calls = N + failures ≥ N.
 *
 * `backoffDelay` is taken from the built package (dist/, via ./fanout.js) when the benchmark
 * runs; `simulate` takes it as a parameter so the test can drive the simulation with the source
 * function without needing a build. Loading ./fanout.js lazily, inside `run`, keeps this module
 * importable without dist/.
 */
import type { BackoffParams, BackoffStrategy } from '../src/policies/index.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'
import { seededRandom } from '../src/core/random.js'

/** The study's constants. */
export const STUDY = {
  /** Backoff base, ms. */
  base: 5,
  /** Backoff cap, ms. */
  cap: 2000,
  /** One-way network delay: |Normal(mean, sd)|, ms. */
  netMeanMs: 10,
  netSdMs: 2,
} as const

/** The contenders, in table order. */
export const STRATEGIES: readonly BackoffStrategy[] = [
  'none',
  'exponential',
  'equal',
  'full',
  'decorrelated',
]
const SIZES = [10, 50, 100] as const
/** Runs averaged per (strategy, N), as in the study; across seeds the N=100 means then move by about ±1–2%. */
const RUNS = 100

export type DelayFn = (
  strategy: BackoffStrategy,
  n: number,
  previous: number,
  params: BackoffParams,
) => number

export interface SimOptions {
  readonly clients: number
  readonly strategy: BackoffStrategy
  readonly seed: number
  /** fanout's `backoffDelay` (from dist/ in the benchmark, from src/ in the test). */
  readonly delay: DelayFn
  readonly base?: number
  readonly cap?: number
  readonly netMeanMs?: number
  readonly netSdMs?: number
}

export interface SimResult {
  /** Writes the server received, successful or not. */
  readonly calls: number
  /** Writes rejected because the version had moved on. */
  readonly failures: number
  /** Virtual ms until the last client learned its write succeeded. */
  readonly completionMs: number
  /** Clients whose write succeeded (always `clients` once the simulation returns). */
  readonly completed: number
  /** Per client, its number of write attempts. */
  readonly attempts: readonly number[]
}

const enum Kind {
  /** A read request reaches the server. */
  Read,
  /** The read's reply (the version) reaches the client. */
  ReadReply,
  /** A write request (carrying the version read) reaches the server. */
  Write,
  /** The write's reply (success or not) reaches the client. */
  WriteReply,
}

interface Message {
  readonly at: number
  readonly seq: number
  readonly kind: Kind
  readonly client: number
  /** The version read (ReadReply, Write) or 1/0 for success (WriteReply). */
  readonly value: number
}

/** A binary min-heap of messages by (at, seq): seq breaks ties, so runs replay exactly. */
class Queue {
  private readonly items: Message[] = []
  get size(): number {
    return this.items.length
  }
  private static before(a: Message, b: Message): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }
  push(m: Message): void {
    const items = this.items
    let i = items.push(m) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!Queue.before(m, items[parent]!)) break
      items[i] = items[parent]!
      i = parent
    }
    items[i] = m
  }
  pop(): Message | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= items.length) break
      const right = left + 1
      const child = right < items.length && Queue.before(items[right]!, items[left]!) ? right : left
      if (!Queue.before(items[child]!, last)) break
      items[i] = items[child]!
      i = child
    }
    items[i] = last
    return top
  }
}

/** One run of the study's OCC simulation; deterministic for given options. */
export function simulate(options: SimOptions): SimResult {
  const { clients, strategy, seed, delay } = options
  const base = options.base ?? STUDY.base
  const cap = options.cap ?? STUDY.cap
  const mean = options.netMeanMs ?? STUDY.netMeanMs
  const sd = options.netSdMs ?? STUDY.netSdMs
  if (!Number.isSafeInteger(clients) || clients < 1)
    throw new RangeError(`clients must be a positive integer, got ${clients}`)
  const random = seededRandom(seed)
  const params: BackoffParams = { base, cap, random }
  /** |Normal(mean, sd)| by Box–Muller (one of the pair; 1 − u keeps the log finite). */
  const net = (): number => {
    const u = 1 - random()
    const v = random()
    return Math.abs(mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v))
  }

  const queue = new Queue()
  let seq = 0
  const send = (at: number, kind: Kind, client: number, value = 0): void =>
    queue.push({ at, seq: seq++, kind, client, value })

  let version = 0
  let calls = 0
  let failures = 0
  let completed = 0
  let now = 0
  const failuresOf = new Array<number>(clients).fill(0)
  const previousSleep = new Array<number>(clients).fill(base)
  const attempts = new Array<number>(clients).fill(0)

  for (let c = 0; c < clients; c++) send(net(), Kind.Read, c)
  for (let m = queue.pop(); m !== undefined; m = queue.pop()) {
    if (m.at < now) throw new Error(`backoff simulation: time went backwards (${m.at} < ${now})`)
    now = m.at
    const c = m.client
    switch (m.kind) {
      case Kind.Read:
        send(now + net(), Kind.ReadReply, c, version)
        break
      case Kind.ReadReply:
        send(now + net(), Kind.Write, c, m.value)
        break
      case Kind.Write: {
        calls++
        attempts[c]!++
        const ok = m.value === version
        if (ok) version++
        else failures++
        send(now + net(), Kind.WriteReply, c, ok ? 1 : 0)
        break
      }
      case Kind.WriteReply:
        if (m.value === 1) {
          completed++
        } else {
          const n = ++failuresOf[c]!
          const sleep = delay(strategy, n, previousSleep[c]!, params)
          previousSleep[c] = sleep
          send(now + net() + sleep, Kind.Read, c)
        }
        break
    }
  }
  if (completed !== clients || version !== clients || calls !== clients + failures) {
    throw new Error(
      `backoff simulation (${strategy}, N=${clients}, seed ${seed}): ${completed} of ${clients} clients done, version ${version}, ${calls} calls, ${failures} failures`,
    )
  }
  return { calls, failures, completionMs: now, completed, attempts }
}

/** The seed of run `run` of a series seeded with `seed` (a Weyl step, then mixed by mulberry32). */
export function runSeed(seed: number, run: number): number {
  return Math.floor(seededRandom((seed + Math.imul(run, 0x9e3779b9)) >>> 0)() * 4_294_967_296)
}

export interface Averages {
  readonly calls: number
  readonly seconds: number
}

/** Means of `runs` runs; run r uses `runSeed(seed, r)`, the same for every strategy. */
export function averaged(
  strategy: BackoffStrategy,
  clients: number,
  seed: number,
  runs: number,
  delay: DelayFn,
): Averages {
  let calls = 0
  let ms = 0
  for (let r = 0; r < runs; r++) {
    const result = simulate({ clients, strategy, seed: runSeed(seed, r), delay })
    calls += result.calls
    ms += result.completionMs
  }
  return { calls: calls / runs, seconds: ms / runs / 1000 }
}

function ratioNote(results: ReadonlyMap<string, Averages>, clients: number): string {
  const full = results.get(`full/${clients}`)!
  const parts = STRATEGIES.filter((s) => s !== 'full').map((s) => {
    const r = results.get(`${s}/${clients}`)!
    return `${s} ${(r.calls / full.calls).toFixed(2)}× calls, ${(r.seconds / full.seconds).toFixed(2)}× time`
  })
  return `vs full at N=${clients}: ${parts.join('; ')}.`
}

export const backoff: Benchmark = {
  name: 'backoff',
  description:
    "N clients racing one OCC write on a virtual clock (AWS's backoff-and-jitter study), per backoff strategy",
  async run(ctx: BenchContext): Promise<BenchReport> {
    // backoffDelay is public API (fanout/policies), so it comes from the built package like every benchmark's fanout.
    const { policies } = await import('./fanout.js')
    const delay: DelayFn = policies.backoffDelay
    const measurements: Measurement[] = []
    const results = new Map<string, Averages>()
    for (const clients of SIZES) {
      ctx.progress(`N=${clients}: ${STRATEGIES.length} strategies × ${RUNS} runs`)
      for (const strategy of STRATEGIES) {
        const avg = averaged(strategy, clients, ctx.seed, RUNS, delay)
        results.set(`${strategy}/${clients}`, avg)
        measurements.push({
          contender: strategy,
          metric: `calls_n${clients}`,
          value: avg.calls,
          unit: 'calls',
        })
        measurements.push({
          contender: strategy,
          metric: `seconds_n${clients}`,
          value: avg.seconds,
          unit: 's',
        })
      }
    }
    const full100 = results.get('full/100')!
    const expo100 = results.get('exponential/100')!
    return {
      measurements,
      notes: [
        `seed ${ctx.seed}: means of ${RUNS} runs per strategy and N (the same ${RUNS} run seeds for every strategy); virtual time, no real timers.`,
        `model: the study's — read version, write with it, one winner per version; every message |Normal(${STUDY.netMeanMs} ms, sd ${STUDY.netSdMs} ms)|; ` +
          `backoff base ${STUDY.base} ms, cap ${STUDY.cap} ms, n = failures so far (1 before the first retry).`,
      ],
      tables: [
        {
          title:
            'Contention: N clients each making one OCC write (calls = writes sent; seconds = virtual time until the last one succeeds); lower is better',
          metrics: SIZES.flatMap((n) => [`calls_n${n}`, `seconds_n${n}`]),
          notes: [
            "The harness's ratio column compares with a `fanout` contender, which this benchmark has none of (every contender is fanout's backoffDelay); ratios against `full` follow.",
            ...SIZES.map((n) => ratioNote(results, n)),
            `full at N=100: ${full100.calls.toFixed(0)} calls, ${full100.seconds.toFixed(2)} s; un-jittered exponential takes ${(expo100.seconds / full100.seconds).toFixed(1)}× as long.`,
          ],
        },
      ],
    }
  },
}

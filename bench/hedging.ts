/**
 * `hedging`: how much tail latency does hedging remove from a long-tailed upstream, and at what
 * extra load?
 *
 * A deterministic simulation on a virtual clock: 10,000 calls arrive open-loop (exponential gaps,
 * mean 1 ms, so ~30 are in flight at once). Every attempt at a call takes, independently, ~10 ms
 * (98%: uniform 8–12 ms) or ~1 s (2%: uniform 0.9–1.1 s). Latencies are drawn once per
 * (call, attempt) from the seed, so every contender meets the same primaries and the same hedges.
 *
 * Contenders, all running fanout's real `hedge` policy from the build (dist/) except `none`:
 * - `none`: no hedging;
 * - `fanout-hedge`: `hedge({ idempotent: true, delay: { percentile: 0.95 } })`, defaults otherwise
 *   (1 hedge, extra load bounded at 10%);
 * - `fixed-delay`: a hand-picked fixed delay of 50 ms and no load bound, the style of hedging
 *   peers offer (Polly v8's `Delay`; cockatiel has no hedging policy).
 *
 * A second scenario ("shifted", metrics prefixed `shifted_`) runs the same settings after the
 * upstream's normal latency moved to ~60 ms (uniform 55–65 ms): what a hand-picked delay costs
 * once it is stale.
 *
 * The virtual clock implements fanout's `Clock` and reaches the policy through the call context,
 * so the policy's timers, hedges and aborts run exactly as in production, only on simulated time.
 * Every call's result is checked (each returns its own index), and each run must end with no
 * call pending, no attempt in flight and no live timer.
 */
import { setMaxListeners } from 'node:events'
import { fanout, policies } from './fanout.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'
import type { CallContext, Clock, Policy, TimerHandle } from '../src/index.js'
import { seededRandom } from '../src/core/random.js'

const { hedge } = fanout
const { noopRecorder } = policies

const CALLS = 10_000
const ARRIVAL_MEAN_MS = 1
const FAST_SHARE = 0.98
const FAST_MS: readonly [number, number] = [8, 12]
/** The second scenario: the same upstream after its normal latency moved to ~60 ms. */
const SHIFTED_FAST_MS: readonly [number, number] = [55, 65]
const SLOW_MS: readonly [number, number] = [900, 1_100]
/** Attempts drawn per call: the primary and up to this many - 1 hedges. */
const DRAWS = 2
const FIXED_DELAY_MS = 50
const PERCENTILE = 0.95

// --- the virtual clock -----------------------------------------------------------------------------

interface Timer {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
  cancelled: boolean
}

/** A `Clock` whose time moves only when `run()` jumps to the next timer. Timers fire in (time, creation) order. */
class VirtualClock implements Clock {
  #now = 0
  #seq = 0
  #live = 0
  readonly #heap: Timer[] = []

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = {
      at: this.#now + (ms > 0 ? ms : 0),
      seq: this.#seq++,
      fn,
      cancelled: false,
    }
    this.#push(timer)
    this.#live++
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as Timer
    if (timer.cancelled) return
    timer.cancelled = true
    this.#live--
  }

  /** Timers set and neither fired nor cleared. */
  get live(): number {
    return this.#live
  }

  /** Fires every timer in order; after each instant, lets the promise reactions it caused run. */
  async run(): Promise<void> {
    const heap = this.#heap
    while (heap.length > 0) {
      const at = heap[0]!.at
      let fired = false
      while (heap.length > 0 && heap[0]!.at === at) {
        const timer = this.#pop()
        if (timer.cancelled) continue
        timer.cancelled = true
        this.#live--
        this.#now = at
        fired = true
        timer.fn()
      }
      if (fired) await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  #before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  #push(timer: Timer): void {
    const heap = this.#heap
    let i = heap.push(timer) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  #pop(): Timer {
    const heap = this.#heap
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && this.#before(heap[l]!, heap[m]!)) m = l
        if (r < heap.length && this.#before(heap[r]!, heap[m]!)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
        i = m
      }
    }
    return top
  }
}

// --- the workload ----------------------------------------------------------------------------------

interface Workload {
  /** Per call, when it arrives (ms from the start). */
  readonly arrivals: Float64Array
  /** Per call, DRAWS attempt latencies: [call * DRAWS + attempt - 1]. */
  readonly latencies: Float64Array
}

function workload(seed: number, fastMs: readonly [number, number]): Workload {
  const rand = seededRandom(seed)
  const uniform = ([lo, hi]: readonly [number, number]): number => lo + rand() * (hi - lo)
  const arrivals = new Float64Array(CALLS)
  const latencies = new Float64Array(CALLS * DRAWS)
  let t = 0
  for (let i = 0; i < CALLS; i++) {
    arrivals[i] = t
    t += -Math.log(1 - rand()) * ARRIVAL_MEAN_MS
    for (let a = 0; a < DRAWS; a++)
      latencies[i * DRAWS + a] = rand() < FAST_SHARE ? uniform(fastMs) : uniform(SLOW_MS)
  }
  return { arrivals, latencies }
}

interface SimContext extends CallContext {
  readonly index: number
}

interface Outcome {
  /** Per call, its latency as the caller saw it. */
  readonly latencies: Float64Array
  readonly attempts: number
}

/** Runs every call of the workload through `policy` (or none) on a fresh virtual clock. */
async function simulate(
  name: string,
  load: Workload,
  policy: Policy | undefined,
): Promise<Outcome> {
  const clock = new VirtualClock()
  let attempts = 0
  let inFlight = 0
  let done = 0
  const failures: unknown[] = []
  const seen = new Float64Array(CALLS).fill(-1)

  /** One attempt: takes its drawn latency, or stops at once when its signal aborts. */
  const upstream = (ctx: SimContext): Promise<number> => {
    attempts++
    const ms = load.latencies[ctx.index * DRAWS + ctx.attempt - 1]
    if (ms === undefined)
      return Promise.reject(
        new Error(`${name}: attempt ${ctx.attempt} of call ${ctx.index} has no drawn latency`),
      )
    inFlight++
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => {
        clock.clearTimeout(timer)
        inFlight--
        reject(ctx.signal.reason)
      }
      const timer = clock.setTimeout(() => {
        ctx.signal.removeEventListener('abort', onAbort)
        inFlight--
        resolve(ctx.index)
      }, ms)
      ctx.signal.addEventListener('abort', onAbort, { once: true })
    })
  }
  const call = policy === undefined ? upstream : policy.wrap(upstream)

  // One caller signal shared by every call, like a long-lived server signal: ~30 calls in flight
  // each listen to it, past Node's warning threshold of 10 (a warning, not a leak: checked below).
  const signal = new AbortController().signal
  setMaxListeners(0, signal)
  for (let i = 0; i < CALLS; i++) {
    clock.setTimeout(() => {
      const startedAt = clock.now()
      const ctx: SimContext = {
        signal,
        deadlineAt: Infinity,
        attempt: 1,
        task: 'upstream',
        clock,
        trace: noopRecorder,
        index: i,
      }
      call(ctx).then(
        (value) => {
          if (value !== i) failures.push(new Error(`call ${i} returned ${value}`))
          seen[i] = clock.now() - startedAt
          done++
        },
        (error: unknown) => failures.push(error),
      )
    }, load.arrivals[i]!)
  }
  await clock.run()

  if (failures.length > 0)
    throw new Error(`${name}: ${failures.length} calls failed, e.g. ${String(failures[0])}`)
  if (done !== CALLS || inFlight !== 0 || clock.live !== 0) {
    throw new Error(
      `${name}: ${CALLS - done} calls pending, ${inFlight} attempts in flight, ${clock.live} timers live after the run`,
    )
  }
  return { latencies: seen, attempts }
}

/** The p-quantile by nearest rank. */
function quantile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

interface Scenario {
  readonly label: string
  /** Prefix of the scenario's metric names. */
  readonly prefix: string
  readonly fastMs: readonly [number, number]
}

const SCENARIOS: readonly Scenario[] = [
  { label: 'long tail', prefix: '', fastMs: FAST_MS },
  { label: 'shifted', prefix: 'shifted_', fastMs: SHIFTED_FAST_MS },
]

const CONTENDERS = ['none', 'fanout-hedge', 'fixed-delay'] as const

/** Fresh policies per scenario: a percentile delay learns per instance. */
function policyFor(name: (typeof CONTENDERS)[number]): Policy | undefined {
  if (name === 'none') return undefined
  if (name === 'fanout-hedge') return hedge({ idempotent: true, delay: { percentile: PERCENTILE } })
  // maxExtraRatio 1 with one hedge per call: no load bound, as in the libraries it stands for.
  return hedge({ idempotent: true, delay: FIXED_DELAY_MS, maxExtraRatio: 1 })
}

export const hedging: Benchmark = {
  name: 'hedging',
  description:
    'tail latency and extra load of hedged calls on a simulated long-tailed upstream (virtual clock)',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const measurements: Measurement[] = []
    const summary: string[] = []
    const notes: string[] = []
    for (const scenario of SCENARIOS) {
      const load = workload(ctx.seed, scenario.fastMs)
      const p99 = new Map<string, number>()
      const extra = new Map<string, number>()
      for (const name of CONTENDERS) {
        ctx.progress(`${scenario.label}: simulating ${CALLS} calls: ${name}`)
        const outcome = await simulate(name, load, policyFor(name))
        const sorted = outcome.latencies.slice().sort()
        const extraPct = ((outcome.attempts - CALLS) / CALLS) * 100
        p99.set(name, quantile(sorted, 0.99))
        extra.set(name, extraPct)
        measurements.push(
          {
            contender: name,
            metric: `${scenario.prefix}p50_ms`,
            value: quantile(sorted, 0.5),
            unit: 'ms',
          },
          {
            contender: name,
            metric: `${scenario.prefix}p99_ms`,
            value: quantile(sorted, 0.99),
            unit: 'ms',
          },
          {
            contender: name,
            metric: `${scenario.prefix}extra_calls_pct`,
            value: extraPct,
            unit: '%',
          },
        )
      }
      const slow = Array.from({ length: CALLS }, (_, i) => load.latencies[i * DRAWS]!).filter(
        (ms) => ms >= SLOW_MS[0],
      ).length
      notes.push(
        `${scenario.label}: each attempt takes ${scenario.fastMs[0]}–${scenario.fastMs[1]} ms (${FAST_SHARE * 100}%) or ` +
          `${SLOW_MS[0]}–${SLOW_MS[1]} ms (${Math.round((1 - FAST_SHARE) * 100)}%); ${slow} of ${CALLS} primaries are slow.`,
      )
      for (const name of CONTENDERS.slice(1)) {
        summary.push(
          `${scenario.label}: ${name} has ${(p99.get('none')! / p99.get(name)!).toFixed(1)}× lower p99 than none with ${extra.get(name)!.toFixed(2)}% extra calls.`,
        )
      }
    }
    return {
      measurements,
      notes: [
        `seed ${ctx.seed}: ${CALLS} calls arriving open-loop every ${ARRIVAL_MEAN_MS} ms on average (~30 in flight), simulated on a ` +
          'virtual clock: deterministic for a seed, no wall time measured.',
        ...notes,
      ],
      tables: [
        {
          title:
            'Long tail: latency as the caller sees it, and extra attempts sent (lower is better)',
          metrics: ['p50_ms', 'p99_ms', 'extra_calls_pct'],
          notes: [
            `fanout-hedge: hedge({ idempotent: true, delay: { percentile: ${PERCENTILE} } }): hedges after the observed p${PERCENTILE * 100} latency, extra load bounded at 10% of calls.`,
            `fixed-delay: the style peers offer (Polly v8's fixed Delay; cockatiel has no hedging), run with fanout's policy: a hand-picked ${FIXED_DELAY_MS} ms, no load bound.`,
            ...summary.slice(0, 2),
          ],
        },
        {
          title: `Shifted: the same upstream once its normal latency moved to ~${(SHIFTED_FAST_MS[0] + SHIFTED_FAST_MS[1]) / 2} ms, same settings`,
          metrics: ['shifted_p50_ms', 'shifted_p99_ms', 'shifted_extra_calls_pct'],
          notes: [
            `The fixed ${FIXED_DELAY_MS} ms now sits below the normal latency and hedges nearly every call; the percentile delay follows the upstream.`,
            ...summary.slice(2),
          ],
        },
      ],
    }
  },
}

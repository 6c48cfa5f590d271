/**
 * `dag`: how close does each scheduler get to a DAG's critical path, and what does it cost per task?
 *
 * Makespan: one seeded random DAG of 200 simulated calls (each sleeps 5–50 ms with a real
 * `setTimeout`, after awaiting the 0–3 earlier calls it reads), run by every contender; the
 * measured wall time is divided by the critical path computed from the durations.
 *
 * Overhead: the same kind of DAG with 10,000 zero-latency tasks, and a 10,000-long chain; wall
 * time of one run divided by the number of tasks.
 *
 * Every contender runs the same task body (`body`); only the scheduling differs. Each run's
 * results are checked against the DAG (every task returns its depth), outside the timed region.
 */
import { auto, type AsyncAutoTasks } from 'async'
import { all } from 'better-all'
import { fanout as fanoutPackage } from './fanout.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'
import {
  body,
  check,
  criticalPathMs,
  makeDag,
  median,
  randomDag,
  CALLS,
  MAX_MS,
  MIN_MS,
  type Dag,
  type Run,
} from './dag-shape.js'

const { flow } = fanoutPackage

/** Makespan runs per contender, interleaved; sequential takes ~5.5 s a run, so it gets fewer. */
const MAKESPAN_RUNS = 7
const SEQUENTIAL_RUNS = 1
const OVERHEAD_TASKS = 10_000
const OVERHEAD_WARMUP = 2
const OVERHEAD_RUNS = 7
/** A contender whose first run takes longer than this is timed by that one run alone. */
const SINGLE_RUN_MS = 1_000

/** Task i reads task i - 1. */
function chainDag(size: number): Dag {
  return makeDag(
    Array.from({ length: size }, (_, i) => (i === 0 ? [] : [i - 1])),
    new Array<number>(size).fill(0),
  )
}

// --- contenders: each returns a function that runs the DAG once ----------------------------------

/**
 * The flow builder's type grows by one task per `.task()`, which a loop cannot express; the loop
 * sees this loose view of the same builder.
 */
interface LooseFlow {
  task(
    name: string,
    fn: ($: Readonly<Record<string, Promise<number>>>) => Promise<number>,
  ): LooseFlow
  run(): Promise<Readonly<Record<string, number>>>
}

/** fanout: the flow is defined once, here, and run many times. Returns the define time too. */
function fanout(dag: Dag): { run: Run; defineMs: number } {
  const started = performance.now()
  let f = flow(`dag-${dag.size}`) as unknown as LooseFlow
  for (let i = 0; i < dag.size; i++)
    f = f.task(dag.names[i]!, ($) => body(dag, i, (j) => $[dag.names[j]!]!))
  const defineMs = performance.now() - started
  return { run: () => f.run(), defineMs }
}

interface BetterAllThis {
  readonly $: Readonly<Record<string, Promise<number>>>
}

/** better-all: the task object is built per call, as `all({ ... })` is written. */
function betterAll(dag: Dag): Run {
  return () => {
    const tasks: Record<string, (this: BetterAllThis) => Promise<number>> = {}
    for (let i = 0; i < dag.size; i++) {
      tasks[dag.names[i]!] = function (this: BetterAllThis) {
        return body(dag, i, (j) => this.$[dag.names[j]!]!)
      }
    }
    return all(tasks)
  }
}

/** async's `auto`: `{ name: ['dep1', 'dep2', fn] }`, built per call; a task starts when its deps are done. */
function asyncAuto(dag: Dag): Run {
  return () => {
    const tasks: AsyncAutoTasks<Record<string, number>, Error> = {}
    for (let i = 0; i < dag.size; i++) {
      const fn = async (results: Record<string, number>): Promise<number> =>
        body(dag, i, (j) => results[dag.names[j]!]!)
      tasks[dag.names[i]!] = [...dag.deps[i]!.map((j) => dag.names[j]!), fn]
    }
    return auto(tasks)
  }
}

/** Topological levels, each awaited with `Promise.all` before the next starts. */
function waves(dag: Dag): Run {
  const levels: number[][] = []
  for (let i = 0; i < dag.size; i++) (levels[dag.depth[i]!] ??= []).push(i)
  return async () => {
    const values = new Array<number>(dag.size)
    for (const level of levels) {
      await Promise.all(level.map(async (i) => (values[i] = await body(dag, i, (j) => values[j]!))))
    }
    return values
  }
}

/** One task after another, in topological (= index) order. */
function sequential(dag: Dag): Run {
  return async () => {
    const values = new Array<number>(dag.size)
    for (let i = 0; i < dag.size; i++) values[i] = await body(dag, i, (j) => values[j]!)
    return values
  }
}

/** The hand-written optimum: each task is a promise that awaits its inputs' promises, then sleeps. */
function ideal(dag: Dag): Run {
  return () => {
    const promises = new Array<Promise<number>>(dag.size)
    for (let i = 0; i < dag.size; i++) promises[i] = body(dag, i, (j) => promises[j]!)
    return Promise.all(promises)
  }
}

// --- measuring ------------------------------------------------------------------------------------

/** Runs once and returns the wall time in ms; the result is checked after the clock stops. */
async function timeRun(name: string, dag: Dag, run: Run): Promise<number> {
  const started = performance.now()
  const result = await run()
  const elapsed = performance.now() - started
  check(name, dag, result)
  return elapsed
}

async function makespan(ctx: BenchContext, out: Measurement[]): Promise<string[]> {
  const dag = randomDag(CALLS, ctx.seed, MIN_MS, MAX_MS)
  const critical = criticalPathMs(dag)
  const total = dag.ms.reduce((a, b) => a + b, 0)
  const contenders: { name: string; run: Run; runs: number }[] = [
    { name: 'fanout', run: fanout(dag).run, runs: MAKESPAN_RUNS },
    { name: 'better-all', run: betterAll(dag), runs: MAKESPAN_RUNS },
    { name: 'async-auto', run: asyncAuto(dag), runs: MAKESPAN_RUNS },
    { name: 'waves', run: waves(dag), runs: MAKESPAN_RUNS },
    { name: 'sequential', run: sequential(dag), runs: SEQUENTIAL_RUNS },
    { name: 'ideal', run: ideal(dag), runs: MAKESPAN_RUNS },
  ]
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]))
  for (let round = 0; round < MAKESPAN_RUNS; round++) {
    ctx.progress(`makespan: round ${round + 1}/${MAKESPAN_RUNS}`)
    for (const c of contenders)
      if (round < c.runs) times.get(c.name)!.push(await timeRun(c.name, dag, c.run))
  }
  for (const c of contenders) {
    const ms = median(times.get(c.name)!)
    out.push({ contender: c.name, metric: 'makespan_ratio', value: ms / critical, unit: 'x' })
    out.push({ contender: c.name, metric: 'makespan_ms', value: ms, unit: 'ms' })
  }
  const levels = Math.max(...dag.depth) + 1
  return [
    `seed ${ctx.seed}: ${CALLS} calls of ${MIN_MS}–${MAX_MS} ms, ${dag.deps.reduce((n, d) => n + d.length, 0)} reads, ${levels} levels; ` +
      `critical path ${critical} ms, sum of all calls ${total} ms.`,
  ]
}

interface Shape {
  readonly metric: string
  readonly label: string
  readonly dag: Dag
}

async function overhead(ctx: BenchContext, out: Measurement[]): Promise<string[]> {
  const shapes: Shape[] = [
    {
      metric: 'overhead_ns_per_task',
      label: `random ${OVERHEAD_TASKS}`,
      dag: randomDag(OVERHEAD_TASKS, ctx.seed, 0, 0),
    },
    {
      metric: 'overhead_ns_per_task_chain',
      label: `chain ${OVERHEAD_TASKS}`,
      dag: chainDag(OVERHEAD_TASKS),
    },
    {
      metric: 'overhead_ns_per_task_1k',
      label: 'random 1000',
      dag: randomDag(1000, ctx.seed, 0, 0),
    },
  ]
  const notes: string[] = []
  for (const shape of shapes) {
    const { dag } = shape
    const defined = fanout(dag)
    notes.push(
      `fanout defined the ${shape.label} flow in ${defined.defineMs.toFixed(1)} ms (once, not timed; it compiles on its first, warm-up run).`,
    )
    const contenders = [
      { name: 'fanout', run: defined.run },
      { name: 'better-all', run: betterAll(dag) },
      { name: 'async-auto', run: asyncAuto(dag) },
      { name: 'ideal', run: ideal(dag) },
    ]
    // The first run of each is a warm-up, unless it is so slow (async-auto at 10,000 tasks) that
    // warming up is moot and repeating it would blow the time budget: then it is the only sample.
    ctx.progress(`overhead: ${shape.label}: warm-up`)
    const times = new Map<string, number[]>()
    const fast: typeof contenders = []
    for (const c of contenders) {
      const first = await timeRun(c.name, dag, c.run)
      if (first > SINGLE_RUN_MS) times.set(c.name, [first])
      else fast.push(c)
    }
    for (let i = 1; i < OVERHEAD_WARMUP; i++)
      for (const c of fast) await timeRun(c.name, dag, c.run)
    for (const c of fast) times.set(c.name, [])
    for (let round = 0; round < OVERHEAD_RUNS && fast.length > 0; round++) {
      ctx.progress(`overhead: ${shape.label}: round ${round + 1}/${OVERHEAD_RUNS}`)
      for (const c of fast) times.get(c.name)!.push(await timeRun(c.name, dag, c.run))
    }
    for (const c of contenders) {
      const t = times.get(c.name)!
      out.push({
        contender: c.name,
        metric: shape.metric,
        value: (median(t) * 1e6) / dag.size,
        unit: 'ns',
      })
      if (t.length === 1)
        notes.push(
          `${c.name} on ${shape.label}: one run of ${(t[0]! / 1000).toFixed(1)} s (too slow to repeat).`,
        )
    }
  }
  return notes
}

export const dag: Benchmark = {
  name: 'dag',
  description:
    'makespan vs the critical path on a random DAG of calls, and per-task scheduling overhead',
  async run(ctx): Promise<BenchReport> {
    const measurements: Measurement[] = []
    const makespanNotes = await makespan(ctx, measurements)
    const overheadNotes = await overhead(ctx, measurements)
    return {
      measurements,
      notes: makespanNotes,
      tables: [
        {
          title: `Makespan: measured / critical path (median of ${MAKESPAN_RUNS} interleaved runs; sequential: ${SEQUENTIAL_RUNS}); lower is better, ~1.00 is the floor`,
          metrics: ['makespan_ratio', 'makespan_ms'],
        },
        {
          title: `Overhead: wall time per zero-latency task (median of ${OVERHEAD_RUNS} runs after ${OVERHEAD_WARMUP} warm-ups)`,
          metrics: [
            'overhead_ns_per_task',
            'overhead_ns_per_task_chain',
            'overhead_ns_per_task_1k',
          ],
          notes: [
            'overhead_ns_per_task: random DAG of 10,000 tasks, each reading 0–3 earlier ones; _chain: task i reads task i-1; _1k: random DAG of 1,000 tasks.',
            'fanout runs a flow defined once outside the timed region; better-all and async-auto take their task object per call, so their times include building it.',
            ...overheadNotes,
          ],
        },
      ],
    }
  },
}

/**
 * `dag-limited`: the seeded 200-call DAG of `dag`, run under a concurrency limit of 4 and of 8.
 * How close does each scheduler get to the lower bound max(critical path, total work ÷ limit)?
 *
 * fanout's flow is defined once per limit with `flow({ name, limit })` and run repeatedly: it
 * learns each task's run time and readers from its runs and grants waiting tasks their slots by
 * remaining critical path. It gets a few warm-up runs first; `fanout-cold` is the same flow
 * measured on the first run of a fresh definition, before it has learned anything (FIFO order).
 * async's `auto(tasks, limit)` starts ready tasks first come, first served.
 *
 * Every contender runs the same task body; each run's results are checked against the DAG (every
 * task returns its depth), outside the timed region.
 */
import { auto, type AsyncAutoTasks } from 'async'
import { fanout as fanoutPackage } from './fanout.js'
import type { BenchReport, Benchmark, Measurement, TableSpec } from './harness.js'
import {
  CALLS,
  MAX_MS,
  MIN_MS,
  body,
  criticalPathMs,
  median,
  randomDag,
  timeRun,
  type Dag,
  type Run,
} from './dag-shape.js'

const { flow } = fanoutPackage

const LIMITS = [4, 8] as const
/** Runs of each warm flow (and of async-auto) before measuring, so fanout has learned run times. */
const WARMUP_RUNS = 3
/** Measured runs per contender and limit, interleaved. */
const MEASURED_RUNS = 5
/**
 * A run that has not finished after this long is stuck (the bound is ~1.3 s at limit 4): the
 * benchmark fails with what it saw instead of hanging, or exiting silently once nothing is left
 * to wake Node up.
 */
const STUCK_MS = 15_000

/** Tasks finished in the current run: what a stuck run reports. */
let finished = 0

/** `dag`'s task body, counted. */
async function task(
  dag: Dag,
  i: number,
  read: (j: number) => Promise<number> | number,
): Promise<number> {
  const depth = await body(dag, i, read)
  finished++
  return depth
}

/** The flow builder's type grows by one task per `.task()`, which a loop cannot express. */
interface LooseFlow {
  task(
    name: string,
    fn: ($: Readonly<Record<string, Promise<number>>>) => Promise<number>,
  ): LooseFlow
  run(): Promise<Readonly<Record<string, number>>>
}

/** fanout: one definition under `limit`, run many times; what it learns lives in the definition. */
function fanoutFlow(dag: Dag, limit: number): Run {
  let f = flow({ name: `dag-limited-${limit}`, limit }) as unknown as LooseFlow
  for (let i = 0; i < dag.size; i++)
    f = f.task(dag.names[i]!, ($) => task(dag, i, (j) => $[dag.names[j]!]!))
  return () => f.run()
}

/** async's `auto` with a concurrency limit: a task is queued once its deps are done, FIFO. */
function asyncAuto(dag: Dag, limit: number): Run {
  return () => {
    const tasks: AsyncAutoTasks<Record<string, number>, Error> = {}
    for (let i = 0; i < dag.size; i++) {
      const fn = async (results: Record<string, number>): Promise<number> =>
        task(dag, i, (j) => results[dag.names[j]!]!)
      tasks[dag.names[i]!] = [...dag.deps[i]!.map((j) => dag.names[j]!), fn]
    }
    return auto(tasks, limit)
  }
}

/** `run`, failing instead of hanging if it gets stuck. */
function watched(name: string, limit: number, dag: Dag, run: Run): Run {
  return () => {
    finished = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new Error(
            `${name} at limit ${limit} has not finished after ${STUCK_MS / 1000} s (the bound is ~${Math.round(boundMs(dag, limit))} ms); ` +
              `${finished} of ${dag.size} tasks had finished. Deadlocked?`,
          ),
        )
      }, STUCK_MS)
    })
    return Promise.race([run(), stuck]).finally(() => clearTimeout(timer))
  }
}

/** The makespan no schedule can beat: max(critical path, total work ÷ limit). */
function boundMs(dag: Dag, limit: number): number {
  return Math.max(criticalPathMs(dag), dag.ms.reduce((a, b) => a + b, 0) / limit)
}

const CONTENDERS = ['fanout', 'fanout-cold', 'async-auto'] as const
type Contender = (typeof CONTENDERS)[number]

export const dagLimited: Benchmark = {
  name: 'dag-limited',
  description:
    'makespan under a concurrency limit (4, 8) vs max(critical path, work ÷ limit) on the random DAG of calls',
  async run(ctx): Promise<BenchReport> {
    const dag = randomDag(CALLS, ctx.seed, MIN_MS, MAX_MS)
    const critical = criticalPathMs(dag)
    const total = dag.ms.reduce((a, b) => a + b, 0)
    const bound = (limit: number): number => boundMs(dag, limit)

    const warm = new Map(
      LIMITS.map((limit) => [limit, watched('fanout', limit, dag, fanoutFlow(dag, limit))]),
    )
    const autoRuns = new Map(
      LIMITS.map((limit) => [limit, watched('async-auto', limit, dag, asyncAuto(dag, limit))]),
    )
    const times = new Map<string, number[]>()
    const record = (contender: Contender, limit: number, ms: number): void => {
      const key = `${contender}@${limit}`
      times.set(key, [...(times.get(key) ?? []), ms])
    }

    for (let round = 0; round < WARMUP_RUNS; round++) {
      ctx.progress(`warm-up ${round + 1}/${WARMUP_RUNS}`)
      for (const limit of LIMITS) {
        await timeRun('fanout', dag, warm.get(limit)!)
        await timeRun('async-auto', dag, autoRuns.get(limit)!)
      }
    }
    for (let round = 0; round < MEASURED_RUNS; round++) {
      ctx.progress(`round ${round + 1}/${MEASURED_RUNS}`)
      for (const limit of LIMITS) {
        record('fanout', limit, await timeRun('fanout', dag, warm.get(limit)!))
        // A fresh definition (built outside the timed region), measured on its first run.
        const cold = watched('fanout-cold', limit, dag, fanoutFlow(dag, limit))
        record('fanout-cold', limit, await timeRun('fanout-cold', dag, cold))
        record('async-auto', limit, await timeRun('async-auto', dag, autoRuns.get(limit)!))
      }
    }

    const measurements: Measurement[] = []
    for (const contender of CONTENDERS) {
      for (const limit of LIMITS) {
        const ms = median(times.get(`${contender}@${limit}`)!)
        measurements.push({
          contender,
          metric: `makespan_ratio_c${limit}`,
          value: ms / bound(limit),
          unit: 'x',
        })
        measurements.push({ contender, metric: `makespan_ms_c${limit}`, value: ms, unit: 'ms' })
      }
    }
    const levels = Math.max(...dag.depth) + 1
    const tables: TableSpec[] = LIMITS.map((limit) => ({
      title:
        `Limit ${limit}: measured / max(critical path, work ÷ ${limit}) = ${Math.round(bound(limit))} ms ` +
        `(median of ${MEASURED_RUNS} interleaved runs); lower is better, 1.00 is the floor`,
      metrics: [`makespan_ratio_c${limit}`, `makespan_ms_c${limit}`],
    }))
    tables[tables.length - 1] = {
      ...tables[tables.length - 1]!,
      notes: [
        `fanout: one flow({ limit }) per limit, measured after ${WARMUP_RUNS} warm-up runs (it goes on learning during the measured ones); ` +
          'fanout-cold: a fresh definition measured on its first run, before it has learned anything.',
        `async-auto: auto(tasks, limit), ready tasks first come, first served; it gets the same ${WARMUP_RUNS} warm-up runs.`,
      ],
    }
    return {
      measurements,
      notes: [
        `seed ${ctx.seed}: ${CALLS} calls of ${MIN_MS}–${MAX_MS} ms, ${dag.deps.reduce((n, d) => n + d.length, 0)} reads, ${levels} levels; ` +
          `critical path ${critical} ms, sum of all calls ${total} ms; ` +
          LIMITS.map((limit) => `bound at limit ${limit}: ${Math.round(bound(limit))} ms`).join(
            ', ',
          ) +
          '.',
      ],
      tables,
    }
  },
}

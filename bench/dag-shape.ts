/**
 * The seeded random DAG of simulated calls and the helpers that run and check it, shared by the
 * DAG benchmarks. `dag.ts` keeps its own private copy of the same code (nothing there is
 * exported); this module mirrors it exactly, so for a given seed `dag-limited` runs the very
 * DAG that `dag` does. Change both together, or move `dag.ts` onto this module.
 */
import { seededRandom } from '../src/core/random.js'

/** The makespan DAG of `dag`: 200 calls of 5–50 ms. */
export const CALLS = 200
export const MIN_MS = 5
export const MAX_MS = 50

export interface Dag {
  readonly size: number
  readonly names: readonly string[]
  /** Per task, the earlier tasks it reads. */
  readonly deps: readonly (readonly number[])[]
  /** Per task, how long it sleeps after reading; 0 = not at all. */
  readonly ms: readonly number[]
  /** Per task, its result: its depth (0 for a task that reads nothing, else 1 + its deepest input). */
  readonly depth: readonly number[]
}

export function makeDag(deps: readonly (readonly number[])[], ms: readonly number[]): Dag {
  const depth: number[] = []
  for (const d of deps) depth.push(d.reduce((max, j) => Math.max(max, depth[j]! + 1), 0))
  return { size: deps.length, names: deps.map((_, i) => `t${i}`), deps, ms, depth }
}

/** Each task reads 0–3 distinct random earlier tasks and sleeps `minMs`–`maxMs` (integers). */
export function randomDag(size: number, seed: number, minMs: number, maxMs: number): Dag {
  const rand = seededRandom(seed)
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1))
  const deps: number[][] = []
  const ms: number[] = []
  for (let i = 0; i < size; i++) {
    ms.push(maxMs > 0 ? int(minMs, maxMs) : 0)
    const count = Math.min(i, int(0, 3))
    const picked: number[] = []
    while (picked.length < count) {
      const j = int(0, i - 1)
      if (!picked.includes(j)) picked.push(j)
    }
    deps.push(picked.sort((a, b) => a - b))
  }
  return makeDag(deps, ms)
}

/** The longest path through the DAG, weighting each task by its sleep. */
export function criticalPathMs(dag: Dag): number {
  const finish: number[] = []
  for (let i = 0; i < dag.size; i++)
    finish.push(dag.ms[i]! + dag.deps[i]!.reduce((max, j) => Math.max(max, finish[j]!), 0))
  return Math.max(...finish)
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/** What every task does, whoever schedules it: await its inputs, then sleep, then return its depth. */
export async function body(
  dag: Dag,
  i: number,
  read: (j: number) => Promise<number> | number,
): Promise<number> {
  const deps = dag.deps[i]!
  let depth = 0
  if (deps.length > 0)
    for (const v of await Promise.all(deps.map(read))) depth = Math.max(depth, v + 1)
  const ms = dag.ms[i]!
  if (ms > 0) await sleep(ms)
  return depth
}

/** Runs the DAG once; resolves with each task's result, by index or by name. */
export type Run = () => Promise<ArrayLike<number> | Readonly<Record<string, number>>>

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Runs once and returns the wall time in ms; the result is checked after the clock stops. */
export async function timeRun(name: string, dag: Dag, run: Run): Promise<number> {
  const started = performance.now()
  const result = await run()
  const elapsed = performance.now() - started
  check(name, dag, result)
  return elapsed
}

/** Throws unless every task's result is its depth. */
export function check(
  name: string,
  dag: Dag,
  result: ArrayLike<number> | Readonly<Record<string, number>>,
): void {
  const isArray = Array.isArray(result)
  for (let i = 0; i < dag.size; i++) {
    const got = isArray
      ? (result as ArrayLike<number>)[i]
      : (result as Readonly<Record<string, number>>)[dag.names[i]!]
    if (got !== dag.depth[i])
      throw new Error(`${name} computed ${dag.names[i]} = ${got}, expected ${dag.depth[i]}`)
  }
}

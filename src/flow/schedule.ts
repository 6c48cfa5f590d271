/**
 * Critical-path-first scheduling under a concurrency limit (list scheduling). When tasks wait
 * for a slot, the one with the longest *remaining* critical path goes first — its own expected
 * run time plus the longest chain of tasks that wait for it — so the makespan approaches
 * max(critical path, total work ÷ limit) instead of what FIFO order happens to give.
 *
 * Run times and read edges are learned from earlier runs of the same flow definition: an EWMA
 * of each task's own run time (from when it last had everything it read until it settled), and
 * the set of tasks seen reading each task. Before anything is learned every rank is 0 and the
 * order is FIFO.
 */
import type { TaskDef } from './task-def.js'

/** Weight of the newest sample in the run-time average. */
const ALPHA = 0.3

export class Learned {
  readonly #estimate: Float64Array
  readonly #samples: Uint32Array
  readonly #readers: (Set<number> | undefined)[]
  readonly rank: Float64Array

  constructor(readonly defs: readonly TaskDef[]) {
    const n = defs.length
    this.#estimate = new Float64Array(n)
    this.#samples = new Uint32Array(n)
    this.#readers = new Array<Set<number> | undefined>(n)
    this.rank = new Float64Array(n)
    // Declared `after` edges are known before any run.
    for (const def of defs)
      for (const i of def.after) (this.#readers[i] ??= new Set()).add(def.index)
  }

  /** Records one finished task: its own run time and the tasks it read. */
  observe(index: number, ownMs: number, read: readonly number[] | undefined): void {
    if (ownMs >= 0 && Number.isFinite(ownMs)) {
      const n = this.#samples[index]!
      this.#estimate[index] = n === 0 ? ownMs : this.#estimate[index]! * (1 - ALPHA) + ownMs * ALPHA
      this.#samples[index] = n + 1
    }
    if (read !== undefined)
      for (const dep of read) if (dep !== index) (this.#readers[dep] ??= new Set()).add(index)
  }

  /** Recomputes every task's remaining critical path (ms), latest tasks first. */
  update(): void {
    const n = this.defs.length
    let gatedTail = 0
    for (let i = n - 1; i >= 0; i--) {
      let tail = 0
      const readers = this.#readers[i]
      // Readers are normally later tasks, already ranked; an edge back to an earlier one (only
      // possible outside the types) is ignored rather than followed in a circle.
      if (readers !== undefined)
        for (const r of readers) if (r > i && this.rank[r]! > tail) tail = this.rank[r]!
      if (this.defs[i]!.gate) tail = Math.max(tail, gatedTail)
      this.rank[i] = this.#estimate[i]! + tail
      if (!this.defs[i]!.gate && this.rank[i]! > gatedTail) gatedTail = this.rank[i]!
    }
  }
}

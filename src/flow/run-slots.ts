/**
 * A run's tasks under a flow limit: taking, giving back and retaking slots around the waits for
 * what they read. Apart from run.ts so the slot hand-offs (the subtle part) sit in one place.
 */
import type { Clock } from '../core/clock.js'
import { Slots } from '../policies/slots.js'
import type { CompiledFlow } from './compiled.js'
import { deferred } from './deferred.js'
import { RUNNING, SLOT_ABANDONED, SLOT_ACQUIRING, SLOT_HELD, SLOT_NONE, type Task } from './task.js'

export class TaskSlots {
  constructor(
    readonly slots: Slots,
    /** The run's signal: cancels every slot wait once the run has ended. */
    readonly signal: AbortSignal,
    readonly clock: Clock,
    readonly priority: (task: Task) => number,
    readonly ended: () => boolean,
    /** Called once a waiting task has its slot back (for timing). */
    readonly resumed: (task: Task) => void,
  ) {}

  /** Waits for a slot, critical path first. */
  acquire(task: Task): Promise<void> {
    return this.slots.wait({
      signal: this.signal,
      priority: this.priority(task),
      clock: this.clock,
    })
  }

  release(task: Task): void {
    if (task.slot === SLOT_HELD) {
      task.slot = SLOT_NONE
      this.slots.release()
    } else if (task.slot === SLOT_ACQUIRING) task.slot = SLOT_ABANDONED
  }

  /**
   * Takes the slot back after a read resolved, before the task continues. The run's signal
   * cancels the wait; a task that settled in the meantime gives the slot straight back.
   */
  resume(task: Task): Promise<void> {
    const slots = this.slots
    if (this.ended() || task.state !== RUNNING || task.slot === SLOT_HELD) return Promise.resolve()
    if (task.slot === SLOT_ACQUIRING && task.acquiring !== undefined) return task.acquiring
    if (slots.tryAcquire()) {
      task.slot = SLOT_HELD
      return Promise.resolve()
    }
    task.slot = SLOT_ACQUIRING
    task.acquiring = this.acquire(task).then(
      () => {
        task.acquiring = undefined
        if (task.slot === SLOT_ABANDONED || this.ended()) {
          task.slot = SLOT_HELD
          this.release(task)
        } else task.slot = SLOT_HELD
      },
      (error: unknown) => {
        task.acquiring = undefined
        task.slot = SLOT_NONE
        throw error
      },
    )
    return task.acquiring
  }

  /** The reader waits for `result`: its slot goes to a task that can run, and comes back after. */
  waitFor(reader: Task, result: Promise<unknown>): Promise<unknown> {
    if (reader.state !== RUNNING) return result
    // Waiting for a dependency is not work: give the slot to a task that can run, and take one
    // back (critical path first) once the dependency is ready. The slot is taken back only
    // once none of the task's reads is pending: resuming on the first of several
    // (`Promise.all([$.a, $.b])`) would hold a slot while waiting for the others, and when every
    // slot is held like that, what they wait for can never get one.
    this.release(reader)
    reader.pendingReads++
    const allRead = (reader.allRead ??= deferred())
    const settled = (): void => {
      if (--reader.pendingReads === 0) {
        reader.allRead = undefined
        allRead.resolve(undefined)
      }
    }
    result.then(settled, settled)
    const resume = (): Promise<void> =>
      allRead.promise.then(() => this.resume(reader)).then(() => this.resumed(reader))
    // A failed read (in settle()) takes the slot back too, for a task that catches it and goes on.
    return result.then(
      (value) => resume().then(() => value),
      (error: unknown) => resume().then(() => Promise.reject(error)),
    )
  }
}

/** The slots a run's tasks take: the flow's shared limiter, or per-run slots for `limit: n`. */
export function runLimit(flow: CompiledFlow): Slots | undefined {
  if (typeof flow.limit !== 'number') return flow.limit
  // Per-run slots: no cap beyond the tasks themselves, and no aging, which would blur the
  // critical-path order.
  return new Slots(
    flow.limit,
    Number.MAX_SAFE_INTEGER,
    undefined,
    true,
    Number.MAX_SAFE_INTEGER,
    `flow "${flow.name}"`,
  )
}

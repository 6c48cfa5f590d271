/** A task's state within one run: where it is in its life, its slot, and what it waits for. */
import type { Deferred } from './deferred.js'
import type { TaskDef } from './task-def.js'

export const SLOT_NONE = 0
export const SLOT_HELD = 1
export const SLOT_ACQUIRING = 2
/** Acquiring, but the task settled meanwhile: release the slot as soon as it is granted. */
export const SLOT_ABANDONED = 3

export const WAITING = 0
export const RUNNING = 1
export const FULFILLED = 2
export const REJECTED = 3
export const SKIPPED = 4

export class Task {
  state = WAITING
  value: unknown = undefined
  error: unknown = undefined
  fellBack = false
  result: Deferred | undefined = undefined
  /** `after` tasks not yet done. */
  prerequisites: number
  /** Tasks whose `after` names this one. */
  dependents: Task[] | undefined = undefined
  /** Tasks this one has read while they were pending: its out-edges in the wait-for graph. */
  reading: Task[] | undefined = undefined
  startedAt = -1
  endedAt = -1
  /** Under a flow limit: whether the task holds a slot (see SLOT_*). */
  slot = SLOT_NONE
  acquiring: Promise<void> | undefined = undefined
  /** When the task last had everything it read (learning only). */
  resumedAt = -1
  /** Every task it read (learning only). */
  read: number[] | undefined = undefined
  /** Under a limit: its reads of tasks that were pending and have not settled yet. */
  pendingReads = 0
  /** Resolves when `pendingReads` drops back to 0. */
  allRead: Deferred | undefined = undefined
  waits: MutableWait[] | undefined = undefined
  waitedBy: MutableWait[] | undefined = undefined
  constructor(readonly def: TaskDef) {
    this.prerequisites = def.after.length
  }
}

export interface MutableWait {
  on: string
  kind: 'read'
  from: number
  to: number
}

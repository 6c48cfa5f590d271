/**
 * A task as the engine keeps it, compiled from the builder's definition. Its own module so the
 * scheduler can name it without importing the engine that imports the scheduler.
 */
import type { Policy } from '../core/call.js'
import type { TaskContext } from './types.js'

export interface TaskDef {
  readonly name: string
  readonly index: number
  readonly gate: boolean
  readonly fn: (deps: object, ctx: TaskContext<unknown, unknown>) => unknown
  readonly after: readonly number[]
  readonly timeout: number | undefined
  readonly policies: readonly Policy[]
  readonly pipeline: Policy | undefined
  readonly hasFallback: boolean
  readonly fallback: unknown
  /** The function declares its context parameter, `($, ctx) => …`: it gets a signal of its own. */
  readonly readsContext: boolean
}

/** An optional task's fallback for `error`: the value, or what the fallback function returns. */
export function fallbackFor(def: TaskDef, error: unknown): unknown {
  const fallback = def.fallback
  return typeof fallback === 'function' ? (fallback as (e: unknown) => unknown)(error) : fallback
}

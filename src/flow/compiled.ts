/** What `defineFlow` compiles a flow into, and the task function behind its policies: the engine only runs it. */
import type { Call } from '../core/call.js'
import type { Clock } from '../core/clock.js'
import type { Slots } from '../policies/slots.js'
import type { Learned } from './schedule.js'
import type { TaskContext } from './types.js'
import type { TaskDef } from './task-def.js'

export interface CompiledFlow {
  readonly name: string
  readonly clock: Clock | undefined
  readonly defs: readonly TaskDef[]
  readonly index: ReadonlyMap<string, number>
  readonly gates: number
  /** Per task, its function wrapped in its policies (see `compileCall`). */
  readonly calls: readonly Call<unknown, EngineContext>[]
  /** The flow-wide limit: a shared limiter's slots, or a number of slots per run. */
  readonly limit: Slots | number | undefined
  /** What earlier runs taught about run times and reads, for critical-path-first scheduling. */
  readonly learned: Learned | undefined
}

/** Where the engine hides `$` in the context, so policies that copy the context carry it along. */
export const DEPS = Symbol('fanout.deps')

export type EngineContext = TaskContext<unknown, unknown> & { readonly [DEPS]: object }

/** The task's function behind its policies. A synchronous throw becomes a rejection. */
export function compileCall(def: TaskDef): Call<unknown, EngineContext> {
  const fn = def.fn
  const call = (ctx: EngineContext): Promise<unknown> => {
    try {
      return Promise.resolve(fn(ctx[DEPS], ctx))
    } catch (error) {
      return Promise.reject(error)
    }
  }
  return def.pipeline === undefined ? call : def.pipeline.wrap(call)
}

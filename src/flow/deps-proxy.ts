/**
 * The `$` a task receives: a proxy, so reads are attributed to the reader and unknown names fail
 * clearly. Kept apart from run.ts so the engine reads as scheduling, not as proxy plumbing.
 */
import { closest } from '../core/validate.js'
import { UnknownTaskError } from './errors.js'
import type { CompiledFlow } from './compiled.js'
import type { Task } from './task.js'

/** Which task a `$` proxy belongs to. */
const READER = Symbol('fanout.reader')

export type DepsTarget = { [READER]: Task }
export type DepsHandler = ProxyHandler<DepsTarget>

/**
 * `$` for one task. The handler is shared by the whole run and the reader rides on the target,
 * so a task costs one small object and one proxy, not a set of closures.
 */
export function depsFor(reader: Task, handler: DepsHandler): object {
  const target = Object.create(null) as DepsTarget
  target[READER] = reader
  return new Proxy(target, handler)
}

/** The run's shared handler: `read(reader, target)` answers `$.name`. */
export function depsHandler(
  flow: CompiledFlow,
  tasks: readonly Task[],
  read: (reader: Task, target: Task) => Promise<unknown>,
): DepsHandler {
  const index = flow.index
  const get = (target: DepsTarget, key: string | symbol): unknown => {
    if (typeof key !== 'string') return undefined
    const i = index.get(key)
    if (i === undefined) {
      // `await $` looks for `then`; answer like a plain object would.
      if (key === 'then') return undefined
      throw unknownTask(flow, target[READER], key)
    }
    return read(target[READER], tasks[i]!)
  }
  return {
    get,
    has: (_, key) => typeof key === 'string' && index.has(key),
    ownKeys: () => [...index.keys()],
    getOwnPropertyDescriptor: (target, key) =>
      typeof key === 'string' && index.has(key)
        ? { configurable: true, enumerable: true, get: () => get(target, key) }
        : undefined,
    set: () => false,
  }
}

function unknownTask(flow: CompiledFlow, reader: Task, key: string): UnknownTaskError {
  const guess = closest(key, flow.index.keys())
  return new UnknownTaskError(
    `Flow "${flow.name}": task "${reader.def.name}" read $.${key}, but the flow has no task "${key}".` +
      (guess !== undefined
        ? ` Did you mean $.${guess}?`
        : ` Its tasks are: ${[...flow.index.keys()].map((k) => `"${k}"`).join(', ')}.`),
    key,
  )
}

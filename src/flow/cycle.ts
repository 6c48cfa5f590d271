/** The run's wait-for graph, searched for a cycle each time a read could close one. */
import { RUNNING, WAITING, type Task } from './task.js'

/**
 * Would `reader` waiting for `target` close a cycle? Searches the wait-for graph from `target`
 * for a path back to `reader`: a waiting task waits for its pending gates and `after` tasks, a
 * running one for the pending tasks it has read. Returns the cycle as names, reader first.
 */
export function findCycle(
  tasks: readonly Task[],
  gatesLeft: number,
  reader: Task,
  target: Task,
): string[] | undefined {
  if (reader === target) return [reader.def.name, reader.def.name]
  const parent = new Map<Task, Task>()
  const stack: Task[] = [target]
  parent.set(target, reader)
  while (stack.length > 0) {
    const node = stack.pop()!
    for (const next of waitsFor(tasks, gatesLeft, node)) {
      if (next === reader) {
        const path = [reader.def.name]
        const chain: string[] = []
        for (let n: Task | undefined = node; n !== undefined && n !== reader; n = parent.get(n))
          chain.push(n.def.name)
        path.push(...chain.reverse(), reader.def.name)
        return path
      }
      if (!parent.has(next)) {
        parent.set(next, node)
        stack.push(next)
      }
    }
  }
  return undefined
}

function* waitsFor(tasks: readonly Task[], gatesLeft: number, node: Task): Generator<Task> {
  if (node.state === WAITING) {
    if (!node.def.gate && gatesLeft > 0) {
      for (const t of tasks) {
        if (!t.def.gate) break
        if (t.state === WAITING || t.state === RUNNING) yield t
      }
    }
    for (const i of node.def.after) {
      const t = tasks[i]!
      if (t.state === WAITING || t.state === RUNNING) yield t
    }
  } else if (node.state === RUNNING && node.reading !== undefined) {
    for (const t of node.reading) if (t.state === WAITING || t.state === RUNNING) yield t
  }
}

/**
 * "After this tick": when a batch of loads made during the current tick is dispatched. As in
 * DataLoader, the dispatch waits until the promise jobs already queued have run and then one
 * more turn (Node's nextTick), so loads made in `.then` callbacks of the same tick — a GraphQL
 * resolver fanning out — still join the batch. Runtimes without nextTick fall back to
 * setImmediate, then to a macrotask.
 */

type Later = (fn: () => void) => void

interface Host {
  readonly process?: { readonly nextTick?: Later }
  readonly setImmediate?: Later
}

const host = globalThis as unknown as Host
const resolved = Promise.resolve()

// Looked up once: the runtime does not change under us. (Not `process` by name: the core
// stays free of Node globals, it only uses one when the runtime offers it.)
const nextTick: Later | undefined =
  typeof host.process?.nextTick === 'function'
    ? host.process.nextTick.bind(host.process)
    : undefined

export const afterTick: Later =
  nextTick !== undefined
    ? (fn) => {
        resolved.then(() => nextTick(fn))
      }
    : typeof host.setImmediate === 'function'
      ? (fn) => host.setImmediate!(fn)
      : (fn) => {
          setTimeout(fn, 0)
        }

/**
 * The request a piece of code runs for, without passing it: an `AsyncLocalStorage` holding the
 * open `RequestContext`. Flows, `execute()`, `cached()` and `requestScoped()` read it, so a flow
 * started anywhere inside a route handler inherits the request's signal, deadline, user and trace.
 *
 * Why found at run time: the core imports nothing from Node. `AsyncLocalStorage` comes from the
 * global (Next.js's edge runtime, Vercel and Netlify edge put it there) or from
 * `node:async_hooks` through `process.getBuiltinModule` (Node ≥ 20.16, Bun, Deno). The Node-only
 * adapters hand theirs over with `useAsyncLocalStorage()`, which also covers older Node 20s.
 * Where there is none, nothing is ambient: pass `ctx.runOptions` explicitly.
 */

/** The part of `AsyncLocalStorage` fanout uses. */
export interface AsyncStorage<T> {
  getStore(): T | undefined
  run<R>(store: T, fn: () => R): R
}

type StorageClass = new <T>() => AsyncStorage<T>

interface RuntimeHooks {
  readonly AsyncLocalStorage?: StorageClass
  readonly process?: { readonly getBuiltinModule?: (id: string) => unknown }
}

let storage: AsyncStorage<object> | undefined | null = null

function found(): StorageClass | undefined {
  const g = globalThis as RuntimeHooks
  if (typeof g.AsyncLocalStorage === 'function') return g.AsyncLocalStorage
  try {
    const hooks = g.process?.getBuiltinModule?.('node:async_hooks') as
      { AsyncLocalStorage?: StorageClass } | undefined
    return typeof hooks?.AsyncLocalStorage === 'function' ? hooks.AsyncLocalStorage : undefined
  } catch {
    return undefined
  }
}

/** The storage, made on first use; undefined where the runtime has none. */
export function ambientStorage(): AsyncStorage<object> | undefined {
  if (storage === null) {
    const Storage = found()
    storage = Storage === undefined ? undefined : new Storage<object>()
  }
  return storage
}

/**
 * Gives fanout the runtime's `AsyncLocalStorage` class where it cannot find one itself. The first
 * storage made stays: contexts already open must still be found.
 */
export function useAsyncLocalStorage(Storage: StorageClass): void {
  if (storage === null || storage === undefined) storage = new Storage<object>()
}

/**
 * The value the ambient storage holds here, or undefined (outside any request, or no storage).
 * Never makes the storage: nothing can be in one that no request has used yet.
 */
export function ambient(): object | undefined {
  return storage === null || storage === undefined ? undefined : storage.getStore()
}

/** A small set of listeners (no EventEmitter: one job, and no dependency on node:events). */
export class Listeners<A extends unknown[]> {
  readonly #set = new Set<(...args: A) => void>()

  add(listener: (...args: A) => void): () => void {
    this.#set.add(listener)
    return () => {
      this.#set.delete(listener)
    }
  }

  /** Calls each listener; one that throws is skipped, never breaking the others or the caller. */
  emit(...args: A): void {
    for (const listener of [...this.#set]) {
      try {
        listener(...args)
      } catch {
        // An observer's bug must not break the connection it observes.
      }
    }
  }

  get size(): number {
    return this.#set.size
  }
}

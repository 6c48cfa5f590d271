/** Promise plumbing for the engine: deferreds, rejections marked handled, and lazily-waiting reads. */

export const noop = (): void => {}

export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(noop)
  return promise
}

/**
 * A read of a pending task under a flow limit: a promise that calls `wait` on its first `then`
 * (what `await`, `Promise.all` and `.catch` all go through) and settles as what `wait` returns.
 * Its own state is never used; derived promises are plain ones.
 */
export class PendingRead<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise
  }
  #wait: (() => Promise<T>) | undefined
  #waited: Promise<T> | undefined
  constructor(wait: () => Promise<T>) {
    super(noop)
    this.#wait = wait
  }
  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    if (this.#waited === undefined) {
      this.#waited = this.#wait!()
      this.#wait = undefined
    }
    return this.#waited.then(onFulfilled, onRejected)
  }
}

export interface Deferred {
  readonly promise: Promise<unknown>
  resolve(value: unknown): void
  reject(error: unknown): void
}

export function deferred(): Deferred {
  let resolve!: (value: unknown) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res
    reject = rej
  })
  return {
    promise,
    resolve,
    // Marked handled as it is rejected: a task may read `$.x` without awaiting it, and x failing
    // must not be reported as an unhandled rejection.
    reject: (error) => {
      promise.catch(noop)
      reject(error)
    },
  }
}

/**
 * A drop-in for p-limit 7: `import pLimit from 'fanout/compat/p-limit'` instead of 'p-limit'.
 * Same call shape and semantics — the function starts in a microtask after `limit()` returns,
 * `activeCount` counts it at once, `pendingCount` counts what waits, `clearQueue()` discards (or,
 * with `rejectOnClear`, rejects) the waiting calls, setting `concurrency` starts waiters in a
 * microtask, `map()` — and the async context of the caller (AsyncLocalStorage) is preserved.
 *
 * What differs: the queue is a ring buffer instead of linked nodes, and each call allocates far
 * less (see `npm run bench -- limiter` for where it stands against p-limit and the others). The queue is
 * bounded at 10 million waiting calls — far beyond any sane use, but not unbounded.
 */
import { Slots } from '../policies/limit.js'

export interface LimitFunction {
  /** Calls currently running. */
  readonly activeCount: number
  /** Calls waiting to run. */
  readonly pendingCount: number
  /** The concurrency limit; setting it starts waiting calls. */
  concurrency: number
  /** Discards waiting calls (rejects them with an AbortError when `rejectOnClear` is set). */
  clearQueue: () => void
  /** `Promise.all` of `limit(mapper, item, index)` over the iterable. */
  map<Input, ReturnType>(iterable: Iterable<Input>, mapper: (input: Input, index: number) => PromiseLike<ReturnType> | ReturnType): Promise<ReturnType[]>
  <Arguments extends unknown[], ReturnType>(fn: (...args: Arguments) => PromiseLike<ReturnType> | ReturnType, ...args: Arguments): Promise<ReturnType>
}

export interface Options {
  readonly concurrency: number
  readonly rejectOnClear?: boolean
}

const MAX_QUEUE = 10_000_000

function validateConcurrency(concurrency: unknown): asserts concurrency is number {
  if (!((Number.isInteger(concurrency) || concurrency === Number.POSITIVE_INFINITY) && (concurrency as number) > 0)) {
    throw new TypeError('Expected `concurrency` to be a number from 1 and up')
  }
}

const settleNothing = (): void => {}

export default function pLimit(options: number | Options): LimitFunction {
  let concurrency: unknown = options
  let rejectOnClear: unknown = false
  if (typeof options === 'object' && options !== null) ({ concurrency, rejectOnClear = false } = options)
  validateConcurrency(concurrency)
  if (typeof rejectOnClear !== 'boolean') throw new TypeError('Expected `rejectOnClear` to be a boolean')

  const slots = new Slots(concurrency, MAX_QUEUE, undefined, false, 1, 'p-limit')
  const release = (): void => slots.release()

  // Runs with the slot held; the returned promise is what the caller gets.
  const run = <A extends unknown[], R>(fn: (...args: A) => PromiseLike<R> | R, args: A): Promise<R> => {
    let result: Promise<R>
    try {
      result = Promise.resolve(fn(...args))
    } catch (error) {
      result = Promise.reject(error)
    }
    result.then(release, release)
    return result
  }

  const generator = (<A extends unknown[], R>(fn: (...args: A) => PromiseLike<R> | R, ...args: A): Promise<R> => {
    if (slots.tryAcquire()) {
      // p-limit starts the function in a microtask, not synchronously; a resolved promise's
      // `then` runs in this (the caller's) async context.
      return Promise.resolve().then(() => run(fn, args))
    }
    // Attached now, in the caller's async context: the function runs in it when a slot frees.
    return slots.wait({}).then(() => run(fn, args))
  }) as LimitFunction

  Object.defineProperties(generator, {
    activeCount: { get: () => slots.active },
    pendingCount: { get: () => slots.pending },
    clearQueue: {
      value() {
        // Without rejectOnClear, p-limit leaves discarded calls pending forever; so do we (their
        // promises are never settled) — the waiters are dropped, not rejected.
        slots.clear(rejectOnClear ? AbortSignal.abort().reason : undefined, rejectOnClear)
      },
    },
    concurrency: {
      get: () => slots.concurrency,
      set(value: unknown) {
        validateConcurrency(value)
        slots.concurrency = value
        queueMicrotask(() => slots.pump())
      },
    },
    map: {
      async value<Input, R>(iterable: Iterable<Input>, mapper: (input: Input, index: number) => PromiseLike<R> | R): Promise<R[]> {
        const promises: Promise<R>[] = []
        try {
          Array.from(iterable, (value, index) => {
            const promise = generator(mapper, value, index)
            promises.push(promise)
            return promise
          })
        } catch (error) {
          for (const promise of promises) promise.catch(settleNothing)
          throw error
        }
        return Promise.all(promises)
      },
    },
  })
  return generator
}

/** p-limit's `limitFunction`: a function that runs `fn` through its own limiter. */
export function limitFunction<A extends unknown[], R>(fn: (...args: A) => PromiseLike<R> | R, options: number | Options): ((...args: A) => Promise<R>) & { clearQueue: () => void } {
  const limit = pLimit(options)
  const limited = (...args: A): Promise<R> => limit(() => fn(...args))
  Object.defineProperty(limited, 'clearQueue', { value: limit.clearQueue })
  return limited as ((...args: A) => Promise<R>) & { clearQueue: () => void }
}

/**
 * A drop-in for p-limit 7: `import pLimit from 'fanout/compat/p-limit'` instead of 'p-limit'.
 * Same call shape and semantics — the function starts in a microtask after `limit()` returns,
 * `activeCount` counts it at once, `pendingCount` counts what waits, `clearQueue()` discards (or,
 * with `rejectOnClear`, rejects) the waiting calls, setting `concurrency` starts waiters in a
 * microtask, `map()` — and the async context of the caller (AsyncLocalStorage) is preserved.
 *
 * A thin layer over `limit()`: calls go through the limiter's slots (`Slots.run`, the fast path
 * of `limit().run`), so waiting calls sit in one flat ring and cost no per-call object or closure
 * (see `npm run bench -- limiter`). What differs: the backlog is bounded — beyond 10 million
 * waiting calls, a call is rejected with a `QueueFullError` instead of growing the queue.
 */
import { own } from '../core/own.js'
import { limit as makeLimit } from '../policies/limit.js'
import { slotsOf, type Slots } from '../policies/slots.js'

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
  map<Input, ReturnType>(
    iterable: Iterable<Input>,
    mapper: (input: Input, index: number) => PromiseLike<ReturnType> | ReturnType,
  ): Promise<ReturnType[]>
  <Arguments extends unknown[], ReturnType>(
    fn: (...args: Arguments) => PromiseLike<ReturnType> | ReturnType,
    ...args: Arguments
  ): Promise<ReturnType>
}

export interface Options {
  readonly concurrency: number
  readonly rejectOnClear?: boolean
}

const MAX_QUEUE = 10_000_000

function validateConcurrency(concurrency: unknown): asserts concurrency is number {
  if (!(
    (Number.isInteger(concurrency) || concurrency === Number.POSITIVE_INFINITY) &&
    (concurrency as number) > 0
  )) {
    throw new TypeError('Expected `concurrency` to be a number from 1 and up')
  }
}

const settleNothing = (): void => {}

type AnyFn = (...args: never[]) => unknown

/** A call's function with its arguments bound (only calls with arguments pay for the closure). */
function job(fn: AnyFn, args: unknown[]): () => unknown {
  return () => (fn as (...a: unknown[]) => unknown)(...args)
}

function define(generator: LimitFunction, slots: Slots, rejectOnClear: boolean): void {
  Object.defineProperties(generator, {
    activeCount: { get: () => slots.active },
    pendingCount: { get: () => slots.pending },
    clearQueue: {
      value() {
        // Without rejectOnClear, p-limit leaves discarded calls pending forever; so do we.
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
      async value<Input, R>(
        iterable: Iterable<Input>,
        mapper: (input: Input, index: number) => PromiseLike<R> | R,
      ): Promise<R[]> {
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
}

export default function pLimit(options: number | Options): LimitFunction {
  let concurrency: unknown = options
  let rejectOnClear: unknown = false
  if (typeof options === 'object' && options !== null)
    ({ concurrency, rejectOnClear = false } = own(options))
  validateConcurrency(concurrency)
  if (typeof rejectOnClear !== 'boolean')
    throw new TypeError('Expected `rejectOnClear` to be a boolean')
  const slots = slotsOf(makeLimit({ concurrency: 1, maxQueue: MAX_QUEUE, name: 'p-limit' }))!
  // p-limit takes any positive integer; limit() checks a narrower range, so it is set here.
  slots.concurrency = concurrency
  const generator = function (fn: AnyFn): Promise<unknown> {
    // `arguments` rather than a rest parameter: no array is made for the common call without arguments.
    return arguments.length > 1
      ? // eslint-disable-next-line prefer-rest-params
        slots.run(job(fn, Array.prototype.slice.call(arguments, 1)), true)
      : slots.run(fn as () => unknown, true)
  } as unknown as LimitFunction
  define(generator, slots, rejectOnClear)
  return generator
}

/** p-limit's `limitFunction`: a function that runs `fn` through its own limiter. */
export function limitFunction<A extends unknown[], R>(
  fn: (...args: A) => PromiseLike<R> | R,
  options: number | Options,
): ((...args: A) => Promise<R>) & { clearQueue: () => void } {
  const limit = pLimit(options)
  const limited = (...args: A): Promise<R> => limit(() => fn(...args))
  Object.defineProperty(limited, 'clearQueue', { value: limit.clearQueue })
  return limited as ((...args: A) => Promise<R>) & { clearQueue: () => void }
}

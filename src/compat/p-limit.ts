/**
 * A drop-in for p-limit 7: `import pLimit from 'fanout/compat/p-limit'` instead of 'p-limit'.
 * Same call shape and semantics — the function starts in a microtask after `limit()` returns,
 * `activeCount` counts it at once, `pendingCount` counts what waits, `clearQueue()` discards (or,
 * with `rejectOnClear`, rejects) the waiting calls, setting `concurrency` starts waiters in a
 * microtask, `map()` — and the async context of the caller (AsyncLocalStorage) is preserved.
 *
 * What differs: waiting calls sit in one flat ring buffer instead of linked nodes and cost no
 * per-call closure, so a large backlog takes about half p-limit's memory and time (see
 * `npm run bench -- limiter`); and the backlog is bounded: beyond 10 million waiting calls,
 * `limit()` throws a RangeError instead of growing.
 */
import { own } from '../core/own.js'

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

// One shared executor: `new Promise(capture)` hands its resolving functions over here instead of
// to a closure allocated per call (the executor runs synchronously, so this cannot interleave).
const captured: {
  resolve: ((value: unknown) => void) | undefined
  reject: ((reason: unknown) => void) | undefined
} = { resolve: undefined, reject: undefined }
const capture = (resolve: (value: unknown) => void, reject: (reason: unknown) => void): void => {
  captured.resolve = resolve
  captured.reject = reject
}

export default function pLimit(options: number | Options): LimitFunction {
  let concurrency: unknown = options
  let rejectOnClear: unknown = false
  if (typeof options === 'object' && options !== null)
    ({ concurrency, rejectOnClear = false } = own(options))
  validateConcurrency(concurrency)
  if (typeof rejectOnClear !== 'boolean')
    throw new TypeError('Expected `rejectOnClear` to be a boolean')
  let limit: number = concurrency

  // A self-contained hot path (this is what p-limit users call hundreds of thousands of times):
  // one ring buffer holding, per waiting call, its gate's resolve and reject and its function;
  // no per-call waiter object and, for calls without arguments, no per-call closure.
  let ring: unknown[] = new Array<unknown>(3 * 64)
  let head = 0
  let size = 0
  let active = 0

  const push = (
    grant: (value: unknown) => void,
    reject: (reason: unknown) => void,
    job: unknown,
  ): void => {
    if (size === MAX_QUEUE)
      throw new RangeError(`p-limit (fanout): more than ${MAX_QUEUE} calls are waiting`)
    const slots = ring.length / 3
    if (size === slots) {
      const next = new Array<unknown>(ring.length * 2)
      for (let i = 0; i < size; i++) {
        const from = ((head + i) % slots) * 3
        next[i * 3] = ring[from]
        next[i * 3 + 1] = ring[from + 1]
        next[i * 3 + 2] = ring[from + 2]
      }
      ring = next
      head = 0
    }
    const at = ((head + size) % (ring.length / 3)) * 3
    ring[at] = grant
    ring[at + 1] = reject
    ring[at + 2] = job
    size++
  }

  /** Removes the oldest waiter; returns its [grant, reject, job] through `out`. */
  const shift = (out: unknown[]): void => {
    const at = head * 3
    out[0] = ring[at]
    out[1] = ring[at + 1]
    out[2] = ring[at + 2]
    ring[at] = ring[at + 1] = ring[at + 2] = undefined
    head = (head + 1) % (ring.length / 3)
    size--
  }

  const taken: unknown[] = [undefined, undefined, undefined]
  const startNext = (): void => {
    if (active < limit && size > 0) {
      active++
      shift(taken)
      const grant = taken[0] as (value: unknown) => void
      const job = taken[2]
      taken[0] = taken[1] = taken[2] = undefined
      grant(job)
    }
  }
  const release = (): void => {
    active--
    startNext()
  }

  // Runs with the slot held; its promise is what the caller gets.
  const start = (fn: AnyFn, args: unknown[] | undefined): Promise<unknown> => {
    let result: Promise<unknown>
    try {
      result = Promise.resolve(
        args === undefined
          ? (fn as () => unknown)()
          : (fn as (...a: unknown[]) => unknown)(...args),
      )
    } catch (error) {
      result = Promise.reject(error)
    }
    result.then(release, release)
    return result
  }
  // Shared handlers: the gate resolves with the function (or with [fn, args]), so no closure is
  // made per call. `.then` is attached when the call is made, in the caller's async context,
  // which is where the function then runs (p-limit gets the same from its internal promise).
  const startPlain = (fn: unknown): Promise<unknown> => start(fn as AnyFn, undefined)
  const startWithArgs = (job: unknown): Promise<unknown> =>
    start((job as [AnyFn, unknown[]])[0], (job as [AnyFn, unknown[]])[1])

  const generator = function (fn: AnyFn): Promise<unknown> {
    // `arguments` rather than a rest parameter: no array is made for the common call without arguments.
    // eslint-disable-next-line prefer-rest-params
    const job: unknown =
      arguments.length > 1 || typeof (fn as { then?: unknown }).then === 'function'
        ? [fn, Array.prototype.slice.call(arguments, 1)]
        : fn
    const handler = job === fn ? startPlain : startWithArgs
    if (active < limit && size === 0) {
      active++
      // p-limit starts the function in a microtask, not synchronously.
      return Promise.resolve(job).then(handler)
    }
    const gate = new Promise<unknown>(capture)
    push(captured.resolve!, captured.reject!, job)
    captured.resolve = captured.reject = undefined
    return gate.then(handler)
  } as unknown as LimitFunction

  Object.defineProperties(generator, {
    activeCount: { get: () => active },
    pendingCount: { get: () => size },
    clearQueue: {
      value() {
        // Without rejectOnClear, p-limit leaves discarded calls pending forever; so do we (their
        // promises are never settled) — the waiters are dropped, not rejected.
        const reason: unknown = rejectOnClear ? AbortSignal.abort().reason : undefined
        while (size > 0) {
          shift(taken)
          const reject = taken[1] as (reason: unknown) => void
          taken[0] = taken[1] = taken[2] = undefined
          if (rejectOnClear) reject(reason)
        }
      },
    },
    concurrency: {
      get: () => limit,
      set(value: unknown) {
        validateConcurrency(value)
        limit = value
        queueMicrotask(() => {
          while (active < limit && size > 0) startNext()
        })
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

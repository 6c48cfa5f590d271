/**
 * The one place that races work against a timer: the work gets a child signal; when the time
 * is up the child is aborted with the timeout error and the promise rejects with it at once;
 * when the parent aborts, the promise rejects with the parent's reason. Whichever happens first
 * wins, and the timer and the listener on the parent are released on every path.
 *
 * Work that goes on after it resolved (a streamed body) can keep the limit over it with
 * `holdUntil`: the timer and the parent still cancel it, through `cancelled`, until that settles.
 */
import { invoke } from './call.js'
import type { Clock, TimerHandle } from './clock.js'
import { linkSignal, onAbort } from './signals.js'

export interface TimeLimitHooks<T> {
  /** Told the reason when the time is up or the parent aborts, before the promise rejects (or after it resolved, while held). */
  readonly cancelled?: (reason: unknown) => void
  /** The limit holds until the returned promise settles; undefined releases it at once. */
  readonly holdUntil?: (value: T) => PromiseLike<unknown> | undefined
}

export function withTimeLimit<T>(
  clock: Clock,
  parent: AbortSignal | undefined,
  ms: number,
  onTimeout: () => unknown,
  start: (signal: AbortSignal) => Promise<T>,
  hooks?: TimeLimitHooks<T>,
): Promise<T> {
  if (parent?.aborted) return Promise.reject(parent.reason)
  const link = linkSignal(parent)
  return new Promise<T>((resolve, reject) => {
    /** The limit no longer applies: released, or it fired. */
    let done = false
    /** The promise resolved or rejected. */
    let settled = false
    let timer: TimerHandle | undefined
    let unsubscribe: (() => void) | undefined
    const release = (): boolean => {
      if (done) return false
      done = true
      if (timer !== undefined) clock.clearTimeout(timer)
      link.dispose()
      unsubscribe?.()
      return true
    }
    const cancel = (reason: unknown): void => {
      if (!release()) return
      link.abort(reason)
      hooks?.cancelled?.(reason)
      if (settled) return
      settled = true
      reject(reason)
    }
    if (ms !== Infinity) {
      timer = clock.setTimeout(() => {
        if (!done) cancel(onTimeout())
      }, ms)
    }
    if (parent !== undefined) unsubscribe = onAbort(parent, () => cancel(parent.reason))
    invoke(() => start(link.signal)).then(
      (value) => {
        if (settled) return
        settled = true
        const hold = hooks?.holdUntil?.(value)
        if (hold === undefined) release()
        else hold.then(release, release)
        resolve(value)
      },
      (error: unknown) => {
        if (settled) return
        settled = true
        release()
        reject(error)
      },
    )
  })
}

/**
 * The same race for work that takes no signal (a command already sent to a server cannot be
 * withdrawn): rejects with `onTimeout()` once `ms` have passed, and ignores the work's late
 * outcome; the timer is released on every path. It makes no AbortSignal, which on a hot path (a
 * Redis store call of a microsecond's own work) would cost as much as the call.
 */
export function raceTimer<T>(
  clock: Clock,
  ms: number,
  onTimeout: () => unknown,
  start: () => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(onTimeout()), ms)
    const settled =
      <A>(done: (a: A) => void) =>
      (a: A): void => {
        clock.clearTimeout(timer)
        done(a)
      }
    invoke(start).then(settled(resolve), settled(reject))
  })
}

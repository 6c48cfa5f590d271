/**
 * The one place that races work against a timer: the work gets a child signal; when the time
 * is up the child is aborted with the timeout error and the promise rejects with it at once;
 * when the parent aborts, the promise rejects with the parent's reason. Whichever happens first
 * wins, and the timer and the listener on the parent are released on every path.
 */
import { invoke } from './call.js'
import type { Clock, TimerHandle } from './clock.js'
import { linkSignal, onAbort } from './signals.js'

export function withTimeLimit<T>(
  clock: Clock,
  parent: AbortSignal | undefined,
  ms: number,
  onTimeout: () => unknown,
  start: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (parent?.aborted) return Promise.reject(parent.reason)
  const link = linkSignal(parent)
  return new Promise<T>((resolve, reject) => {
    let done = false
    let timer: TimerHandle | undefined
    const finish = (): boolean => {
      if (done) return false
      done = true
      if (timer !== undefined) clock.clearTimeout(timer)
      link.dispose()
      unsubscribe?.()
      return true
    }
    if (ms !== Infinity) {
      timer = clock.setTimeout(() => {
        if (done) return
        const error = onTimeout()
        finish()
        link.abort(error)
        reject(error)
      }, ms)
    }
    const unsubscribe =
      parent === undefined
        ? undefined
        : onAbort(parent, () => {
            if (finish()) reject(parent.reason)
          })
    const pending = invoke(() => start(link.signal))
    pending.then(
      (value) => {
        if (finish()) resolve(value)
      },
      (error: unknown) => {
        if (finish()) reject(error)
      },
    )
  })
}

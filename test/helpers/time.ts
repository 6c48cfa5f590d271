/** Fake time for tests: vitest's fake timers, with `performance.now()` faked too (fanout's clock). */
import { vi } from 'vitest'

export function useFakeTime(): void {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'],
  })
}

/** Current fake time in ms. */
export function now(): number {
  return performance.now()
}

/** Resolves with `value` after `ms` of (fake) time; rejects with the signal's reason on abort. */
export function after<T>(ms: number, value: T, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(value)
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Rejects with `error` after `ms` of (fake) time. */
export function failAfter(ms: number, error: unknown, signal?: AbortSignal): Promise<never> {
  return after(ms, undefined, signal).then(() => {
    throw error
  })
}

/** Settles a promise under fake time: runs timers until it is done, returns its outcome. */
export async function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined
  promise.then(
    (value) => (outcome = { ok: true, value }),
    (error: unknown) => (outcome = { ok: false, error }),
  )
  for (let i = 0; i < 10_000 && outcome === undefined; i++) {
    if (vi.getTimerCount() === 0) await vi.advanceTimersByTimeAsync(0)
    else await vi.advanceTimersToNextTimerAsync()
  }
  if (outcome === undefined) throw new Error('promise did not settle (no timers left to run)')
  return outcome
}

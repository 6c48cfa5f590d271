/**
 * Taking, renewing and giving back a `ConcurrencyStore`'s permits around one call of a limiter
 * with a `store` (the local slot is already held): waiting for a permit is bounded by the
 * caller's signal and deadline, a running call renews its lease every third of it, and the
 * local slot is given back only once the store has the permit back.
 */
import { invoke } from '../core/call.js'
import { systemClock, type TimerHandle } from '../core/clock.js'
import { DeadlineError, LeaseLostError } from '../core/errors.js'
import { hasField } from '../core/own.js'
import { onAbort } from '../core/signals.js'
import type { ConcurrencyPermit, ConcurrencyStore } from './concurrency-store.js'
import type { WaitOptions } from './wait-options.js'

let instances = 0

/** Taking, renewing and giving back a store's permits around a call. */
export function sharedPermits(
  store: ConcurrencyStore,
  name: string,
  leaseMs: number,
  pollMs: number,
) {
  // Holder ids must be unique across every process sharing the store: a random instance part.
  const instance = `${Math.random().toString(36).slice(2, 10)}.${(instances++).toString(36)}`
  let seq = 0
  const totalKey = JSON.stringify([name])

  /** Resolves when a permit may have come free: a release under `key`, or `ms` passed. Rejects on abort or the deadline. */
  const pause = (ms: number, key: string, wait: WaitOptions): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const clock = wait.clock ?? systemClock
      const deadlineAt = wait.deadlineAt ?? Infinity
      const left = deadlineAt - clock.now()
      const outOfTime = left <= ms
      let timer: TimerHandle | undefined
      let unwatch: (() => void) | undefined
      let unsubscribe: (() => void) | undefined
      const done = (error?: unknown, failed = false): void => {
        if (timer !== undefined) clock.clearTimeout(timer)
        unwatch?.()
        unsubscribe?.()
        timer = unwatch = unsubscribe = undefined
        if (failed) reject(error)
        else resolve()
      }
      const timeUp = (): unknown =>
        wait.timeoutError?.() ??
        new DeadlineError(
          `Limiter "${name}": the deadline passed while waiting for a permit from the store`,
          Math.max(0, left),
        )
      if (left <= 0) return done(timeUp(), true)
      timer = clock.setTimeout(
        () => (outOfTime ? done(timeUp(), true) : done()),
        outOfTime ? left : ms,
      )
      unwatch = hasField(store, 'watch') ? store.watch?.(key, () => done()) : undefined
      if (wait.signal !== undefined)
        unsubscribe = onAbort(wait.signal, () => done(wait.signal!.reason, true))
    })

  const acquire = async (
    permits: readonly ConcurrencyPermit[],
    holder: string,
    wait: WaitOptions,
  ): Promise<void> => {
    const clock = wait.clock ?? systemClock
    for (;;) {
      if (wait.signal?.aborted) throw wait.signal.reason
      const grant = await store.acquire({ permits, holder, now: clock.now(), leaseMs })
      if (grant.ok) return
      // Watch the key that refused; the total when both may have.
      await pause(
        Math.max(0, Math.min(grant.retryAfterMs, pollMs)),
        permits[permits.length - 1]!.key,
        wait,
      )
    }
  }

  return {
    permitsFor(
      total: number,
      perKey: number | undefined,
      key: string | undefined,
    ): ConcurrencyPermit[] {
      const permits: ConcurrencyPermit[] = [{ key: totalKey, limit: total }]
      if (perKey !== undefined)
        permits.push({ key: JSON.stringify([name, key ?? '']), limit: perKey })
      return permits
    },
    /** Runs `start` holding a permit; calls `done` once the permit is given back (or was never taken). */
    async run<T>(
      permits: readonly ConcurrencyPermit[],
      start: () => Promise<T>,
      wait: WaitOptions,
      done: () => void,
    ): Promise<T> {
      const holder = `${instance}.${(seq++).toString(36)}`
      const keys = permits.map((p) => p.key)
      const clock = wait.clock ?? systemClock
      try {
        await acquire(permits, holder, wait)
      } catch (error) {
        done()
        throw error
      }
      // Renew every third of the lease while the call runs, so a long call keeps its permit.
      let renewal: TimerHandle | undefined
      const renew = (): void => {
        renewal = clock.setTimeout(() => {
          // A lost lease is reported (the limiter aborts the call), never ignored.
          const lost = (cause?: unknown): void =>
            wait.onLeaseLost?.(
              new LeaseLostError(name, `Limiter "${name}": a running call lost its permit`, {
                cause,
              }),
            )
          Promise.resolve(store.renew(keys, holder, clock.now(), leaseMs)).then(
            (kept) => kept || lost(),
            lost,
          )
          renew()
        }, leaseMs / 3)
      }
      if (leaseMs !== Infinity) renew()
      const result = invoke(start)
      const giveBack = (): void => {
        if (renewal !== undefined) clock.clearTimeout(renewal)
        renewal = undefined
        // The local slot is freed once the store has the permit back (the next caller would be
        // refused before), but the caller does not wait for that. A store that cannot be reached
        // loses nothing: the lease runs out.
        let released: void | PromiseLike<void>
        try {
          released = store.release(keys, holder, clock.now())
        } catch {
          released = undefined
        }
        if (released === undefined) done()
        else Promise.resolve(released).then(done, done)
      }
      result.then(giveBack, giveBack)
      return result
    },
  }
}

/**
 * Taking, renewing and giving back a `ConcurrencyStore`'s permits around one call of a limiter
 * with a `store` (the local slot is already held): waiting for a permit is bounded by the
 * caller's signal and deadline, a running call renews its lease every third of it, and the
 * local slot is given back only once the store has the permit back.
 */
import { invoke } from '../core/call.js'
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js'
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
): SharedPermits {
  return new SharedPermits(store, name, leaseMs, pollMs)
}

/** The permits of one limiter in its store. */
export class SharedPermits {
  readonly #store: ConcurrencyStore
  readonly #name: string
  readonly #leaseMs: number
  readonly #pollMs: number
  // Holder ids must be unique across every process sharing the store: a random instance part.
  readonly #instance = `${Math.random().toString(36).slice(2, 10)}.${(instances++).toString(36)}`
  #seq = 0
  readonly #totalKey: string
  /** Calls that ran out of time waiting for a permit, for the limiter's `stats()`. */
  timedOut = 0

  constructor(store: ConcurrencyStore, name: string, leaseMs: number, pollMs: number) {
    this.#store = store
    this.#name = name
    this.#leaseMs = leaseMs
    this.#pollMs = pollMs
    this.#totalKey = JSON.stringify([name])
  }

  permitsFor(
    total: number,
    perKey: number | undefined,
    key: string | undefined,
  ): ConcurrencyPermit[] {
    const permits: ConcurrencyPermit[] = [{ key: this.#totalKey, limit: total }]
    if (perKey !== undefined)
      permits.push({ key: JSON.stringify([this.#name, key ?? '']), limit: perKey })
    return permits
  }

  /**
   * Runs `start` holding a permit (told whether it had to wait for one: the store refused at
   * first); calls `done` once the permit is given back (or was never taken).
   */
  async run<T>(
    permits: readonly ConcurrencyPermit[],
    start: (waited: boolean) => Promise<T>,
    wait: WaitOptions,
    done: () => void,
  ): Promise<T> {
    const holder = `${this.#instance}.${(this.#seq++).toString(36)}`
    const keys = permits.map((p) => p.key)
    const clock = wait.clock ?? systemClock
    let waited: boolean
    try {
      waited = await this.#acquire(permits, holder, wait)
    } catch (error) {
      done()
      throw error
    }
    const stopRenewing = this.#renewWhileRunning(keys, holder, clock, wait)
    const result = invoke(() => start(waited))
    const giveBack = (): void => {
      stopRenewing()
      this.#release(keys, holder, clock, done)
    }
    result.then(giveBack, giveBack)
    return result
  }

  /** Takes the permits, pausing while the store refuses; resolves with whether it paused. */
  async #acquire(
    permits: readonly ConcurrencyPermit[],
    holder: string,
    wait: WaitOptions,
  ): Promise<boolean> {
    const clock = wait.clock ?? systemClock
    for (let waited = false; ; waited = true) {
      if (wait.signal?.aborted) throw wait.signal.reason
      const grant = await this.#store.acquire({
        permits,
        holder,
        now: clock.now(),
        leaseMs: this.#leaseMs,
      })
      if (grant.ok) return waited
      // Watch the key that refused; the total when both may have.
      await this.#pause(
        Math.max(0, Math.min(grant.retryAfterMs, this.#pollMs)),
        permits[permits.length - 1]!.key,
        wait,
      )
    }
  }

  /** Resolves when a permit may have come free: a release under `key`, or `ms` passed. Rejects on abort or the deadline. */
  #pause(ms: number, key: string, wait: WaitOptions): Promise<void> {
    const store = this.#store
    return new Promise<void>((resolve, reject) => {
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
      const timeUp = (): unknown => {
        this.timedOut++
        return (
          wait.timeoutError?.() ??
          new DeadlineError(
            `Limiter "${this.#name}": the deadline passed while waiting for a permit from the store`,
            Math.max(0, left),
          )
        )
      }
      if (left <= 0) return done(timeUp(), true)
      timer = clock.setTimeout(
        () => (outOfTime ? done(timeUp(), true) : done()),
        outOfTime ? left : ms,
      )
      unwatch = hasField(store, 'watch') ? store.watch?.(key, () => done()) : undefined
      if (wait.signal !== undefined)
        unsubscribe = onAbort(wait.signal, () => done(wait.signal!.reason, true))
    })
  }

  /** Renews the lease every third of it while the call runs, so a long call keeps its permit; returns the stop. */
  #renewWhileRunning(
    keys: readonly string[],
    holder: string,
    clock: Clock,
    wait: WaitOptions,
  ): () => void {
    const leaseMs = this.#leaseMs
    if (leaseMs === Infinity) return () => {}
    let renewal: TimerHandle | undefined
    // The lease is known to hold until then: acquired (or last renewed) + leaseMs.
    let keptUntil = clock.now() + leaseMs
    let reported = false
    const lost = (cause?: unknown): void => {
      if (reported) return
      reported = true
      const name = this.#name
      wait.onLeaseLost?.(
        new LeaseLostError(name, `Limiter "${name}": a running call lost its permit`, { cause }),
      )
    }
    const renew = (): void => {
      renewal = clock.setTimeout(() => {
        // A lost lease is reported (the limiter aborts the call), never ignored. A store that
        // answers "not yours any more" loses it at once; a store that fails to answer (a timeout,
        // a blip) loses it only once the lease has run out with no renewal in between, since
        // until then the permit is still held.
        const at = clock.now()
        Promise.resolve(this.#store.renew(keys, holder, at, leaseMs)).then(
          (kept) => {
            if (kept) keptUntil = Math.max(keptUntil, at + leaseMs)
            else lost()
          },
          (error: unknown) => {
            if (clock.now() >= keptUntil) lost(error)
          },
        )
        renew()
      }, leaseMs / 3)
    }
    renew()
    return () => {
      if (renewal !== undefined) clock.clearTimeout(renewal)
      renewal = undefined
    }
  }

  /**
   * Gives the permit back. The local slot is freed (`done`) once the store has the permit back
   * (the next caller would be refused before), but the caller does not wait for that. A store
   * that cannot be reached loses nothing: the lease runs out.
   */
  #release(keys: readonly string[], holder: string, clock: Clock, done: () => void): void {
    let released: void | PromiseLike<void>
    try {
      released = this.#store.release(keys, holder, clock.now())
    } catch {
      released = undefined
    }
    if (released === undefined) done()
    else Promise.resolve(released).then(done, done)
  }
}

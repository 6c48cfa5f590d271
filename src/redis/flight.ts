/**
 * `redisFlight()`: the `CacheFlight` of `cached({ flight })` on Redis, so that of all the processes
 * missing one key at once, one calls the loader and the others read its entry.
 *
 * - A claim is `SET lock <token> NX PX <lease>` in a script that also counts the lock as won when
 *   it already holds this claim's own token: a claim whose reply was lost (the socket dropped) is
 *   asked once more with the same token, and finds out that it won instead of waiting for itself.
 * - A release deletes the lock only if the token still holds it (a holder whose lease ran out must
 *   not free its successor's lock) and publishes the key on the flight's channel.
 * - Waiters share one subscription to that channel per flight. Pub/sub delivers at most once (a
 *   message sent while subscribing, or while the subscriber reconnects, is lost), so each waiter
 *   also polls whether the lock still exists, first after an eighth of `pollInterval`, then
 *   doubling up to it; a subscriber reconnect wakes every waiter.
 * - When Redis fails or is slow (`timeout`, the breaker), a claim counts as won without a lock
 *   (`store.failed` with policy `local`): each process then calls the loader once, the in-process
 *   single-flight of `cached()` still holding. A `StoreError` (the lock key holds another type)
 *   surfaces.
 */
import { randomBytes } from 'node:crypto'
import type { CacheFlight, FlightClaim, FlightWaitOptions } from '../cache/flight.js'
import { StoreUnavailableError } from '../core/errors.js'
import { onAbort } from '../core/signals.js'
import type { TimerHandle } from '../core/clock.js'
import { checkDuration, snapshot } from '../core/validate.js'
import { defineScript } from './script.js'
import { readStoreOptions, type RedisStoreOptions, type StoreSetup } from './store-options.js'

export interface RedisFlightOptions extends RedisStoreOptions {
  /**
   * Longest ms between two looks of a waiter at the lock, in case the fill's message was lost.
   * The first comes after an eighth of it, then the gap doubles. 8–10 000, default 200.
   */
  readonly pollInterval?: number
}

/** A `CacheFlight` on Redis. */
export interface RedisFlight extends CacheFlight {
  /** Stops listening for fills (the subscription opened by the first wait). Waits in progress resolve. */
  close(): Promise<void>
}

const CLAIM = defineScript(
  'flight-claim',
  `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
)

const RELEASE = defineScript(
  'flight-release',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`,
)

const RENEW = defineScript(
  'flight-renew',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
)

const HELD = defineScript('flight-held', `return redis.call('EXISTS', KEYS[1])`)

/** The token of a claim won without Redis: nothing to release or renew. */
const LOCAL = ''

/**
 * A `CacheFlight` on Redis for `cached({ flight })`: of the processes that miss one key at once,
 * one calls the loader and the others wait for its entry. Options: those of every Redis store
 * (`redis`, `prefix`, `name` — default "flight", `timeout`, `breaker`, `clock`, `onEvent`) and
 * `pollInterval`. Keys: `<prefix>:flight:<name>:<cache key>`; channel:
 * `<prefix>:flight:<name>:filled`. When Redis fails, each process loads once by itself and
 * `store.failed` reports it (policy `local`).
 *
 * @example
 * const users = cached(fetchUser, {
 *   store, ttl: 60_000, scope: 'shared', clock: { ...systemClock, now: Date.now },
 *   flight: redisFlight({ redis: fromNodeRedis(client) }),
 * })
 */
export function redisFlight(options: RedisFlightOptions): RedisFlight {
  const where = 'redisFlight()'
  const opts = snapshot(where, options)
  const setup = readStoreOptions(where, opts, 'flight', ['pollInterval'])
  const pollMax =
    opts.pollInterval === undefined
      ? 200
      : checkDuration(where, 'pollInterval', opts.pollInterval, { min: 8, max: 10_000 })
  return new Flight(setup, pollMax)
}

class Flight implements RedisFlight {
  readonly #s: StoreSetup
  readonly #pollMax: number
  readonly #channel: string
  /** Wake-ups of the waits in progress, per key: only keys someone waits for. */
  readonly #waiting = new Map<string, Set<() => void>>()
  #subscribed: Promise<(() => Promise<void>) | undefined> | undefined
  #stopReconnects: (() => void) | undefined

  constructor(setup: StoreSetup, pollMax: number) {
    this.#s = setup
    this.#pollMax = pollMax
    this.#channel = `${setup.prefix}:flight:${setup.name}:filled`
  }

  #lock(key: string): string {
    return `${this.#s.prefix}:flight:${this.#s.name}:${key}`
  }

  async claim(key: string, leaseMs: number): Promise<FlightClaim> {
    const { redis, guard } = this.#s
    const token = randomBytes(16).toString('hex')
    const args = [token, Math.max(1, Math.ceil(leaseMs))]
    for (let attempt = 1; ; attempt++) {
      try {
        const won = await guard.run('claim', () => redis.evalScript(CLAIM, [this.#lock(key)], args))
        return Number(won) === 1 ? { won: true, token } : { won: false }
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error
        // The SET may have been applied and only its reply lost: the same token asks again once.
        if (attempt === 1 && error.reason === 'error') continue
        guard.reportFallback(error, 'local')
        return { won: true, token: LOCAL }
      }
    }
  }

  async release(key: string, token: string): Promise<void> {
    if (token === LOCAL) return
    const { redis, guard } = this.#s
    try {
      await guard.run('release', () =>
        redis.evalScript(RELEASE, [this.#lock(key)], [token, this.#channel, key]),
      )
    } catch (error) {
      // The lock ends with its lease; the waiters' polls see it go.
      if (!(error instanceof StoreUnavailableError)) throw error
      guard.reportFallback(error, 'local')
    }
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    if (token === LOCAL) return true
    const { redis, guard } = this.#s
    try {
      const held = await guard.run('renew', () =>
        redis.evalScript(RENEW, [this.#lock(key)], [token, Math.max(1, Math.ceil(leaseMs))]),
      )
      return Number(held) === 1
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error
      guard.reportFallback(error, 'local')
      return false
    }
  }

  waitForFill(key: string, options: FlightWaitOptions): Promise<void> {
    const { signal, maxWaitMs } = options
    const { clock } = this.#s
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve()
      this.#listen()
      let set = this.#waiting.get(key)
      if (set === undefined) this.#waiting.set(key, (set = new Set()))
      const waiters = set
      const endAt = clock.now() + maxWaitMs
      let gap = Math.max(1, this.#pollMax / 8)
      let timer: TimerHandle | undefined
      let done = false
      const finish = (): void => {
        if (done) return
        done = true
        if (timer !== undefined) clock.clearTimeout(timer)
        stopAbort()
        waiters.delete(finish)
        if (waiters.size === 0 && this.#waiting.get(key) === waiters) this.#waiting.delete(key)
        resolve()
      }
      const stopAbort = onAbort(signal, finish)
      waiters.add(finish)
      const schedule = (): void => {
        const left = endAt - clock.now()
        if (!(left > 0)) return finish()
        timer = clock.setTimeout(
          () => {
            timer = undefined
            this.#held(key).then((held) => {
              if (done) return
              if (held) schedule()
              else finish()
            })
          },
          Math.min(gap, left),
        )
        gap = Math.min(gap * 2, this.#pollMax)
      }
      schedule()
    })
  }

  /** Whether the lock of `key` is still there; false when Redis cannot say (the caller looks again). */
  async #held(key: string): Promise<boolean> {
    const { redis, guard } = this.#s
    try {
      return (
        Number(await guard.run('poll', () => redis.evalScript(HELD, [this.#lock(key)], []))) === 1
      )
    } catch {
      return false
    }
  }

  /** The one subscription of this flight, opened by the first wait and kept until `close()`. */
  #listen(): void {
    if (this.#subscribed !== undefined) return
    const { redis } = this.#s
    this.#stopReconnects = redis.onReconnect(() => {
      // Fills published while the subscriber was away are lost: every waiter looks again.
      for (const set of [...this.#waiting.values()]) for (const wake of [...set]) wake()
    })
    this.#subscribed = redis
      .subscribe(this.#channel, (key) => {
        const set = this.#waiting.get(key)
        if (set !== undefined) for (const wake of [...set]) wake()
      })
      .catch(() => {
        // Polling alone; the next wait tries to subscribe again.
        this.#subscribed = undefined
        this.#stopReconnects?.()
        this.#stopReconnects = undefined
        return undefined
      })
  }

  async close(): Promise<void> {
    for (const set of [...this.#waiting.values()]) for (const wake of [...set]) wake()
    const subscribed = this.#subscribed
    this.#subscribed = undefined
    this.#stopReconnects?.()
    this.#stopReconnects = undefined
    if (subscribed === undefined) return
    // A subscription still opening (Redis away) must not hold close() up: bounded by `timeout`.
    const stopping = subscribed.then((stop) => stop?.())
    await this.#s.guard.run('unsubscribe', () => stopping).catch(() => {})
  }
}

/**
 * The phase limits on fanout's `Clock`, so they fire when they say and fake time can drive them:
 * the connect limit of each new connection (`connectOnClock`) and, per exchange, a request's own
 * `timeouts.connect`, `timeouts.headers` and `timeouts.body` (`PhaseTimer`). undici's own limits
 * run on its coarse timers (measured by `npm run bench -- http`: a 300 ms limit fired after
 * ~600–1,030 ms, an 800 ms one after ~1,010–1,030 ms); the client turns those off.
 *
 * One timer per exchange, armed lazily. Each phase sets when it runs out; body data only moves that
 * time forward (one clock read per chunk, no timer work), and a timer that fires before the current
 * expiry re-arms itself for the rest. A phase that runs out sooner than the armed timer re-arms it.
 * So a request that completes in time costs one `setTimeout` and one `clearTimeout`.
 */
import type { Socket } from 'node:net'
import type { buildConnector } from 'undici'
import type { Clock, TimerHandle } from '../core/clock.js'
import { undici } from './undici.js'

/**
 * `connect` (built with `timeout: 0`) with its connect limit on `clock`, DNS lookup included. On
 * time the socket is destroyed with undici's own `ConnectTimeoutError`, as undici's timer would.
 */
export function connectOnClock(
  connect: buildConnector.connector,
  clock: Clock,
  ms: number,
): buildConnector.connector {
  return (options, callback) => {
    let settled = false
    let timer: TimerHandle | undefined
    const socket = (connect as (o: buildConnector.Options, c: buildConnector.Callback) => Socket)(
      options,
      (...args) => {
        settled = true
        if (timer !== undefined) clock.clearTimeout(timer)
        callback(...args)
      },
    )
    if (settled) return socket
    timer = clock.setTimeout(() => {
      timer = undefined
      socket.destroy(
        new undici.errors.ConnectTimeoutError(
          `Connect Timeout Error (attempted address: ${options.hostname}:${options.port}, timeout: ${ms}ms)`,
        ),
      )
    }, ms)
    return socket
  }
}

export class PhaseTimer {
  readonly #clock: Clock
  readonly #onExpire: () => void
  #timer: TimerHandle | undefined = undefined
  /** When the armed timer fires, on the clock (Infinity: none armed). */
  #firesAt = Infinity
  /** When the current phase runs out (Infinity: it has no limit). */
  #expiresAt = Infinity

  constructor(clock: Clock, onExpire: () => void) {
    this.#clock = clock
    this.#onExpire = onExpire
  }

  /** A phase begins that runs out `ms` from now (Infinity: no limit); it replaces the previous one's expiry. */
  start(ms: number): void {
    this.#expiresAt = ms === Infinity ? Infinity : this.#clock.now() + ms
    if (this.#expiresAt < this.#firesAt) this.#arm()
  }

  /** Activity in an inactivity phase: it now runs out `ms` from now. The armed timer is left alone. */
  touch(ms: number): void {
    this.#expiresAt = this.#clock.now() + ms
  }

  /** No more limits: releases the timer. */
  stop(): void {
    this.#expiresAt = Infinity
    this.#disarm()
  }

  #arm(): void {
    this.#disarm()
    if (this.#expiresAt === Infinity) return
    this.#firesAt = this.#expiresAt
    this.#timer = this.#clock.setTimeout(this.#fire, this.#expiresAt - this.#clock.now())
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#firesAt = Infinity
  }

  /** Node may run a timer up to a millisecond before the clock reads its time: never expire early. */
  readonly #fire = (): void => {
    this.#timer = undefined
    this.#firesAt = Infinity
    if (this.#clock.now() >= this.#expiresAt) {
      this.#expiresAt = Infinity
      this.#onExpire()
    } else this.#arm()
  }
}

/**
 * The adaptive side of `rateLimit()`: per key, how far the upstream's 429s have slowed the rate
 * (multiplicative decrease, linear recovery) and until when it asked for a pause. At most
 * `maxKeys` keys, least recently used forgotten first.
 */
import type { CallContext } from '../core/call.js'
import type { Adaptive } from './rate-limit-options.js'
import { readSignal, type SourceKind } from './rate-limit-signal.js'

/** The longest pause an upstream can ask for. */
const MAX_PAUSE = 86_400_000

/** A key's adaptive state, on its own clock timeline like the store's. */
export interface Slowdown {
  /** Rate factor right after the last decrease, and when that was. */
  factor: number
  at: number
  /** Changes on every decrease: calls remember the one they were let through under. */
  generation: number
  pausedUntil: number
  last: number
}

export interface Slowdowns {
  /** The key's state as last seen, without moving it. */
  get(key: string): Slowdown | undefined
  /** The key's slow-down on `now`'s timeline, or undefined. */
  slowdownAt(key: string, now: number, touch: boolean): Slowdown | undefined
  /** The share of the configured rate allowed at `now`, in (0, 1]. */
  factorOf(s: Slowdown | undefined, now: number): number
  /** Applies what the upstream said about a call let through under `generation`. */
  learn(ctx: CallContext, key: string, generation: number, source: unknown, kind: SourceKind): void
}

/**
 * The adaptive state of one limiter. `onChange` is told of a key whose rate or pause just
 * changed, so callers already waiting can follow it.
 */
export function slowdowns(
  adaptive: Adaptive | undefined,
  maxKeys: number,
  name: string,
  onChange: (key: string) => void,
): Slowdowns {
  /** Adaptive state per key, least recently used first. */
  const slowdowns = new Map<string, Slowdown>()
  let generations = 0

  /** The key's slow-down on `now`'s timeline, or undefined. */
  const slowdownAt = (key: string, now: number, touch: boolean): Slowdown | undefined => {
    const s = slowdowns.get(key)
    if (s === undefined) return undefined
    if (touch) {
      slowdowns.delete(key)
      slowdowns.set(key, s)
    }
    // A clock that stepped back moves the state back with it: the step counts as 0 ms.
    if (now < s.last) {
      s.at += now - s.last
      s.pausedUntil += now - s.last
    }
    s.last = now
    return s
  }

  const factorOf = (s: Slowdown | undefined, now: number): number =>
    s === undefined || adaptive === undefined
      ? 1
      : Math.min(1, s.factor + Math.max(0, now - s.at) / adaptive.recovery)

  /** Applies what the upstream said about a call let through under `generation`. */
  const learn = (
    ctx: CallContext,
    key: string,
    generation: number,
    source: unknown,
    kind: SourceKind,
  ): void => {
    if (adaptive === undefined) return
    const signal = readSignal(source, kind)
    if (signal === undefined) return
    const now = ctx.clock.now()
    let s = slowdownAt(key, now, true)
    let changed = false
    if (signal.throttled && generation === (s?.generation ?? 0)) {
      const factor = Math.max(adaptive.floor, factorOf(s, now) * adaptive.decrease)
      s ??= track(key, now)
      changed = factor !== factorOf(s, now)
      s.factor = factor
      s.at = now
      s.generation = ++generations
    }
    if (signal.pauseMs > 0) {
      const until = now + Math.min(signal.pauseMs, MAX_PAUSE)
      s ??= track(key, now)
      if (until > s.pausedUntil) {
        s.pausedUntil = until
        changed = true
      }
    }
    // Callers already waiting follow the new rate (or the pause) at once.
    if (changed) onChange(key)
    if (changed && s !== undefined && ctx.trace.enabled) {
      ctx.trace.emit({
        type: 'rate.adjusted',
        task: ctx.task,
        at: now,
        limiter: name,
        factor: factorOf(s, now),
        pauseMs: Math.max(0, s.pausedUntil - now),
        cause: signal.cause,
      })
    }
  }

  const track = (key: string, now: number): Slowdown => {
    if (slowdowns.size >= maxKeys) {
      // Forgetting a slow-down only lets that key go back to the configured rate.
      const oldest = slowdowns.keys().next().value as string
      slowdowns.delete(oldest)
    }
    const s: Slowdown = { factor: 1, at: now, generation: 0, pausedUntil: -Infinity, last: now }
    slowdowns.set(key, s)
    return s
  }

  return { get: (key) => slowdowns.get(key), slowdownAt, factorOf, learn }
}

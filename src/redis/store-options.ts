/** The options every Redis store shares, and reading them (own properties only, checked by name). */
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import { recorderFor, type EventListener, type Recorder } from '../core/trace.js'
import {
  checkClock,
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkName,
  checkNumber,
  show,
  snapshot,
} from '../core/validate.js'
import type { RedisConnection } from './connection.js'
import { StoreGuard, type StoreBreakerOptions } from './guard.js'

export interface RedisStoreOptions {
  /** The connection: `fromNodeRedis(client)` or `fromIoredis(client)`. */
  readonly redis: RedisConnection
  /**
   * Start of every key and channel the store uses, so fanout's keys never meet another
   * application's (E12). Letters, digits and `:_.-`, at most 64 characters. Default "fanout".
   */
  readonly prefix?: string
  /** Shown in errors and events, and part of every key: two stores with one name share state. */
  readonly name?: string
  /**
   * Ms one Redis operation may take before the store stops waiting and follows `onStoreError`.
   * 1–60 000, default 250. Keep it well under the callers' deadlines.
   */
  readonly timeout?: number
  /** The breaker in front of Redis, or `false` for none. Default: opens after 3 failures in a row, probes after 1 s. */
  readonly breaker?: StoreBreakerOptions | false
  /** Times the `timeout` and the breaker (not Redis's clock, which scripts read themselves). */
  readonly clock?: Clock
  /** Hears `store.failed` and `store.recovered`. */
  readonly onEvent?: EventListener
}

export const STORE_KNOWN = [
  'redis',
  'prefix',
  'name',
  'timeout',
  'breaker',
  'clock',
  'onEvent',
] as const

export interface StoreSetup {
  readonly redis: RedisConnection
  readonly prefix: string
  readonly name: string
  readonly clock: Clock
  readonly recorder: Recorder
  readonly guard: StoreGuard
}

const PREFIX = /^[A-Za-z0-9:_.-]{1,64}$/

/** Checks the shared options of `raw` (plus `extra` known names) and builds the guard. */
export function readStoreOptions(
  where: string,
  raw: object,
  defaultName: string,
  extra: readonly string[],
): StoreSetup {
  const opts = raw as Partial<Record<(typeof STORE_KNOWN)[number], unknown>>
  checkKnownKeys(where, opts, [...STORE_KNOWN, ...extra])
  const redis = opts.redis as RedisConnection | undefined
  if (
    typeof redis !== 'object' ||
    redis === null ||
    typeof (redis as { evalScript?: unknown }).evalScript !== 'function'
  )
    throw new InvalidOptionError(
      `${where}: \`redis\` must be a connection made by fromNodeRedis(client) or fromIoredis(client), got ${show(redis)}.`,
    )
  const prefix = opts.prefix === undefined ? 'fanout' : opts.prefix
  if (typeof prefix !== 'string' || !PREFIX.test(prefix))
    throw new InvalidOptionError(
      `${where}: \`prefix\` must be 1–64 letters, digits or ':_.-' (no braces: fanout places the hash tags), got ${show(prefix)}.`,
    )
  const name = opts.name === undefined ? defaultName : checkName(where, opts.name)
  if (/[{}]/.test(name))
    throw new InvalidOptionError(
      `${where}: \`name\` must not contain braces (fanout places the hash tags), got ${show(name)}.`,
    )
  const timeoutMs =
    opts.timeout === undefined
      ? 250
      : checkDuration(where, 'timeout', opts.timeout, { max: 60_000 })
  const breaker = readBreaker(where, opts.breaker)
  if (opts.clock !== undefined) checkClock(where, opts.clock)
  const clock = (opts.clock as Clock | undefined) ?? systemClock
  const onEvent =
    opts.onEvent === undefined
      ? undefined
      : checkFunction<EventListener>(where, 'onEvent', opts.onEvent, '(event) => void')
  const recorder = recorderFor(onEvent)
  return {
    redis,
    prefix,
    name,
    clock,
    recorder,
    guard: new StoreGuard(name, timeoutMs, breaker, clock, recorder),
  }
}

function readBreaker(where: string, value: unknown): Required<StoreBreakerOptions> | false {
  if (value === false) return false
  const b = snapshot(`${where} breaker`, value as object | undefined) as Partial<
    Record<string, unknown>
  >
  checkKnownKeys(`${where} breaker`, b, ['consecutive', 'halfOpenAfter'])
  return {
    consecutive:
      b.consecutive === undefined
        ? 3
        : checkNumber(where, 'breaker.consecutive', b.consecutive, {
            min: 1,
            max: 1000,
            integer: true,
          }),
    halfOpenAfter:
      b.halfOpenAfter === undefined
        ? 1000
        : checkDuration(where, 'breaker.halfOpenAfter', b.halfOpenAfter, { max: 86_400_000 }),
  }
}

/** Reads `onStoreError`: one of `allowed`, or `fallback` when absent. */
export function readOnStoreError<P extends string>(
  where: string,
  value: unknown,
  allowed: readonly P[],
  fallback: P,
): P {
  if (value === undefined) return fallback
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as P
  throw new InvalidOptionError(
    `${where}: \`onStoreError\` must be ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(value)}.`,
  )
}

/** The options the two limit stores (rate and concurrency) add to the shared ones. */
export interface LimitStoreSetup {
  readonly setup: StoreSetup
  readonly time: 'redis' | 'caller'
  readonly policy: 'local' | 'fail-open' | 'fail-closed'
  readonly share: number
  readonly localMaxKeys: number
}

/**
 * Reads a limit store's options: the shared ones plus `time`, `onStoreError` (default
 * `defaultPolicy`), `localShare` (default 0.25) and `localMaxKeys` (default 10,000).
 */
export function readLimitStoreOptions(
  where: string,
  options: object,
  defaultName: string,
  defaultPolicy: 'local' | 'fail-closed',
): LimitStoreSetup {
  const opts = snapshot(where, options) as Partial<Record<string, unknown>>
  const setup = readStoreOptions(where, opts, defaultName, [
    'time',
    'onStoreError',
    'localShare',
    'localMaxKeys',
  ])
  const time = opts.time === undefined ? 'redis' : opts.time
  if (time !== 'redis' && time !== 'caller')
    throw new InvalidOptionError(
      `${where}: \`time\` must be 'redis' or 'caller', got ${show(time)}.`,
    )
  const policy = readOnStoreError(
    where,
    opts.onStoreError,
    ['local', 'fail-open', 'fail-closed'] as const,
    defaultPolicy,
  )
  const share =
    opts.localShare === undefined
      ? 0.25
      : checkNumber(where, 'localShare', opts.localShare, { min: 0.001, max: 1 })
  const localMaxKeys =
    opts.localMaxKeys === undefined
      ? 10_000
      : checkNumber(where, 'localMaxKeys', opts.localMaxKeys, {
          min: 1,
          max: 10_000_000,
          integer: true,
        })
  return { setup, time, policy, share, localMaxKeys }
}

/** `amqpQueue()`'s options, read and checked once at construction. */
import type { Options } from 'amqplib'
import { InvalidOptionError } from '../core/errors.js'
import { checkDuration, checkKnownKeys, checkNumber, show, snapshot } from '../core/validate.js'
import type { JobRecordStore } from './records.js'

export interface AmqpQueueOptions {
  /** The broker: an `amqp://` URL or amqplib's connection options (credentials stay in here). */
  readonly url: string | Options.Connect
  /**
   * Where job records live (status, dedupe, cancel, dead listing). Default `memoryRecordStore()`:
   * one process only. Use `redisRecordStore()` when producers and workers are separate processes.
   */
  readonly records?: JobRecordStore
  /** Queue name prefix: 1–64 letters, digits or '_.-' (default `fanout`). */
  readonly prefix?: string
  /** How long enqueue, status and cancel wait for the broker and the records, ms (default 500). */
  readonly timeout?: number
  /** How long one connection attempt may take, ms (default 5000). */
  readonly connectTimeout?: number
  /** AMQP heartbeat, seconds (default 5): a silent broker is noticed within two of them. */
  readonly heartbeat?: number
  /** Deliveries of one message before RabbitMQ dead-letters it on its own (default 20). */
  readonly deliveryLimit?: number
  /** Ready jobs a job name's queue holds at most; past it enqueue rejects with `QueueFullError`. */
  readonly maxQueued?: number
  /** Publishes awaiting the broker's confirm at most (default 1000); past it enqueue fails at once. */
  readonly maxUnconfirmed?: number
}

export interface ResolvedOptions {
  readonly url: string | Options.Connect
  readonly records: JobRecordStore | undefined
  readonly prefix: string
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  readonly heartbeatS: number
  readonly deliveryLimit: number
  readonly maxQueued: number | undefined
  readonly maxUnconfirmed: number
}

const WHERE = 'amqpQueue()'
const KNOWN = [
  'url',
  'records',
  'prefix',
  'timeout',
  'connectTimeout',
  'heartbeat',
  'deliveryLimit',
  'maxQueued',
  'maxUnconfirmed',
] as const

export function readOptions(options: AmqpQueueOptions): ResolvedOptions {
  const o = snapshot(WHERE, options)
  checkKnownKeys(WHERE, o, KNOWN)
  const url = o.url
  if (
    !(typeof url === 'string' && /^amqps?:\/\//.test(url)) &&
    (typeof url !== 'object' || url === null)
  )
    throw new InvalidOptionError(
      `${WHERE}: \`url\` must be an amqp:// or amqps:// URL or amqplib connection options, got ${typeof url === 'string' ? 'a string that is not one' : show(url)}.`,
    )
  const records = o.records
  if (
    records !== undefined &&
    (typeof records !== 'object' || records === null || typeof records.start !== 'function')
  )
    throw new InvalidOptionError(
      `${WHERE}: \`records\` must be a JobRecordStore (memoryRecordStore() or redisRecordStore()), got ${show(records)}.`,
    )
  const prefix = o.prefix ?? 'fanout'
  if (typeof prefix !== 'string' || !/^[\w.-]{1,64}$/.test(prefix))
    throw new InvalidOptionError(
      `${WHERE}: \`prefix\` must be 1–64 letters, digits or '_.-', got ${show(prefix)}.`,
    )
  const int = (name: string, value: unknown, fallback: number, min: number, max: number): number =>
    value === undefined ? fallback : checkNumber(WHERE, name, value, { min, max, integer: true })
  return {
    url,
    records,
    prefix,
    timeoutMs: o.timeout === undefined ? 500 : checkDuration(WHERE, 'timeout', o.timeout),
    connectTimeoutMs:
      o.connectTimeout === undefined
        ? 5_000
        : checkDuration(WHERE, 'connectTimeout', o.connectTimeout),
    heartbeatS: int('heartbeat', o.heartbeat, 5, 1, 600),
    deliveryLimit: int('deliveryLimit', o.deliveryLimit, 20, 1, 10_000),
    maxQueued:
      o.maxQueued === undefined ? undefined : int('maxQueued', o.maxQueued, 0, 1, 2 ** 31 - 1),
    maxUnconfirmed: int('maxUnconfirmed', o.maxUnconfirmed, 1_000, 1, 1_000_000),
  }
}

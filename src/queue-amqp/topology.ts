/**
 * Where a job name's messages live on the broker, and how the queues are declared.
 *
 * - `<prefix>.<name>`: a durable quorum queue (replicated, and it counts redeliveries). Its
 *   `x-delivery-limit` is a backstop for a job that kills every worker that takes it: past the
 *   limit RabbitMQ dead-letters it to the dead queue without any worker deciding so. With
 *   `maxQueued`, `x-max-length` and `x-overflow: reject-publish` make the broker refuse (nack)
 *   publishes past that many ready messages (jobs running, delayed or dead do not count).
 * - `<prefix>.<name>.dead`: the dead letter, a durable quorum queue.
 * - `<prefix>.<name>.delay.<ms>`: one durable classic queue per delay, whose queue-wide
 *   `x-message-ttl` dead-letters each message back to the main queue when it expires. Per-message
 *   expiration in one shared queue would not work: RabbitMQ expires messages only at the head, so a
 *   60 s retry would hold back a 1 s retry queued behind it. With one TTL per queue, every message
 *   in it expires in arrival order. Delays are rounded up to two significant digits (a 1234 ms
 *   backoff waits 1300 ms: never earlier than asked, at most 10% later), which bounds the queues
 *   to 90 per decade of delay; `x-expires` removes a delay queue nobody has declared for a while,
 *   and every publish into one re-declares it well before that.
 */
import type { Channel, Options } from 'amqplib'

export interface Topology {
  readonly prefix: string
  readonly deliveryLimit: number
  readonly maxQueued: number | undefined
}

export const mainQueue = (t: Topology, name: string): string => `${t.prefix}.${name}`
export const deadQueue = (t: Topology, name: string): string => `${t.prefix}.${name}.dead`
export const delayQueue = (t: Topology, name: string, ms: number): string =>
  `${t.prefix}.${name}.delay.${ms}`

/** The delay a message actually waits: `ms` rounded up to two significant digits. */
export function delayBucket(ms: number): number {
  if (ms <= 0) return 0
  const whole = Math.ceil(ms)
  if (whole < 100) return whole
  const step = 10 ** (Math.floor(Math.log10(whole)) - 1)
  return Math.ceil(whole / step) * step
}

/** How long after its last declaration an idle delay queue is removed. */
export const delayQueueExpiry = (ms: number): number => 2 * ms + 60_000
/** Re-declare a delay queue before publishing when its last declaration is older than this. */
export const REDECLARE_MS = 30_000

function mainArguments(t: Topology, name: string): Options.AssertQueue {
  const args: Record<string, unknown> = {
    'x-queue-type': 'quorum',
    'x-delivery-limit': t.deliveryLimit,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': deadQueue(t, name),
  }
  if (t.maxQueued !== undefined) {
    // A quorum queue refuses a publish once it is *over* its length (3.10: the publish that
    // reaches x-max-length is still taken), so maxQueued ready jobs need a length one lower.
    args['x-max-length'] = t.maxQueued - 1
    args['x-overflow'] = 'reject-publish'
  }
  return { durable: true, arguments: args }
}

/** Declares the main and dead queues of `name` (idempotent; same arguments every time). */
export async function declareJobQueues(ch: Channel, t: Topology, name: string): Promise<void> {
  await ch.assertQueue(deadQueue(t, name), {
    durable: true,
    arguments: { 'x-queue-type': 'quorum' },
  })
  await ch.assertQueue(mainQueue(t, name), mainArguments(t, name))
}

/** Declares the delay queue for `ms` (a bucket from `delayBucket`). */
export async function declareDelayQueue(
  ch: Channel,
  t: Topology,
  name: string,
  ms: number,
): Promise<string> {
  const queue = delayQueue(t, name, ms)
  await ch.assertQueue(queue, {
    durable: true,
    arguments: {
      'x-message-ttl': ms,
      'x-expires': delayQueueExpiry(ms),
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': mainQueue(t, name),
    },
  })
  return queue
}

/**
 * Remembers what one channel has declared, so a publish declares a job name's queues once per
 * connection and a delay queue again only when its last declaration is getting old.
 */
export class Declared {
  private readonly at = new Map<string, number>()
  constructor(
    private readonly ch: Channel,
    private readonly t: Topology,
  ) {}

  async jobQueues(name: string): Promise<void> {
    if (this.at.has(name)) return
    await declareJobQueues(this.ch, this.t, name)
    this.at.set(name, 0)
  }

  /** The queue to publish a message delayed by `ms` (already bucketed) into. */
  async delay(name: string, ms: number): Promise<string> {
    const key = `${name}\u0000${ms}`
    const last = this.at.get(key)
    const now = Date.now()
    if (last !== undefined && now - last < REDECLARE_MS) return delayQueue(this.t, name, ms)
    // A bounded memory: delays are bucketed, but many names could still add up.
    if (this.at.size > 10_000) this.at.clear()
    const queue = await declareDelayQueue(this.ch, this.t, name, ms)
    this.at.set(key, now)
    return queue
  }
}

/**
 * A consumer channel's acknowledgements, sent together. amqplib writes each frame to the socket on
 * its own, so 50 jobs settled at once (one record-store reply) would be 50 writes and 50 frames
 * for the broker to apply. Acks asked for in one tick are sent when its microtasks are done: the
 * oldest deliveries, when all of them are acked, as one `basic.ack` with `multiple` (which
 * acknowledges every delivery up to its tag); the others one by one.
 *
 * `multiple` covers only deliveries that were asked for: a delivery still running holds back the
 * `multiple` of those after it, never their acks (they go one by one), so a long job never keeps
 * a prefetch slot of a finished one.
 */
import type { ConfirmChannel, ConsumeMessage } from 'amqplib'

export class AckBatch {
  /** Deliveries not yet acked or nacked, in delivery order (their tags increase). */
  private readonly open: ConsumeMessage[] = []
  private readonly asked = new Set<ConsumeMessage>()
  private scheduled = false
  private lost = false

  constructor(private readonly ch: ConfirmChannel) {}

  /** A delivery arrived on the channel. */
  delivered(message: ConsumeMessage): void {
    this.open.push(message)
  }

  /** Acks `message` with this tick's others. */
  ack(message: ConsumeMessage): void {
    if (this.lost) return
    this.asked.add(message)
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => this.flush())
  }

  /** Nacks `message` now (handing it back, or to the dead letter when `requeue` is false). */
  nack(message: ConsumeMessage, requeue: boolean): void {
    this.forget(message)
    if (this.lost) return
    try {
      this.ch.nack(message, false, requeue)
    } catch {
      // The channel closed: the broker has the message back already.
    }
  }

  /** Sends the acks asked for. */
  flush(): void {
    this.scheduled = false
    if (this.lost || this.asked.size === 0) return
    let head = 0
    while (head < this.open.length && this.asked.has(this.open[head]!)) head++
    try {
      if (head > 0) {
        const last = this.open[head - 1]!
        for (let i = 0; i < head; i++) this.asked.delete(this.open[i]!)
        this.open.splice(0, head)
        this.ch.ack(last, head > 1)
      }
      for (const message of this.asked) {
        this.forget(message)
        this.ch.ack(message)
      }
    } catch {
      // Closed meanwhile: the broker delivers the rest again.
    }
    this.asked.clear()
  }

  /** The channel is gone: nothing more is sent (the broker delivers the unacked again). */
  lose(): void {
    this.lost = true
    this.open.length = 0
    this.asked.clear()
  }

  private forget(message: ConsumeMessage): void {
    const at = this.open.indexOf(message)
    if (at >= 0) this.open.splice(at, 1)
  }
}

/**
 * Publishing with a confirm, bounded: `confirmed()` resolves when the broker has taken the
 * message (written it to its quorum), and `bounded()` races any broker operation against
 * fanout's own timeout and the caller's signal, so an unreachable, partitioned or blocked broker
 * fails the call within that time instead of hanging it.
 */
import type { ConfirmChannel, Options } from 'amqplib'
import { QueueUnavailableError } from '../core/errors.js'
import { onAbort } from '../core/signals.js'

/** The broker nacked a publish: with `x-overflow: reject-publish`, the queue is at its length. */
export class Nacked extends Error {
  override readonly name = 'Nacked'
}

/** Publishes and resolves on the broker's ack; rejects on a nack or when the channel closes first. */
export function confirmed(
  ch: ConfirmChannel,
  queue: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    try {
      ch.sendToQueue(queue, content, options, (error: unknown) => {
        if (error === null || error === undefined) resolve()
        else if (error instanceof Error && error.message.includes('nack')) reject(new Nacked())
        else reject(error)
      })
    } catch (error) {
      reject(error)
    }
  })
}

export const unavailable = (
  operation: string,
  reason: 'timeout' | 'error' | 'closed',
  detail: string,
  cause?: unknown,
): QueueUnavailableError =>
  new QueueUnavailableError(
    'amqp',
    operation,
    reason,
    `amqpQueue: ${operation} ${detail}`,
    cause === undefined ? undefined : { cause },
  )

/**
 * `work()`, or a `QueueUnavailableError` (reason `timeout`) once `ms` have passed or `signal`
 * aborts. Work that goes on afterwards is ignored (its rejection handled); the timer and the
 * signal listener are released on every path.
 */
export function bounded<T>(
  operation: string,
  ms: number,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (signal?.aborted === true)
    return Promise.reject(
      unavailable(operation, 'timeout', 'was aborted by its caller', signal.reason),
    )
  return new Promise<T>((resolve, reject) => {
    let unsubscribe = (): void => {}
    const timer = setTimeout(() => {
      unsubscribe()
      reject(unavailable(operation, 'timeout', `got no answer from RabbitMQ within ${ms} ms`))
    }, ms)
    if (signal !== undefined)
      unsubscribe = onAbort(signal, () => {
        clearTimeout(timer)
        reject(unavailable(operation, 'timeout', 'was aborted by its caller', signal.reason))
      })
    const done = (): void => {
      clearTimeout(timer)
      unsubscribe()
    }
    work().then(
      (value) => {
        done()
        resolve(value)
      },
      (error: unknown) => {
        done()
        reject(error)
      },
    )
  })
}

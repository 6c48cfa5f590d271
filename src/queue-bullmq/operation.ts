/**
 * The bound on every call other than `enqueue()` (`status`, `cancel`, `dead`, `requeueDead`): it
 * settles within `operationTimeoutMs`, and a Redis failure surfaces as a `QueueUnavailableError`
 * naming the operation, never as a client's own error or a hang.
 */
import { systemClock } from '../core/clock.js'
import { isFanoutError, QueueUnavailableError } from '../core/errors.js'
import { withTimeLimit } from '../core/time-limit.js'

export function bounded<T>(
  operation: string,
  ms: number,
  closed: boolean,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (closed)
    return Promise.reject(
      new QueueUnavailableError(
        'bullmq',
        operation,
        'closed',
        'BullMQ queue unavailable: the queue is closed',
      ),
    )
  return withTimeLimit(
    systemClock,
    undefined,
    ms,
    () =>
      new QueueUnavailableError(
        'bullmq',
        operation,
        'timeout',
        `BullMQ queue unavailable: Redis did not answer ${operation} within ${ms} ms`,
      ),
    work,
  ).catch((error: unknown) => {
    if (isFanoutError(error)) throw error
    throw new QueueUnavailableError(
      'bullmq',
      operation,
      'error',
      `BullMQ queue unavailable: ${operation} failed on Redis`,
      { cause: error },
    )
  })
}

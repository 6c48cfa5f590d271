/**
 * How a caller waits for a slot or a permit. Its own module so the shared-permit path can take
 * it without importing the limiter that uses that path.
 */
import type { Clock } from '../core/clock.js'

export interface WaitOptions {
  readonly signal?: AbortSignal | undefined
  /** Absolute time on `clock` after which the waiter gives up. */
  readonly deadlineAt?: number
  readonly clock?: Clock
  readonly key?: string | undefined
  readonly priority?: number | undefined
  /** The error for running out of `deadlineAt` (default: a DeadlineError). */
  readonly timeoutError?: (() => unknown) | undefined
  /** With a shared store: hears that a running call's permit was lost (a `LeaseLostError`). */
  readonly onLeaseLost?: ((error: unknown) => void) | undefined
}

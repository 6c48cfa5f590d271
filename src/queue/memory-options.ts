/** The options of `memoryQueue()`, checked once at construction. */
import { systemClock, type Clock } from '../core/clock.js'
import { checkClock, checkKnownKeys, checkNumber, snapshot } from '../core/validate.js'

export interface MemoryQueueOptions {
  /**
   * Jobs waiting (queued or delayed) at most; one more enqueue rejects with `QueueFullError`
   * instead of growing memory without bound (H8). Default 10,000.
   */
  readonly maxQueued?: number
  /** Completed and failed jobs kept for `status()`; the oldest are dropped first. Default 1,000. */
  readonly maxFinished?: number
  /** Dead-lettered jobs kept; the oldest are dropped first. Default 1,000. */
  readonly maxDead?: number
  /** Source of time for delays and retries (fake timers drive it). Default the system clock. */
  readonly clock?: Clock
}

export interface MemorySettings {
  readonly maxQueued: number
  readonly maxFinished: number
  readonly maxDead: number
  readonly clock: Clock
}

const KNOWN = ['maxQueued', 'maxFinished', 'maxDead', 'clock'] as const
const WHERE = 'memoryQueue()'
const COUNT = { min: 1, max: 10_000_000, integer: true } as const

export function memorySettings(options: MemoryQueueOptions | undefined): MemorySettings {
  const opts = snapshot(WHERE, options)
  checkKnownKeys(WHERE, opts, KNOWN)
  if (opts.clock !== undefined) checkClock(WHERE, opts.clock)
  const count = (name: 'maxQueued' | 'maxFinished' | 'maxDead', fallback: number): number =>
    opts[name] === undefined ? fallback : checkNumber(WHERE, name, opts[name], COUNT)
  return {
    maxQueued: count('maxQueued', 10_000),
    maxFinished: count('maxFinished', 1_000),
    maxDead: count('maxDead', 1_000),
    clock: opts.clock ?? systemClock,
  }
}

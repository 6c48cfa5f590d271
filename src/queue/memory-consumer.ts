/**
 * One `consume()` of the embedded queue: how many jobs it runs at once, which ones, and how it
 * closes (stop fetching, let running jobs finish within the grace period, then take the rest
 * back so they run again: never acknowledged, never lost).
 */
import type { Clock } from '../core/clock.js'
import { AbortedError } from '../core/errors.js'
import { checkDuration, checkKnownKeys, snapshot } from '../core/validate.js'
import type { CloseOptions, Consumer, Delivery, Settlement } from './job-queue.js'
import type { MemoryJob } from './memory-job.js'

export interface ConsumerHost {
  readonly clock: Clock
  /** Stops handing this consumer jobs. */
  detach(consumer: MemoryConsumer): void
  /** Puts a job that was running back in line, its run ignored from now on. */
  takeBack(job: MemoryJob): void
}

export class MemoryConsumer implements Consumer {
  readonly active = new Set<MemoryJob>()
  closing = false
  #idle: (() => void) | undefined

  constructor(
    readonly name: string,
    readonly process: (delivery: Delivery) => Promise<Settlement>,
    readonly concurrency: number,
    readonly host: ConsumerHost,
  ) {}

  get free(): boolean {
    return !this.closing && this.active.size < this.concurrency
  }

  /** Called by the queue when one of its runs ended (settled or taken back). */
  released(job: MemoryJob): void {
    this.active.delete(job)
    if (this.active.size === 0) this.#idle?.()
  }

  close(options: CloseOptions): Promise<void> {
    const opts = snapshot('Consumer.close()', options)
    checkKnownKeys('Consumer.close()', opts, ['graceMs'])
    const graceMs = checkDuration('Consumer.close()', 'graceMs', opts.graceMs, {
      min: 0,
      allowInfinity: true,
    })
    if (!this.closing) {
      this.closing = true
      this.host.detach(this)
    }
    if (this.active.size === 0) return Promise.resolve()
    const clock = this.host.clock
    return new Promise<void>((resolve) => {
      const timer =
        graceMs === Infinity ? undefined : clock.setTimeout(() => this.#expire(), graceMs)
      const previous = this.#idle
      this.#idle = () => {
        if (timer !== undefined) clock.clearTimeout(timer)
        previous?.()
        resolve()
      }
    })
  }

  /** The grace period is over: the jobs still running go back to the queue, their signals aborted. */
  #expire(): void {
    for (const job of [...this.active]) {
      const run = job.run
      this.host.takeBack(job)
      run?.controller.abort(
        new AbortedError(`job "${job.id}" was taken back: its consumer closed before it finished`),
      )
    }
  }
}

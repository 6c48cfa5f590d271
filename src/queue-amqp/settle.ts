/**
 * Carrying out what the worker decided, before the delivery is acknowledged:
 *
 * - `completed` / `failed`: the record says so;
 * - `retry`: a copy for the next attempt goes to the delay queue of its (bucketed) delay and is
 *   confirmed by the broker, then the record says queued with its `runAt`;
 * - `dead`: a copy goes to the dead queue (confirmed), then the record says dead.
 *
 * Broker first, record second, acknowledgement last: a crash in between runs the attempt again
 * (at least once) rather than losing the job. A copy's attempt header lets `start()` drop the
 * original if it is redelivered after its retry was published.
 */
import type { ConfirmChannel } from 'amqplib'
import type { Settlement } from '../queue/job-queue.js'
import type { ConsumerContext } from './context.js'
import { encode, publishOptions, type JobMessage } from './message.js'
import { confirmed } from './publish.js'
import { deadQueue, delayBucket, mainQueue, type Declared } from './topology.js'

export async function settle(
  ctx: ConsumerContext,
  ch: ConfirmChannel,
  declared: Declared,
  job: JobMessage,
  /** The attempt header of the delivered copy (not the attempt count, which a requeue resets). */
  pending: number,
  settlement: Settlement,
  /** The attempt `start()` answered for this run: the record takes the settlement only from it. */
  run: number,
): Promise<void> {
  const t = ctx.topology
  switch (settlement.outcome) {
    case 'completed':
      await ctx.store.update(job.id, { state: 'completed', result: settlement.result }, run)
      return
    case 'failed':
      await ctx.store.update(job.id, { state: 'failed', error: errorOnly(settlement.error) }, run)
      return
    case 'retry': {
      const next = pending + 1
      const wait = delayBucket(settlement.delayMs)
      const queue = wait === 0 ? mainQueue(t, job.name) : await declared.delay(job.name, wait)
      await confirmed(ch, queue, encode(job), publishOptions(job.id, next))
      await ctx.store.update(
        job.id,
        {
          state: 'queued',
          runAt: Date.now() + wait,
          lastError: errorOnly(settlement.error),
          pending: next,
        },
        run,
      )
      return
    }
    case 'dead': {
      await confirmed(ch, deadQueue(t, job.name), encode(job), publishOptions(job.id, pending))
      await ctx.store.update(
        job.id,
        {
          state: 'dead',
          error: errorOnly(settlement.error),
          diedAt: Date.now(),
        },
        run,
      )
      return
    }
  }
}

/** Code and status only, whatever else the object carries: nothing else may be stored. */
const errorOnly = (e: { readonly code: string; readonly status: number | null }) => ({
  code: String(e.code),
  status: typeof e.status === 'number' ? e.status : null,
})

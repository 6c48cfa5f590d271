/**
 * Carrying out what `worker()` decided, in BullMQ's terms:
 * - completed: the processor returns the result, BullMQ stores it;
 * - retry: the job moves to delayed for exactly `delayMs` (BullMQ's backoff never decides), with
 *   the attempt's error kept on the job for `status()`;
 * - failed: an `UnrecoverableError`, so BullMQ fails it without another attempt;
 * - dead: the same, after a dead-letter record is written (a crash in between leaves the job to
 *   run again, and the record is written again under the same id).
 * Errors are stored as code and status only (`encodeFailure`).
 */
import type { Job } from 'bullmq'
import type { JobData, Settlement } from '../queue/job-queue.js'
import type { Bullmq } from './bullmq.js'
import { deadKeys, deadRecord, writeRecord } from './dead-letter.js'
import { encodeFailure, errorInfo, LAST_ERROR_FIELD, RUN_AT_FIELD } from './payload.js'
import type { BullClient, Producers } from './producer.js'

export interface SettleContext {
  readonly bull: Bullmq
  readonly producers: Producers
  readonly prefix: string
  readonly maxDead: number
  client(): Promise<BullClient>
}

export async function settle(
  ctx: SettleContext,
  job: Job,
  token: string,
  id: string,
  settlement: Settlement,
): Promise<JobData> {
  switch (settlement.outcome) {
    case 'completed':
      return settlement.result
    case 'retry': {
      const runAt = Date.now() + Math.max(0, settlement.delayMs)
      const client = await ctx.client()
      await client.hset(`${ctx.prefix}:${job.queueName}:${job.id!}`, {
        [LAST_ERROR_FIELD]: JSON.stringify(errorInfo(settlement.error)),
        [RUN_AT_FIELD]: runAt,
      })
      await job.moveToDelayed(runAt, token)
      throw new ctx.bull.DelayedError()
    }
    case 'failed':
      throw new ctx.bull.UnrecoverableError(encodeFailure(settlement.error, false))
    case 'dead': {
      const client = await ctx.client()
      const record = deadRecord(id, job.name, job.attemptsStarted, settlement.error, Date.now())
      await writeRecord(ctx.producers, client, deadKeys(ctx.prefix, job.name), record, ctx.maxDead)
      throw new ctx.bull.UnrecoverableError(encodeFailure(settlement.error, true))
    }
  }
}

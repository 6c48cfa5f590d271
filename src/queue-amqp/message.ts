/**
 * A job as a RabbitMQ message: the body is the job (JSON), the header `x-fanout-attempt` the
 * attempt number this copy is for (see `JobRecord.pending`), left out for attempt 1 (what a
 * missing header means): a first copy, most messages, has no headers table for amqplib to
 * encode and decode and the broker to parse. Persistent, so a durable queue keeps it across a
 * broker restart.
 */
import type { Message, Options } from 'amqplib'
import type { JobData } from '../queue/job-queue.js'

export interface JobMessage {
  readonly id: string
  readonly name: string
  readonly data: JobData
  readonly attempts: number
  readonly deadlineAt: number | null
}

export const ATTEMPT_HEADER = 'x-fanout-attempt'

export function encode(job: JobMessage): Buffer {
  return Buffer.from(JSON.stringify(job))
}

export function publishOptions(id: string, pending: number): Options.Publish {
  const options: Options.Publish = {
    persistent: true,
    messageId: id,
    contentType: 'application/json',
  }
  if (pending > 1) options.headers = { [ATTEMPT_HEADER]: pending }
  return options
}

/** The job a delivered message carries, or undefined for a message fanout did not write. */
export function decode(message: Message): { job: JobMessage; pending: number } | undefined {
  try {
    const job = JSON.parse(message.content.toString('utf8')) as Partial<JobMessage> | null
    if (
      job === null ||
      typeof job !== 'object' ||
      typeof job.id !== 'string' ||
      typeof job.name !== 'string' ||
      typeof job.attempts !== 'number' ||
      !('data' in job)
    )
      return undefined
    const header: unknown = message.properties.headers?.[ATTEMPT_HEADER]
    const pending = typeof header === 'number' && header >= 1 ? header : 1
    return {
      job: {
        id: job.id,
        name: job.name,
        data: job.data as JobData,
        attempts: job.attempts,
        deadlineAt: typeof job.deadlineAt === 'number' ? job.deadlineAt : null,
      },
      pending,
    }
  } catch {
    return undefined
  }
}

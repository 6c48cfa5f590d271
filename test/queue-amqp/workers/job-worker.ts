/**
 * A worker process for the crash and shutdown cases: `worker(amqpQueue)` with job records in
 * Redis, running `charge` jobs. Each job does its side effect behind an idempotency guard (a file
 * created exclusively per job id: the pattern a unique constraint gives in production), then
 * holds for `holdMs` (or until its signal aborts, noted in the file `aborted`). It sends `{ started }` once `reportAfter` jobs have started; on SIGTERM it
 * closes the worker with `graceMs` and exits 0.
 */
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { amqpQueue, redisRecordStore } from '../../../src/queue-amqp/index.js'
import { worker } from '../../../src/queue/index.js'
import { workerInput } from '../../helpers/fork.js'
import { chargeOnce } from './charge.js'
import { RABBITMQ_URL } from '../../helpers/rabbitmq.js'
import { connect } from '../../helpers/redis.js'

interface Input {
  readonly prefix: string
  readonly keys: string
  readonly name: string
  readonly dir: string
  readonly holdMs: number
  readonly reportAfter: number
  readonly graceMs: number
  readonly concurrency: number
}

const input = workerInput<Input>()
const redis = await connect('node-redis')
const records = redisRecordStore({ redis: redis.connection, prefix: input.keys })
const queue = amqpQueue({ url: RABBITMQ_URL, prefix: input.prefix, records })

let started = 0
const w = worker(
  queue,
  input.name,
  async (_data: { amount: number }, ctx) => {
    chargeOnce(input.dir, ctx.jobId)
    appendFileSync(join(input.dir, 'runs'), `${ctx.jobId} ${process.pid} ${ctx.attempt}\n`)
    if (++started === input.reportAfter) process.send!({ started })
    // Holds, unless the job is cancelled (or handed back on close): then ends with the signal's reason.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, input.holdMs)
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer)
        appendFileSync(join(input.dir, 'aborted'), `${ctx.jobId}\n`)
        reject(ctx.signal.reason)
      })
    })
    return { by: process.pid }
  },
  { concurrency: input.concurrency },
)

process.once('SIGTERM', () => {
  void (async () => {
    await w.close({ graceMs: input.graceMs })
    await queue.close()
    await records.close()
    await redis.close()
    process.exit(0)
  })()
})

/**
 * A worker process for H2 (a handler that blocks its event loop): `worker(amqpQueue)` with a 1 s
 * heartbeat and job records in Redis. The first run of a job anywhere (whoever creates the file
 * `first-<id>` exclusively) spins synchronously, so amqplib sends no heartbeat and the broker
 * drops this connection and delivers the job to the other consumer; it spins until another run has
 * started (the file `second-<id>`, which a blocked loop can still read) or `blockCapMs` has passed.
 * Every run then does the side effect behind the documented idempotency guard (a file created
 * exclusively per job id) and notes, in `guards`, whether its guard won.
 */
import { appendFileSync, closeSync, existsSync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { amqpQueue, redisRecordStore } from '../../../src/queue-amqp/index.js'
import { worker } from '../../../src/queue/index.js'
import { workerInput } from '../../helpers/fork.js'
import { connect } from '../../helpers/redis.js'

interface Input {
  /** The broker (passed in: importing the RabbitMQ helper would probe it again in every process). */
  readonly url: string
  readonly prefix: string
  readonly keys: string
  readonly name: string
  readonly dir: string
  readonly blockCapMs: number
}

const input = workerInput<Input>()
const redis = await connect('node-redis')
const records = redisRecordStore({ redis: redis.connection, prefix: input.keys })
const queue = amqpQueue({ url: input.url, prefix: input.prefix, records, heartbeat: 1 })

/** Creates `file` in the test's directory unless it exists; true when this call created it. */
const claim = (file: string): boolean => {
  try {
    closeSync(openSync(join(input.dir, file), 'wx'))
    return true
  } catch {
    return false
  }
}

const w = worker(queue, input.name, (_data: { amount: number }, ctx) => {
  appendFileSync(join(input.dir, 'runs'), `${process.pid} ${ctx.attempt}\n`)
  const first = claim(`first-${ctx.jobId}`)
  if (first) {
    const until = Date.now() + input.blockCapMs
    while (!existsSync(join(input.dir, `second-${ctx.jobId}`)) && Date.now() < until) {
      // Busy: no heartbeat, no socket read, no timer runs in this process meanwhile.
    }
  } else writeFileSync(join(input.dir, `second-${ctx.jobId}`), '')
  const won = claim(`guard-${ctx.jobId}`)
  if (won) appendFileSync(join(input.dir, 'effects'), `${ctx.jobId}\n`)
  appendFileSync(join(input.dir, 'guards'), `${process.pid} ${won ? 'won' : 'skipped'}\n`)
  return { by: process.pid, first }
})

process.once('SIGTERM', () => {
  void (async () => {
    await w.close({ graceMs: 0 })
    await queue.close()
    await records.close()
    await redis.close()
    process.exit(0)
  })()
})
// Not `reply()`, which exits: this process runs until it is killed or terminated.
process.send!({ started: true })

/**
 * A worker process for H2 (a handler that blocks the event loop past the lock): `worker(bullmqQueue)`
 * with a 1 s lock. The first run of a job anywhere (the first entry of the shared run list) spins
 * synchronously, so this process can neither extend its lock nor answer Redis, until another run
 * of the job has started (a marker file the second run writes; a file, because a blocked loop can
 * still read one) or `blockCapMs` has passed. Every run then does the side effect behind the
 * documented idempotency guard (SET NX on the job id, then INCR of the effect counter) and notes
 * whether its guard won.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { worker } from '../../../src/queue/index.js'
import { bullmqQueue } from '../../../src/queue-bullmq/index.js'
import { workerInput } from '../../helpers/fork.js'
import { rawClient, type ClientKind } from '../clients.js'

interface Input {
  readonly kind: ClientKind
  readonly prefix: string
  readonly name: string
  readonly dir: string
  readonly blockCapMs: number
}

const input = workerInput<Input>()
const raw = await rawClient(input.kind)
const queue = bullmqQueue({
  connection: raw.client,
  prefix: input.prefix,
  lockDurationMs: 1000,
  stalledIntervalMs: 300,
})
const marker = (jobId: string): string => join(input.dir, `second-${jobId}`)

const w = worker(queue, input.name, async (_data, ctx) => {
  const run = Number(
    await raw.command([
      'RPUSH',
      `${input.prefix}:runs`,
      `${process.pid}:${ctx.jobId}:${ctx.attempt}`,
    ]),
  )
  if (run === 1) {
    const until = Date.now() + input.blockCapMs
    while (!existsSync(marker(ctx.jobId)) && Date.now() < until) {
      // Busy: no timer, no socket read, no lock extension runs in this process meanwhile.
    }
  } else writeFileSync(marker(ctx.jobId), '')
  const won = (await raw.command(['SET', `${input.prefix}:guard:${ctx.jobId}`, '1', 'NX'])) === 'OK'
  if (won) await raw.command(['INCR', `${input.prefix}:effects`])
  await raw.command([
    'RPUSH',
    `${input.prefix}:guards`,
    `${process.pid}:${won ? 'won' : 'skipped'}`,
  ])
  return { by: process.pid, run }
})
process.once('SIGTERM', () => {
  void (async () => {
    await w.close({ graceMs: 0 })
    await queue.close()
    raw.close()
    process.exit(0)
  })()
})
// Not `reply()`, which exits: this process runs until it is killed or terminated.
process.send!({ started: true })

/**
 * A worker process for the BullMQ fault cases: `worker(bullmqQueue)` on a client of the given
 * kind. Each run does the job's side effect behind an idempotency guard in Redis (SET NX on the
 * job id, then INCR of the effect counter: the documented pattern), then, by `mode`:
 * - `hang`: never finishes (the parent SIGKILLs the process, H1);
 * - `slow`: finishes after `ms`, ignoring its signal (H3);
 * On SIGTERM it closes the worker with `graceMs` and exits (H3). It messages once it consumes.
 */
import { worker } from '../../../src/queue/index.js'
import { bullmqQueue } from '../../../src/queue-bullmq/index.js'
import { workerInput } from '../../helpers/fork.js'
import { rawClient, type ClientKind } from '../clients.js'

interface Input {
  readonly kind: ClientKind
  readonly prefix: string
  readonly name: string
  readonly mode: 'hang' | 'slow'
  readonly ms: number
  readonly graceMs: number
  readonly concurrency: number
}

const input = workerInput<Input>()
const raw = await rawClient(input.kind)
const queue = bullmqQueue({
  connection: raw.client,
  prefix: input.prefix,
  lockDurationMs: 1000,
  stalledIntervalMs: 300,
})
const w = worker(
  queue,
  input.name,
  async (_data, ctx) => {
    await raw.command([
      'RPUSH',
      `${input.prefix}:runs`,
      `${process.pid}:${ctx.jobId}:${ctx.attempt}`,
    ])
    if ((await raw.command(['SET', `${input.prefix}:guard:${ctx.jobId}`, '1', 'NX'])) === 'OK')
      await raw.command(['INCR', `${input.prefix}:effects`])
    if (input.mode === 'hang') await new Promise(() => {})
    await new Promise((r) => setTimeout(r, input.ms))
    return { by: process.pid }
  },
  { concurrency: input.concurrency, backoff: { strategy: 'none', baseDelay: 0, maxDelay: 0 } },
)
process.once('SIGTERM', () => {
  void (async () => {
    await w.close({ graceMs: input.graceMs })
    await queue.close()
    raw.close()
    process.exit(0)
  })()
})
// Not `reply()`, which exits: this process runs until it is killed or terminated.
process.send!({ started: true })

/**
 * A worker process for the BullMQ fault cases: `worker(bullmqQueue)` on a client of the given
 * kind. Each run does the job's side effect behind an idempotency guard in Redis (SET NX on the
 * job id, then INCR of the effect counter: the documented pattern), then, by `mode`:
 * - `hang`: never finishes (the parent SIGKILLs the process, H1);
 * - `slow`: finishes after `ms`, ignoring its signal (H3);
 * On SIGTERM it closes the worker with `graceMs` and exits (H3). It messages once it consumes.
 */
import { worker } from '../../../src/queue/index.js'
import { workerInput } from '../../helpers/fork.js'
import type { ClientKind } from '../clients.js'
import { chargeOnce, noteRun, openQueue, serveUntilTerm } from './shared.js'

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
const { raw, queue } = await openQueue(input.kind, input.prefix)
const w = worker(
  queue,
  input.name,
  async (_data, ctx) => {
    await noteRun(raw, input.prefix, ctx.jobId, ctx.attempt)
    await chargeOnce(raw, input.prefix, ctx.jobId)
    if (input.mode === 'hang') await new Promise(() => {})
    await new Promise((r) => setTimeout(r, input.ms))
    return { by: process.pid }
  },
  { concurrency: input.concurrency, backoff: { strategy: 'none', baseDelay: 0, maxDelay: 0 } },
)
serveUntilTerm(w, queue, raw, input.graceMs)

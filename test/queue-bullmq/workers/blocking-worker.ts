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
import { workerInput } from '../../helpers/fork.js'
import type { ClientKind } from '../clients.js'
import { chargeOnce, noteRun, openQueue, serveUntilTerm } from './shared.js'

interface Input {
  readonly kind: ClientKind
  readonly prefix: string
  readonly name: string
  readonly dir: string
  readonly blockCapMs: number
}

const input = workerInput<Input>()
const { raw, queue } = await openQueue(input.kind, input.prefix)
const marker = (jobId: string): string => join(input.dir, `second-${jobId}`)

const w = worker(queue, input.name, async (_data, ctx) => {
  const run = await noteRun(raw, input.prefix, ctx.jobId, ctx.attempt)
  if (run === 1) {
    const until = Date.now() + input.blockCapMs
    while (!existsSync(marker(ctx.jobId)) && Date.now() < until) {
      // Busy: no timer, no socket read, no lock extension runs in this process meanwhile.
    }
  } else writeFileSync(marker(ctx.jobId), '')
  const won = await chargeOnce(raw, input.prefix, ctx.jobId)
  await raw.command([
    'RPUSH',
    `${input.prefix}:guards`,
    `${process.pid}:${won ? 'won' : 'skipped'}`,
  ])
  return { by: process.pid, run }
})
serveUntilTerm(w, queue, raw, 0)

/**
 * `requeueDead()`: moves dead jobs back to their main queue as new attempts. It reads the dead
 * queue with basic.get, as many messages as it held when the call began (bounded by
 * MAX_REQUEUE), so jobs dead-lettered meanwhile wait for the next call. A job not asked for goes
 * back to the dead queue's tail (publish confirmed, then ack), keeping the order of the rest.
 *
 * A message the delivery-limit backstop dead-lettered (its worker kept dying) has a record still
 * `running`: it is requeued as it is. One whose record is completed or failed is dropped.
 */
import type { ConfirmChannel, GetMessage } from 'amqplib'
import type { ConsumerContext } from './context.js'
import { decode, encode, publishOptions } from './message.js'
import { confirmed, unavailable } from './publish.js'
import { deadQueue, declareJobQueues, mainQueue } from './topology.js'

const MAX_REQUEUE = 10_000
const noop = (): void => {}

export async function requeueDead(
  ctx: ConsumerContext,
  name: string,
  ids: readonly string[] | undefined,
): Promise<number> {
  const wanted = ids === undefined ? undefined : new Set(ids)
  let ch: ConfirmChannel
  try {
    ch = await (await ctx.link.session()).model.createConfirmChannel()
  } catch (error) {
    throw unavailable('requeueDead', 'error', 'could not open a channel on RabbitMQ', error)
  }
  ch.on('error', noop)
  try {
    await declareJobQueues(ch, ctx.topology, name)
    const dead = deadQueue(ctx.topology, name)
    const { messageCount } = await ch.checkQueue(dead)
    let moved = 0
    for (let i = 0; i < Math.min(messageCount, MAX_REQUEUE); i++) {
      const message = await ch.get(dead, { noAck: false })
      if (message === false) break
      if (await requeueOne(ctx, ch, name, message, wanted)) moved++
      ch.ack(message)
    }
    return moved
  } finally {
    await ch.close().catch(noop)
  }
}

/** Moves one message on; true when it went back to the main queue. */
async function requeueOne(
  ctx: ConsumerContext,
  ch: ConfirmChannel,
  name: string,
  message: GetMessage,
  wanted: ReadonlySet<string> | undefined,
): Promise<boolean> {
  const dead = deadQueue(ctx.topology, name)
  const decoded = decode(message)
  if (decoded === undefined || (wanted !== undefined && !wanted.has(decoded.job.id))) {
    await confirmed(ch, dead, message.content, message.properties)
    return false
  }
  const { job, pending } = decoded
  const next = pending + 1
  if (await ctx.store.revive(job.id, next)) {
    await confirmed(ch, mainQueue(ctx.topology, name), encode(job), publishOptions(job.id, next))
    return true
  }
  const record = await ctx.store.get(job.id)
  if (record !== undefined && (record.state === 'completed' || record.state === 'failed'))
    return false
  await confirmed(ch, mainQueue(ctx.topology, name), encode(job), publishOptions(job.id, pending))
  return true
}

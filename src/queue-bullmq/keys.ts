/**
 * Names in Redis. BullMQ keeps one queue per job name (a worker takes every job of its queue),
 * under `<prefix>:<name>:`. A fanout id becomes a BullMQ job id that BullMQ accepts whatever the
 * id holds: BullMQ refuses ids that are integers or contain `:`, and an id such as `meta` would
 * collide with the queue's own keys, so every id gets an `@` in front and its `:` escaped.
 */

export function toJobId(id: string): string {
  return `@${id.replaceAll('%', '%25').replaceAll(':', '%3A')}`
}

export function fromJobId(jobId: string): string {
  return jobId.slice(1).replaceAll('%3A', ':').replaceAll('%25', '%')
}

export function jobKey(prefix: string, name: string, id: string): string {
  return `${prefix}:${name}:${toJobId(id)}`
}

/** fanout's own keys for a name, next to BullMQ's. */
export function fanoutKeys(prefix: string, name: string) {
  const base = `${prefix}:${name}:fanout`
  return {
    /** Hash id → dead-letter record (JSON), and a zset id → diedAt for order and the cap. */
    deadRecords: `${base}:dead`,
    deadOrder: `${base}:dead-order`,
    /** Hash id → cancellation time of jobs cancelled while queued, and its ordering zset. */
    cancelled: `${base}:cancelled`,
    cancelledOrder: `${base}:cancelled-order`,
  } as const
}

/** The set of names ever enqueued under a prefix: `status(id)` looks for the id in each. */
export const namesKey = (prefix: string): string => `${prefix}:fanout:names`
/** Cancellation of running jobs reaches every consumer through this channel. */
export const cancelChannel = (prefix: string): string => `${prefix}:fanout:cancel`

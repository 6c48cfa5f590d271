/**
 * `fanout/queue/bullmq`: the `JobQueue` seam on BullMQ and the application's Redis. bullmq is an
 * optional peer, loaded by the first `bullmqQueue()` (a missing package is a `MissingPeerError`
 * naming it); this subpath imports no Redis client either.
 */
export { bullmqQueue } from './queue.js'
export type { BullmqQueueOptions } from './options.js'
export type { BullmqRedisClient, IoredisQueueClient, NodeRedisQueueClient } from './clients.js'

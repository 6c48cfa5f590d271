/**
 * `fanout/queue/amqp`: fanout's job queue on RabbitMQ, through amqplib (an optional peer, loaded
 * by the first `amqpQueue()`). Job records (status, dedupe, cancel, the dead listing) live in a
 * `JobRecordStore`: `memoryRecordStore()` in one process, `redisRecordStore()` across many.
 */
export { amqpQueue, type AmqpQueue } from './queue.js'
export type { AmqpQueueOptions } from './options.js'
export type {
  CancelAnswer,
  JobRecord,
  JobRecordStore,
  RecordUpdate,
  StartAnswer,
} from './records.js'
export { memoryRecordStore, type MemoryRecordStoreOptions } from './memory-records.js'
export { redisRecordStore, type RedisRecordStoreOptions } from './redis-records.js'

/**
 * `fanout/queue`: slow work off the request path. `offload()` adds a job from a route, `worker()`
 * runs it under fanout's policies, `jobStatus()` answers `GET /jobs/:id`. The broker is a
 * `JobQueue`: the embedded `memoryQueue()`, BullMQ (`fanout/queue/bullmq`) or RabbitMQ
 * (`fanout/queue/amqp`).
 */
export type {
  CloseOptions,
  ConsumeOptions,
  Consumer,
  DeadJob,
  Delivery,
  EnqueueRequest,
  EnqueueResult,
  JobData,
  JobErrorInfo,
  JobQueue,
  JobState,
  JobStatus,
  Settlement,
} from './job-queue.js'

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
export { memoryQueue, type MemoryQueueOptions } from './memory-queue.js'
export type { Json } from './json-type.js'
export { offload, type OffloadOptions, type OffloadResult } from './offload.js'
export {
  jobOf,
  worker,
  type JobContext,
  type JobHandler,
  type Worker,
  type WorkerOptions,
  type QueueBackoffOptions,
} from './worker.js'
export { accepted, acceptedHeaders, idempotencyKeyOf, type AcceptedOptions } from './accepted.js'
export {
  cancelJob,
  jobStatus,
  requeueDead,
  statusResponse,
  type RequeueDeadOptions,
} from './status.js'
export { isPermanentError, permanentError } from './permanent.js'
export type { CredentialPolicy } from './credentials.js'
export { QueueUnavailableError, type QueueFailure } from '../core/errors.js'

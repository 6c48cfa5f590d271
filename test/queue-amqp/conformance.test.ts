/**
 * The shared JobQueue conformance suite against amqpQueue on the real broker: each test gets a
 * queue prefix of its own, and its queues are deleted afterwards (the main and dead queue of every
 * job name it used; delay queues expire on their own through `x-expires`).
 */
import { describe } from 'vitest'
import { amqpQueue, redisRecordStore } from '../../src/queue-amqp/index.js'
import type { JobQueue } from '../../src/queue/job-queue.js'
import { describeJobQueue } from '../queue/conformance.js'
import {
  amqpPrefix,
  deleteJobQueues,
  RABBITMQ_URL,
  rabbitUp,
  requireRabbitWhenAsked,
} from '../helpers/rabbitmq.js'
import { connect, redisUp, removeKeys, testPrefix } from '../helpers/redis.js'

requireRabbitWhenAsked()

/** The queue, noting every job name it is asked to move, so cleanup knows what to delete. */
function tracked(queue: JobQueue, names: Set<string>): JobQueue {
  return {
    backend: queue.backend,
    enqueue: (request) => {
      names.add(request.name)
      return queue.enqueue(request)
    },
    status: (id) => queue.status(id),
    consume: (name, process, options) => {
      names.add(name)
      return queue.consume(name, process, options)
    },
    cancel: (id) => queue.cancel(id),
    dead: (name, options) => queue.dead(name, options),
    requeueDead: (name, options) => queue.requeueDead(name, options),
    close: () => queue.close(),
  }
}

describe.runIf(rabbitUp)('amqpQueue', () => {
  describeJobQueue('amqp', async (options) => {
    const prefix = amqpPrefix()
    const names = new Set<string>()
    const queue = amqpQueue({ url: RABBITMQ_URL, prefix, ...options })
    return {
      queue: tracked(queue, names),
      features: { maxQueued: true },
      cleanup: async () => {
        await queue.close()
        await deleteJobQueues(prefix, [...names])
      },
    }
  })
})

describe.runIf(rabbitUp && redisUp)('amqpQueue with job records in Redis', () => {
  describeJobQueue('amqp + redisRecordStore', async (options) => {
    const prefix = amqpPrefix()
    const keys = testPrefix()
    const names = new Set<string>()
    const redis = await connect('node-redis')
    const records = redisRecordStore({ redis: redis.connection, prefix: keys })
    const queue = amqpQueue({ url: RABBITMQ_URL, prefix, records, ...options })
    return {
      queue: tracked(queue, names),
      features: { maxQueued: true },
      cleanup: async () => {
        await queue.close()
        await records.close()
        await deleteJobQueues(prefix, [...names])
        await removeKeys(redis, `{${keys}}`)
        await redis.close()
      },
    }
  })
})

/**
 * The shared JobQueue conformance suite on bullmqQueue, on the shared Redis with a prefix per
 * test (removed afterwards), once with each client. Short lock and stalled settings: a job handed
 * back or lost is seen again within a second.
 */
import { afterAll, beforeAll, describe } from 'vitest'
import { bullmqQueue } from '../../src/queue-bullmq/index.js'
import { redisRequired, redisUp, testPrefix } from '../helpers/redis.js'
import { describeJobQueue } from '../queue/conformance.js'
import { rawClient, removePrefix, type RawClient } from './clients.js'

describe.runIf(redisUp || redisRequired).each(['node-redis', 'ioredis'] as const)('%s', (kind) => {
  let raw: RawClient
  beforeAll(async () => {
    raw = await rawClient(kind)
  })
  afterAll(() => raw.close())

  describeJobQueue(`bullmq (${kind})`, async (options) => {
    const prefix = testPrefix()
    const queue = bullmqQueue({
      connection: raw.client,
      prefix,
      lockDurationMs: 1000,
      stalledIntervalMs: 300,
      ...(options.maxQueued === undefined ? {} : { maxQueued: options.maxQueued }),
    })
    return {
      queue,
      features: { maxQueued: true },
      cleanup: async () => {
        await queue.close()
        await removePrefix(raw, prefix)
      },
    }
  })
})

import { describeJobQueue } from './conformance.js'
import { memoryQueue } from '../../src/queue/index.js'

describeJobQueue('memory', (options) => {
  const queue = memoryQueue(options)
  return Promise.resolve({ queue, cleanup: () => queue.close(), features: { maxQueued: true } })
})

/**
 * A broker that blocks publishers (`connection.blocked`: a memory or disk alarm) cannot be made
 * to on the shared broker, so this drives enqueue through a stand-in for amqplib: while blocked,
 * enqueue refuses at once instead of publishing into a socket the broker stopped reading; once
 * unblocked it publishes again.
 */
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { QueueUnavailableError } from '../../src/core/errors.js'
import type { Amqp } from '../../src/queue-amqp/amqplib.js'
import { enqueuer } from '../../src/queue-amqp/enqueue.js'
import { Link } from '../../src/queue-amqp/link.js'
import { memoryRecordStore } from '../../src/queue-amqp/memory-records.js'
import { readOptions } from '../../src/queue-amqp/options.js'
import type { Topology } from '../../src/queue-amqp/topology.js'

/** A connection whose confirm channel acks every publish, and which can be blocked. */
function standIn() {
  const model = Object.assign(new EventEmitter(), {
    close: async () => {},
    createConfirmChannel: async () =>
      Object.assign(new EventEmitter(), {
        assertQueue: async () => ({}),
        sendToQueue: (_q: string, _c: Buffer, _o: unknown, done: (e: unknown) => void) => {
          published++
          setImmediate(() => done(null))
          return true
        },
      }),
  })
  let published = 0
  const amqp = { connect: async () => model } as unknown as Amqp
  return { amqp, model, published: () => published }
}

describe('enqueue while RabbitMQ blocks publishers', () => {
  it('refuses at once while blocked, and publishes again once unblocked', async () => {
    const { amqp, model, published } = standIn()
    const options = readOptions({ url: 'amqp://broker' })
    const topology: Topology = { prefix: 'fanout', deliveryLimit: 20, maxQueued: undefined }
    const link = new Link({
      amqp,
      url: options.url,
      connectTimeoutMs: 1_000,
      heartbeatS: 5,
      topology,
    })
    const store = memoryRecordStore()
    const enqueue = enqueuer({ link, store, topology, options })
    const request = (id: string) => ({
      name: 'mail',
      id,
      data: null,
      attempts: 1,
      delayMs: 0,
      deadlineAt: null,
    })
    expect(await enqueue(request('a'))).toEqual({ id: 'a', deduplicated: false })
    model.emit('blocked', 'low on memory')
    const started = Date.now()
    const error = await enqueue(request('b')).catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(100)
    expect(error).toBeInstanceOf(QueueUnavailableError)
    expect(error).toMatchObject({ backend: 'amqp', operation: 'enqueue', reason: 'error' })
    expect((error as Error).message).toContain('low on memory')
    expect(await store.get('b')).toBeUndefined()
    expect(published()).toBe(1)
    model.emit('unblocked')
    expect(await enqueue(request('b'))).toEqual({ id: 'b', deduplicated: false })
    expect(published()).toBe(2)
    await link.close()
  })
})

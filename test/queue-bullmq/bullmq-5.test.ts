/**
 * BullMQ 5 next to BullMQ 6, without BullMQ 5 installed: the client check at construction, and
 * where fanout finds the client and the add on each. The install matrix runs a real job on
 * BullMQ 5 (test/install-matrix.test.ts).
 */
import { describe, expect, test, vi } from 'vitest'
import { InvalidOptionError } from '../../src/core/errors.js'
import { loadBullmq, type Bullmq } from '../../src/queue-bullmq/bullmq.js'
import { sendAdd, bullClient, checkClient } from '../../src/queue-bullmq/bullmq-5.js'

/** BullMQ 5's exports, as far as the check looks: no Redis backend. */
const bullmq5 = { Queue: class {}, Worker: class {} } as unknown as Bullmq

describe('bullmqQueue on BullMQ 5', () => {
  test('a node-redis client is refused at construction, saying to pass ioredis or install bullmq 6', () => {
    expect(() => checkClient(bullmq5, 'node-redis')).toThrow(InvalidOptionError)
    expect(() => checkClient(bullmq5, 'node-redis')).toThrow(
      /node-redis client, which the installed bullmq 5 cannot use: pass an ioredis client, or install bullmq 6/,
    )
    expect(() => checkClient(bullmq5, 'ioredis')).not.toThrow()
    // The bullmq installed here is 6, which takes either.
    expect(() => checkClient(loadBullmq(), 'node-redis')).not.toThrow()
  })

  test("the client and the add come from BullMQ 6's backend, or from BullMQ 5's queue", async () => {
    const client = { runCommand: vi.fn() }
    const json = { opts: { attempts: 1 } }
    const addJobToTransaction = vi.fn(async () => '@id')
    const addJob = vi.fn(async () => '@id')
    const six = { backend: { client: Promise.resolve(client), addJobToTransaction } }
    const five = { client: Promise.resolve(client), scripts: { addJob } }
    expect(await bullClient(six)).toBe(client)
    expect(await bullClient(five)).toBe(client)
    await sendAdd(six, client, json, '@id')
    expect(addJobToTransaction).toHaveBeenCalledWith(client, json, '@id')
    await sendAdd(five, client, json, '@id')
    expect(addJob).toHaveBeenCalledWith(client, json, json.opts, '@id')
  })
})

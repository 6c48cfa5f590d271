/**
 * A consumer's acks sent together: the oldest finished deliveries as one `multiple` ack, the
 * others one by one, never an ack held behind a running job; and the record store's batches.
 */
import type { ConfirmChannel, ConsumeMessage } from 'amqplib'
import { describe, expect, it } from 'vitest'
import { AckBatch } from '../../src/queue-amqp/acks.js'
import { scriptBatch } from '../../src/queue-amqp/script-batch.js'

function channel() {
  const sent: string[] = []
  const ch = {
    ack: (m: ConsumeMessage, multiple?: boolean) =>
      sent.push(`ack ${m.fields.deliveryTag}${multiple === true ? '+' : ''}`),
    nack: (m: ConsumeMessage, _all: boolean, requeue: boolean) =>
      sent.push(`nack ${m.fields.deliveryTag}${requeue ? ' requeue' : ''}`),
  } as unknown as ConfirmChannel
  return { ch, sent }
}
const message = (tag: number) => ({ fields: { deliveryTag: tag } }) as unknown as ConsumeMessage
const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('AckBatch', () => {
  it('acks the oldest finished deliveries of one tick as one multiple ack', async () => {
    const { ch, sent } = channel()
    const acks = new AckBatch(ch)
    const m = [1, 2, 3, 4].map(message)
    for (const x of m) acks.delivered(x)
    acks.ack(m[1]!)
    acks.ack(m[0]!)
    acks.ack(m[2]!)
    expect(sent).toEqual([])
    await tick()
    expect(sent).toEqual(['ack 3+'])
    acks.ack(m[3]!)
    await tick()
    expect(sent).toEqual(['ack 3+', 'ack 4'])
  })

  it('never holds an ack behind a running job: those after it go one by one', async () => {
    const { ch, sent } = channel()
    const acks = new AckBatch(ch)
    const m = [1, 2, 3, 4].map(message)
    for (const x of m) acks.delivered(x)
    acks.ack(m[2]!)
    acks.ack(m[3]!)
    await tick()
    expect(sent.sort()).toEqual(['ack 3', 'ack 4'])
    // 1 is handed back; 2 ends last and is acked alone (a multiple would cover nothing else).
    acks.nack(m[0]!, true)
    acks.ack(m[1]!)
    await tick()
    expect(sent.slice(2)).toEqual(['nack 1 requeue', 'ack 2'])
  })

  it('sends nothing once the channel is lost; flush() sends at once', async () => {
    const { ch, sent } = channel()
    const acks = new AckBatch(ch)
    const [a, b] = [message(1), message(2)]
    acks.delivered(a)
    acks.delivered(b)
    acks.ack(a)
    acks.flush()
    expect(sent).toEqual(['ack 1'])
    acks.ack(b)
    acks.lose()
    acks.nack(b, true)
    await tick()
    expect(sent).toEqual(['ack 1'])
  })
})

describe('scriptBatch', () => {
  it('sends a lone call at once, and what comes while batches are in flight together', async () => {
    const batches: number[][] = []
    const replies: (() => void)[] = []
    const run = scriptBatch<number, number>(
      (items) => {
        batches.push([...items])
        return new Promise((resolve) => replies.push(() => resolve(items.map((i) => i * 10))))
      },
      { maxInFlight: 1, maxItems: 3 },
    )
    const first = run(1)
    await tick()
    expect(batches).toEqual([[1]])
    const rest = [2, 3, 4, 5].map(run)
    await tick()
    expect(batches).toEqual([[1]])
    replies.shift()!()
    expect(await first).toBe(10)
    await tick()
    expect(batches).toEqual([[1], [2, 3, 4]])
    replies.shift()!()
    await tick()
    replies.shift()!()
    expect(await Promise.all(rest)).toEqual([20, 30, 40, 50])
    expect(batches).toEqual([[1], [2, 3, 4], [5]])
  })

  it('fails one item on its own error, and every item when the call fails', async () => {
    let fail = false
    const run = scriptBatch<number, number>(
      async (items) => {
        if (fail) throw new Error('down')
        return items.map((i) => (i < 0 ? new Error('bad record') : i))
      },
      { maxInFlight: 2, maxItems: 10 },
    )
    const answers = await Promise.allSettled([run(1), run(-1), run(2)])
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    fail = true
    const failed = await Promise.allSettled([run(1), run(2)])
    expect(failed.map((a) => a.status)).toEqual(['rejected', 'rejected'])
  })
})

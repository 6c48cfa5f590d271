/**
 * RabbitMQ for tests: the shared broker on 127.0.0.1:5672 (guest/guest). Each suite names its
 * queues with a prefix of its own (`amqpPrefix()`) and deletes them afterwards
 * (`deleteJobQueues`): the broker has no management API here, so queues are deleted by name.
 *
 * Without RabbitMQ a suite is skipped with the reason, except under FANOUT_REQUIRE_RABBITMQ=1,
 * where the suites' required-check fails instead.
 */
import { randomBytes } from 'node:crypto'
import amqp from 'amqplib'
import { answers } from './ping-redis.js'
import { expect, it } from 'vitest'

export const RABBITMQ_HOST = '127.0.0.1'
export const RABBITMQ_PORT = 5672
export const RABBITMQ_URL = `amqp://guest:guest@${RABBITMQ_HOST}:${RABBITMQ_PORT}`

export const rabbitRequired = process.env.FANOUT_REQUIRE_RABBITMQ === '1'

/**
 * Whether an AMQP 0-9-1 broker answers on host:port: it must answer the protocol header with a
 * method frame (type 1), not just accept the TCP connection.
 */
export function pingRabbit(port = RABBITMQ_PORT, host = RABBITMQ_HOST): Promise<boolean> {
  return answers(port, host, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'), (data) => data[0] === 1)
}

/** Checked once per file, at import: suites use `describe.runIf(rabbitUp)`. */
export const rabbitUp = await pingRabbit()
if (!rabbitUp && !rabbitRequired)
  console.warn(
    `RabbitMQ is not answering on ${RABBITMQ_HOST}:${RABBITMQ_PORT}: the suites that need it are skipped (FANOUT_REQUIRE_RABBITMQ=1 makes this a failure).`,
  )

/**
 * Registers the suite's required-check: under FANOUT_REQUIRE_RABBITMQ=1 a missing broker fails
 * this test instead of skipping the suite quietly.
 */
export function requireRabbitWhenAsked(): void {
  it.runIf(rabbitRequired)(
    `RabbitMQ answers on ${RABBITMQ_HOST}:${RABBITMQ_PORT} (required: FANOUT_REQUIRE_RABBITMQ=1)`,
    () => {
      expect(rabbitUp).toBe(true)
    },
  )
}

/** A queue-name prefix no other test run uses. */
export function amqpPrefix(): string {
  return `fanout-test.${process.pid}.${randomBytes(4).toString('hex')}`
}

/**
 * Deletes the main, dead and the given delay queues of each job name under `prefix` (delay
 * queues not listed expire on their own through `x-expires`).
 */
export async function deleteJobQueues(
  prefix: string,
  names: readonly string[],
  delays: readonly number[] = [],
): Promise<void> {
  const connection = await amqp.connect(RABBITMQ_URL)
  try {
    for (const name of names) {
      for (const queue of [
        `${prefix}.${name}`,
        `${prefix}.${name}.dead`,
        ...delays.map((ms) => `${prefix}.${name}.delay.${ms}`),
      ]) {
        // A channel per delete: deleting a queue that does not exist closes the channel on some versions.
        const ch = await connection.createChannel()
        ch.on('error', () => {})
        await ch.deleteQueue(queue).catch(() => {})
        await ch.close().catch(() => {})
      }
    }
  } finally {
    await connection.close()
  }
}

/** Messages ready in `queue` (0 when it does not exist). */
export async function readyCount(queue: string): Promise<number> {
  const connection = await amqp.connect(RABBITMQ_URL)
  try {
    const ch = await connection.createChannel()
    ch.on('error', () => {})
    const { messageCount } = await ch.checkQueue(queue).catch(() => ({ messageCount: 0 }))
    return messageCount
  } finally {
    await connection.close().catch(() => {})
  }
}

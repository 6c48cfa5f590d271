/**
 * Whether a Redis answers, without a client and without side effects at import: the test helpers
 * and the \`redis\` benchmark both ask before they connect. `answers()`, the probe underneath, is
 * the RabbitMQ helper's too.
 */
import { Socket } from 'node:net'

export const REDIS_HOST = '127.0.0.1'
export const REDIS_PORT = 6379

/**
 * Whether a server on host:port answers `hello` with a reply `ok` accepts, within 5 s (an absent
 * server refuses at once; the time is for a present one on a busy machine).
 */
export function answers(
  port: number,
  host: string,
  hello: string | Buffer,
  ok: (reply: Buffer) => boolean,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (answered: boolean): void => {
      socket.destroy()
      resolve(answered)
    }
    socket.setTimeout(5000, () => done(false))
    socket.once('error', () => done(false))
    socket.connect(port, host, () => socket.write(hello))
    socket.once('data', (data: Buffer) => done(ok(data)))
  })
}

/** Whether something answers PING on host:port. */
export function pingRedis(port = REDIS_PORT, host = REDIS_HOST): Promise<boolean> {
  return answers(port, host, 'PING\r\n', (data) => data.toString().startsWith('+PONG'))
}

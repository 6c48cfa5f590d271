/**
 * Whether a Redis answers, without a client and without side effects at import: the test helpers
 * and the \`redis\` benchmark both ask before they connect.
 */
import { Socket } from 'node:net'

export const REDIS_HOST = '127.0.0.1'
export const REDIS_PORT = 6379

/**
 * Whether something answers PING on host:port within 5 s (an absent server refuses at once; the
 * time is for a present one on a busy machine).
 */
export function pingRedis(port = REDIS_PORT, host = REDIS_HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(5000, () => done(false))
    socket.once('error', () => done(false))
    socket.connect(port, host, () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}

/**
 * A small TCP proxy between a client and Redis, for the faults a real network has: added latency,
 * a partition (a black hole: connections stay open, nothing comes back, no RST), every socket
 * reset, and a reply dropped once (the request reaches Redis, its reply is swallowed, then both
 * sockets are cut: the case where a client that re-sends applies a command twice).
 */
import { createServer, Socket, type Server } from 'node:net'
import { freePort } from './redis-server.js'

export type ProxyMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'latency'; readonly ms: number }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'dropReplyOnce' }

export interface FaultProxy {
  readonly port: number
  set(mode: ProxyMode): void
  /** Destroys every open connection (both sides). */
  reset(): void
  /** Bytes of replies swallowed so far by `dropReplyOnce` (0 until it fired). */
  readonly dropped: number
  close(): Promise<void>
}

export async function startProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<FaultProxy> {
  let mode: ProxyMode = { kind: 'pass' }
  let dropped = 0
  const pairs = new Set<[Socket, Socket]>()
  const server: Server = createServer((client) => {
    const upstream = new Socket()
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const end = (): void => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)
    upstream.connect(targetPort, targetHost)
    const forward = (to: Socket, chunk: Buffer): void => {
      const m = mode
      if (m.kind === 'blackhole') return
      if (m.kind === 'latency') setTimeout(() => to.destroyed || to.write(chunk), m.ms)
      else to.write(chunk)
    }
    client.on('data', (chunk: Buffer) => forward(upstream, chunk))
    upstream.on('data', (chunk: Buffer) => {
      if (mode.kind === 'dropReplyOnce') {
        dropped += chunk.length
        mode = { kind: 'pass' }
        end()
        return
      }
      forward(client, chunk)
    })
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const reset = (): void => {
    for (const [a, b] of [...pairs]) {
      a.destroy()
      b.destroy()
    }
    pairs.clear()
  }
  return {
    port,
    set(next) {
      mode = next
    },
    reset,
    get dropped() {
      return dropped
    },
    async close() {
      reset()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

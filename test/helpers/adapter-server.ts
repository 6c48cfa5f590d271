/**
 * A framework's server on 127.0.0.1 (port 0) for the adapters' tests: `served(server)` waits until
 * it listens and returns its origin and a `close()` that drops every connection first (a held
 * request would keep `server.close()` waiting); `closeServers()` closes those still open.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Served {
  readonly origin: string
  readonly server: Server
  /** Idempotent: a second call waits for the first. */
  close(): Promise<void>
}

const running = new Set<Served>()

/**
 * `server` (listening, or about to on 127.0.0.1) as a handle; `shutdown` replaces the plain
 * `server.close()` where the framework has its own (Fastify's `app.close()` runs its hooks).
 */
export async function served(server: Server, shutdown?: () => Promise<void>): Promise<Served> {
  if (!server.listening) {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error)
      server.once('error', onError)
      server.once('listening', () => {
        server.off('error', onError)
        resolve()
      })
    })
  }
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  let closing: Promise<void> | undefined
  const handle: Served = {
    origin,
    server,
    close() {
      closing ??= (async () => {
        running.delete(handle)
        server.closeAllConnections()
        if (shutdown !== undefined) await shutdown()
        else await new Promise<void>((resolve) => server.close(() => resolve()))
      })()
      return closing
    },
  }
  running.add(handle)
  return handle
}

export async function closeServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.close()))
}

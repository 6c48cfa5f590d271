/**
 * The Redis connections fanout opens for BullMQ, from the client the application already has.
 * Either client works, told apart the way BullMQ itself does (ioredis has `defineCommand`,
 * node-redis has `sendCommand` and `isOpen`). fanout never uses the application's client for
 * queue traffic: it opens duplicates it configures and closes itself. The producer's duplicate
 * has no offline queue, so a command sent while Redis is away fails at once instead of waiting
 * in memory and running, unseen, after the caller was told it failed (H4).
 *
 * Structural types only: no `import type` from either client package.
 */

/** What fanout calls on a node-redis client (`createClient()` from `redis` 5+). */
export interface NodeRedisQueueClient {
  readonly isOpen: boolean
  readonly isReady: boolean
  duplicate(overrides?: object): NodeRedisQueueClient
  connect(): Promise<unknown>
  sendCommand(args: string[]): Promise<unknown>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
  destroy?(): unknown
}

/** What fanout calls on an ioredis client. */
export interface IoredisQueueClient {
  readonly status: string
  duplicate(overrides?: object): IoredisQueueClient
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): unknown
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
  disconnect(reconnect?: boolean): unknown
}

export type BullmqRedisClient = NodeRedisQueueClient | IoredisQueueClient
export type ClientKind = 'node-redis' | 'ioredis'

export function clientKind(client: unknown): ClientKind | undefined {
  if (typeof client !== 'object' || client === null) return undefined
  const c = client as Record<string, unknown>
  if (typeof c.duplicate !== 'function' || typeof c.on !== 'function') return undefined
  if (typeof c.defineCommand === 'function') return 'ioredis'
  if (typeof c.sendCommand === 'function' && ('isOpen' in c || 'isReady' in c)) return 'node-redis'
  return undefined
}

/** A duplicate fanout owns: handed to BullMQ as its `connection`, closed by fanout. */
export interface OwnedClient {
  /** The raw client, for BullMQ. */
  readonly raw: BullmqRedisClient
  isReady(): boolean
  /** It was ready once: not being ready now is an outage, not the first connection. */
  wasReady(): boolean
  /** Resolves when the client is ready; rejects with `signal`'s reason when it aborts first. */
  whenReady(signal: AbortSignal): Promise<void>
  close(): void
}

export interface DuplicateSettings {
  /** Commands fail at once while disconnected (the producer) instead of waiting (a worker). */
  readonly failFast: boolean
}

export function duplicateClient(
  client: BullmqRedisClient,
  kind: ClientKind,
  settings: DuplicateSettings,
): OwnedClient {
  const raw =
    kind === 'node-redis'
      ? (client as NodeRedisQueueClient).duplicate(
          settings.failFast ? { disableOfflineQueue: true } : {},
        )
      : (client as IoredisQueueClient).duplicate(
          settings.failFast
            ? {
                enableOfflineQueue: false,
                maxRetriesPerRequest: 0,
                autoResendUnfulfilledCommands: false,
                lazyConnect: false,
              }
            : // BullMQ's workers block on Redis: ioredis must retry their commands forever.
              { maxRetriesPerRequest: null, lazyConnect: false },
        )
  // An `error` event with no listener would crash the process; BullMQ adds its own later.
  const ignore = (): void => {}
  raw.on('error', ignore)
  let closed = false
  let waiting: Promise<void> | undefined
  let wasReady = false
  raw.on('ready', () => (wasReady = true))
  const isReady = (): boolean =>
    kind === 'node-redis'
      ? (raw as NodeRedisQueueClient).isReady
      : (raw as IoredisQueueClient).status === 'ready'
  if (kind === 'node-redis') (raw as NodeRedisQueueClient).connect().catch(ignore)
  return {
    raw,
    isReady,
    wasReady: () => wasReady || isReady(),
    whenReady(signal) {
      if (isReady()) return Promise.resolve()
      // One listener per outage, shared by every waiting call, whatever their number.
      waiting ??= new Promise<void>((resolve) => {
        const onReady = (): void => {
          raw.off('ready', onReady)
          waiting = undefined
          resolve()
        }
        raw.on('ready', onReady)
      })
      return untilAborted(waiting, signal)
    },
    close() {
      if (closed) return
      closed = true
      // Drop the socket at once: a graceful QUIT would wait for a reply a dead Redis never sends.
      if (kind === 'node-redis') (raw as NodeRedisQueueClient).destroy?.()
      else (raw as IoredisQueueClient).disconnect()
    },
  }
}

/** `promise`, or `signal`'s reason when it aborts first; the listener is removed either way. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error as Error)
      },
    )
  })
}

/**
 * One BullMQ `Queue` per job name, all on the producer's duplicate connection, made on first use.
 * BullMQ caches a failed start-up (its connection's first `INFO`) for the life of the `Queue`, so
 * a queue whose start failed is dropped and the next call makes a new one: the fanout queue object
 * keeps working once Redis is back (H4), with no restart.
 */
import type { Queue } from 'bullmq'
import type { Bullmq } from './bullmq.js'
import { bullClient } from './bullmq-5.js'
import { untilAborted, type OwnedClient } from './clients.js'
import type { ResolvedOptions } from './options.js'

/** BullMQ's Redis client adapter, as far as fanout uses it. */
export interface BullClient {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void
  runCommand(name: string, args: unknown[]): Promise<unknown>
  multi(): BullTransaction
  hset(key: string, data: Record<string, string | number>): Promise<number>
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>
}

export interface BullTransaction {
  runCommand(name: string, args: unknown[]): BullTransaction
  exec(): Promise<[Error | null, unknown][] | null>
}

/** A Lua script fanout runs through BullMQ's client (so both adapters run it the same way). */
export interface FanoutScript {
  readonly name: string
  readonly keys: number
  readonly lua: string
}

interface Entry {
  readonly queue: Queue
  readonly ready: Promise<BullClient>
  /** Set once `ready` resolved: the hot path takes it without awaiting anything. */
  client?: BullClient
}

/** The producer's connection is down: the caller turns it into a `QueueUnavailableError`. */
export class NotConnectedError extends Error {
  constructor() {
    super('Redis is not connected (the client is reconnecting)')
    this.name = 'NotConnectedError'
  }
}

export class Producers {
  readonly #bull: Bullmq
  readonly #options: ResolvedOptions
  readonly #owned: OwnedClient
  readonly #queues = new Map<string, Entry>()
  readonly #defined = new WeakMap<object, Set<string>>()

  constructor(bull: Bullmq, options: ResolvedOptions, owned: OwnedClient) {
    this.#bull = bull
    this.#options = options
    this.#owned = owned
  }

  /** The name's queue, once its connection is ready; rejects when `signal` aborts first. */
  async get(name: string, signal: AbortSignal): Promise<{ queue: Queue; client: BullClient }> {
    // During an outage every call fails at once (H4); only the first connection is waited for.
    if (!this.#owned.isReady() && this.#owned.wasReady()) throw new NotConnectedError()
    await this.#owned.whenReady(signal)
    let entry = this.#queues.get(name)
    if (entry === undefined) {
      const queue = new this.#bull.Queue(name, {
        connection: this.#owned.raw as never,
        prefix: this.#options.prefix,
      })
      queue.on('error', () => {})
      const ready = queue.waitUntilReady().then(() => bullClient(queue) as Promise<BullClient>)
      const made: Entry = { queue, ready }
      entry = made
      this.#queues.set(name, entry)
      ready
        .then((client) => (made.client = client))
        .catch(() => {
          if (this.#queues.get(name) === entry) this.#queues.delete(name)
          void queue.close().catch(() => {})
        })
    }
    const client = await untilAborted(entry.ready, signal)
    return { queue: entry.queue, client }
  }

  /**
   * The name's queue when it is ready now, with its connection up: the enqueue's hot path sends
   * at once, with no promise, signal or listener of its own. Undefined sends the caller to `get`.
   */
  ready(name: string): { queue: Queue; client: BullClient } | undefined {
    const entry = this.#queues.get(name)
    if (entry?.client === undefined || !this.#owned.isReady()) return undefined
    return { queue: entry.queue, client: entry.client }
  }

  /** Defines `script` on `client` once (BullMQ loads it and falls back to EVAL on NOSCRIPT). */
  define(client: BullClient, script: FanoutScript): void {
    let names = this.#defined.get(client)
    if (names === undefined) this.#defined.set(client, (names = new Set()))
    if (names.has(script.name)) return
    client.defineCommand(script.name, { numberOfKeys: script.keys, lua: script.lua })
    names.add(script.name)
  }

  async close(): Promise<void> {
    const queues = [...this.#queues.values()]
    this.#queues.clear()
    await Promise.all(queues.map((entry) => entry.queue.close().catch(() => {})))
  }
}

/**
 * Cancelling a running job from any process: `cancel(id)` publishes the id on one channel per
 * prefix, and every consumer of this prefix aborts the delivery it runs under that id. Pub/sub
 * delivers at most once, so a consumer that is reconnecting at that moment misses it and the job
 * runs on: `cancel()` answers that it asked, not that the job stopped (the seam's worker decides
 * what an aborted job becomes).
 */
import { AbortedError } from '../core/errors.js'
import {
  duplicateClient,
  type BullmqRedisClient,
  type ClientKind,
  type OwnedClient,
} from './clients.js'
import { cancelChannel } from './keys.js'

/** Publish and subscribe, the same on both clients (both resubscribe after a reconnect). */
interface PubSubClient {
  publish(channel: string, message: string): Promise<unknown>
  subscribe(channel: string, listener?: (message: string) => void): Promise<unknown>
  on(event: 'message', listener: (channel: string, message: string) => void): unknown
}

export class CancelBus {
  readonly #channel: string
  readonly #client: BullmqRedisClient
  readonly #kind: ClientKind
  readonly #publisher: OwnedClient
  #subscriber: OwnedClient | undefined
  #listening: Promise<unknown> | undefined
  /** `name\nid` → what aborts the running delivery's signal, in this process. */
  readonly #running = new Map<string, (reason: unknown) => void>()

  /** `publisher` is the producer's connection; the subscriber is opened on the first consumer. */
  constructor(client: BullmqRedisClient, kind: ClientKind, prefix: string, publisher: OwnedClient) {
    this.#channel = cancelChannel(prefix)
    this.#client = client
    this.#kind = kind
    this.#publisher = publisher
  }

  /** Starts listening (once per queue object); a failed subscribe is tried again by the next consumer. */
  listen(): void {
    if (this.#listening !== undefined) return
    this.#subscriber ??= duplicateClient(this.#client, this.#kind, { failFast: false })
    const sub = this.#subscriber.raw as unknown as PubSubClient
    const deliver = (message: string): void => this.#deliver(message)
    const listening =
      this.#kind === 'node-redis'
        ? sub.subscribe(this.#channel, deliver)
        : (sub.on('message', (channel, message) => {
            if (channel === this.#channel) deliver(message)
          }),
          sub.subscribe(this.#channel))
    this.#listening = listening
    listening.catch(() => {
      if (this.#listening === listening) this.#listening = undefined
    })
  }

  /** Tracks a running delivery; the returned function stops tracking it. */
  track(name: string, id: string, abort: (reason: unknown) => void): () => void {
    const key = `${name}\n${id}`
    this.#running.set(key, abort)
    return () => {
      if (this.#running.get(key) === abort) this.#running.delete(key)
    }
  }

  async publish(name: string, id: string): Promise<void> {
    const message = `${name}\n${id}`
    this.#deliver(message)
    await (this.#publisher.raw as unknown as PubSubClient).publish(this.#channel, message)
  }

  #deliver(message: string): void {
    const abort = this.#running.get(message)
    if (abort === undefined) return
    const id = message.slice(message.indexOf('\n') + 1)
    abort(new AbortedError(`Job "${id}" was cancelled`))
  }

  close(): void {
    this.#listening = undefined
    this.#subscriber?.close()
    this.#subscriber = undefined
  }
}

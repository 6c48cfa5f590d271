/**
 * `redisInvalidation(options)`: the `CacheInvalidation` bus of `tieredCacheStore()` over Redis
 * pub/sub, so a write or delete in one process drops the L1 copies of every other.
 *
 * - One channel, `<prefix>:cache-inv:<name>`. A message is JSON `{ o, s, k }`: the sender's
 *   random origin id (a process ignores its own messages), its sequence number (1, 2, … per
 *   sender) and the store keys.
 * - Pub/sub delivers at most once, and nothing replays what a disconnected subscriber missed. So
 *   on every subscriber reconnect (`redis.onReconnect`) listeners are told to flush everything;
 *   the same when a sender's sequence number skips (one of its messages was lost, or it could not
 *   send one), or a message cannot be read.
 * - What it guarantees, honestly: an L1 copy is dropped about one delivery after the write in the
 *   common case; while the subscriber is down and not yet back, nothing is heard and a copy lives
 *   up to the tiered store's `l1Ttl`. Eventual consistency, bounded by `l1Ttl`.
 */
import { randomBytes } from 'node:crypto'
import { StoreUnavailableError } from '../core/errors.js'
import { own } from '../core/own.js'
import type { CacheInvalidation, CacheInvalidationListener } from '../cache/invalidation.js'
import { readStoreOptions, type RedisStoreOptions, type StoreSetup } from './store-options.js'

export type RedisInvalidationOptions = RedisStoreOptions

export interface RedisInvalidation extends CacheInvalidation {
  /** This process's origin id (in each message it sends). */
  readonly origin: string
  /** The channel it publishes and listens on. */
  readonly channel: string
  /** Stops listening and forgets every listener (the application's client stays open). */
  close(): Promise<void>
}

/** Senders whose last sequence number is remembered; the oldest is forgotten beyond this. */
const MAX_ORIGINS = 1024
/** Ms between attempts to subscribe while the first has not succeeded. */
const RETRY_MS = 1000

export function redisInvalidation(options: RedisInvalidationOptions): RedisInvalidation {
  const opts = own(options) as Partial<Record<keyof RedisStoreOptions, unknown>>
  return new Bus(readStoreOptions('redisInvalidation()', opts, 'cache', []))
}

interface Message {
  readonly o: string
  readonly s: number
  readonly k: readonly string[]
}

class Bus implements RedisInvalidation {
  readonly origin = randomBytes(12).toString('hex')
  readonly channel: string
  readonly #set = new Set<CacheInvalidationListener>()
  /** Each sender's last sequence number heard. */
  readonly #heard = new Map<string, number>()
  #seq = 0
  #listening = false
  #subscribing: Promise<void> | undefined
  #retryAt = -Infinity
  #unsubscribe: (() => Promise<void>) | undefined
  #stopReconnects: (() => void) | undefined
  #closed = false

  constructor(readonly setup: StoreSetup) {
    this.channel = `${setup.prefix}:cache-inv:${setup.name}`
    this.#stopReconnects = setup.redis.onReconnect(() => {
      // Whatever was published while the subscriber was away is lost.
      this.#heard.clear()
      this.#flush()
    })
    this.#subscribe()
  }

  get listening(): boolean {
    if (!this.#listening) this.#subscribe()
    return this.#listening
  }

  #subscribe(): void {
    if (this.#closed || this.#subscribing !== undefined) return
    if (this.setup.clock.now() < this.#retryAt) return
    this.#subscribing = this.setup.redis
      .subscribe(this.channel, (message) => this.#receive(message))
      .then(
        (stop) => {
          if (this.#closed) return stop()
          this.#unsubscribe = stop
          this.#listening = true
        },
        () => {
          this.#retryAt = this.setup.clock.now() + RETRY_MS
        },
      )
      .finally(() => {
        this.#subscribing = undefined
      })
  }

  async publish(keys: readonly string[]): Promise<void> {
    if (keys.length === 0 || this.#closed) return
    const message: Message = { o: this.origin, s: ++this.#seq, k: [...keys] }
    try {
      await this.setup.guard.run('publish', () =>
        this.setup.redis.publish(this.channel, JSON.stringify(message)),
      )
    } catch (error) {
      // Other processes keep their copies up to l1Ttl; the next message's sequence number tells
      // them one was lost, and they flush.
      if (error instanceof StoreUnavailableError) this.setup.guard.reportFallback(error, 'local')
    }
  }

  listen(listener: CacheInvalidationListener): () => void {
    this.#set.add(listener)
    return () => {
      this.#set.delete(listener)
    }
  }

  #receive(text: string): void {
    const message = parse(text)
    if (message === undefined) return this.#flush()
    if (message.o === this.origin) return
    const last = this.#heard.get(message.o)
    this.#heard.delete(message.o)
    this.#heard.set(message.o, message.s)
    if (this.#heard.size > MAX_ORIGINS) this.#heard.delete(this.#heard.keys().next().value!)
    if (last !== undefined && message.s !== last + 1) return this.#flush()
    for (const listener of [...this.#set]) callSafely(() => listener.evict(message.k))
  }

  #flush(): void {
    for (const listener of [...this.#set]) callSafely(() => listener.flush())
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#listening = false
    this.#set.clear()
    this.#stopReconnects?.()
    this.#stopReconnects = undefined
    await this.#subscribing
    const stop = this.#unsubscribe
    this.#unsubscribe = undefined
    await stop?.().catch(() => {})
  }
}

function parse(text: string): Message | undefined {
  try {
    const raw: unknown = JSON.parse(text)
    if (typeof raw !== 'object' || raw === null) return undefined
    const m = own(raw) as Partial<Record<keyof Message, unknown>>
    if (typeof m.o !== 'string' || typeof m.s !== 'number' || !Array.isArray(m.k)) return undefined
    if (!m.k.every((k) => typeof k === 'string')) return undefined
    return { o: m.o, s: m.s, k: m.k as string[] }
  } catch {
    return undefined
  }
}

function callSafely(fn: () => void): void {
  try {
    fn()
  } catch {
    // A listener's bug must not stop the others hearing.
  }
}

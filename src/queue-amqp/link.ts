/**
 * The connection to RabbitMQ, shared by the producer side and every consumer of one
 * `amqpQueue()`. It connects on demand (the first enqueue or consumer) and again after a loss:
 * one attempt at a time, which every caller waiting for the broker shares, so a down broker costs
 * one connect per attempt, not one per enqueue. It never queues work while disconnected: callers
 * get the attempt's failure, or give up at their own timeout while it goes on.
 *
 * A session is one connection and its confirm channel for publishing. When the broker signals
 * `connection.blocked` (a memory or disk alarm) the session says so and enqueue refuses at once
 * instead of publishing into a socket the broker stopped reading.
 */
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib'
import type { Amqp } from './amqplib.js'
import { Declared, type Topology } from './topology.js'

export interface Session {
  readonly model: ChannelModel
  readonly publisher: ConfirmChannel
  readonly declared: Declared
  /** The broker's reason while it blocks publishers, else undefined. */
  blocked: string | undefined
  open: boolean
  /** Publishes awaiting their confirm. */
  inFlight: number
}

export interface LinkOptions {
  readonly amqp: Amqp
  readonly url: string | Options.Connect
  readonly connectTimeoutMs: number
  readonly heartbeatS: number
  readonly topology: Topology
}

const noop = (): void => {}

export class Link {
  private current: Session | undefined
  private attempt: Promise<Session> | undefined
  private closed = false
  private readonly lost = new Set<(session: Session) => void>()

  constructor(private readonly options: LinkOptions) {}

  /** The open session, or the connect attempt in progress (started if there is none). */
  session(): Promise<Session> {
    if (this.closed) return Promise.reject(new Error('the queue is closed'))
    if (this.current?.open === true) return Promise.resolve(this.current)
    this.attempt ??= this.connect().finally(() => {
      this.attempt = undefined
    })
    return this.attempt
  }

  /** The open session, if any, without connecting. */
  get open(): Session | undefined {
    return this.current?.open === true ? this.current : undefined
  }

  /** Calls `listener` when a session ends (the broker went away or closed it). */
  onLost(listener: (session: Session) => void): () => void {
    this.lost.add(listener)
    return () => void this.lost.delete(listener)
  }

  private async connect(): Promise<Session> {
    const { amqp, url, connectTimeoutMs, heartbeatS } = this.options
    // Heartbeats find a connection whose broker went silent (a partition) without a FIN or RST.
    const target: string | Options.Connect =
      typeof url !== 'string'
        ? { heartbeat: heartbeatS, ...url }
        : /[?&]heartbeat=/.test(url)
          ? url
          : `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeatS}`
    const model = await amqp.connect(target, { timeout: connectTimeoutMs })
    model.on('error', noop)
    if (this.closed) {
      await model.close().catch(noop)
      throw new Error('the queue is closed')
    }
    let publisher: ConfirmChannel
    try {
      publisher = await model.createConfirmChannel()
    } catch (error) {
      await model.close().catch(noop)
      throw error
    }
    publisher.on('error', noop)
    if (this.closed) {
      await model.close().catch(noop)
      throw new Error('the queue is closed')
    }
    const session: Session = {
      model,
      publisher,
      declared: new Declared(publisher, this.options.topology),
      blocked: undefined,
      open: true,
      inFlight: 0,
    }
    model.on('blocked', (reason: string) => {
      session.blocked = reason || 'blocked'
    })
    model.on('unblocked', () => {
      session.blocked = undefined
    })
    const end = (): void => {
      if (!session.open) return
      session.open = false
      for (const listener of [...this.lost]) listener(session)
      model.close().catch(noop)
    }
    model.on('close', end)
    // A channel error (a declaration that conflicts with an existing queue) ends the publisher:
    // the next enqueue starts over on a fresh connection rather than a dead channel.
    publisher.on('close', end)
    this.current = session
    return session
  }

  async close(): Promise<void> {
    this.closed = true
    const session = this.current
    this.current = undefined
    await this.attempt?.catch(noop)
    if (session?.open === true) {
      session.open = false
      await closeModel(session.model)
    }
  }
}

/** How long a clean close (the broker's close-ok) may take before the socket is destroyed. */
export const CLOSE_MS = 1_000

/**
 * Closes a connection, and destroys its socket when the broker does not answer the close
 * within CLOSE_MS (a partition): closing must not hang on the broker it gives up on.
 */
export async function closeModel(model: ChannelModel): Promise<void> {
  const clean = await within(
    model.close().then(
      () => true,
      () => true,
    ),
    CLOSE_MS,
  )
  if (clean === true) return
  // amqplib keeps the socket on its connection object; its types do not show it.
  const internal = model.connection as unknown as { stream?: { destroy?: () => void } }
  internal.stream?.destroy?.()
}

/** `promise`'s value, or undefined after `ms`; the timer is released either way. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms)
    void promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      () => {
        clearTimeout(timer)
        resolve(undefined)
      },
    )
  })
}

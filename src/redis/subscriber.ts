/**
 * The subscriber side both adapters share: one duplicate connection opened on first use, one
 * listener set per channel, and the reconnect signal (a subscriber that came back may have missed
 * messages). The adapters supply the client-specific steps.
 */
import { Listeners } from './listeners.js'

/** What an adapter does on its duplicate connection. */
export interface SubscriberSteps {
  /** Opens the connection and calls `deliver(channel, message)` for each message, `ready()` on each (re)connect. */
  open(deliver: (channel: string, message: string) => void, ready: () => void): Promise<void>
  subscribe(channel: string): Promise<void>
  unsubscribe(channel: string): Promise<void>
  close(): Promise<void>
}

export class Subscriber {
  readonly #steps: SubscriberSteps
  readonly #channels = new Map<string, Listeners<[string]>>()
  readonly reconnects = new Listeners<[]>()
  #opened: Promise<void> | undefined
  #readyBefore = false

  constructor(steps: SubscriberSteps) {
    this.#steps = steps
  }

  async subscribe(
    channel: string,
    listener: (message: string) => void,
  ): Promise<() => Promise<void>> {
    await this.#open()
    let listeners = this.#channels.get(channel)
    if (listeners === undefined) {
      listeners = new Listeners<[string]>()
      this.#channels.set(channel, listeners)
      try {
        await this.#steps.subscribe(channel)
      } catch (error) {
        this.#channels.delete(channel)
        throw error
      }
    }
    const remove = listeners.add(listener)
    let removed = false
    return async () => {
      if (removed) return
      removed = true
      remove()
      if (listeners.size === 0 && this.#channels.get(channel) === listeners) {
        this.#channels.delete(channel)
        await this.#steps.unsubscribe(channel)
      }
    }
  }

  #open(): Promise<void> {
    this.#opened ??= this.#steps
      .open(
        (channel, message) => this.#channels.get(channel)?.emit(message),
        () => {
          // The first ready is the connection opening; every later one is a reconnect.
          if (this.#readyBefore) this.reconnects.emit()
          this.#readyBefore = true
        },
      )
      .catch((error: unknown) => {
        this.#opened = undefined
        throw error
      })
    return this.#opened
  }

  async close(): Promise<void> {
    const opened = this.#opened
    this.#opened = undefined
    this.#channels.clear()
    if (opened !== undefined)
      await opened.then(
        () => this.#steps.close(),
        () => {},
      )
  }
}

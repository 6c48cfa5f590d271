/**
 * What a tiered cache needs to hear about other processes' writes: a channel it publishes its own
 * changed keys on, and listeners for theirs. `redisInvalidation()` from 'fanout/redis' is one, over
 * Redis pub/sub.
 */

/** What a bus tells a listener. */
export interface CacheInvalidationListener {
  /** Another process changed or deleted these store keys: drop any local copy. */
  evict(keys: readonly string[]): void
  /**
   * Messages may have been lost (the subscriber reconnected, or a sequence number skipped): local
   * copies of anything may be stale, drop them all.
   */
  flush(): void
}

export interface CacheInvalidation {
  /**
   * Tells the other processes that `keys` changed. Never rejects: a message that could not be sent
   * is reported as an event, and the receivers learn of the gap from the next one's sequence number.
   */
  publish(keys: readonly string[]): Promise<void>
  /** Starts hearing other processes' changes (never one's own). Returns the function that stops. */
  listen(listener: CacheInvalidationListener): () => void
  /**
   * Whether messages are being heard: false until the subscription is in place. While false, a
   * local copy could miss its invalidation, so a tiered store keeps none.
   */
  readonly listening: boolean
}

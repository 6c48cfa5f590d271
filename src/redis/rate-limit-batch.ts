/**
 * GCRA reservations that arrive in the same turn of the event loop go to Redis together, as one
 * run of the script that takes them in order (each still atomic and answered on its own): those
 * on one key on a Redis Cluster (a script's keys must share a slot), those on any keys on a
 * standalone server. Under load, callers are woken together by the replies that arrive together,
 * so this is where they meet; the server's work per reservation falls by half or more (one
 * EVALSHA, and one GET and SET per key, for the batch). It never adds a round trip: a lone
 * reservation goes after a few microtasks, in the same tick.
 */
import type { RateLimitReservation, RateLimitReserveRequest } from '../policies/rate-limit-store.js'

/**
 * Most reservations in one script run. Small enough that a tick's callers make two or more runs,
 * so the server works on one while the client reads the last one's replies and writes the next:
 * with 64 callers, 32 gave ioredis 1.3–1.6× the throughput of 128 and node-redis the same
 * (`npm run bench -- redis`), while the per-run cost stays shared by 32.
 */
export const MAX_BATCH = 32

/** A reservation waiting in a batch, and how to answer it. */
export interface Pending {
  readonly key: string
  readonly request: RateLimitReserveRequest
  readonly resolve: (reservation: RateLimitReservation) => void
  readonly reject: (error: unknown) => void
}

/** The open batches of one store: a batch is sent a few microtasks after its first reservation. */
export class Batches {
  /** Per key, the batch still open; bounded by the keys reserved in one tick. */
  readonly #open = new Map<string, Pending[]>()
  readonly #send: (batch: readonly Pending[]) => void
  readonly #perKey: boolean

  /** `perKey`: a batch holds one key's reservations only (Redis Cluster). */
  constructor(perKey: boolean, send: (batch: readonly Pending[]) => void) {
    this.#perKey = perKey
    this.#send = send
  }

  add(key: string, request: RateLimitReserveRequest): Promise<RateLimitReservation> {
    const group = this.#perKey ? key : ''
    return new Promise((resolve, reject) => {
      let batch = this.#open.get(group)
      if (batch === undefined) {
        const fresh: Pending[] = []
        batch = fresh
        this.#open.set(group, fresh)
        // A few hops, so the callers woken by the same reply (each a few awaits deep) join in.
        queueMicrotask(() => queueMicrotask(() => queueMicrotask(() => this.#flush(group, fresh))))
      }
      batch.push({ key, request, resolve, reject })
      if (batch.length >= MAX_BATCH) this.#flush(group, batch)
    })
  }

  #flush(group: string, batch: Pending[]): void {
    if (this.#open.get(group) !== batch) return
    this.#open.delete(group)
    this.#send(batch)
  }
}

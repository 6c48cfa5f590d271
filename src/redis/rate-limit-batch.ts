/**
 * Reservations on one key that arrive in the same turn of the event loop go to Redis together, as
 * one run of the GCRA script that takes them in order (each still atomic and answered on its
 * own). Under load, the callers of a hot key are woken together by the replies that arrive
 * together, so this is where they meet; it halves the server's work per reservation (one EVALSHA,
 * one GET and one SET for the batch) and never adds a round trip: a lone reservation goes after a
 * few microtasks, in the same tick.
 */
import type { RateLimitReservation, RateLimitReserveRequest } from '../policies/rate-limit-store.js'

/** Most reservations in one script run (its reply grows by 4 strings each). */
export const MAX_BATCH = 128

export interface Pending {
  readonly request: RateLimitReserveRequest
  readonly resolve: (reservation: RateLimitReservation) => void
  readonly reject: (error: unknown) => void
}

export class Batches {
  /** Per key, the batch still open; bounded by the keys reserved in one tick. */
  readonly #open = new Map<string, Pending[]>()
  readonly #send: (key: string, batch: readonly Pending[]) => void

  constructor(send: (key: string, batch: readonly Pending[]) => void) {
    this.#send = send
  }

  add(key: string, request: RateLimitReserveRequest): Promise<RateLimitReservation> {
    return new Promise((resolve, reject) => {
      let batch = this.#open.get(key)
      if (batch === undefined) {
        const fresh: Pending[] = []
        batch = fresh
        this.#open.set(key, fresh)
        // A few hops, so the callers woken by the same reply (each a few awaits deep) join in.
        queueMicrotask(() => queueMicrotask(() => queueMicrotask(() => this.#flush(key, fresh))))
      }
      batch.push({ request, resolve, reject })
      if (batch.length >= MAX_BATCH) this.#flush(key, batch)
    })
  }

  #flush(key: string, batch: Pending[]): void {
    if (this.#open.get(key) !== batch) return
    this.#open.delete(key)
    this.#send(key, batch)
  }
}

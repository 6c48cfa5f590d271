/**
 * The waiting line of a `Slots` without keys and priorities (see slots.ts, "the fast path"), and
 * what a fast call's gate resolves with.
 */

/** What a fast-path gate resolves with when its call is cleared from the queue. */
export class Cleared {
  constructor(readonly error: unknown) {}
}

export type Job = () => unknown
export type Grant = (value: Job | Cleared) => void

/**
 * The FIFO line of a limiter without keys and priorities: pairs in a growable ring — a fast
 * call's (gate resolve, function), or a `wait()` waiter's (the waiter, undefined). An aborted waiter
 * is marked dead and skipped; the ring is compacted once dead entries outnumber live ones.
 */
export class Line<W extends { live: boolean }> {
  #ring: unknown[] = new Array<unknown>(32)
  #mask = 31
  #head = 0
  /** Entries in the ring, dead ones included (pairs). */
  #length = 0
  live = 0

  push(a: unknown, b: unknown): void {
    if (this.#length * 2 === this.#ring.length) this.#relay(this.#ring.length * 2)
    const at = ((this.#head + this.#length) * 2) & this.#mask
    this.#ring[at] = a
    this.#ring[at + 1] = b
    this.#length++
    this.live++
  }

  /** Takes the oldest live entry: calls `fast` with a fast call's pair, or returns the waiter. */
  shift(fast: (grant: Grant, job: Job) => void): W | undefined {
    while (this.#length > 0) {
      const at = this.#head * 2
      const a = this.#ring[at]
      const b = this.#ring[at + 1]
      this.#ring[at] = this.#ring[at + 1] = undefined
      this.#head = (this.#head + 1) & (this.#mask >> 1)
      this.#length--
      if (typeof a === 'function') {
        this.live--
        fast(a as Grant, b as Job)
        return undefined
      }
      const waiter = a as W
      if (waiter.live) {
        waiter.live = false
        this.live--
        return waiter
      }
    }
    return undefined
  }

  remove(waiter: W): void {
    if (!waiter.live) return
    waiter.live = false
    this.live--
    if (this.#length > 64 && this.#length - this.live > this.live) this.#relay(this.#ring.length)
  }

  /** Empties the line: every live entry, in order, to `each` (a fast call's pair or a waiter). */
  drain(each: (a: Grant | W) => void): void {
    while (this.#length > 0) {
      const at = this.#head * 2
      const a = this.#ring[at] as Grant | W
      this.#ring[at] = this.#ring[at + 1] = undefined
      this.#head = (this.#head + 1) & (this.#mask >> 1)
      this.#length--
      if (typeof a === 'function' || a.live) {
        if (typeof a !== 'function') a.live = false
        this.live--
        each(a)
      }
    }
  }

  /** Re-lays the live entries from index 0 into a ring of at least `capacity` slots. */
  #relay(capacity: number): void {
    let size = 32
    while (size < Math.max(capacity, this.live * 4)) size *= 2
    const next = new Array<unknown>(size)
    let n = 0
    for (let i = 0; i < this.#length; i++) {
      const at = ((this.#head + i) * 2) & this.#mask
      const a = this.#ring[at]
      if (typeof a !== 'function' && !(a as W).live) continue
      next[n * 2] = a
      next[n * 2 + 1] = this.#ring[at + 1]
      n++
    }
    this.#ring = next
    this.#mask = size - 1
    this.#head = 0
    this.#length = n
  }
}

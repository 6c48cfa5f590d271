/**
 * The queues a limiter keeps its waiting calls in. Removal of an aborted waiter is O(1): the
 * entry is marked and skipped when it reaches the front, and the storage is compacted once dead
 * entries outnumber live ones, so a storm of aborts cannot grow memory past twice the live size.
 */

export interface Waiter {
  /** Ordering key: higher runs first. A FIFO queue ignores it. */
  readonly rank: number
  /** Arrival order; breaks ties in rank (FIFO within a priority). */
  readonly seq: number
  /** False once removed (started, aborted, timed out, cleared). */
  live: boolean
}

export interface WaitingQueue<W extends Waiter> {
  readonly size: number
  push(waiter: W): void
  /** The best live waiter, without removing it. */
  peek(): W | undefined
  /** Removes and returns the best live waiter. */
  shift(): W | undefined
  /** Marks a waiter removed; it is dropped lazily. */
  remove(waiter: W): void
  /** Removes every live waiter and returns them in order. */
  drain(): W[]
}

/** FIFO on a growable ring buffer: O(1) push and shift, no per-entry node objects. */
export class FifoQueue<W extends Waiter> implements WaitingQueue<W> {
  #items: (W | undefined)[] = new Array<W | undefined>(16)
  #head = 0
  #length = 0
  #live = 0

  get size(): number {
    return this.#live
  }

  push(waiter: W): void {
    if (this.#length === this.#items.length) this.#grow(this.#items.length * 2)
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = waiter
    this.#length++
    this.#live++
  }

  peek(): W | undefined {
    this.#skipDead()
    return this.#length === 0 ? undefined : this.#items[this.#head]
  }

  shift(): W | undefined {
    this.#skipDead()
    if (this.#length === 0) return undefined
    const waiter = this.#items[this.#head]!
    this.#items[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#items.length - 1)
    this.#length--
    this.#live--
    waiter.live = false
    return waiter
  }

  remove(waiter: W): void {
    if (!waiter.live) return
    waiter.live = false
    this.#live--
    if (this.#length > 64 && this.#length - this.#live > this.#live) this.#grow(this.#items.length)
  }

  drain(): W[] {
    const out: W[] = []
    for (let w = this.shift(); w !== undefined; w = this.shift()) out.push(w)
    return out
  }

  #skipDead(): void {
    while (this.#length > 0) {
      const first = this.#items[this.#head]!
      if (first.live) return
      this.#items[this.#head] = undefined
      this.#head = (this.#head + 1) & (this.#items.length - 1)
      this.#length--
    }
  }

  /** Re-lays the live entries from index 0 into a buffer of at least `capacity` (a power of 2). */
  #grow(capacity: number): void {
    let size = 16
    while (size < Math.max(capacity, this.#live * 2)) size *= 2
    const next = new Array<W | undefined>(size)
    let n = 0
    for (let i = 0; i < this.#length; i++) {
      const w = this.#items[(this.#head + i) & (this.#items.length - 1)]!
      if (w.live) next[n++] = w
    }
    this.#items = next
    this.#head = 0
    this.#length = n
  }
}

/** Binary max-heap on (rank, then earliest seq). */
export class PriorityQueue<W extends Waiter> implements WaitingQueue<W> {
  #heap: W[] = []
  #live = 0

  get size(): number {
    return this.#live
  }

  push(waiter: W): void {
    this.#heap.push(waiter)
    this.#live++
    this.#up(this.#heap.length - 1)
  }

  peek(): W | undefined {
    this.#skipDead()
    return this.#heap[0]
  }

  shift(): W | undefined {
    this.#skipDead()
    const top = this.#pop()
    if (top !== undefined) {
      top.live = false
      this.#live--
    }
    return top
  }

  remove(waiter: W): void {
    if (!waiter.live) return
    waiter.live = false
    this.#live--
    if (this.#heap.length > 64 && this.#heap.length - this.#live > this.#live) {
      this.#heap = this.#heap.filter((w) => w.live)
      for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#down(i)
    }
  }

  drain(): W[] {
    const out: W[] = []
    for (let w = this.shift(); w !== undefined; w = this.shift()) out.push(w)
    return out
  }

  #skipDead(): void {
    while (this.#heap.length > 0 && !this.#heap[0]!.live) this.#pop()
  }

  #pop(): W | undefined {
    const heap = this.#heap
    if (heap.length === 0) return undefined
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      this.#down(0)
    }
    return top
  }

  #before(a: W, b: W): boolean {
    return a.rank > b.rank || (a.rank === b.rank && a.seq < b.seq)
  }

  #up(i: number): void {
    const heap = this.#heap
    const item = heap[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#before(item, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = item
  }

  #down(i: number): void {
    const heap = this.#heap
    const item = heap[i]!
    const n = heap.length
    for (;;) {
      let best = i * 2 + 1
      if (best >= n) break
      if (best + 1 < n && this.#before(heap[best + 1]!, heap[best]!)) best++
      if (!this.#before(heap[best]!, item)) break
      heap[i] = heap[best]!
      i = best
    }
    heap[i] = item
  }
}

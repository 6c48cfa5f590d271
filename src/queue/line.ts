/**
 * The memory queue's line of ready jobs, per name: first in, first out, on a ring buffer, so
 * taking the next job is O(1) however many wait (`Array.prototype.shift` copies a long array,
 * which made draining 100,000 queued jobs quadratic).
 */
export class Line<T> {
  #items: (T | undefined)[] = new Array<T | undefined>(16)
  #head = 0
  #length = 0

  get length(): number {
    return this.#length
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow()
    this.#items[(this.#head + this.#length) % this.#items.length] = item
    this.#length++
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head = (this.#head + 1) % this.#items.length
    this.#length--
    return item
  }

  #grow(): void {
    const items = new Array<T | undefined>(this.#items.length * 2)
    for (let i = 0; i < this.#length; i++)
      items[i] = this.#items[(this.#head + i) % this.#items.length]
    this.#items = items
    this.#head = 0
  }
}

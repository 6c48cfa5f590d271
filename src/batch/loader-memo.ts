/**
 * The loader's memo: one map from id to entry unscoped, and one per scope, bounded together by
 * `maxCacheSize` (insertion order is eviction order). Kept apart from `Loader` so the cache-map
 * bookkeeping (sizes, empty scopes, eviction) lives in one place.
 */
import { Pending, type Entry } from './batch.js'

export class Memo<Id, V> {
  /** The unscoped memo; replaced, not cleared, by `clearAll`. */
  root = new Map<Id, Entry<V>>()
  readonly scoped = new Map<string, Map<Id, Entry<V>>>()
  /** Entries over every scope. */
  size = 0

  constructor(readonly max: number) {}

  /** The memo of `scope`, if it has one. */
  of(scope: string | undefined): Map<Id, Entry<V>> | undefined {
    return scope === undefined ? this.root : this.scoped.get(scope)
  }

  /** Adds an entry to `memo` (the memo of `scope`, made when undefined), evicting past the bound. */
  remember(
    scope: string | undefined,
    memo: Map<Id, Entry<V>> | undefined,
    id: Id,
    entry: Entry<V>,
  ): void {
    if (memo === undefined) this.scoped.set(scope!, (memo = new Map()))
    memo.set(id, entry)
    if (++this.size > this.max) this.evictOldest()
  }

  /** The oldest entry of the unscoped memo, else of the scope memoized first. */
  evictOldest(): void {
    let scope: string | undefined
    let memo: Map<Id, Entry<V>> | undefined = this.root
    if (memo.size === 0) {
      const first = this.scoped.entries().next()
      if (first.done === true) return
      ;[scope, memo] = first.value
    }
    const oldest = memo.keys().next()
    if (oldest.done === true) return
    memo.delete(oldest.value)
    this.size--
    if (scope !== undefined && memo.size === 0) this.scoped.delete(scope)
  }

  /** Forgets `id` of `scope`. */
  delete(scope: string | undefined, id: Id): void {
    const memo = this.of(scope)
    if (memo?.delete(id) === true) {
      this.size--
      if (scope !== undefined && memo.size === 0) this.scoped.delete(scope)
    }
  }

  /**
   * Forgets `id` of `scope` unless its entry is pending in a batch other than `owner` (a bare
   * promise cannot say whose it is: forgetting one that a reload after `clear` put there costs a
   * refetch).
   */
  forget(scope: string | undefined, id: Id, owner: unknown): void {
    const memo = this.of(scope)
    if (memo === undefined) return
    const entry = memo.get(id)
    if (entry !== undefined && (!(entry instanceof Pending) || entry.batch === owner)) {
      memo.delete(id)
      this.size--
      if (scope !== undefined && memo.size === 0) this.scoped.delete(scope)
    }
  }

  /** Forgets every entry of `scope`. */
  clearScope(scope: string | undefined): void {
    const memo = this.of(scope)
    if (memo !== undefined) {
      this.size -= memo.size
      if (scope === undefined) this.root = new Map()
      else this.scoped.delete(scope)
    }
  }

  /** Forgets every entry. */
  clear(): void {
    this.root = new Map()
    this.scoped.clear()
    this.size = 0
  }
}

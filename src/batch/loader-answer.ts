/**
 * Reads a batch function's answer that is not a Map — a list matched by `id`, or an object keyed
 * by id — as a lookup from id to value. Kept apart from `Loader` because matching by id, never
 * by position, is its own rule with its own error messages.
 */
import { show } from '../core/validate.js'
import type { BatchAnswer } from './loader-types.js'

/** What a lookup gives for an id the answer has nothing for. */
export const MISSING: unique symbol = Symbol('missing')

/** A function from id to value (or MISSING) over the answer, or what is wrong with it. */
export function lookupOf<V, Id>(
  answer: Exclude<BatchAnswer<V, Id>, ReadonlyMap<Id, V | Error>>,
  idOf: ((item: V) => Id) | undefined,
): ((id: Id) => V | Error | typeof MISSING) | string {
  if (
    answer !== null &&
    typeof answer === 'object' &&
    typeof (answer as Iterable<V>)[Symbol.iterator] === 'function'
  ) {
    if (idOf === undefined) {
      return 'the batch function returned a list, but the loader has no `id` option to match items to keys (results are matched by id, never by position): pass { id: (item) => item.id }, or return a Map from id to value.'
    }
    const byId = new Map<Id, V>()
    for (const item of answer as Iterable<V>) {
      if (item === null || item === undefined) continue
      const id = idOf(item)
      if (!byId.has(id)) byId.set(id, item)
    }
    return (id) => (byId.has(id) ? byId.get(id)! : MISSING)
  }
  if (answer !== null && typeof answer === 'object') {
    const record = answer as Readonly<Record<string, V | Error>>
    return (id) =>
      Object.prototype.hasOwnProperty.call(record, String(id)) ? record[String(id)]! : MISSING
  }
  return `the batch function must return a Map, an object keyed by id or a list (with \`id\`), got ${show(answer)}.`
}

/**
 * Reading objects callers hand over without trusting `Object.prototype` (fault I10): a polluted
 * prototype (`Object.prototype.idempotent = true`, from a `__proto__` key merged by some other
 * library) must not turn into an option, a header or a status that nobody passed.
 */

const NONE: object = Object.freeze(Object.create(null) as object)

/**
 * A null-prototype copy of the own enumerable properties of an options object (a shared, frozen
 * empty one for `undefined`): an option left out reads as undefined whatever `Object.prototype`
 * holds, `in` sees own keys only, and an own `__proto__` key (from JSON.parse) stays a plain key,
 * never a prototype.
 */
export function own<T extends object>(options: T | undefined): Partial<T> {
  if (options === undefined) return NONE as Partial<T>
  const copy = Object.create(null) as Record<string, unknown>
  for (const key of Object.keys(options)) copy[key] = (options as Record<string, unknown>)[key]
  return copy as Partial<T>
}

/**
 * Whether `value` has `key` itself or through a prototype other than `Object.prototype`: a
 * class's getter (a fetch `Response`'s `status`) counts, a polluted prototype does not.
 */
export function hasField(value: object, key: string): boolean {
  for (
    let o: object | null = value;
    o !== null && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    if (Object.prototype.hasOwnProperty.call(o, key)) return true
  }
  return false
}

/** `value[key]` when `hasField(value, key)`, otherwise undefined. */
export function field(value: object, key: string): unknown {
  return hasField(value, key) ? (value as Record<string, unknown>)[key] : undefined
}

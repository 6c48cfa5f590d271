/**
 * Whether a value comes back from `JSON.parse(JSON.stringify(value))` as it went in. A shared
 * store keeps JSON text, so a value that would come back changed (a Map as `{}`, a Date as a
 * string, NaN as null, an `undefined` property gone) must be refused, not silently altered: the
 * in-memory store hands back the very object, and code that works against it must not break
 * once the store is shared.
 */

/** Nesting deeper than this is refused (the check recurses). */
const MAX_DEPTH = 256

/**
 * `undefined` when `value` survives JSON unchanged; otherwise where and why not, e.g.
 * `value.items[2] is a Map`.
 */
export function jsonProblem(value: unknown, path = 'value'): string | undefined {
  return check(value, path, new Set(), 0)
}

function check(value: unknown, path: string, open: Set<object>, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : `${path} is ${String(value)} (JSON has no such number)`
    case 'undefined':
      return `${path} is undefined (JSON drops it)`
    case 'object':
      break
    default:
      return `${path} is a ${typeof value}`
  }
  if (value === null) return undefined
  if (depth >= MAX_DEPTH) return `${path} is nested more than ${MAX_DEPTH} levels deep`
  if (open.has(value)) return `${path} refers back to an enclosing object (a cycle)`
  open.add(value)
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return `${path}[${i}] is a hole (JSON makes it null)`
        const problem = check(value[i], `${path}[${i}]`, open, depth + 1)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    const proto = Object.getPrototypeOf(value) as object | null
    if (proto !== Object.prototype && proto !== null)
      return `${path} is a ${kindOf(value)} (only plain objects, arrays, strings, finite numbers, booleans and null survive JSON)`
    if (Object.getOwnPropertySymbols(value).length > 0)
      return `${path} has symbol keys (JSON drops them)`
    for (const key of Object.keys(value)) {
      const problem = check(
        (value as Record<string, unknown>)[key],
        `${path}.${key}`,
        open,
        depth + 1,
      )
      if (problem !== undefined) return problem
    }
    return undefined
  } finally {
    open.delete(value)
  }
}

function kindOf(value: object): string {
  const ctor = (value as { constructor?: unknown }).constructor
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'non-plain object'
}

/**
 * `cacheKey(...parts)`: one string per distinct list of key parts, and the same string for equal
 * ones — the identity of a cached value, so two requests never share an entry by accident.
 *
 * Joining parts with a separator (`${a}|${b}`) or `JSON.stringify` is not enough: `["1|x"]` and
 * `["1", "x"]` join alike, and JSON turns `undefined`, `NaN` and `null` into the same thing,
 * a Map into `{}` and a Date into its ISO string. Here every value is written as a type tag
 * followed by a self-delimiting body (strings carry their length, numbers end with `;`,
 * containers carry their element count), so a key decodes back into exactly one list of parts:
 * no separator inside a string can fake a boundary. Plain object keys are sorted, and Map and Set
 * entries are sorted by their own encoding, so insertion order never matters there; array order
 * does. `-0` and `0` are one key, like `NaN` and `NaN`.
 *
 * What cannot be encoded faithfully is refused with a TypeError naming the offending part and how
 * to fix it, rather than silently collapsed: BigInt, symbols, functions, cycles and class
 * instances other than Date, Map, Set and Array.
 *
 * Containers nest at most `MAX_KEY_DEPTH` levels: deeper input is refused with an
 * `InvalidArgumentError` naming the limit, not a stack overflow half-way through the encoding.
 */
import { InvalidArgumentError } from '../core/errors.js'

/**
 * Arrays, objects, Maps and Sets inside each other, at most. What identifies a request is a few
 * levels deep; 100 (MongoDB's limit for a document's nesting) leaves room for generated query
 * objects while the recursion stays far from the stack limit whatever the caller's own depth,
 * and the cycle check (a scan of the containers above) stays cheap.
 */
export const MAX_KEY_DEPTH = 100

type PathStep = string | number | { readonly in: 'map' | 'set' }

interface Walk {
  /** Containers being encoded, outermost first: a repeat is a cycle (a shared, acyclic reference is fine). */
  readonly stack: object[]
  /** Where the walk is, for error messages only; formatted lazily. */
  readonly path: PathStep[]
}

export function cacheKey(...parts: readonly unknown[]): string {
  // The hot path of every cached call: one id. Same output as the general encoding below.
  if (parts.length === 1) {
    const only = parts[0]
    if (typeof only === 'string') return `s${only.length}:${only}`
    if (typeof only === 'number') return `n${only};`
  }
  const walk: Walk = { stack: [], path: [] }
  let out = ''
  for (let i = 0; i < parts.length; i++) {
    walk.path.push(i)
    out += encode(parts[i], walk)
    walk.path.pop()
  }
  return out
}

function encode(value: unknown, walk: Walk): string {
  switch (typeof value) {
    case 'string':
      return `s${value.length}:${value}`
    case 'number':
      // String(-0) is "0"; String never yields ";" for a number, so ";" ends the body.
      return `n${value};`
    case 'boolean':
      return value ? 'T' : 'F'
    case 'undefined':
      return 'u'
    case 'object':
      return value === null ? 'z' : encodeObject(value, walk)
    case 'bigint':
      throw refuse(
        walk,
        `a BigInt (${value}n)`,
        'Convert the BigInt to a string first, e.g. String(value).',
      )
    case 'symbol':
      throw refuse(
        walk,
        `a symbol (${String(value)})`,
        'Symbols are unique to one process; use a string instead, e.g. its description.',
      )
    default:
      throw refuse(
        walk,
        `a function (${(value as { name?: string }).name || 'anonymous'})`,
        'Functions cannot be compared by value; pass a string or id that identifies what it does.',
      )
  }
}

function encodeObject(value: object, walk: Walk): string {
  if (value instanceof Date) return `d${value.getTime()};`
  if (walk.stack.includes(value)) {
    throw refuse(
      walk,
      'a reference back to an object that contains it (a cycle)',
      'A cache key must be a finite tree: pass only the fields that identify the request.',
    )
  }
  if (walk.stack.length >= MAX_KEY_DEPTH) throw tooDeep(walk)
  walk.stack.push(value)
  let out: string
  if (Array.isArray(value)) out = encodeArray(value, walk)
  else if (value instanceof Map) out = encodeMap(value, walk)
  else if (value instanceof Set) out = encodeSet(value, walk)
  else if (isPlainObject(value)) out = encodePlain(value, walk)
  else {
    const name = (value.constructor as { name?: unknown } | undefined)?.name
    throw refuse(
      walk,
      `an instance of ${typeof name === 'string' && name !== '' ? name : 'a class'}`,
      'Only strings, numbers, booleans, null, undefined, arrays, plain objects, Maps, Sets and Dates can be key parts: ' +
        'pass the fields that identify it instead (e.g. { id: value.id } or a string such as url.href).',
    )
  }
  walk.stack.pop()
  return out
}

function encodeArray(value: readonly unknown[], walk: Walk): string {
  let out = `a${value.length}:`
  for (let i = 0; i < value.length; i++) {
    walk.path.push(i)
    out += encode(value[i], walk)
    walk.path.pop()
  }
  return out
}

function encodePlain(value: object, walk: Walk): string {
  const symbols = Object.getOwnPropertySymbols(value)
  if (symbols.length > 0) {
    throw refuse(
      walk,
      `an object with a symbol-keyed property (${String(symbols[0])})`,
      'Use string keys only, or pass the fields that identify it.',
    )
  }
  // Sorted: {a,b} and {b,a} are one key. Keys are unique, so the order is total.
  const keys = Object.keys(value).sort()
  let out = `o${keys.length}:`
  for (const key of keys) {
    walk.path.push(key)
    out += `${key.length}:${key}${encode((value as Record<string, unknown>)[key], walk)}`
    walk.path.pop()
  }
  return out
}

function encodeMap(value: ReadonlyMap<unknown, unknown>, walk: Walk): string {
  const entries: string[] = []
  walk.path.push({ in: 'map' })
  for (const [k, v] of value) entries.push(encode(k, walk) + encode(v, walk))
  walk.path.pop()
  // Each entry is self-delimiting, so the sorted concatenation names one multiset of entries.
  return `m${entries.length}:${entries.sort().join('')}`
}

function encodeSet(value: ReadonlySet<unknown>, walk: Walk): string {
  const items: string[] = []
  walk.path.push({ in: 'set' })
  for (const item of value) items.push(encode(item, walk))
  walk.path.pop()
  return `S${items.length}:${items.sort().join('')}`
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null
  // The last test admits plain objects from another realm (a vm context, an iframe).
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null
}

function refuse(walk: Walk, found: string, fix: string): TypeError {
  return new TypeError(
    `cacheKey(): ${describePath(walk.path)} is ${found}, which cannot be part of a cache key. ${fix}`,
  )
}

function tooDeep(walk: Walk): InvalidArgumentError {
  // The full path would be 100 steps long: its first few say which part and where it goes deep.
  const shown = walk.path.slice(0, 4)
  return new InvalidArgumentError(
    `cacheKey(): ${describePath(shown)}${walk.path.length > shown.length ? '…' : ''} nests arrays, objects, Maps or Sets more than ` +
      `${MAX_KEY_DEPTH} levels deep, the most a cache key may have. Pass only the fields that identify the request.`,
  )
}

function describePath(path: readonly PathStep[]): string {
  let text = 'parts'
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`
    else if (typeof step === 'string')
      text += /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`
    else text += step.in === 'map' ? ' (in a Map entry)' : ' (in a Set)'
  }
  return text
}

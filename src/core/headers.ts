/**
 * Reading one header from whatever callers hand over as headers, with one behaviour everywhere
 * (retry, rate limiting, caching, pagination):
 *
 * - `Headers`-like (a `get` method, as on fetch's `Headers` or undici's): its answer when it is
 *   a string; `null` or anything else is absent;
 * - a plain record (Node's `IncomingHttpHeaders`, a test's literal, a null-prototype object):
 *   the field names match in any case, and only the record's own properties count, never a
 *   polluted `Object.prototype` (I10);
 * - values may be strings, finite numbers (`{ 'retry-after': 5 }`) or arrays of them; anything
 *   else (objects, `undefined`, `NaN`) is skipped;
 * - several values (an array, or names differing only in case) are joined with ", ", as HTTP
 *   combines a repeated field (RFC 9110 §5.3) and as `Headers.get` answers, so a record and a
 *   `Headers` holding the same fields read the same;
 * - absent, or not an object at all: `undefined`. Never throws on an odd shape.
 */
import { field } from './own.js'

/** The value of header `name` (any case) in `headers`, or undefined. */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined
  const get = field(headers, 'get')
  if (typeof get === 'function') {
    const v: unknown = (get as (name: string) => unknown).call(headers, name)
    return typeof v === 'string' ? v : undefined
  }
  const wanted = name.toLowerCase()
  const record = headers as Readonly<Record<string, unknown>>
  const values: string[] = []
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== wanted) continue
    const v = record[key]
    if (Array.isArray(v)) for (const item of v) addValue(values, item)
    else addValue(values, v)
  }
  return values.length > 0 ? values.join(', ') : undefined
}

function addValue(values: string[], value: unknown): void {
  if (typeof value === 'string') values.push(value)
  else if (typeof value === 'number' && Number.isFinite(value)) values.push(String(value))
}

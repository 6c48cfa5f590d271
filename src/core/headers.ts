/**
 * Reading one header from what callers hand over as headers: a `Headers`-like object (`get`) or a
 * plain record whose names may be in any case. Repeated values (an array, or keys differing only
 * in case) are joined with ", ", as HTTP joins repeated fields.
 */
import { field } from './own.js'

export function headerValue(headers: object, name: string): string | undefined {
  const get = field(headers, 'get')
  if (typeof get === 'function') {
    const v: unknown = (get as (name: string) => unknown).call(headers, name)
    return typeof v === 'string' ? v : undefined
  }
  const record = headers as Readonly<Record<string, unknown>>
  const values: string[] = []
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== name) continue
    const v = record[key]
    if (typeof v === 'string') values.push(v)
    else if (Array.isArray(v)) for (const item of v) if (typeof item === 'string') values.push(item)
  }
  return values.length > 0 ? values.join(', ') : undefined
}

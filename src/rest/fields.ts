/**
 * Field selection: asking the upstream for only the fields you read (`?fields=id,name,address.city`
 * — Google's `fields`, JSON:API sparse fieldsets `fields[articles]=title,body`, most REST APIs'
 * `fields`/`select`). Less to send, parse and cache.
 *
 * Field names come from code, but sometimes from a request (`?fields=` passed through). A name is
 * checked against a conservative alphabet, so `a&admin=true` or `a,secret` cannot smuggle in
 * another parameter or another field. The list is deduplicated and sorted: `['b', 'a', 'a']` and
 * `['a', 'b']` give one URL, so caches keyed by URL do not split.
 */
import { InvalidOptionError } from '../core/errors.js'
import { checkKnownKeys, show, snapshot } from '../core/validate.js'

export interface WithFieldsOptions {
  /** The query parameter. Default `'fields'`. */
  readonly param?: string
  /** `'comma'`: `fields=a,b` (default). `'repeat'`: `fields=a&fields=b`. */
  readonly style?: 'comma' | 'repeat'
}

/** Field names: a list or a set (not a string: `'a,b'` would be one name with a comma). */
export type FieldList = readonly string[] | ReadonlySet<string>

/** Field names, or JSON:API-style per type: `{ articles: ['title'], people: ['name'] }` → `fields[articles]=title&fields[people]=name`. */
export type FieldSelection = FieldList | Readonly<Record<string, FieldList>>

/** Letters, digits and `_ - . / : @ $ * ~`: enough for `a.b`, `a/b`, `a:b`, `*`; nothing that delimits a query. */
const FIELD = /^[A-Za-z0-9_\-./:@$*~]+$/
const KNOWN = ['param', 'style'] as const

/**
 * `url` with the field selection as a query parameter, replacing one of the same name already
 * there. The rest of the URL is kept byte for byte (its other parameters are not re-encoded, so
 * a signed URL stays signed). A string stays a string (relative ones too), a URL gives a new URL.
 */
export function withFields(url: string, fields: FieldSelection, options?: WithFieldsOptions): string
export function withFields(url: URL, fields: FieldSelection, options?: WithFieldsOptions): URL
export function withFields(
  url: string | URL,
  fields: FieldSelection,
  options?: WithFieldsOptions,
): string | URL
export function withFields(
  url: string | URL,
  fields: FieldSelection,
  options?: WithFieldsOptions,
): string | URL {
  const where = 'withFields()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, KNOWN)
  const param = opts.param ?? 'fields'
  if (typeof param !== 'string' || param.trim() === '' || /[\u0000-\u0020&=#?\u007f]/.test(param)) {
    throw new InvalidOptionError(
      `${where}: \`param\` must be a parameter name without spaces, \`&\`, \`=\`, \`#\` or \`?\`, got ${show(param)}.`,
    )
  }
  const style = opts.style ?? 'comma'
  if (style !== 'comma' && style !== 'repeat')
    throw new InvalidOptionError(
      `${where}: \`style\` must be 'comma' or 'repeat', got ${show(style)}.`,
    )

  const groups = selection(where, param, fields, style)
  const names = new Set(groups.map(([name]) => name))
  const added = groups
    .flatMap(([name, list]) => {
      const key = encodeURIComponent(name)
      // Field names need no escaping: every character the check lets through is legal in a
      // query as is (RFC 3986 §3.4), and `a/b` reads better than `a%2Fb` in logs.
      return style === 'comma'
        ? [`${key}=${list.join(',')}`]
        : list.map((field) => `${key}=${field}`)
    })
    .join('&')

  if (url instanceof URL) {
    const copy = new URL(url.href)
    copy.search = merge(copy.search.slice(1), names, added)
    return copy
  }
  if (typeof url !== 'string')
    throw new InvalidOptionError(`${where}: \`url\` must be a string or a URL, got ${show(url)}.`)
  const hashAt = url.indexOf('#')
  const hash = hashAt < 0 ? '' : url.slice(hashAt)
  const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt)
  const queryAt = beforeHash.indexOf('?')
  const path = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt)
  const query = queryAt < 0 ? '' : beforeHash.slice(queryAt + 1)
  return `${path}?${merge(query, names, added)}${hash}`
}

/** The parameter groups to add: `[name, sorted distinct fields]`, groups sorted by name. */
function selection(
  where: string,
  param: string,
  fields: FieldSelection,
  style: 'comma' | 'repeat',
): [string, string[]][] {
  if (typeof fields === 'string') {
    throw new InvalidOptionError(
      `${where}: \`fields\` must be a list of names, got a string (${show(fields)}). Pass ['a', 'b'], not 'a,b'.`,
    )
  }
  if (
    fields !== null &&
    typeof fields === 'object' &&
    typeof (fields as Partial<Iterable<string>>)[Symbol.iterator] === 'function'
  ) {
    const list = distinct(where, fields as Iterable<string>, 'fields')
    if (list.length === 0)
      throw new InvalidOptionError(
        `${where}: \`fields\` is empty. Omit withFields() to get every field.`,
      )
    return [[param, list]]
  }
  if (fields === null || typeof fields !== 'object')
    throw new InvalidOptionError(
      `${where}: \`fields\` must be a list of names or { type: names }, got ${show(fields)}.`,
    )
  const record = fields as Readonly<Record<string, Iterable<string>>>
  const types = Object.keys(record).sort()
  if (types.length === 0)
    throw new InvalidOptionError(
      `${where}: \`fields\` has no types. Omit withFields() to get every field.`,
    )
  return types.map((type) => {
    check(where, type, `type ${show(type)}`)
    const list = distinct(where, record[type]!, `fields.${type}`)
    // JSON:API: an empty list for a type means "no fields of it", which only the comma style can say.
    if (list.length === 0 && style === 'repeat')
      throw new InvalidOptionError(
        `${where}: \`fields.${type}\` is empty, which the 'repeat' style cannot express.`,
      )
    return [`${param}[${type}]`, list]
  })
}

function distinct(where: string, fields: Iterable<string>, what: string): string[] {
  if (
    typeof fields === 'string' ||
    fields === null ||
    typeof fields !== 'object' ||
    typeof (fields as Partial<Iterable<string>>)[Symbol.iterator] !== 'function'
  ) {
    throw new InvalidOptionError(
      `${where}: \`${what}\` must be a list of field names, got ${show(fields)}.`,
    )
  }
  const set = new Set<string>()
  for (const field of fields) {
    check(where, field, `field name ${show(field)} in \`${what}\``)
    set.add(field)
  }
  // Code-unit order: the same on every runtime and locale.
  return [...set].sort()
}

function check(where: string, name: unknown, what: string): void {
  if (typeof name !== 'string' || !FIELD.test(name)) {
    throw new InvalidOptionError(
      `${where}: ${what} is not allowed: names may use letters, digits and _ - . / : @ $ * ~ only (no commas, spaces, & = ? # or brackets).`,
    )
  }
}

/** `query` without parameters named in `names` (compared decoded), then `added`. */
function merge(query: string, names: ReadonlySet<string>, added: string): string {
  const kept =
    query === ''
      ? []
      : query.split('&').filter((piece) => piece !== '' && !names.has(decodeName(piece)))
  kept.push(added)
  return kept.join('&')
}

function decodeName(piece: string): string {
  const eq = piece.indexOf('=')
  const raw = (eq < 0 ? piece : piece.slice(0, eq)).replaceAll('+', ' ')
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

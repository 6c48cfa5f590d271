/**
 * `batchEndpoint()`: a `Loader` in front of a batch GET endpoint (`/users?ids=1,2,3`), so code
 * that asks for one user at a time makes one request per tick — safely:
 *
 * - **no URL over `maxUrlLength`** (G3): each id costs what it adds to the URL, measured with the
 *   caller's own `url()` (`url([id, id])` minus `url([id])`: the id and its separator, however
 *   the URL is built), and a batch closes before its ids would overflow the room that `url([])`
 *   leaves. A URL that still comes out too long (a `url()` that is not a prefix plus one piece
 *   per id) is split in halves before sending; an id that alone is too long fails with a
 *   `UrlTooLongError` (status 414) for that key only;
 * - **matched by id, never by position** (G1): items are keyed by `id(item)`; a requested id the
 *   answer lacks rejects with `NotFoundError`, extra items are ignored, order does not matter;
 * - the batch's `signal` goes to `fetch` (G6): it aborts when every caller of the batch has left.
 */
import type { Clock } from '../core/clock.js'
import { FanoutError, InvalidOptionError } from '../core/errors.js'
import { checkFunction, checkKnownKeys, checkNumber, show, snapshot } from '../core/validate.js'
import {
  Loader,
  type BatchContext,
  type LoaderBatchEvent,
  type LoaderOptions,
} from '../batch/loader.js'
import type { Limiter } from '../policies/limit.js'

/** Ids go into URLs as text: strings or numbers (bigints too). */
export type EndpointId = string | number | bigint

export interface BatchEndpointOptions<Id extends EndpointId, Item, Body> {
  /** The URL for a batch of ids, e.g. `(ids) => \`https://users.internal/users?${idsParam(ids)}\``. Called with `[]` once at construction. */
  readonly url: (ids: readonly Id[]) => string | URL
  /** Fetches a batch URL and returns the parsed body. Pass `signal` on: it aborts when every caller left. */
  readonly fetch: (url: string, ctx: { readonly signal: AbortSignal }) => PromiseLike<Body>
  /** The id of an item of the answer: results are matched by it, never by position. */
  readonly id: (item: Item) => Id
  /** The items of an answer that is not a bare list, e.g. `(body) => body.data`. */
  readonly items?: (body: Body) => Iterable<Item>
  /** Longest URL sent, in characters (non-ASCII counted percent-encoded). Default 2,000. */
  readonly maxUrlLength?: number
  /** Ids per request at most (many APIs cap it, often at 100). Default: only the URL length bounds it. */
  readonly maxBatchSize?: number
  /** Batch requests running at once: a number or a shared `limit()`. Default: no limit. */
  readonly concurrency?: number | Limiter
  /** Collect loads for this many ms before sending (default: one tick). */
  readonly wait?: number
  /** Shown in errors and batch events. Default 'batchEndpoint'. */
  readonly name?: string
  /** Memoize one promise per id for the loader's lifetime. Default true. */
  readonly cache?: boolean
  /** Ids memoized at most. Default 10,000. */
  readonly maxCacheSize?: number
  /** One event per batch request. */
  readonly onBatch?: (event: LoaderBatchEvent) => void
  readonly clock?: Clock
}

const KNOWN = [
  'url',
  'fetch',
  'id',
  'items',
  'maxUrlLength',
  'maxBatchSize',
  'concurrency',
  'wait',
  'name',
  'cache',
  'maxCacheSize',
  'onBatch',
  'clock',
] as const
const PASSED_ON = [
  'maxBatchSize',
  'concurrency',
  'wait',
  'cache',
  'maxCacheSize',
  'onBatch',
  'clock',
] as const

/**
 * An id that alone makes a URL longer than `maxUrlLength`: never sent (the upstream would answer
 * 414 URI Too Long, or worse, a proxy would cut it). Carries `status` 414, so classifiers treat it
 * as the non-retryable client error it is.
 */
export class UrlTooLongError extends FanoutError {
  readonly status = 414
  readonly key: unknown
  readonly length: number
  readonly maxUrlLength: number
  constructor(message: string, key: unknown, length: number, maxUrlLength: number) {
    super('FANOUT_URL_TOO_LONG', message)
    this.name = 'UrlTooLongError'
    this.key = key
    this.length = length
    this.maxUrlLength = maxUrlLength
  }
}

/**
 * @example
 * const users = batchEndpoint({
 *   url: (ids) => `https://users.internal/users?${idsParam(ids)}`,
 *   fetch: async (url, { signal }) => (await fetch(url, { signal })).json() as Promise<User[]>,
 *   id: (user) => user.id,
 * })
 * const [a, b] = await Promise.all([users.load(1), users.load(2)]) // one request: /users?ids=1,2
 */
export function batchEndpoint<Id extends EndpointId, Item, Body>(
  options: BatchEndpointOptions<Id, Item, Body> & {
    readonly items: (body: Body) => Iterable<Item>
  },
): Loader<Id, Item, Id>
export function batchEndpoint<Id extends EndpointId, Item>(
  options: BatchEndpointOptions<Id, Item, Iterable<Item>>,
): Loader<Id, Item, Id>
export function batchEndpoint<Id extends EndpointId, Item, Body>(
  options: BatchEndpointOptions<Id, Item, Body>,
): Loader<Id, Item, Id> {
  const where = 'batchEndpoint()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, KNOWN)
  const name = opts.name ?? 'batchEndpoint'
  const url = checkFunction<BatchEndpointOptions<Id, Item, Body>['url']>(
    where,
    'url',
    opts.url,
    '(ids) => string | URL',
  )
  const fetchBody = checkFunction<BatchEndpointOptions<Id, Item, Body>['fetch']>(
    where,
    'fetch',
    opts.fetch,
    '(url, { signal }) => Promise<body>',
  )
  const idOf = checkFunction<(item: Item) => Id>(where, 'id', opts.id, '(item) => id')
  const itemsOf =
    opts.items === undefined
      ? undefined
      : checkFunction<(body: Body) => Iterable<Item>>(where, 'items', opts.items, '(body) => items')
  const maxUrlLength =
    opts.maxUrlLength === undefined
      ? 2_000
      : checkNumber(where, 'maxUrlLength', opts.maxUrlLength, {
          min: 16,
          max: 10_000_000,
          integer: true,
          unit: 'characters',
        })

  let empty: string
  try {
    empty = href(url([]))
  } catch (error) {
    throw new InvalidOptionError(
      `${where}: \`url\` must build a URL for any list of ids, including [] (it measures the room left for ids); url([]) failed: ${error instanceof Error ? error.message : show(error)}`,
    )
  }
  const emptyLength = wireLength(empty)
  const room = maxUrlLength - emptyLength
  if (room <= 0)
    throw new InvalidOptionError(
      `${where}: the URL without ids is already ${emptyLength} characters, not under maxUrlLength (${maxUrlLength}).`,
    )

  /** What `id` adds to a batch's URL; an id whose URL cannot be built goes in a batch of its own. */
  const cost = (id: Id): number => {
    try {
      const one = wireLength(href(url([id])))
      return Math.max(1, wireLength(href(url([id, id]))) - one, one - emptyLength)
    } catch {
      return Infinity
    }
  }

  /** Fetches `ids` into `found`, halving a batch whose URL is too long or cannot be built. */
  const fetchInto = async (
    ids: readonly Id[],
    signal: AbortSignal,
    found: Map<Id, Item | Error>,
  ): Promise<void> => {
    let target: string
    try {
      target = href(url(ids))
    } catch (error) {
      if (ids.length > 1) return halves(ids, signal, found)
      found.set(
        ids[0]!,
        error instanceof Error
          ? error
          : new TypeError(`${name}: url() threw ${show(error)} for this id`),
      )
      return
    }
    const length = wireLength(target)
    if (length > maxUrlLength) {
      if (ids.length > 1) return halves(ids, signal, found)
      const id = ids[0]!
      found.set(
        id,
        new UrlTooLongError(
          `${name}: the URL for id ${brief(id)} alone is ${length} characters, more than maxUrlLength (${maxUrlLength}); not sent.`,
          id,
          length,
          maxUrlLength,
        ),
      )
      return
    }
    const body = await fetchBody(target, { signal })
    const list = itemsOf === undefined ? body : itemsOf(body)
    if (
      list === null ||
      typeof list !== 'object' ||
      typeof (list as Partial<Iterable<Item>>)[Symbol.iterator] !== 'function'
    ) {
      throw new TypeError(
        `${name}: the answer is not a list of items (got ${show(list)}). ` +
          (itemsOf === undefined
            ? 'Pass `items: (body) => body.data` (the field holding the list), or `items: (body) => Object.values(body)` for an object keyed by id.'
            : '`items` must return a list.'),
      )
    }
    for (const item of list as Iterable<Item>) {
      if (item === null || item === undefined) continue
      const id = idOf(item)
      // The first item for an id wins, as in Loader; items for ids not asked for are ignored by it.
      if (!found.has(id)) found.set(id, item)
    }
  }
  const halves = async (
    ids: readonly Id[],
    signal: AbortSignal,
    found: Map<Id, Item | Error>,
  ): Promise<void> => {
    // One after the other: the batch holds one `concurrency` slot.
    const middle = Math.ceil(ids.length / 2)
    await fetchInto(ids.slice(0, middle), signal, found)
    await fetchInto(ids.slice(middle), signal, found)
  }

  const batch = async (ids: readonly Id[], ctx: BatchContext): Promise<Map<Id, Item | Error>> => {
    const found = new Map<Id, Item | Error>()
    await fetchInto(ids, ctx.signal, found)
    if (found.size > 0 && !ids.some((id) => found.has(id))) mismatch(ids, found)
    return found
  }

  /**
   * Items came back, none for a key asked: when they match once both sides are text, `id()`
   * returns the wrong type (`"7"` from JSON for the key `7`) — say so, rather than let every key
   * be a NotFoundError that a negative cache would then remember.
   */
  const mismatch = (ids: readonly Id[], found: ReadonlyMap<Id, unknown>): void => {
    const byText = new Map<string, Id>()
    for (const key of found.keys()) byText.set(String(key), key)
    for (const id of ids) {
      const other = byText.get(String(id))
      if (other === undefined) continue
      throw new TypeError(
        `${name}: id() returned ${typeof other} ids (${show(other)}) but the keys loaded are ${typeof id}s (${show(id)}): no item can match. Make id() return the keys' type, e.g. (item) => Number(item.id).`,
      )
    }
  }

  const loaderOptions: Record<string, unknown> = { name, maxBatchCost: room, cost }
  for (const key of PASSED_ON) if (opts[key] !== undefined) loaderOptions[key] = opts[key]
  return new Loader<Id, Item, Id>(batch, loaderOptions as LoaderOptions<Id, Item, Id>)
}

export interface IdsParamOptions {
  /** The parameter name. Default `'ids'`. */
  readonly param?: string
  /** Between ids. Default `','`; any other is percent-encoded. */
  readonly separator?: string
}

/**
 * `ids=1,2,3`: the ids percent-encoded, joined by the separator. An id that is empty or contains
 * the separator is refused: the server would split it into other ids once decoded.
 */
export function idsParam(ids: Iterable<EndpointId>, options?: IdsParamOptions): string {
  const where = 'idsParam()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, ['param', 'separator'])
  const param = opts.param ?? 'ids'
  if (typeof param !== 'string' || param === '')
    throw new InvalidOptionError(
      `${where}: \`param\` must be a non-empty string, got ${show(param)}.`,
    )
  const separator = opts.separator ?? ','
  if (typeof separator !== 'string' || separator === '')
    throw new InvalidOptionError(
      `${where}: \`separator\` must be a non-empty string, got ${show(separator)}.`,
    )
  const encodedSeparator = separator === ',' ? ',' : encodeURIComponent(separator)
  const parts: string[] = []
  for (const id of ids) {
    const text =
      typeof id === 'string'
        ? id
        : typeof id === 'number' || typeof id === 'bigint'
          ? String(id)
          : undefined
    if (text === undefined || text === '' || text.includes(separator)) {
      throw new InvalidOptionError(
        `${where}: id ${show(id)} cannot go in the list: ids must be non-empty strings or numbers without ${JSON.stringify(separator)}.`,
      )
    }
    parts.push(encodeURIComponent(text))
  }
  return `${encodeURIComponent(param)}=${parts.join(encodedSeparator)}`
}

/** An id for a message: a long one cut short, so an error line stays a line. */
function brief(id: EndpointId): string {
  const text = show(id)
  return text.length > 102 ? `${text.slice(0, 101)}…"` : text
}

function href(value: unknown): string {
  if (typeof value === 'string') return value
  if (value instanceof URL) return value.href
  throw new InvalidOptionError(`url() must return a string or a URL, got ${show(value)}`)
}

/**
 * Characters the URL takes on the wire: what a client percent-encodes (spaces, quotes, `<>`,
 * controls, non-ASCII — three characters per UTF-8 byte) counts as encoded.
 */
function wireLength(url: string): number {
  let length = 0
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i)
    if (c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x27 && c !== 0x3c && c !== 0x3e && c !== 0x60)
      length += 1
    else if (c < 0x80) length += 3
    else if (c < 0x800) length += 6
    else if (c >= 0xd800 && c <= 0xdbff) {
      // A surrogate pair: one 4-byte code point.
      length += 12
      i++
    } else length += 9
  }
  return length
}

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
import { FanoutError, InvalidOptionError } from '../core/errors.js'
import { checkKnownKeys, show, snapshot } from '../core/validate.js'
import { Loader, type BatchContext, type LoaderOptions } from '../batch/loader.js'
import {
  endpointSettings,
  type BatchEndpointOptions,
  type EndpointId,
  type EndpointSettings,
} from './batch-endpoint-options.js'
import { href, wireLength } from './url-length.js'

export type { BatchEndpointOptions, EndpointId } from './batch-endpoint-options.js'

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
  const settings = endpointSettings(options)
  const batches = new EndpointBatches(settings)
  const loaderOptions: Record<string, unknown> = {
    name: settings.name,
    maxBatchCost: settings.room,
    cost: (id: Id) => batches.cost(id),
    ...settings.passedOn,
  }
  return new Loader<Id, Item, Id>(
    (ids, ctx) => batches.batch(ids, ctx),
    loaderOptions as LoaderOptions<Id, Item, Id>,
  )
}

/** The batches of one `batchEndpoint()`: each fetched by URLs that fit, its items matched by id. */
class EndpointBatches<Id extends EndpointId, Item, Body> {
  constructor(private readonly s: EndpointSettings<Id, Item, Body>) {}

  /** What `id` adds to a batch's URL; an id whose URL cannot be built goes in a batch of its own. */
  cost(id: Id): number {
    const { url, emptyLength } = this.s
    try {
      const one = wireLength(href(url([id])))
      return Math.max(1, wireLength(href(url([id, id]))) - one, one - emptyLength)
    } catch {
      return Infinity
    }
  }

  async batch(ids: readonly Id[], ctx: BatchContext): Promise<Map<Id, Item | Error>> {
    const found = new Map<Id, Item | Error>()
    await this.fetchInto(ids, ctx.signal, found)
    if (found.size > 0 && !ids.some((id) => found.has(id))) this.mismatch(ids, found)
    return found
  }

  /** Fetches `ids` into `found`, halving a batch whose URL is too long or cannot be built. */
  private async fetchInto(
    ids: readonly Id[],
    signal: AbortSignal,
    found: Map<Id, Item | Error>,
  ): Promise<void> {
    const { name, maxUrlLength } = this.s
    let target: string
    try {
      target = href(this.s.url(ids))
    } catch (error) {
      if (ids.length > 1) return this.halves(ids, signal, found)
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
      if (ids.length > 1) return this.halves(ids, signal, found)
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
    const body = await this.s.fetchBody(target, { signal })
    for (const item of this.itemsIn(body)) {
      if (item === null || item === undefined) continue
      const id = this.s.idOf(item)
      // The first item for an id wins, as in Loader; items for ids not asked for are ignored by it.
      if (!found.has(id)) found.set(id, item)
    }
  }

  private async halves(
    ids: readonly Id[],
    signal: AbortSignal,
    found: Map<Id, Item | Error>,
  ): Promise<void> {
    // One after the other: the batch holds one `concurrency` slot.
    const middle = Math.ceil(ids.length / 2)
    await this.fetchInto(ids.slice(0, middle), signal, found)
    await this.fetchInto(ids.slice(middle), signal, found)
  }

  /** The items of an answer, which must be a list; the message says how to point at one. */
  private itemsIn(body: Body): Iterable<Item> {
    const { itemsOf } = this.s
    const list = itemsOf === undefined ? body : itemsOf(body)
    if (
      list === null ||
      typeof list !== 'object' ||
      typeof (list as Partial<Iterable<Item>>)[Symbol.iterator] !== 'function'
    ) {
      throw new TypeError(
        `${this.s.name}: the answer is not a list of items (got ${show(list)}). ` +
          (itemsOf === undefined
            ? 'Pass `items: (body) => body.data` (the field holding the list), or `items: (body) => Object.values(body)` for an object keyed by id.'
            : '`items` must return a list.'),
      )
    }
    return list as Iterable<Item>
  }

  /**
   * Items came back, none for a key asked: when they match once both sides are text, `id()`
   * returns the wrong type (`"7"` from JSON for the key `7`) — say so, rather than let every key
   * be a NotFoundError that a negative cache would then remember.
   */
  private mismatch(ids: readonly Id[], found: ReadonlyMap<Id, unknown>): void {
    const byText = new Map<string, Id>()
    for (const key of found.keys()) byText.set(String(key), key)
    for (const id of ids) {
      const other = byText.get(String(id))
      if (other === undefined) continue
      throw new TypeError(
        `${this.s.name}: id() returned ${typeof other} ids (${show(other)}) but the keys loaded are ${typeof id}s (${show(id)}): no item can match. Make id() return the keys' type, e.g. (item) => Number(item.id).`,
      )
    }
  }
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

/**
 * The options of `batchEndpoint()`: their types, and their checking into the settings its batches
 * run on (the URL's room for ids measured once, here). Every mistake is an `InvalidOptionError`
 * at creation, naming the option, the value and what it takes.
 */
import type { Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import { checkFunction, checkKnownKeys, checkNumber, show, snapshot } from '../core/validate.js'
import type { LoaderBatchEvent } from '../batch/loader.js'
import type { Limiter } from '../policies/limit.js'
import { href, wireLength } from './url-length.js'

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

/** What a `batchEndpoint()` runs on: its options checked, defaults filled in. */
export interface EndpointSettings<Id extends EndpointId, Item, Body> {
  readonly name: string
  readonly url: (ids: readonly Id[]) => string | URL
  readonly fetchBody: (url: string, ctx: { readonly signal: AbortSignal }) => PromiseLike<Body>
  readonly idOf: (item: Item) => Id
  readonly itemsOf: ((body: Body) => Iterable<Item>) | undefined
  readonly maxUrlLength: number
  /** Wire length of `url([])`: what a batch's URL takes before any id. */
  readonly emptyLength: number
  /** What the URL has room for after `url([])`: the loader's `maxBatchCost`. */
  readonly room: number
  /** The loader's own options, passed on as given. */
  readonly passedOn: Record<string, unknown>
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

const WHERE = 'batchEndpoint()'

/** Checks `batchEndpoint()`'s options; throws `InvalidOptionError` on the first mistake. */
export function endpointSettings<Id extends EndpointId, Item, Body>(
  options: BatchEndpointOptions<Id, Item, Body>,
): EndpointSettings<Id, Item, Body> {
  const opts = snapshot(WHERE, options)
  checkKnownKeys(WHERE, opts, KNOWN)
  const name = opts.name ?? 'batchEndpoint'
  const url = checkFunction<BatchEndpointOptions<Id, Item, Body>['url']>(
    WHERE,
    'url',
    opts.url,
    '(ids) => string | URL',
  )
  const fetchBody = checkFunction<BatchEndpointOptions<Id, Item, Body>['fetch']>(
    WHERE,
    'fetch',
    opts.fetch,
    '(url, { signal }) => Promise<body>',
  )
  const idOf = checkFunction<(item: Item) => Id>(WHERE, 'id', opts.id, '(item) => id')
  const itemsOf =
    opts.items === undefined
      ? undefined
      : checkFunction<(body: Body) => Iterable<Item>>(WHERE, 'items', opts.items, '(body) => items')
  const maxUrlLength =
    opts.maxUrlLength === undefined
      ? 2_000
      : checkNumber(WHERE, 'maxUrlLength', opts.maxUrlLength, {
          min: 16,
          max: 10_000_000,
          integer: true,
          unit: 'characters',
        })
  const emptyLength = wireLength(emptyUrl(url))
  const room = maxUrlLength - emptyLength
  if (room <= 0)
    throw new InvalidOptionError(
      `${WHERE}: the URL without ids is already ${emptyLength} characters, not under maxUrlLength (${maxUrlLength}).`,
    )
  const passedOn: Record<string, unknown> = {}
  for (const key of PASSED_ON) if (opts[key] !== undefined) passedOn[key] = opts[key]
  return { name, url, fetchBody, idOf, itemsOf, maxUrlLength, emptyLength, room, passedOn }
}

/** `url([])`, which must build: it measures the room left for ids. */
function emptyUrl<Id>(url: (ids: readonly Id[]) => string | URL): string {
  try {
    return href(url([]))
  } catch (error) {
    throw new InvalidOptionError(
      `${WHERE}: \`url\` must build a URL for any list of ids, including [] (it measures the room left for ids); url([]) failed: ${error instanceof Error ? error.message : show(error)}`,
    )
  }
}

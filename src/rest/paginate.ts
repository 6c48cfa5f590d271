/**
 * Reading every page of a listing, two ways, because the two shapes of API allow different things:
 *
 * - `paginate()`: the first page says how many pages (or items) there are. The rest are then
 *   independent requests, fetched in parallel under a concurrency bound, returned in page order.
 * - `pages()` / `collectPages()`: each page says where the next one is (a cursor, a `Link`
 *   header). Nothing can be fetched before the page that names it, so this is a lazy, sequential
 *   async iterator.
 *
 * Both are bounded (`maxPages`, default 1,000): a listing larger than expected, or an upstream
 * that keeps answering "there is more", ends in a clear error, never in an unbounded loop or an
 * unbounded array. Exceeding the bound is an error rather than a silent truncation, because a
 * partial listing read as a complete one is a data bug nobody notices.
 */
import { FanoutError, InvalidOptionError } from '../core/errors.js'
import { checkFunction, checkKnownKeys, checkNumber, show, snapshot } from '../core/validate.js'
import { mapLimit } from '../policies/map-limit.js'

export type PaginationFailure = 'maxPages' | 'loop' | 'total' | 'link'

/**
 * A listing could not be read safely: more pages than `maxPages` (`'maxPages'`), a cursor seen
 * twice (`'loop'`), a page count that is not a whole number (`'total'`), or a next link that is
 * not http(s) or goes to another origin (`'link'`).
 */
export class PaginationError extends FanoutError {
  readonly reason: PaginationFailure
  constructor(reason: PaginationFailure, message: string) {
    super('FANOUT_PAGINATION', message)
    this.name = 'PaginationError'
    this.reason = reason
  }
}

export interface PageContext {
  /** Aborted when the caller's signal aborts, or (in `paginate`) when another page failed. */
  readonly signal: AbortSignal
}

export interface PaginateOptions<P> {
  /** Fetches page `n`, counting from 1 (for offsets: `(n - 1) * pageSize`; 0-based APIs: `n - 1`). */
  readonly page: (n: number, ctx: PageContext) => PromiseLike<P>
  /** Fetches the first page when it is a different request (say, one that asks for the count). Default `page(1)`. */
  readonly first?: (ctx: PageContext) => PromiseLike<P>
  /** The number of pages, read from the first page. Or give `total` and `pageSize`. */
  readonly totalPages?: (first: P) => number
  /** The number of items, read from the first page; with `pageSize`. */
  readonly total?: (first: P) => number
  /** Items per page, with `total`. */
  readonly pageSize?: number
  /** Pages fetched at once after the first. Default 4. */
  readonly concurrency?: number
  /** Pages in all at most; a listing that says it has more fails before fetching them. Default 1,000. */
  readonly maxPages?: number
  /** Stops the listing: running requests see their signal abort, the promise rejects with the reason. */
  readonly signal?: AbortSignal
}

const PAGINATE_KEYS = [
  'page',
  'first',
  'totalPages',
  'total',
  'pageSize',
  'concurrency',
  'maxPages',
  'signal',
] as const
const MAX_PAGES = { min: 1, max: 1_000_000, integer: true } as const

/**
 * Every page of a listing whose first page tells its size: pages 2…N in parallel (at most
 * `concurrency` at a time), all pages in order. The first failure aborts the requests still
 * running and rejects. Pages are counted as of the first page: items added or removed meanwhile
 * may shift between offset pages, as with any offset pagination.
 *
 * @example
 * const all = await paginate({
 *   page: (n, { signal }) => getJson(`/items?page=${n}&per_page=100`, { signal }),
 *   totalPages: (first) => first.meta.pages,
 * })
 */
export async function paginate<P>(options: PaginateOptions<P>): Promise<P[]> {
  const where = 'paginate()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, PAGINATE_KEYS)
  const page = checkFunction<PaginateOptions<P>['page']>(
    where,
    'page',
    opts.page,
    '(n, { signal }) => Promise<page>',
  )
  const first =
    opts.first === undefined
      ? (ctx: PageContext) => page(1, ctx)
      : checkFunction<NonNullable<PaginateOptions<P>['first']>>(
          where,
          'first',
          opts.first,
          '({ signal }) => Promise<page>',
        )
  let count: (first: P) => number
  if (opts.totalPages !== undefined) {
    if (opts.total !== undefined || opts.pageSize !== undefined)
      throw new InvalidOptionError(
        `${where}: give \`totalPages\`, or \`total\` with \`pageSize\`, not both.`,
      )
    const totalPages = checkFunction<(first: P) => number>(
      where,
      'totalPages',
      opts.totalPages,
      '(firstPage) => number',
    )
    count = (p) => wholeNumber(where, 'totalPages', totalPages(p))
  } else if (opts.total !== undefined) {
    const total = checkFunction<(first: P) => number>(
      where,
      'total',
      opts.total,
      '(firstPage) => number',
    )
    if (opts.pageSize === undefined)
      throw new InvalidOptionError(
        `${where}: \`total\` needs \`pageSize\` (items per page) to count the pages.`,
      )
    const pageSize = checkNumber(where, 'pageSize', opts.pageSize, {
      min: 1,
      max: 1_000_000_000,
      integer: true,
    })
    count = (p) => Math.max(1, Math.ceil(wholeNumber(where, 'total', total(p)) / pageSize))
  } else {
    throw new InvalidOptionError(
      `${where}: give \`totalPages: (first) => number\`, or \`total: (first) => number\` with \`pageSize\`; for cursors or Link headers use pages().`,
    )
  }
  const concurrency =
    opts.concurrency === undefined
      ? 4
      : checkNumber(where, 'concurrency', opts.concurrency, { min: 1, max: 1_000, integer: true })
  const maxPages =
    opts.maxPages === undefined ? 1_000 : checkNumber(where, 'maxPages', opts.maxPages, MAX_PAGES)
  const signal = opts.signal
  if (signal !== undefined && !isSignal(signal))
    throw new InvalidOptionError(
      `${where}: \`signal\` must be an AbortSignal, got ${show(signal)}.`,
    )
  if (signal?.aborted === true) throw signal.reason

  const firstPage = await first({ signal: signal ?? idleSignal() })
  // Zero pages means an empty listing: the first page is all there is.
  const pageCount = Math.max(1, count(firstPage))
  if (pageCount > maxPages) {
    throw new PaginationError(
      'maxPages',
      `${where}: the first page says there are ${pageCount} pages, more than maxPages (${maxPages}). Raise \`maxPages\` (up to ${MAX_PAGES.max}) or narrow the query.`,
    )
  }
  // mapLimit checks the signal first: an abort while the first page loaded stops here.
  const rest = await mapLimit(
    range(2, pageCount),
    (n, _, s) => page(n, { signal: s }),
    signal === undefined ? { concurrency } : { concurrency, signal },
  )
  return [firstPage, ...rest]
}

export interface PagesOptions<P, C> {
  /** The cursor (or URL) of the first page; `undefined` when the first request takes none. */
  readonly start: C
  /** Fetches the page at `cursor`. */
  readonly fetch: (cursor: C, ctx: PageContext & { readonly index: number }) => PromiseLike<P>
  /** Where the next page is — a cursor, a URL (`nextLink(response)`) — or undefined/null at the end. */
  readonly next: (
    page: P,
    ctx: { readonly cursor: C; readonly index: number },
  ) => C | null | undefined
  /** Pages at most; one more "next" fails with a `PaginationError`. Default 1,000. */
  readonly maxPages?: number
  /** Checked before each page and given to `fetch`: aborting stops the walk with its reason. */
  readonly signal?: AbortSignal
}

const PAGES_KEYS = ['start', 'fetch', 'next', 'maxPages', 'signal'] as const

/**
 * Walks a listing page by page, lazily: the next page is fetched when the loop asks for it, and
 * leaving the loop fetches nothing more. A cursor seen before (an upstream that loops) fails
 * with a `PaginationError` instead of walking for ever; cursors are compared by value (a URL by
 * its `href`, an object by its JSON).
 *
 * @example
 * for await (const res of pages({ start: url, fetch: (u, { signal }) => fetch(u, { signal }), next: (res) => nextLink(res) })) …
 */
export function pages<P, C>(options: PagesOptions<P, C>): AsyncGenerator<P, void, undefined> {
  const where = 'pages()'
  const opts = snapshot(where, options)
  checkKnownKeys(where, opts, PAGES_KEYS)
  if (!('start' in opts))
    throw new InvalidOptionError(
      `${where}: \`start\` is required: the first cursor or URL (\`start: undefined\` when the first request takes none).`,
    )
  const fetchPage = checkFunction<PagesOptions<P, C>['fetch']>(
    where,
    'fetch',
    opts.fetch,
    '(cursor, { signal, index }) => Promise<page>',
  )
  const next = checkFunction<PagesOptions<P, C>['next']>(
    where,
    'next',
    opts.next,
    '(page, { cursor, index }) => cursor | undefined',
  )
  const maxPages =
    opts.maxPages === undefined ? 1_000 : checkNumber(where, 'maxPages', opts.maxPages, MAX_PAGES)
  const signal = opts.signal
  if (signal !== undefined && !isSignal(signal))
    throw new InvalidOptionError(
      `${where}: \`signal\` must be an AbortSignal, got ${show(signal)}.`,
    )
  return walk(opts.start as C, fetchPage, next, maxPages, signal)
}

async function* walk<P, C>(
  start: C,
  fetchPage: PagesOptions<P, C>['fetch'],
  next: PagesOptions<P, C>['next'],
  maxPages: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<P, void, undefined> {
  const pageSignal = signal ?? idleSignal()
  const seen = new Set<unknown>([identity(start)])
  let cursor = start
  for (let index = 0; ; index++) {
    // Between pages: an abort while the caller was busy with the previous page stops here.
    if (signal?.aborted === true) throw signal.reason
    const page = await fetchPage(cursor, { signal: pageSignal, index })
    yield page
    const following = next(page, { cursor, index })
    if (following === undefined || following === null) return
    if (index + 1 >= maxPages) {
      throw new PaginationError(
        'maxPages',
        `pages(): read ${maxPages} pages (maxPages) and the listing says there are more. Raise \`maxPages\` (up to ${MAX_PAGES.max}) or stop earlier.`,
      )
    }
    const id = identity(following)
    if (seen.has(id)) {
      throw new PaginationError(
        'loop',
        `pages(): page ${index + 1} points back to ${describeCursor(following)}, a page already read: the upstream is looping.`,
      )
    }
    seen.add(id)
    cursor = following
  }
}

/** Every page of a cursor or Link-header listing, in order (`pages()` collected). */
export async function collectPages<P, C>(options: PagesOptions<P, C>): Promise<P[]> {
  const out: P[] = []
  for await (const page of pages(options)) out.push(page)
  return out
}

function* range(from: number, to: number): Generator<number> {
  for (let n = from; n <= to; n++) yield n
}

function wholeNumber(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new PaginationError(
      'total',
      `${where}: \`${name}\` read ${show(value)} from the first page; expected a whole number ≥ 0.`,
    )
  }
  return value
}

/** How cursors are compared: primitives by value, a URL by href, other objects by their JSON. */
function identity(cursor: unknown): unknown {
  if (typeof cursor !== 'object' || cursor === null) return cursor
  if (cursor instanceof URL) return `url:${cursor.href}`
  try {
    return `json:${JSON.stringify(cursor)}`
  } catch {
    return cursor
  }
}

function describeCursor(cursor: unknown): string {
  const text =
    cursor instanceof URL ? cursor.href : typeof cursor === 'string' ? cursor : show(cursor)
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)
}

function isSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && 'aborted' in value
}

/** A signal that never aborts, for fetch functions when the caller gave none. */
function idleSignal(): AbortSignal {
  return new AbortController().signal
}

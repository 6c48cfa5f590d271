/**
 * The demo's product page, loaded three ways against the same upstreams:
 *
 *   sequential — one `await` after another, as the page was first written;
 *   naive      — auth, then one `Promise.all` over everything (and one call per reviewer);
 *   fanout     — a flow: an auth gate, every call starting the moment what it reads is ready,
 *                reviewer profiles batched into one `/users?ids=` call and cached, products
 *                cached, retries with backoff that honour Retry-After, a per-origin limit and a
 *                client-side rate limit on the users service, hedged product reads against the
 *                slow tail, and the optional parts (reviews, recommendations) falling back;
 *                the slow "recompute recommendations" is offloaded to a job queue (a route
 *                would answer 202 for it) instead of being waited for.
 *
 * The two hand-written ways are what such code usually looks like: no retries and no fallbacks,
 * so any failed call fails the page, and the recompute is awaited inside the request.
 */
import {
  cached,
  flow,
  hedge,
  limit,
  Loader,
  pipe,
  rateLimit,
  retry,
  retryBudget,
  type Cached,
  type CallContext,
  type FlowTrace,
  type Policy,
} from '../index.js'
import { memoryCacheStore } from '../cache/index.js'
import { offload, type JobQueue, type OffloadResult } from '../queue/index.js'
import { traced, type TraceRecorder } from './record.js'
import type { Product, Profile, Review, UpstreamUrls } from './upstreams.js'

/** The part of fanout's HTTP client the page uses. */
export interface PageHttp {
  json<T = unknown>(
    url: string,
    options?: {
      readonly headers?: Readonly<Record<string, string>>
      readonly signal?: AbortSignal
      readonly deadlineAt?: number
      readonly method?: 'GET' | 'POST'
      /** The caller's context: its signal, deadline and trace reach the request. */
      readonly context?: CallContext
    },
  ): Promise<T>
}

export interface PageView {
  readonly product: Product
  readonly available: number
  /** Reviews with their authors' names; null when they could not be loaded (fanout only). */
  readonly reviews: readonly { readonly rating: number; readonly author: string }[] | null
  readonly recommendations: readonly number[] | null
  /** The recompute: done inline (the hand-written ways), offloaded (fanout), or null if that failed. */
  readonly recompute: 'inline' | OffloadResult | null
}

/** The job the fanout page offloads, and the queue it goes to. */
export const RECOMPUTE_JOB = 'recompute-recommendations'

export interface PageJobs {
  readonly queue: JobQueue
  /** Hears of every offload the page made. */
  readonly onOffload?: (result: OffloadResult) => void
}

/** `POST /recommendations/recompute`: the slow work, as each way makes it. */
export function recompute(
  http: PageHttp,
  urls: UpstreamUrls,
  productId: number,
  context?: CallContext,
) {
  return http.json<{ productId: number; recomputed: boolean }>(
    `${urls.recommendations}/recommendations/recompute?product=${productId}`,
    { method: 'POST', ...(context === undefined ? {} : { context }) },
  )
}

export interface PageInput {
  readonly productId: number
  readonly token: string
}

export type LoadPage = (input: PageInput, onTrace?: (trace: FlowTrace) => void) => Promise<PageView>

interface Stock {
  readonly available: number
}

const PLAN = ['auth', 'product', 'stock', 'reviews', 'authors', 'recommendations', 'recompute']

// --- sequential ----------------------------------------------------------------------------------

export function sequentialPage(http: PageHttp, urls: UpstreamUrls): LoadPage {
  return (input, onTrace = () => {}) =>
    traced(
      'sequential',
      PLAN,
      async (rec) => {
        const headers = { authorization: `Bearer ${input.token}` }
        await rec.step('auth', () => http.json(`${urls.auth}/session`, { headers }), { gate: true })
        const product = await rec.step(
          'product',
          () => http.json<Product>(`${urls.products}/products/${input.productId}`),
          { after: ['auth'] },
        )
        const stock = await rec.step(
          'stock',
          () => http.json<Stock>(`${urls.inventory}/stock/${input.productId}`),
          { after: ['product'] },
        )
        const { reviews } = await rec.step(
          'reviews',
          () =>
            http.json<{ reviews: Review[] }>(`${urls.reviews}/products/${input.productId}/reviews`),
          { after: ['stock'] },
        )
        const authors = await rec.step(
          'authors',
          async () => {
            const names: string[] = []
            for (const review of reviews)
              // eslint-disable-next-line fanout/no-await-in-loop-independent -- one call after another is what this way demonstrates
              names.push((await http.json<Profile>(`${urls.users}/users/${review.authorId}`)).name)
            return names
          },
          { after: ['reviews'] },
        )
        const recs = await rec.step(
          'recommendations',
          () =>
            http.json<{ productIds: number[] }>(
              `${urls.recommendations}/recommendations?product=${input.productId}`,
            ),
          { after: ['authors'] },
        )
        await rec.step('recompute', () => recompute(http, urls, input.productId), {
          after: ['recommendations'],
        })
        return view(product, stock, reviews, authors, recs.productIds, 'inline')
      },
      onTrace,
    )
}

// --- naive Promise.all ----------------------------------------------------------------------------

export function naivePage(http: PageHttp, urls: UpstreamUrls): LoadPage {
  return (input, onTrace = () => {}) =>
    traced(
      'naive Promise.all',
      PLAN,
      async (rec: TraceRecorder) => {
        const headers = { authorization: `Bearer ${input.token}` }
        await rec.step('auth', () => http.json(`${urls.auth}/session`, { headers }), { gate: true })
        const reviewsWithAuthors = rec
          .step('reviews', () =>
            http.json<{ reviews: Review[] }>(`${urls.reviews}/products/${input.productId}/reviews`),
          )
          .then(({ reviews }) =>
            rec
              .step(
                'authors',
                () =>
                  Promise.all(
                    reviews.map((r) =>
                      http.json<Profile>(`${urls.users}/users/${r.authorId}`).then((p) => p.name),
                    ),
                  ),
                { after: ['reviews'] },
              )
              .then((names) => ({ reviews, names })),
          )
        const [product, stock, { reviews, names }, recs] = await Promise.all([
          rec.step('product', () =>
            http.json<Product>(`${urls.products}/products/${input.productId}`),
          ),
          rec.step('stock', () => http.json<Stock>(`${urls.inventory}/stock/${input.productId}`)),
          reviewsWithAuthors,
          rec.step('recommendations', () =>
            http.json<{ productIds: number[] }>(
              `${urls.recommendations}/recommendations?product=${input.productId}`,
            ),
          ),
          rec.step('recompute', () => recompute(http, urls, input.productId)),
        ])
        return view(product, stock, reviews, names, recs.productIds, 'inline')
      },
      onTrace,
    )
}

function view(
  product: Product,
  stock: Stock,
  reviews: readonly Review[] | null,
  authors: readonly string[] | null,
  recommendations: readonly number[] | null,
  recompute: PageView['recompute'],
): PageView {
  return {
    product,
    available: stock.available,
    reviews:
      reviews === null || authors === null
        ? null
        : reviews.map((r, i) => ({ rating: r.rating, author: authors[i] ?? 'unknown' })),
    recommendations,
    recompute,
  }
}

// --- fanout ------------------------------------------------------------------------------------------

export function fanoutPage(http: PageHttp, urls: UpstreamUrls, jobs: PageJobs): LoadPage {
  const policies = pagePolicies()
  const page = pageFlow(http, urls, policies.perOrigin, pageReads(http, urls, policies), jobs)
  return async (input, onTrace) => {
    const r = await page.run(input, onTrace === undefined ? {} : { onTrace })
    return view(
      r.product,
      r.stock,
      r.reviews?.reviews ?? null,
      r.authors,
      r.recommendations?.productIds ?? null,
      r.recompute,
    )
  }
}

interface PagePolicies {
  readonly retries: Policy
  readonly perOrigin: Policy
  readonly usersRate: Policy
}

/** The policies the page's calls share: made once, so their limits and budgets are shared too. */
function pagePolicies(): PagePolicies {
  return {
    // Retries for idempotent reads: 3 attempts, jittered backoff, Retry-After honoured, and a
    // budget so a struggling upstream is not hit by a retry storm.
    retries: retry({
      maxAttempts: 3,
      baseDelay: 20,
      maxDelay: 400,
      budget: retryBudget({ maxTokens: 50, tokenRatio: 0.2 }),
    }),
    // At most 16 calls per upstream origin at once from this process.
    perOrigin: limit({
      concurrency: 96,
      perKey: 16,
      key: (ctx) => ctx.task.split(':')[0]!,
      maxQueue: 5_000,
    }),
    // Stay under the users service's limit instead of bouncing off it (adapts to 429s if they come).
    usersRate: rateLimit({ rate: 100, per: 1_000, burst: 20, adaptive: true, maxWait: 2_000 }),
  }
}

interface PageReads {
  readonly getProduct: Cached<number, Product>
  readonly getProfile: Cached<number, Profile>
}

/** Products and reviewer profiles, read through the policies and cached. */
function pageReads(http: PageHttp, urls: UpstreamUrls, policies: PagePolicies): PageReads {
  const { retries, perOrigin, usersRate } = policies
  const store = memoryCacheStore({ maxEntries: 10_000 })
  // Each call below is handed the caller's context whole: a task's ctx reaches the cache, the
  // cache's shared fetch reaches the loader, the batch reaches the HTTP client — one deadline,
  // one signal and one trace from the flow down to every attempt.
  const readProduct = pipe(
    retries,
    hedge({ idempotent: true, delay: { percentile: 0.9, initial: 150 } }),
    perOrigin,
  ).wrap((ctx: CallContext & { readonly id: number }) =>
    http.json<Product>(`${urls.products}/products/${ctx.id}`, { context: ctx }),
  )
  const getProduct = cached((id: number, ctx) => readProduct({ ...ctx, id }), {
    store,
    name: 'products',
    ttl: 30_000,
    staleWhileRevalidate: 60_000,
    scope: 'shared',
  })
  // Public reviewer profiles: batched per tick into /users?ids=…, and cached.
  const readUsers = pipe(retries, usersRate, perOrigin).wrap(
    (ctx: CallContext & { readonly ids: readonly number[] }) =>
      http.json<{ users: Profile[] }>(`${urls.users}/users?ids=${ctx.ids.join(',')}`, {
        context: ctx,
      }),
  )
  const profiles = new Loader(
    async (ids: readonly number[], ctx) => (await readUsers({ ...ctx, ids })).users,
    { id: (user) => user.id, maxBatchSize: 100, name: 'profiles' },
  )
  const getProfile = cached((id: number, ctx) => profiles.load(id, { context: ctx }), {
    store,
    name: 'profiles',
    ttl: 60_000,
    scope: 'shared',
  })
  return { getProduct, getProfile }
}

/** The page as a flow: an auth gate, then every call as soon as what it reads is ready. */
function pageFlow(
  http: PageHttp,
  urls: UpstreamUrls,
  perOrigin: Policy,
  reads: PageReads,
  jobs: PageJobs,
) {
  const { getProduct, getProfile } = reads
  return flow<PageInput>('fanout')
    .gate(
      'auth',
      (_, ctx) =>
        http.json(`${urls.auth}/session`, {
          headers: { authorization: `Bearer ${ctx.input.token}` },
          context: ctx,
        }),
      { timeout: 1_000 },
    )
    .task('product', (_, ctx) => getProduct(ctx.input.productId, { context: ctx }))
    .task(
      'stock',
      (_, ctx) =>
        http.json<Stock>(`${urls.inventory}/stock/${ctx.input.productId}`, { context: ctx }),
      { retry: { maxAttempts: 3, baseDelay: 20 }, policies: [perOrigin] },
    )
    .task(
      'reviews',
      (_, ctx) =>
        http.json<{ reviews: Review[] }>(
          `${urls.reviews}/products/${ctx.input.productId}/reviews`,
          { context: ctx },
        ),
      {
        retry: { maxAttempts: 2, baseDelay: 20 },
        policies: [perOrigin],
        fallback: null,
      },
    )
    .task(
      'authors',
      async ($, ctx) => {
        const list = await $.reviews
        if (list === null) return null
        return Promise.all(
          list.reviews.map((r) => getProfile(r.authorId, { context: ctx }).then((p) => p.name)),
        )
      },
      { fallback: null },
    )
    .task(
      'recommendations',
      (_, ctx) =>
        http.json<{ productIds: number[] }>(
          `${urls.recommendations}/recommendations?product=${ctx.input.productId}`,
          { context: ctx },
        ),
      {
        timeout: 400,
        policies: [perOrigin],
        fallback: null,
      },
    )
    .task(
      // Slow work off the request path: one recompute per product per minute (the idempotency
      // key), run by the demo's worker() in the background. A queue that cannot take it costs
      // the page nothing but the recompute.
      'recompute',
      async (_, ctx) => {
        const productId = ctx.input.productId
        const minute = Math.floor(Date.now() / 60_000)
        const result = await offload(
          jobs.queue,
          RECOMPUTE_JOB,
          { productId },
          {
            idempotencyKey: `product-${productId}-${minute}`,
            scope: 'demo-shop',
            context: ctx,
          },
        )
        // Cut off by its timeout, the page went on without it: no 202 to count.
        if (!ctx.signal.aborted) jobs.onOffload?.(result)
        return result
      },
      { timeout: 500, fallback: null },
    )
}

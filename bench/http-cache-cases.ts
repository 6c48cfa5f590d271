/**
 * The scenario table of the `http-cache` benchmark: what a shared HTTP cache (RFC 9111, a BFF
 * serving many users) must do, as steps against one upstream path. Each step says what the
 * response must hold and how many requests the upstream must have seen by then, so any client
 * can be judged from the outside. `shared` marks the cases where a wrong answer leaks one user's
 * response to another or serves what a shared cache must not.
 */

export interface UpstreamReply {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  /** Reset the connection instead of answering. */
  readonly reset?: boolean
}

export interface SeenRequest {
  readonly method: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

export interface Step {
  /** Virtual time to move on first (ms). */
  readonly advance?: number
  /** Real ms to wait first (for a background revalidation to land). */
  readonly settle?: number
  readonly method?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Expected status (default 200). */
  readonly status?: number
  /** Expected body. */
  readonly body?: string
  /** Requests the upstream must have seen after this step (unchecked when absent). */
  readonly calls?: number
}

export interface CacheCase {
  readonly id: string
  readonly title: string
  readonly shared: boolean
  /** The upstream's `n`-th answer (1-based) to this case's path. */
  reply(seen: SeenRequest, n: number): UpstreamReply
  readonly steps: readonly Step[]
}

const cc = (value: string, extra: Record<string, string> = {}) => ({
  'cache-control': value,
  ...extra,
})
const numbered =
  (value: string, extra: Record<string, string> = {}) =>
  (_: SeenRequest, n: number) => ({
    headers: cc(value, extra),
    body: `v${n}`,
  })

export const CASES: readonly CacheCase[] = [
  {
    id: 'max-age',
    title: 'max-age=60: the second GET is served from the cache',
    shared: false,
    reply: numbered('max-age=60'),
    steps: [
      { body: 'v1', calls: 1 },
      { advance: 1_000, body: 'v1', calls: 1 },
    ],
  },
  {
    id: 'expiry',
    title: 'max-age=1: after 2 s the response is fetched again',
    shared: false,
    reply: numbered('max-age=1'),
    steps: [
      { body: 'v1', calls: 1 },
      { advance: 2_000, body: 'v2', calls: 2 },
    ],
  },
  {
    id: 'age',
    title: "max-age=10 with Age: 9: the upstream's age counts, stale after 2 s",
    shared: false,
    reply: numbered('max-age=10', { age: '9' }),
    steps: [
      { body: 'v1', calls: 1 },
      { advance: 2_000, body: 'v2', calls: 2 },
    ],
  },
  {
    id: 'no-store',
    title: 'no-store is never stored',
    shared: false,
    reply: numbered('no-store, max-age=60'),
    steps: [
      { body: 'v1', calls: 1 },
      { body: 'v2', calls: 2 },
    ],
  },
  {
    id: 'private',
    title: 'private: one user’s response is not stored in a shared cache',
    shared: true,
    reply: numbered('private, max-age=60'),
    steps: [
      { body: 'v1', calls: 1 },
      { body: 'v2', calls: 2 },
    ],
  },
  {
    id: 'private-s-maxage',
    title: 'private, s-maxage=60: private wins, not stored in a shared cache',
    shared: true,
    reply: numbered('private, s-maxage=60'),
    steps: [
      { body: 'v1', calls: 1 },
      { body: 'v2', calls: 2 },
    ],
  },
  {
    id: 'authorization',
    title: 'Authorization without public/s-maxage/must-revalidate is not stored (§3.5)',
    shared: true,
    reply: (seen, n) => ({
      headers: cc('max-age=60'),
      body: `${String(seen.headers.authorization)} ${n}`,
    }),
    steps: [
      { headers: { authorization: 'Bearer alice' }, body: 'Bearer alice 1', calls: 1 },
      { headers: { authorization: 'Bearer bob' }, body: 'Bearer bob 2', calls: 2 },
    ],
  },
  {
    id: 'authorization-public',
    title: 'Authorization with public: the response may be shared',
    shared: true,
    reply: numbered('public, max-age=60'),
    steps: [
      { headers: { authorization: 'Bearer alice' }, body: 'v1', calls: 1 },
      { headers: { authorization: 'Bearer bob' }, body: 'v1', calls: 1 },
    ],
  },
  {
    id: 'set-cookie',
    title: 'Set-Cookie: a session cookie is not replayed to the next user',
    shared: true,
    reply: numbered('max-age=60', { 'set-cookie': 'sid=alice-session' }),
    steps: [
      { body: 'v1', calls: 1 },
      { body: 'v2', calls: 2 },
    ],
  },
  {
    id: 's-maxage',
    title: 's-maxage=60 over max-age=1 in a shared cache',
    shared: true,
    reply: numbered('max-age=1, s-maxage=60'),
    steps: [
      { body: 'v1', calls: 1 },
      { advance: 5_000, body: 'v1', calls: 1 },
    ],
  },
  {
    id: 'vary',
    title:
      'Vary: Accept-Language: a French request (or one without the header) never gets the English variant',
    shared: true,
    reply: (seen, n) => ({
      headers: cc('max-age=60', { vary: 'accept-language' }),
      body: `${String(seen.headers['accept-language'])} ${n}`,
    }),
    steps: [
      { headers: { 'accept-language': 'en' }, body: 'en 1', calls: 1 },
      { headers: { 'accept-language': 'fr' }, body: 'fr 2', calls: 2 },
      { body: 'undefined 3', calls: 3 },
    ],
  },
  {
    id: 'vary-variants',
    title: 'Vary: Accept-Language: both variants are kept (en again is a hit)',
    shared: false,
    reply: (seen, n) => ({
      headers: cc('max-age=60', { vary: 'accept-language' }),
      body: `${String(seen.headers['accept-language'])} ${n}`,
    }),
    steps: [
      { headers: { 'accept-language': 'en' }, body: 'en 1', calls: 1 },
      { headers: { 'accept-language': 'fr' }, body: 'fr 2', calls: 2 },
      { headers: { 'accept-language': 'en' }, body: 'en 1', calls: 2 },
    ],
  },
  {
    id: 'vary-star',
    title: 'Vary: * never matches',
    shared: false,
    reply: numbered('max-age=60', { vary: '*' }),
    steps: [
      { body: 'v1', calls: 1 },
      { body: 'v2', calls: 2 },
    ],
  },
  {
    id: 'no-cache',
    title: 'no-cache with an ETag: revalidated (If-None-Match → 304) before each use',
    shared: false,
    reply: (seen, n) =>
      seen.headers['if-none-match'] === '"e1"'
        ? { status: 304, headers: { etag: '"e1"' } }
        : { headers: cc('no-cache', { etag: '"e1"' }), body: `v${n}` },
    steps: [
      { body: 'v1', calls: 1 },
      { body: 'v1', calls: 2 },
    ],
  },
  {
    id: '304-refresh',
    title: 'a 304 refreshes freshness: the max-age=60 of the 304 keeps it fresh',
    shared: false,
    // The same body for the same ETag, as a real upstream sends.
    reply: (seen) =>
      seen.headers['if-none-match'] === '"e1"'
        ? { status: 304, headers: cc('max-age=60', { etag: '"e1"' }) }
        : { headers: cc('max-age=10', { etag: '"e1"' }), body: 'v1' },
    steps: [
      { body: 'v1', calls: 1 },
      { advance: 12_000, body: 'v1', calls: 2 },
      { advance: 30_000, body: 'v1', calls: 2 },
    ],
  },
  {
    id: 'must-revalidate',
    title: 'must-revalidate: a stale copy is not served when the upstream fails',
    shared: false,
    reply: (_seen, n) =>
      n === 1
        ? { headers: cc('max-age=1, must-revalidate, stale-if-error=60'), body: 'v1' }
        : { status: 503, body: 'down' },
    steps: [
      { body: 'v1', calls: 1 },
      { advance: 5_000, status: 503, body: 'down', calls: 2 },
    ],
  },
  {
    id: 'stale-if-error',
    title: 'stale-if-error=60: a 503 is answered with the stale copy',
    shared: false,
    reply: (_seen, n) =>
      n === 1
        ? { headers: cc('max-age=1, stale-if-error=60'), body: 'v1' }
        : { status: 503, body: 'down' },
    steps: [
      { body: 'v1', calls: 1 },
      { advance: 5_000, body: 'v1', calls: 2 },
    ],
  },
  {
    id: 'stale-while-revalidate',
    title: 'stale-while-revalidate=60: stale served at once, one background revalidation',
    shared: false,
    reply: numbered('max-age=1, stale-while-revalidate=60'),
    steps: [
      { body: 'v1', calls: 1 },
      { advance: 2_000, body: 'v1' },
      { settle: 100, body: 'v2', calls: 2 },
    ],
  },
  {
    id: 'unsafe-invalidation',
    title: 'a POST to the URL invalidates its stored GET response (§4.4)',
    shared: false,
    reply: (seen, n) =>
      seen.method === 'POST'
        ? { status: 201, body: 'created' }
        : { headers: cc('max-age=60'), body: `v${n}` },
    steps: [
      { body: 'v1', calls: 1 },
      { method: 'POST', status: 201, body: 'created', calls: 2 },
      { body: 'v3', calls: 3 },
    ],
  },
  {
    id: 'expires',
    title: 'Expires 60 s after Date: served from the cache',
    shared: false,
    reply: (_seen, n) => {
      const date = Math.floor(Date.now() / 1000) * 1000
      return {
        headers: {
          date: new Date(date).toUTCString(),
          expires: new Date(date + 60_000).toUTCString(),
        },
        body: `v${n}`,
      }
    },
    steps: [
      { body: 'v1', calls: 1 },
      { advance: 1_000, body: 'v1', calls: 1 },
    ],
  },
]

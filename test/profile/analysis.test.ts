/**
 * The profiler's analysis on made-up calls with exact times (no network): how paths become
 * routes, which values a body gives, and which chains a unit's calls form.
 */
import { describe, expect, it } from 'vitest'
import { OutboundCall } from '../../src/profile/call.js'
import { findChains } from '../../src/profile/chains.js'
import { normalisePath, redactQuery, routeOf } from '../../src/profile/normalise.js'
import { addJsonTokens, hashToken } from '../../src/profile/tokens.js'

describe('names', () => {
  it('ids in a path become :id; words, versions and short codes stay', () => {
    expect(normalisePath('/users/42')).toBe('/users/:id')
    expect(normalisePath('/orgs/3f2b9c1e-8d4a-4b7e-9a1f-0c2d3e4f5a6b/teams/')).toBe(
      '/orgs/:id/teams',
    )
    expect(normalisePath('/v2/teams/team-4217/members')).toBe('/v2/teams/:id/members')
    expect(normalisePath('/oauth2/token')).toBe('/oauth2/token')
    expect(normalisePath('/blobs/9f86d081884c7d65')).toBe('/blobs/:id')
    expect(normalisePath('/reports/2024-05-01')).toBe('/reports/:id')
    expect(normalisePath('/s/01HZX3K9QW7E2M5N8P4R6T0V1Y')).toBe('/s/:id')
    expect(normalisePath('/products/ps5/reviews')).toBe('/products/ps5/reviews')
    expect(normalisePath('/')).toBe('/')
  })

  it('a query keeps its keys only; a route is the method and the normalised path', () => {
    expect(redactQuery('?ids=1,2&api_key=s3cr3t&flag')).toBe('?ids=*&api_key=*&flag')
    expect(redactQuery('')).toBe('')
    expect(routeOf('get', '/orders/77/items?page=2')).toBe('GET /orders/:id/items')
  })
})

describe('values of a JSON body', () => {
  const tokens = (json: string): Set<number> => {
    const set = new Set<number>()
    addJsonTokens(set, json)
    return set
  }
  const has = (set: Set<number>, value: string): boolean => set.has(hashToken(value))

  it('string and number values, not keys; links give their parts', () => {
    const set = tokens(
      '{"teamId":"t-42","owner":{"id":1234},"next":"/teams?cursor=c9","self":"https://api.example.com/teams/t-42"}',
    )
    expect(has(set, 't-42')).toBe(true)
    expect(has(set, '1234')).toBe(true)
    expect(has(set, 'c9')).toBe(true)
    expect(has(set, 'teams')).toBe(true)
    expect(has(set, 'teamId')).toBe(false)
    expect(has(set, 'owner')).toBe(false)
  })

  it('a small number counts only under a key that names an id', () => {
    const set = tokens('{"count":3,"rating":4.5,"userId":7,"productIds":[5,6],"total":250}')
    expect(has(set, '3')).toBe(false)
    expect(has(set, '4.5')).toBe(true) // not an integer: no count
    expect(has(set, '7')).toBe(true)
    expect(has(set, '5')).toBe(true)
    expect(has(set, '6')).toBe(true)
    expect(has(set, '250')).toBe(true)
  })

  it('escaped strings are unescaped; a body cut short still gives its first values', () => {
    const set = tokens('{"name":"a\\/b","list":["x-1","x-2","x-')
    expect(has(set, 'a/b')).toBe(true)
    expect(has(set, 'x-1')).toBe(true)
    expect(has(set, 'x-2')).toBe(true)
  })
})

/** A call with exact times: `json` is its response body, `url` what it requested. */
function call(
  url: string,
  startedAt: number,
  endedAt: number,
  json: unknown = {},
  status = 200,
): OutboundCall {
  const c = new OutboundCall(
    { method: 'GET', url: new URL(url, 'http://api.test'), headers: [] },
    startedAt,
    65_536,
  )
  c.responded(status, [['content-type', 'application/json']])
  c.received(JSON.stringify(json))
  c.end(endedAt, false)
  return c
}

const paths = (calls: readonly OutboundCall[]): string[] => calls.map((c) => c.path)
const chainsOf = (calls: readonly OutboundCall[], known = new Set<number>()): string[][] =>
  findChains(calls, known).map((c) => paths(c.calls))

describe('chains', () => {
  it('awaited calls that use nothing of each other form one chain; the saving is sum minus max', () => {
    const calls = [call('/a', 0, 10), call('/b', 10, 40), call('/c', 41, 61)]
    const [chain] = findChains(calls, new Set())
    expect(paths(chain!.calls)).toEqual(['/a', '/b', '/c'])
    expect(chain!.savedMs).toBe(10 + 30 + 20 - 30)
  })

  it('a call that uses a value of an earlier member ends the chain and starts the next', () => {
    const calls = [
      call('/a', 0, 10),
      call('/user', 10, 20, { teamId: 't-42' }),
      call('/teams/t-42', 20, 30),
      call('/news', 30, 40),
    ]
    expect(chainsOf(calls)).toEqual([
      ['/a', '/user'],
      ['/teams/t-42', '/news'],
    ])
  })

  it('a value the route already had (the incoming request, an earlier request) is no dependency', () => {
    // The product's own request sent 42: echoed in its body, it is no new value.
    expect(chainsOf([call('/products/42', 0, 10, { id: 42 }), call('/stock/42', 10, 20)])).toEqual([
      ['/products/42', '/stock/42'],
    ])
    // Looked up by SKU, the product's id is new, unless the incoming request had it.
    const bySku = [call('/products/sku-9', 0, 10, { id: 4242 }), call('/stock/4242', 10, 20)]
    expect(chainsOf(bySku)).toEqual([])
    expect(chainsOf(bySku, new Set([hashToken('4242')]))).toEqual([
      ['/products/sku-9', '/stock/4242'],
    ])
  })

  it('a call waits for the call that ended last before it: one after a parallel group is not chained to another member', () => {
    // reviews and recommendations start together; users starts when the reviews end, while the
    // recommendations are still in flight (the demo's fanout page): no chain.
    const overlapping = [
      call('/reviews', 0, 20, { authorIds: [101, 102] }),
      call('/recommendations', 0, 30),
      call('/users?ids=101,102', 20, 25),
    ]
    expect(chainsOf(overlapping)).toEqual([])
    // The same with the recommendations over before the reviews: users still waited for the
    // reviews (they ended last), whose ids it sends.
    const earlier = [
      call('/reviews', 0, 20, { authorIds: [101, 102] }),
      call('/recommendations', 0, 15),
      call('/users?ids=101,102', 20, 25),
    ]
    expect(chainsOf(earlier)).toEqual([])
    // Started a little after both ended (a batch window), the users call's last-ended
    // predecessor is the recommendations: it needed the reviews, which ended after the
    // recommendations started, so the two could not have gone in one Promise.all.
    const late = [
      call('/reviews', 0, 20, { authorIds: [101, 102] }),
      call('/recommendations', 0, 22),
      call('/users?ids=101,102', 25, 30),
    ]
    expect(chainsOf(late)).toEqual([])
    // A call that sends nothing of the reviews is chained to them, the call it waited for.
    const independent = [
      call('/reviews', 0, 20, { authorIds: [101, 102] }),
      call('/recommendations', 0, 15),
      call('/banner', 20, 25),
    ]
    expect(chainsOf(independent)).toEqual([['/reviews', '/banner']])
  })

  it('two sequences interleaved in one request are two chains', () => {
    const calls = [call('/x1', 0, 10), call('/y1', 1, 12), call('/x2', 10, 20), call('/y2', 12, 22)]
    expect(chainsOf(calls)).toEqual([
      ['/x1', '/x2'],
      ['/y1', '/y2'],
    ])
  })

  it('nothing follows a failure or a redirect in a chain (a 304 is neither); a repeat is not chained', () => {
    expect(chainsOf([call('/a', 0, 10, {}, 503), call('/b', 10, 20)])).toEqual([])
    expect(chainsOf([call('/a', 0, 10, {}, 302), call('/b', 10, 20)])).toEqual([])
    expect(chainsOf([call('/a', 0, 10, {}, 304), call('/b', 10, 20)])).toEqual([['/a', '/b']])
    expect(chainsOf([call('/poll', 0, 10), call('/poll', 10, 20)])).toEqual([])
  })

  it('a gate starts nothing and joins nothing', () => {
    const auth = call('/auth/verify', 0, 5)
    auth.gate = true
    expect(chainsOf([auth, call('/a', 5, 10), call('/b', 10, 20)])).toEqual([['/a', '/b']])
  })
})

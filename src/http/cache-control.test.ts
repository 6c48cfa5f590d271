/** RFC 9111 arithmetic of the HTTP cache, without I/O. */
import { describe, expect, it } from 'vitest'
import {
  freshnessLifetime,
  initialAge,
  mayStore,
  parseCacheControl,
  requestDirectives,
  staleWindows,
  varyNames,
} from './cache-control.js'

const plain = { authorized: false, noStore: false }

describe('parseCacheControl', () => {
  it('reads names in any case, quoted values, and keeps the first of a repeated directive', () => {
    const d = parseCacheControl('Max-Age=60, private="set-cookie, x-a", MAX-AGE=3600 ,no-cache')
    expect([...d]).toEqual([
      ['max-age', '60'],
      ['private', 'set-cookie, x-a'],
      ['no-cache', ''],
    ])
  })

  it('a malformed max-age is no max-age', () => {
    expect(freshnessLifetime({ 'cache-control': 'max-age=-1' }, true, 0)).toBe(0)
    expect(freshnessLifetime({ 'cache-control': 'max-age=1.5' }, true, 0)).toBe(0)
    expect(freshnessLifetime({ 'cache-control': 'max-age="7"' }, true, 0)).toBe(7_000)
  })
})

describe('mayStore', () => {
  it.each([
    [200, { 'cache-control': 'no-store' }, true, 'no-store'],
    [200, { 'cache-control': 'private, s-maxage=60' }, true, 'private'],
    [200, { 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }, true, 'set-cookie'],
    [200, { 'cache-control': 'max-age=60', vary: 'accept, *' }, false, 'vary-*'],
    [206, { 'cache-control': 'max-age=60' }, false, 'status'],
    [302, {}, false, 'status'],
  ] as const)('%i %j (shared: %s) is not stored: %s', (status, headers, shared, reason) => {
    expect(mayStore(status, headers, plain, shared)).toEqual({ store: false, reason })
  })

  it('302 with max-age, and 404 without, may be stored', () => {
    expect(mayStore(302, { 'cache-control': 'max-age=5' }, plain, true).store).toBe(true)
    expect(mayStore(404, {}, plain, true).store).toBe(true)
  })
})

describe('freshness', () => {
  it('s-maxage counts in a shared cache only; Expires minus Date; no-cache is 0', () => {
    const h = { 'cache-control': 'max-age=10, s-maxage=20' }
    expect([freshnessLifetime(h, true, 0), freshnessLifetime(h, false, 0)]).toEqual([
      20_000, 10_000,
    ])
    const dated = {
      date: 'Mon, 01 Jan 2024 00:00:00 GMT',
      expires: 'Mon, 01 Jan 2024 00:01:00 GMT',
    }
    expect(freshnessLifetime(dated, true, 0)).toBe(60_000)
    expect(freshnessLifetime({ 'cache-control': 'no-cache, max-age=60' }, true, 0)).toBe(0)
  })

  it("initial age: the upstream's Age plus the request's delay", () => {
    expect(initialAge({ age: '3' }, 250)).toBe(3_250)
    expect(initialAge({ age: 'soon' }, 10)).toBe(10)
  })

  it('stale windows: none under must-revalidate, or s-maxage in a shared cache', () => {
    const swr = 'max-age=1, stale-while-revalidate=5, stale-if-error=9'
    expect(staleWindows({ 'cache-control': swr }, true)).toEqual({
      whileRevalidate: 5_000,
      ifError: 9_000,
    })
    expect(staleWindows({ 'cache-control': `${swr}, must-revalidate` }, false).ifError).toBe(0)
    expect(staleWindows({ 'cache-control': `${swr}, s-maxage=1` }, true).ifError).toBe(0)
    expect(staleWindows({ 'cache-control': `${swr}, s-maxage=1` }, false).ifError).toBe(9_000)
  })
})

it('request directives and Vary names', () => {
  expect(requestDirectives({ pragma: 'no-cache' })).toEqual({
    noStore: false,
    noCache: true,
    maxAge: undefined,
  })
  expect(requestDirectives({ 'cache-control': 'max-age=0, no-store' })).toEqual({
    noStore: true,
    noCache: false,
    maxAge: 0,
  })
  expect(varyNames({ vary: 'Accept-Language, accept-encoding,Accept-Language' })).toEqual([
    'accept-encoding',
    'accept-language',
  ])
})

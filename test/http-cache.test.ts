/**
 * fanout/http's cache (RFC 9111), part 1: what is stored, for how long, and under which key —
 * against loopback upstreams, with time on a hand-driven clock.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../src/core/errors.js'
import { memoryCacheStore } from '../src/cache/memory-store.js'
import { closeRigs, jsonStore, rig, scripted } from './helpers/http-cache.js'
import { closeAll } from './helpers/upstream.js'

afterEach(async () => {
  await closeRigs()
  await closeAll()
})

const counter = (headers: Record<string, string>) =>
  scripted((_seen, n) => ({ headers, body: `v${n}` }))

describe('freshness', () => {
  it('max-age: fresh copies are served with an Age, then a stale one without validators is fetched again', async () => {
    const up = await counter({ 'cache-control': 'max-age=10' })
    const { client, clock, cacheEvents } = rig()
    const first = await client.get(up.url('/a'))
    expect([first.text(), first.cache]).toEqual(['v1', 'miss'])
    clock.advance(4_000)
    const second = await client.get(up.url('/a'))
    expect([second.text(), second.cache, second.headers['age']]).toEqual(['v1', 'hit', '4'])
    clock.advance(6_000)
    const third = await client.get(up.url('/a'))
    expect([third.text(), third.cache, up.calls]).toEqual(['v2', 'miss', 2])
    expect(cacheEvents()).toEqual([
      'cache.missed',
      'cache.stored',
      'cache.hit',
      'cache.missed', // without a validator the entry is not kept once stale
      'cache.stored',
    ])
  })

  it("the upstream's Age counts against max-age", async () => {
    const up = await counter({ 'cache-control': 'max-age=10', age: '8' })
    const { client, clock } = rig()
    await client.get(up.url('/'))
    clock.advance(1_000)
    expect((await client.get(up.url('/'))).headers['age']).toBe('9')
    clock.advance(1_500)
    expect((await client.get(up.url('/'))).cache).toBe('miss')
  })

  it('s-maxage wins over max-age in a shared cache, and is ignored by a private one', async () => {
    const headers = { 'cache-control': 'max-age=1, s-maxage=30' }
    const shared = rig()
    const priv = rig({ shared: false })
    const up = await counter(headers)
    for (const r of [shared, priv]) await r.client.get(up.url('/'))
    for (const r of [shared, priv]) r.clock.advance(5_000)
    expect((await shared.client.get(up.url('/'))).cache).toBe('hit')
    expect((await priv.client.get(up.url('/'))).cache).toBe('miss')
  })

  it('Expires minus Date is the lifetime; an invalid Expires is already stale', async () => {
    const date = new Date(Math.floor(Date.now() / 1000) * 1000)
    const up = await scripted((seen, n) => ({
      headers: {
        date: date.toUTCString(),
        expires: seen.url === '/bad' ? '0' : new Date(date.getTime() + 5_000).toUTCString(),
        etag: seen.url === '/bad' ? '"x"' : '',
      },
      body: `v${n}`,
    }))
    const { client, clock } = rig()
    await client.get(up.url('/good'))
    clock.advance(4_000)
    expect((await client.get(up.url('/good'))).cache).toBe('hit')
    clock.advance(2_000)
    expect((await client.get(up.url('/good'))).cache).toBe('miss')
    await client.get(up.url('/bad'))
    expect((await client.get(up.url('/bad'))).cache).not.toBe('hit')
  })

  it('no heuristic freshness: Last-Modified alone is stored only to be revalidated', async () => {
    const up = await scripted((seen) =>
      seen.headers['if-modified-since'] !== undefined
        ? { status: 304 }
        : { headers: { 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' }, body: 'doc' },
    )
    const { client } = rig()
    await client.get(up.url('/'))
    const again = await client.get(up.url('/'))
    expect([again.cache, again.text(), up.seen[1]!.headers['if-modified-since']]).toEqual([
      'revalidated',
      'doc',
      'Mon, 01 Jan 2024 00:00:00 GMT',
    ])
  })
})

describe('what is stored', () => {
  it('no-store is never stored, in any cache', async () => {
    const up = await counter({ 'cache-control': 'no-store, max-age=60' })
    for (const r of [rig(), rig({ shared: false })]) {
      await r.client.get(up.url('/'))
      expect((await r.client.get(up.url('/'))).cache).toBe('miss')
    }
    expect(up.calls).toBe(4)
  })

  it('private: not stored by a shared cache, stored by a private one', async () => {
    const up = await counter({ 'cache-control': 'private, max-age=60' })
    const shared = rig()
    const priv = rig({ shared: false })
    for (const r of [shared, priv]) await r.client.get(up.url('/me'))
    expect((await shared.client.get(up.url('/me'))).cache).toBe('miss')
    expect((await priv.client.get(up.url('/me'))).cache).toBe('hit')
  })

  it('Set-Cookie: not stored by a shared cache (one user’s session), stored by a private one', async () => {
    const up = await counter({ 'cache-control': 'max-age=60', 'set-cookie': 'sid=abc' })
    const shared = rig()
    const priv = rig({ shared: false })
    for (const r of [shared, priv]) await r.client.get(up.url('/'))
    expect((await shared.client.get(up.url('/'))).cache).toBe('miss')
    expect((await priv.client.get(up.url('/'))).cache).toBe('hit')
  })

  it.each([
    ['max-age=60', 'miss'],
    ['public, max-age=60', 'hit'],
    ['s-maxage=60', 'hit'],
    ['max-age=60, must-revalidate', 'hit'],
  ])(
    'Authorization in a shared cache (§3.5): Cache-Control %s → %s',
    async (cacheControl, expected) => {
      const up = await counter({ 'cache-control': cacheControl })
      const { client } = rig()
      const headers = { authorization: 'Bearer user-1' }
      await client.get(up.url('/'), { headers })
      expect((await client.get(up.url('/'), { headers })).cache).toBe(expected)
    },
  )

  it('Authorization in a private cache: stored', async () => {
    const up = await counter({ 'cache-control': 'max-age=60' })
    const { client } = rig({ shared: false })
    await client.get(up.url('/'), { headers: { authorization: 'Bearer me' } })
    expect((await client.get(up.url('/'), { headers: { authorization: 'Bearer me' } })).cache).toBe(
      'hit',
    )
  })

  it('maxBodyBytes bounds what is stored (bytes after decoding); larger bodies pass through', async () => {
    const up = await scripted((seen) => ({
      headers: { 'cache-control': 'max-age=60' },
      body: seen.url === '/small' ? '0123456789' : '0123456789a',
    }))
    const { client } = rig({ maxBodyBytes: 10 })
    for (const path of ['/small', '/large']) await client.get(up.url(path))
    expect((await client.get(up.url('/small'))).cache).toBe('hit')
    const large = await client.get(up.url('/large'))
    expect([large.cache, large.text()]).toEqual(['miss', '0123456789a'])
  })

  it('a request with Cache-Control: no-store is not stored; no-cache revalidates', async () => {
    const up = await counter({ 'cache-control': 'max-age=60' })
    const { client } = rig()
    await client.get(up.url('/'), { headers: { 'cache-control': 'no-store' } })
    expect((await client.get(up.url('/'))).cache).toBe('miss')
    expect((await client.get(up.url('/'))).cache).toBe('hit')
    const forced = await client.get(up.url('/'), { headers: { 'cache-control': 'no-cache' } })
    expect([forced.cache, forced.text()]).toEqual(['miss', 'v3'])
  })

  it('only GET is cached; HEAD, streams and conditional requests of the caller pass through', async () => {
    const up = await counter({ 'cache-control': 'max-age=60', etag: '"e"' })
    const { client } = rig()
    await client.head(up.url('/'))
    await client.head(up.url('/'))
    const s = await client.stream(up.url('/'))
    for await (const chunk of s.body) void chunk
    await client.request(up.url('/'), { headers: { 'if-none-match': '"e"' } })
    expect(up.calls).toBe(4)
  })
})

describe('Vary', () => {
  it('the selecting request headers are part of the match: each variant is stored and served', async () => {
    const up = await scripted((seen, n) => ({
      headers: { 'cache-control': 'max-age=60', vary: 'Accept-Language' },
      body: `${String(seen.headers['accept-language'])} ${n}`,
    }))
    const { client } = rig()
    const get = (lang?: string) =>
      client.get(up.url('/'), lang === undefined ? {} : { headers: { 'accept-language': lang } })
    await get('en')
    await get('fr')
    const [en, fr, none] = [await get('en'), await get('fr'), await get()]
    expect([en.text(), en.cache, fr.text(), fr.cache]).toEqual(['en 1', 'hit', 'fr 2', 'hit'])
    expect([none.cache, none.text()]).toEqual(['miss', 'undefined 3'])
    expect((await get()).cache).toBe('hit') // an absent header is a selection of its own
  })

  it('Vary: * never matches, so it is not stored', async () => {
    const up = await counter({ 'cache-control': 'max-age=60', vary: '*' })
    const { client } = rig()
    await client.get(up.url('/'))
    expect((await client.get(up.url('/'))).cache).toBe('miss')
  })

  it('Vary: Authorization (private cache) keeps one variant per credential', async () => {
    const up = await scripted((seen) => ({
      headers: { 'cache-control': 'max-age=60', vary: 'authorization' },
      body: String(seen.headers.authorization),
    }))
    const { client } = rig({ shared: false })
    const as = (user: string) =>
      client.get(up.url('/me'), { headers: { authorization: `Bearer ${user}` } })
    await as('alice')
    const bob = await as('bob')
    expect([bob.cache, bob.text()]).toEqual(['miss', 'Bearer bob'])
    const alice = await as('alice')
    expect([alice.cache, alice.text()]).toEqual(['hit', 'Bearer alice'])
  })
})

describe('keys and entries', () => {
  it('keys and entries hold no URL, query secret or credential; JSON round trips serve hits', async () => {
    const up = await scripted((seen) => ({
      headers: { 'cache-control': 'private, max-age=60', vary: 'authorization, cookie' },
      body: `hello ${seen.url.length}`,
    }))
    const store = jsonStore()
    const { client } = rig({ store, shared: false })
    const options = { headers: { authorization: 'Bearer s3cret-token', cookie: 'sid=s3cret-sid' } }
    await client.get(up.url('/users/42?api_key=s3cret-key'), options)
    const hit = await client.get(up.url('/users/42?api_key=s3cret-key'), options)
    expect([hit.cache, hit.text()]).toEqual(['hit', 'hello 28'])
    const everything = [...store.keys, ...store.texts.values()].join('\n')
    for (const secret of ['s3cret', 'users/42', '127.0.0.1'])
      expect(everything).not.toContain(secret)
    expect(store.keys.every((k) => k.startsWith('fanout:http:http:'))).toBe(true)
  })

  it('a malformed or foreign entry under a key is a miss; a failing store never fails a request', async () => {
    const up = await counter({ 'cache-control': 'max-age=60' })
    const broken = {
      get: () => Promise.reject(new Error('down')),
      set: () => {
        throw new Error('down')
      },
      delete: () => Promise.reject(new Error('down')),
    }
    const { client } = rig({ store: broken })
    expect((await client.get(up.url('/'))).text()).toBe('v1')
    expect((await client.post(up.url('/'))).text()).toBe('v2')
    const store = jsonStore()
    const r = rig({ store })
    await r.client.get(up.url('/'))
    for (const key of [...store.keys]) store.set(key, { format: 1, kind: 'value' } as never, 1)
    expect((await r.client.get(up.url('/'))).cache).toBe('miss')
  })
})

describe('options', () => {
  it.each([
    [{ cache: {} }, /`cache.store` is required/],
    [{ cache: { store: {} } }, /`cache.store` must be a CacheStore/],
    [
      { cache: { store: jsonStore(), shard: true } },
      /unknown option `cache.shard`.*`cache.shared`/,
    ],
    [{ cache: { store: jsonStore(), shared: 'yes' } }, /`cache.shared` must be true or false/],
    [
      { cache: { store: jsonStore(), maxBodyBytes: 2048 }, maxResponseSize: 1024 },
      /`cache.maxBodyBytes` must be an integer from 0 to 1024/,
    ],
    [{ cache: { store: jsonStore(), keepStale: -1 } }, /`cache.keepStale` must be within/],
    [{ cache: 'memory' }, /`cache`/],
  ])('%j is refused at construction', async (options, message) => {
    const { createHttpClient } = await import('../src/http/index.js')
    expect(() => createHttpClient(options as never)).toThrow(InvalidOptionError)
    expect(() => createHttpClient(options as never)).toThrow(message)
  })

  it('cache: false is no cache; responses then say nothing about one', async () => {
    const up = await counter({ 'cache-control': 'max-age=60' })
    const { client } = rig({}, { cache: false })
    await client.get(up.url('/'))
    expect((await client.get(up.url('/'))).cache).toBeUndefined()
    expect(memoryCacheStore({ maxEntries: 1 }).size).toBe(0)
  })
})

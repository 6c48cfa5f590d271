/**
 * fanout/http's cache (RFC 9111), part 2: what happens to a stored response once it is stale —
 * conditional revalidation and 304s, stale-while-revalidate, stale-if-error, must-revalidate,
 * unsafe-method invalidation, and the request's deadline and signal during a revalidation.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { TraceEvent } from '../src/core/trace.js'
import { HttpError, HttpTimeoutError, NetworkError } from '../src/http/index.js'
import { closeRigs, jsonStore, rig, scripted } from './helpers/http-cache.js'
import { closeAll, failure, waitFor } from './helpers/upstream.js'

afterEach(async () => {
  // Upstreams first: a hanging background revalidation then fails, and the client can close.
  await closeAll()
  await closeRigs()
})

describe('revalidation', () => {
  it('a 304 refreshes the stored headers and freshness, and the stored body is served', async () => {
    const up = await scripted((seen, n) =>
      seen.headers['if-none-match'] === '"v1"'
        ? { status: 304, headers: { 'cache-control': 'max-age=30', 'x-version': String(n) } }
        : {
            headers: { 'cache-control': 'max-age=1', etag: '"v1"', 'x-version': '1' },
            body: 'one',
          },
    )
    const { client, clock, cacheEvents } = rig()
    await client.get(up.url('/'))
    clock.advance(2_000)
    const again = await client.get(up.url('/'))
    expect([again.status, again.text(), again.cache, again.headers['x-version']]).toEqual([
      200,
      'one',
      'revalidated',
      '2',
    ])
    expect(again.headers['etag']).toBe('"v1"')
    clock.advance(20_000) // fresh for 30 s from the 304
    const later = await client.get(up.url('/'))
    expect([later.cache, later.headers['x-version'], later.headers['age']]).toEqual([
      'hit',
      '2',
      '20',
    ])
    expect(up.calls).toBe(2)
    expect(cacheEvents()).toEqual([
      'cache.missed',
      'cache.stored',
      'cache.stored',
      'cache.hit+revalidated',
      'cache.hit',
    ])
  })

  it('a 200 to the conditional request replaces the entry', async () => {
    const up = await scripted((_seen, n) => ({
      headers: { 'cache-control': 'max-age=1', etag: `"v${n}"` },
      body: `v${n}`,
    }))
    const { client, clock } = rig()
    await client.get(up.url('/'))
    clock.advance(2_000)
    const second = await client.get(up.url('/'))
    expect([second.cache, second.text(), up.seen[1]!.headers['if-none-match']]).toEqual([
      'miss',
      'v2',
      '"v1"',
    ])
    expect((await client.get(up.url('/'))).text()).toBe('v2')
  })

  it('no-cache: stored, but revalidated before every use', async () => {
    const up = await scripted((seen) =>
      seen.headers['if-none-match'] === '"e"'
        ? { status: 304 }
        : { headers: { 'cache-control': 'no-cache', etag: '"e"' }, body: 'doc' },
    )
    const { client } = rig()
    await client.get(up.url('/'))
    for (let i = 0; i < 2; i++) expect((await client.get(up.url('/'))).cache).toBe('revalidated')
    expect(up.calls).toBe(3)
  })

  it('a stale response that now says no-store is deleted, not served again', async () => {
    const up = await scripted((_seen, n) => ({
      headers: {
        'cache-control': n === 1 ? 'max-age=1, stale-while-revalidate=60' : 'no-store',
        etag: '"e"',
      },
      body: `v${n}`,
    }))
    const store = jsonStore()
    const { client, clock } = rig({ store })
    await client.get(up.url('/'))
    clock.advance(2_000)
    expect((await client.get(up.url('/'))).cache).toBe('stale')
    await waitFor(() => store.texts.size === 0, 'the background revalidation to delete the entry')
    expect((await client.get(up.url('/'))).cache).toBe('miss')
  })
})

describe('stale-while-revalidate', () => {
  it('stale copies are served at once while exactly one background revalidation runs', async () => {
    const up = await scripted((_seen, n) =>
      n === 1
        ? {
            headers: { 'cache-control': 'max-age=1, stale-while-revalidate=30', etag: '"v1"' },
            body: 'v1',
          }
        : { hang: true },
    )
    const { client, clock, cacheEvents } = rig()
    await client.get(up.url('/'))
    clock.advance(2_000)
    const stale = await Promise.all([1, 2, 3].map(() => client.get(up.url('/'))))
    expect(stale.map((r) => [r.cache, r.text(), r.headers['age']])).toEqual([
      ['stale', 'v1', '2'],
      ['stale', 'v1', '2'],
      ['stale', 'v1', '2'],
    ])
    await waitFor(() => up.calls === 2, 'the background revalidation')
    expect(up.seen[1]!.headers['if-none-match']).toBe('"v1"')
    expect(cacheEvents().filter((e) => e === 'cache.staleServed:revalidating')).toHaveLength(3)
    // While it runs, later stale hits start no other.
    expect((await client.get(up.url('/'))).cache).toBe('stale')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(up.calls).toBe(2)
  })

  it('the background revalidation stores what it gets; the next request is a hit', async () => {
    const up = await scripted((_seen, n) => ({
      headers: { 'cache-control': 'max-age=10, stale-while-revalidate=30', etag: `"v${n}"` },
      body: `v${n}`,
    }))
    const { client, clock, cacheEvents } = rig()
    await client.get(up.url('/'))
    clock.advance(12_000)
    expect((await client.get(up.url('/'))).text()).toBe('v1')
    await waitFor(() => cacheEvents().filter((e) => e === 'cache.stored').length === 2, 'store')
    const next = await client.get(up.url('/'))
    expect([next.cache, next.text()]).toEqual(['hit', 'v2'])
  })

  it('past the window, or with must-revalidate, the request waits for the revalidation', async () => {
    const up = await scripted((_seen, n) => ({
      headers: {
        'cache-control': 'max-age=1, stale-while-revalidate=5, must-revalidate',
        etag: `"v${n}"`,
      },
      body: `v${n}`,
    }))
    const { client, clock } = rig()
    await client.get(up.url('/'))
    clock.advance(2_000)
    const r = await client.get(up.url('/'))
    expect([r.cache, r.text()]).toEqual(['miss', 'v2'])
  })
})

describe('stale-if-error', () => {
  const staleIfError = (failure: 'reset' | number) =>
    scripted((_seen, n) =>
      n === 1
        ? { headers: { 'cache-control': 'max-age=1, stale-if-error=60' }, body: 'v1' }
        : failure === 'reset'
          ? { reset: true }
          : { status: failure, body: 'down' },
    )

  it('a 5xx from the upstream is answered with the stale copy, within the window', async () => {
    const up = await staleIfError(503)
    const { client, clock, cacheEvents } = rig()
    await client.get(up.url('/'))
    clock.advance(30_000)
    const r = await client.get(up.url('/'))
    expect([r.status, r.text(), r.cache, r.headers['age']]).toEqual([200, 'v1', 'stale', '30'])
    expect(cacheEvents()).toContain('cache.staleServed:error')
    clock.advance(40_000)
    expect(await failure(client.get(up.url('/')))).toBeInstanceOf(HttpError)
  })

  it('a network error (connection reset) is answered with the stale copy', async () => {
    const up = await staleIfError('reset')
    const { client, clock } = rig()
    await client.get(up.url('/'))
    clock.advance(5_000)
    const r = await client.get(up.url('/'))
    expect([r.text(), r.cache]).toEqual(['v1', 'stale'])
  })

  it('a 4xx is not an error the stale copy stands in for', async () => {
    const up = await staleIfError(404)
    const { client, clock } = rig()
    await client.get(up.url('/'))
    clock.advance(5_000)
    expect((await client.request(up.url('/'))).status).toBe(404)
  })

  it('must-revalidate (and s-maxage in a shared cache) forbid serving it stale', async () => {
    for (const cc of ['max-age=1, must-revalidate', 's-maxage=1']) {
      const up = await scripted((_seen, n) =>
        n === 1 ? { headers: { 'cache-control': `${cc}, stale-if-error=60` } } : { reset: true },
      )
      const { client, clock } = rig()
      await client.get(up.url('/'))
      clock.advance(5_000)
      expect(await failure(client.get(up.url('/')))).toBeInstanceOf(NetworkError)
    }
  })
})

describe('context during revalidation', () => {
  it("the request's deadline bounds the revalidation; the stale copy does not stand in for it", async () => {
    const up = await scripted((_seen, n) =>
      n === 1
        ? { headers: { 'cache-control': 'max-age=1, stale-if-error=60', etag: '"e"' } }
        : { hang: true },
    )
    const { client, clock } = rig()
    await client.get(up.url('/'))
    clock.advance(2_000)
    const pending = client.get(up.url('/'), { deadline: 500 })
    await waitFor(() => up.calls === 2, 'the revalidation')
    clock.advance(500)
    const error = await failure(pending)
    expect(error).toBeInstanceOf(HttpTimeoutError)
    expect((error as HttpTimeoutError).code).toBe('FANOUT_DEADLINE')
  })

  it("the caller's signal aborts the revalidation", async () => {
    const up = await scripted((_seen, n) =>
      n === 1 ? { headers: { 'cache-control': 'max-age=1', etag: '"e"' } } : { hang: true },
    )
    const { client, clock } = rig()
    await client.get(up.url('/'))
    clock.advance(2_000)
    const controller = new AbortController()
    const pending = client.get(up.url('/'), { signal: controller.signal })
    await waitFor(() => up.calls === 2, 'the revalidation')
    controller.abort(new Error('caller gone'))
    expect((await failure(pending)).message).toBe('caller gone')
  })
})

describe('context', () => {
  it("a request's context hears the cache's events under its task, and its deadline bounds the revalidation", async () => {
    const up = await scripted((_seen, n) =>
      n === 1 ? { headers: { 'cache-control': 'max-age=1', etag: '"e"' } } : { hang: true },
    )
    const { client, clock } = rig()
    const heard: TraceEvent[] = []
    const context = {
      signal: new AbortController().signal,
      deadlineAt: Infinity,
      attempt: 1,
      task: 'profile',
      clock,
      trace: { enabled: true, emit: (e: TraceEvent) => heard.push(e) },
    }
    await client.get(up.url('/'), { context })
    clock.advance(2_000)
    const pending = client.get(up.url('/'), {
      context: { ...context, deadlineAt: clock.now() + 300 },
    })
    await waitFor(() => up.calls === 2, 'the revalidation')
    clock.advance(300)
    expect((await failure(pending)) as HttpTimeoutError).toMatchObject({ code: 'FANOUT_DEADLINE' })
    const cacheEvents = heard.filter((e) => e.type.startsWith('cache.'))
    expect(cacheEvents.map((e) => [e.type, e.task])).toEqual([
      ['cache.missed', 'profile'],
      ['cache.stored', 'profile'],
    ])
  })
})

describe('unsafe methods invalidate (§4.4)', () => {
  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'a successful %s deletes the target URI and its same-origin Location',
    async (method) => {
      const up = await scripted((seen, n) =>
        seen.method === 'GET'
          ? { headers: { 'cache-control': 'max-age=60' }, body: `${seen.url} ${n}` }
          : {
              status: 201,
              headers: { location: '/items/7', 'content-location': 'http://x.test/' },
            },
      )
      const { client } = rig()
      for (const path of ['/items', '/items/7', '/other']) await client.get(up.url(path))
      await client.request(up.url('/items'), { method, body: '{}' })
      const after = await Promise.all(
        ['/items', '/items/7', '/other'].map((p) => client.get(up.url(p))),
      )
      expect(after.map((r) => r.cache)).toEqual(['miss', 'miss', 'hit'])
    },
  )

  it('an error answer to an unsafe method invalidates nothing', async () => {
    const up = await scripted((seen) =>
      seen.method === 'GET'
        ? { headers: { 'cache-control': 'max-age=60' }, body: 'list' }
        : { status: 500 },
    )
    const { client } = rig()
    await client.get(up.url('/items'))
    await client.request(up.url('/items'), { method: 'POST', body: '{}' })
    expect((await client.get(up.url('/items'))).cache).toBe('hit')
  })
})

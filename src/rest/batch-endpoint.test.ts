import { describe, expect, expectTypeOf, it } from 'vitest'
import { InvalidOptionError, Loader, NotFoundError } from '../index.js'
import { isRetryableError, statusOf } from '../policies/index.js'
import { after, settle, useFakeTime } from '../../test/helpers/time.js'
import { batchEndpoint, idsParam, UrlTooLongError } from './batch-endpoint.js'

interface User {
  readonly id: number
  readonly name: string
}

const BASE = 'https://users.internal/users'

/** A stub batch endpoint: parses `ids=` from the URL, records every URL, answers with `answer`. */
function endpoint<Id extends string | number>(
  parse: (text: string) => Id,
  answer: (ids: Id[]) => unknown = (ids) => ids.map((id) => ({ id, name: `user ${id}` })),
) {
  const urls: string[] = []
  const signals: AbortSignal[] = []
  const fetch = async (url: string, { signal }: { signal: AbortSignal }): Promise<unknown> => {
    urls.push(url)
    signals.push(signal)
    const text = new URL(url).searchParams.get('ids') ?? ''
    return answer(text === '' ? [] : text.split(',').map(parse))
  }
  return { fetch, urls, signals }
}

describe('batchEndpoint()', () => {
  it('makes one request per tick: /users?ids=1,2,3', async () => {
    const api = endpoint(Number)
    const users = batchEndpoint({
      fetch: (url, ctx) => api.fetch(url, ctx) as Promise<User[]>,
      id: (user) => user.id,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
    })
    expectTypeOf(users).toEqualTypeOf<Loader<number, User, number>>()
    const [a, b, c] = await Promise.all([users.load(1), users.load(2), users.load(3)])
    expect([a.name, b.name, c.name]).toEqual(['user 1', 'user 2', 'user 3'])
    expect(api.urls).toEqual([`${BASE}?ids=1,2,3`])
  })

  it('G1: fewer, extra and reordered items are matched by id, never by position; a missing id is a NotFoundError for its key only', async () => {
    const api = endpoint(Number, (ids) => [
      { id: 99, name: 'extra' },
      ...ids
        .filter((id) => id !== 2)
        .reverse()
        .map((id) => ({ id, name: `user ${id}` })),
    ])
    const users = batchEndpoint({
      fetch: (url, ctx) => api.fetch(url, ctx) as Promise<User[]>,
      id: (user) => user.id,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
    })
    const [one, two, three] = await Promise.allSettled([
      users.load(1),
      users.load(2),
      users.load(3),
    ])
    expect(one).toEqual({ status: 'fulfilled', value: { id: 1, name: 'user 1' } })
    expect(three).toEqual({ status: 'fulfilled', value: { id: 3, name: 'user 3' } })
    const missing = (two as PromiseRejectedResult).reason as NotFoundError
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing.key).toBe(2)
  })

  it('G1: a wrapped answer ({ data: [...] }) is read with `items`; without it, the error says how', async () => {
    const api = endpoint(String, (ids) => ({
      data: ids.map((id) => ({ key: id, n: id.length })),
      meta: {},
    }))
    const things = batchEndpoint({
      fetch: (url, ctx) => api.fetch(url, ctx) as Promise<{ data: { key: string; n: number }[] }>,
      items: (body) => body.data,
      id: (thing) => thing.key,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
    })
    expectTypeOf(things).toEqualTypeOf<Loader<string, { key: string; n: number }, string>>()
    expect(await Promise.all([things.load('ab'), things.load('abc')])).toEqual([
      { key: 'ab', n: 2 },
      { key: 'abc', n: 3 },
    ])
    const unwrapped = batchEndpoint({
      fetch: (url, ctx) => api.fetch(url, ctx) as Promise<never>,
      id: (thing: { key: string }) => thing.key,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
    })
    await expect(unwrapped.load('a')).rejects.toThrow(
      /the answer is not a list of items \(got an object \(Object\)\)\. Pass `items: \(body\) => body\.data`/,
    )
  })

  it('G1: ids of another type than the keys (JSON "7" for the key 7) fail the batch with a message, not as NotFound', async () => {
    const api = endpoint(Number, (ids) => ids.map((id) => ({ id: String(id) })))
    const users = batchEndpoint({
      fetch: (url, ctx) => api.fetch(url, ctx) as Promise<{ id: number }[]>,
      id: (user) => user.id,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
    })
    await expect(users.load(7)).rejects.toThrow(
      /id\(\) returned string ids \("7"\) but the keys loaded are numbers \(7\): no item can match/,
    )
  })

  it('G2: a failed request fails every key of the batch', async () => {
    const users = batchEndpoint({
      fetch: async (): Promise<User[]> => {
        throw new Error('503 from users')
      },
      id: (user) => user.id,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
    })
    const results = await Promise.allSettled([users.load(1), users.load(2)])
    expect(results).toEqual([
      { status: 'rejected', reason: new Error('503 from users') },
      { status: 'rejected', reason: new Error('503 from users') },
    ])
  })

  it('G3: 10,000 ids are split into requests that never exceed maxUrlLength, each id asked once', async () => {
    // Ids of varied length, some needing percent-encoding (spaces, commas' neighbours, non-ASCII).
    const ids = Array.from({ length: 10_000 }, (_, i) =>
      i % 7 === 0 ? `user é ${i}` : i % 3 === 0 ? `u-${i}-${'x'.repeat(i % 40)}` : String(i),
    )
    const api = endpoint(String, (asked) => asked.map((id) => ({ id, name: id })))
    const users = batchEndpoint({
      fetch: (url, ctx) => api.fetch(url, ctx) as Promise<{ id: string; name: string }[]>,
      id: (user) => user.id,
      url: (batch) => `${BASE}?${idsParam(batch)}`,
    })
    const loaded = await Promise.all(ids.map((id) => users.load(id)))
    expect(loaded.map((u) => u.id)).toEqual(ids)
    expect(api.urls.length).toBeGreaterThan(1)
    for (const url of api.urls) expect(url.length).toBeLessThanOrEqual(2_000)
    const asked = api.urls.flatMap((url) => new URL(url).searchParams.get('ids')!.split(','))
    expect(asked.sort()).toEqual([...ids].sort())
    // Packed, not merely short: every request but the last had no room for one more id.
    const longest = Math.max(...ids.map((id) => encodeURIComponent(id).length + 1))
    for (const url of api.urls.slice(0, -1)) expect(url.length).toBeGreaterThan(2_000 - longest)
  })

  it('G3: maxBatchSize bounds the ids per request as well', async () => {
    const api = endpoint(Number)
    const users = batchEndpoint({
      fetch: (url, ctx) => api.fetch(url, ctx) as Promise<User[]>,
      id: (user) => user.id,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
      maxBatchSize: 100,
      maxUrlLength: 300,
    })
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => users.load(i)))
    for (const url of api.urls) {
      expect(url.length).toBeLessThanOrEqual(300)
      expect(new URL(url).searchParams.get('ids')!.split(',').length).toBeLessThanOrEqual(100)
    }
  })

  it('G3: an id that alone makes the URL too long fails with a UrlTooLongError (414) for that key only, and is never sent', async () => {
    const api = endpoint(String, (asked) => asked.map((id) => ({ id })))
    const things = batchEndpoint({
      fetch: (url, ctx) => api.fetch(url, ctx) as Promise<{ id: string }[]>,
      id: (t) => t.id,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
      maxUrlLength: 200,
    })
    const huge = 'h'.repeat(500)
    const [a, tooLong, b] = await Promise.allSettled([
      things.load('a'),
      things.load(huge),
      things.load('b'),
    ])
    expect(a).toEqual({ status: 'fulfilled', value: { id: 'a' } })
    expect(b).toEqual({ status: 'fulfilled', value: { id: 'b' } })
    const error = (tooLong as PromiseRejectedResult).reason as UrlTooLongError
    expect(error).toBeInstanceOf(UrlTooLongError)
    expect(error.message).toMatch(
      /^batchEndpoint: the URL for id "h{100}…" alone is 533 characters, more than maxUrlLength \(200\); not sent/,
    )
    expect(error.key).toBe(huge)
    expect(statusOf(error)).toBe(414)
    expect(isRetryableError(error)).toBe(false)
    expect(api.urls.every((url) => url.length <= 200)).toBe(true)
    expect(api.urls.some((url) => url.includes(huge))).toBe(false)
  })

  it('G3: a url() that is not a prefix plus one piece per id is still never over the limit (the batch is halved)', async () => {
    const api = endpoint(Number)
    // The padding grows with the square of the batch: the per-id estimate cannot foresee it.
    const url = (ids: readonly number[]) =>
      `${BASE}?${idsParam(ids)}&pad=${'p'.repeat(ids.length * ids.length)}`
    let batches = 0
    const users = batchEndpoint({
      fetch: (u, ctx) => api.fetch(u, ctx) as Promise<User[]>,
      id: (user) => user.id,
      url,
      maxUrlLength: 500,
      onBatch: () => batches++,
    })
    const loaded = await Promise.all(Array.from({ length: 200 }, (_, i) => users.load(i)))
    expect(loaded.map((u) => u.id)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    for (const u of api.urls) expect(u.length).toBeLessThanOrEqual(500)
    expect(api.urls.length).toBeGreaterThan(batches)
  })

  it('counts non-ASCII as it goes on the wire (percent-encoded)', async () => {
    const urls: string[] = []
    // A url() that does not encode: the client will, so é costs 6 characters, not 1.
    const things = batchEndpoint({
      fetch: async (u: string) => {
        urls.push(u)
        return [...new URL(u).searchParams.get('ids')!.split(',')].map((id) => ({ id }))
      },
      id: (t) => t.id,
      url: (ids) => `${BASE}?ids=${ids.join(',')}`,
      maxUrlLength: BASE.length + 5 + 20,
    })
    await Promise.all(['éé', 'éé1', 'éé2', 'éé3'].map((id) => things.load(id)))
    for (const u of urls) expect(new URL(u).href.length).toBeLessThanOrEqual(BASE.length + 5 + 20)
    expect(urls.length).toBeGreaterThan(1)
  })

  it('an id whose URL cannot be built fails alone; the others load', async () => {
    const api = endpoint(Number)
    const users = batchEndpoint({
      fetch: (url, ctx) => api.fetch(url, ctx) as Promise<User[]>,
      id: (user) => user.id,
      url: (ids) => {
        if (ids.includes(13)) throw new Error('id 13 is not allowed')
        return `${BASE}?${idsParam(ids)}`
      },
    })
    const results = await Promise.allSettled([12, 13, 14].map((id) => users.load(id)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('id 13 is not allowed'))
    expect(api.urls.every((u) => !u.includes('13'))).toBe(true)
  })

  it("G6: fetch gets the batch's signal: one caller leaving does not abort it, all leaving does", async () => {
    useFakeTime()
    const signals: AbortSignal[] = []
    const users = batchEndpoint({
      fetch: async (url: string, { signal }) => {
        signals.push(signal)
        await after(100, null, signal)
        return new URL(url).searchParams
          .get('ids')!
          .split(',')
          .map((id) => ({ id: Number(id), name: `user ${id}` }))
      },
      id: (user) => user.id,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
    })
    const leaving = new AbortController()
    const staying = new AbortController()
    const left = users.load(1, { signal: leaving.signal })
    const stays = users.load(2, { signal: staying.signal })
    await settle(after(10, null))
    leaving.abort(new Error('left'))
    expect(await settle(left)).toEqual({ ok: false, error: new Error('left') })
    expect(signals[0]!.aborted).toBe(false)
    expect(await settle(stays)).toEqual({ ok: true, value: { id: 2, name: 'user 2' } })

    const a = new AbortController()
    const b = new AbortController()
    const loads = [users.load(3, { signal: a.signal }), users.load(4, { signal: b.signal })]
    await settle(after(10, null))
    a.abort(new Error('a left'))
    b.abort(new Error('b left'))
    expect(signals[1]!.aborted).toBe(true)
    const outcomes = await Promise.allSettled(loads)
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected'])
  })

  it('passes concurrency and wait on to the Loader', async () => {
    useFakeTime()
    let running = 0
    let peak = 0
    const users = batchEndpoint({
      fetch: async (url: string) => {
        running++
        peak = Math.max(peak, running)
        await after(50, null)
        running--
        return new URL(url).searchParams
          .get('ids')!
          .split(',')
          .map((id) => ({ id: Number(id) }))
      },
      id: (user) => user.id,
      url: (ids) => `${BASE}?${idsParam(ids)}`,
      maxBatchSize: 2,
      concurrency: 1,
      wait: 5,
    })
    const all = settle(Promise.all([1, 2, 3, 4, 5].map((id) => users.load(id))))
    expect((await all).ok).toBe(true)
    expect(peak).toBe(1)
  })

  it('L1/L4: validates its options at construction', () => {
    const base = {
      fetch: async (): Promise<User[]> => [],
      id: (u: User) => u.id,
      url: (ids: readonly number[]) => `${BASE}?${idsParam(ids)}`,
    }
    expect(() => batchEndpoint({ ...base, maxUrlLenght: 100 } as never)).toThrow(
      /unknown option `maxUrlLenght`. Did you mean `maxUrlLength`\?/,
    )
    expect(() => batchEndpoint({ ...base, maxUrlLength: 0 })).toThrow(
      /`maxUrlLength` must be an integer from 16 to 10000000 characters, got 0/,
    )
    expect(() => batchEndpoint({ ...base, maxUrlLength: 30 })).toThrow(
      /the URL without ids is already 33 characters, not under maxUrlLength \(30\)/,
    )
    expect(() => batchEndpoint({ ...base, url: () => 42 as unknown as string })).toThrow(
      /url\(\) must return a string or a URL, got 42/,
    )
    expect(() => batchEndpoint({ ...base, id: undefined } as never)).toThrow(
      /`id` must be a function \(item\) => id/,
    )
    expect(() => batchEndpoint({ ...base, concurrency: 0 })).toThrow(InvalidOptionError)
    expect(() => batchEndpoint({ ...base, wait: -1 })).toThrow(InvalidOptionError)
  })
})

describe('idsParam()', () => {
  it('encodes each id and joins them', () => {
    expect(idsParam([1, 'a b', 'é', 'x/y', 10n])).toBe('ids=1,a%20b,%C3%A9,x%2Fy,10')
    expect(idsParam(['a', 'b'], { param: 'id[]', separator: '|' })).toBe('id%5B%5D=a%7Cb')
    expect(idsParam([])).toBe('ids=')
  })

  it('refuses an id that the server would split or drop, naming it', () => {
    expect(() => idsParam(['1', '2,3'])).toThrow(/id "2,3" cannot go in the list.*without ","/)
    expect(() => idsParam(['a|b'], { separator: '|' })).toThrow(InvalidOptionError)
    expect(() => idsParam([''])).toThrow(/id "" cannot go in the list/)
    expect(() => idsParam([{} as unknown as string])).toThrow(InvalidOptionError)
    expect(() => idsParam([1], { seperator: ';' } as never)).toThrow(/Did you mean `separator`\?/)
  })
})

import { describe, expect, expectTypeOf, it } from 'vitest'
import { InvalidOptionError, isFanoutError } from '../index.js'
import { after, settle, useFakeTime } from '../../test/helpers/time.js'
import { nextLink } from './link.js'
import { collectPages, pages, paginate, PaginationError } from './paginate.js'

interface Page {
  readonly page: number
  readonly pages: number
  readonly items: readonly string[]
}

/** A listing of `count` pages; each request takes `ms(n)` of fake time and is recorded. */
function listing(count: number, ms: (n: number) => number = () => 10) {
  const started: number[] = []
  const aborted: number[] = []
  let running = 0
  let peak = 0
  const page = async (n: number, { signal }: { signal: AbortSignal }): Promise<Page> => {
    started.push(n)
    running++
    peak = Math.max(peak, running)
    const onAbort = (): void => void aborted.push(n)
    signal.addEventListener('abort', onAbort)
    try {
      await after(ms(n), null, signal)
    } finally {
      running--
      signal.removeEventListener('abort', onAbort)
    }
    return { page: n, pages: count, items: [`item ${n}`] }
  }
  return { page, started, aborted, peak: () => peak }
}

const aborted = (reason: unknown): AbortSignal => {
  const controller = new AbortController()
  controller.abort(reason)
  return controller.signal
}

describe('paginate(): known total', () => {
  it('fetches the first page, then the rest in parallel under the bound, and returns them in page order', async () => {
    useFakeTime()
    // Later pages answer faster: the order of the result must not follow the order of answers.
    const api = listing(7, (n) => 100 - n * 10)
    const result = await settle(
      paginate({ page: api.page, totalPages: (first) => first.pages, concurrency: 3 }),
    )
    expect(result.ok && result.value.map((p) => p.page)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(api.started[0]).toBe(1)
    expect(api.peak()).toBe(3)
    expect(api.started.slice().sort()).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  it('counts pages from `total` and `pageSize`; an empty listing is its first page', async () => {
    const calls: number[] = []
    const page = async (n: number) => {
      calls.push(n)
      return { total: 250, n }
    }
    const all = await paginate({ page, total: (first) => first.total, pageSize: 100 })
    expect(all.map((p) => p.n)).toEqual([1, 2, 3])
    calls.length = 0
    const none = await paginate({
      page: async (n: number) => ({ total: 0, n }),
      total: (first) => first.total,
      pageSize: 100,
    })
    expect(none).toEqual([{ total: 0, n: 1 }])
    const zeroPages = await paginate({
      page: async () => ({ pages: 0 }),
      totalPages: (first) => first.pages,
    })
    expect(zeroPages).toEqual([{ pages: 0 }])
  })

  it('uses `first` for the first request when it differs', async () => {
    const requests: string[] = []
    const all = await paginate({
      first: async () => {
        requests.push('/items?page=1&count=true')
        return { count: 3 as number | undefined, n: 1 }
      },
      page: async (n) => {
        requests.push(`/items?page=${n}`)
        return { count: undefined, n }
      },
      total: (first) => first.count ?? 0,
      pageSize: 1,
    })
    expect(all.map((p) => p.n)).toEqual([1, 2, 3])
    expect(requests).toEqual(['/items?page=1&count=true', '/items?page=2', '/items?page=3'])
  })

  it('fails fast: the first failed page aborts the others, starts nothing more and rejects with its error', async () => {
    useFakeTime()
    const api = listing(10, (n) => (n === 3 ? 5 : 50))
    const failing = async (n: number, ctx: { signal: AbortSignal }) => {
      const p = await api.page(n, ctx)
      if (n === 3) throw new Error('page 3: 503')
      return p
    }
    const result = await settle(
      paginate({ page: failing, totalPages: (first) => first.pages, concurrency: 2 }),
    )
    expect(result).toEqual({ ok: false, error: new Error('page 3: 503') })
    expect(api.started).toEqual([1, 2, 3])
    expect(api.aborted).toEqual([2])
  })

  it("stops with the caller's signal: running pages are aborted, the promise rejects with the reason", async () => {
    useFakeTime()
    const api = listing(5, () => 50)
    const controller = new AbortController()
    const running = paginate({
      page: api.page,
      totalPages: (first) => first.pages,
      signal: controller.signal,
    })
    setTimeout(() => controller.abort(new Error('client went away')), 60)
    expect(await settle(running)).toEqual({ ok: false, error: new Error('client went away') })
    expect(api.aborted.sort()).toEqual([2, 3, 4, 5])
    await expect(
      paginate({ page: api.page, totalPages: () => 1, signal: aborted('already') }),
    ).rejects.toBe('already')
  })

  it('maxPages: a listing that says it has more pages fails before fetching them', async () => {
    const api = listing(5_000, () => 0)
    const error = await paginate({ page: api.page, totalPages: (first) => first.pages }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(PaginationError)
    expect((error as PaginationError).reason).toBe('maxPages')
    expect((error as Error).message).toMatch(/5000 pages, more than maxPages \(1000\)/)
    expect(api.started).toEqual([1])
    const small = await paginate({
      page: listing(3, () => 0).page,
      totalPages: (first) => first.pages,
      maxPages: 3,
    })
    expect(small).toHaveLength(3)
  })

  it('a page count that is not a whole number ≥ 0 is a PaginationError, not a guess', async () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, '3', undefined]) {
      const error = await paginate({
        page: async () => ({ pages: bad }),
        totalPages: (first) => first.pages as number,
      }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(PaginationError)
      expect((error as PaginationError).reason).toBe('total')
      expect(isFanoutError(error)).toBe(true)
    }
  })

  it('L1/L4: validates its options', async () => {
    const page = async () => ({ pages: 1 })
    await expect(paginate({ page, totalPages: () => 1, concurency: 2 } as never)).rejects.toThrow(
      /unknown option `concurency`. Did you mean `concurrency`\?/,
    )
    await expect(paginate({ page } as never)).rejects.toThrow(
      /give `totalPages: \(first\) => number`.*use pages\(\)/,
    )
    await expect(paginate({ page, total: () => 1 } as never)).rejects.toThrow(
      /`total` needs `pageSize`/,
    )
    await expect(
      paginate({ page, totalPages: () => 1, total: () => 1, pageSize: 1 }),
    ).rejects.toThrow(/not both/)
    for (const concurrency of [0, -1, 1.5, Number.NaN])
      await expect(paginate({ page, totalPages: () => 1, concurrency })).rejects.toThrow(
        InvalidOptionError,
      )
    await expect(paginate({ page, totalPages: () => 1, maxPages: 0 })).rejects.toThrow(
      /`maxPages` must be an integer from 1 to 1000000, got 0/,
    )
    await expect(paginate({ page, totalPages: () => 1, pageSize: '10' } as never)).rejects.toThrow(
      /not both/,
    )
    await expect(paginate({ page, total: () => 1, pageSize: '10' } as never)).rejects.toThrow(
      /`pageSize` must be an integer.*Pass a number/,
    )
  })

  it('infers the page type from the page function', () => {
    const all = paginate({ page: async (n) => ({ n, items: [`x${n}`] }), totalPages: () => 2 })
    expectTypeOf(all).toEqualTypeOf<Promise<{ n: number; items: string[] }[]>>()
    // @ts-expect-error totalPages reads a field the page does not have
    void paginate({ page: async (n) => ({ n }), totalPages: (first) => first.pages }).catch(
      () => {},
    )
  })
})

describe('pages(): cursors and Link headers', () => {
  /** A cursor API: `{ items, next }`, `next` absent on the last page. */
  function cursorApi(count: number) {
    const cursors: (string | undefined)[] = []
    const fetch = async (cursor: string | undefined, { signal }: { signal: AbortSignal }) => {
      expect(signal).toBeInstanceOf(AbortSignal)
      cursors.push(cursor)
      const n = cursor === undefined ? 1 : Number(cursor.slice(1))
      return { items: [n], next: n < count ? `c${n + 1}` : undefined }
    }
    return { fetch, cursors }
  }

  it('walks cursors in order, lazily, one page at a time', async () => {
    const api = cursorApi(4)
    const seen: number[] = []
    for await (const page of pages({
      start: undefined,
      fetch: api.fetch,
      next: (page) => page.next,
    })) {
      expectTypeOf(page).toEqualTypeOf<{ items: number[]; next: string | undefined }>()
      seen.push(...page.items)
    }
    expect(seen).toEqual([1, 2, 3, 4])
    expect(api.cursors).toEqual([undefined, 'c2', 'c3', 'c4'])
  })

  it('leaving the loop fetches nothing more', async () => {
    const api = cursorApi(100)
    for await (const page of pages({
      start: undefined,
      fetch: api.fetch,
      next: (page) => page.next,
    })) {
      if (page.items[0] === 2) break
    }
    expect(api.cursors).toEqual([undefined, 'c2'])
  })

  it('collectPages() gives every page in order', async () => {
    const api = cursorApi(3)
    const all = await collectPages({
      start: undefined,
      fetch: api.fetch,
      next: (page) => page.next,
    })
    expectTypeOf(all).toEqualTypeOf<{ items: number[]; next: string | undefined }[]>()
    expect(all.flatMap((p) => p.items)).toEqual([1, 2, 3])
  })

  it('follows Link headers with nextLink(), relative links resolved against the response url', async () => {
    const requested: string[] = []
    const fetch = async (url: string) => {
      requested.push(url)
      const n = Number(new URL(url).searchParams.get('page'))
      const link =
        n < 3
          ? `</items?page=${n + 1}>; rel="next", </items?page=3>; rel="last"`
          : '</items?page=1>; rel="first"'
      return { status: 200, headers: { link } as Record<string, string>, url, body: [n] }
    }
    const all = await collectPages({
      start: 'https://api.example/items?page=1',
      fetch,
      next: (res) => nextLink(res),
    })
    expect(all.map((r) => r.body[0])).toEqual([1, 2, 3])
    expect(requested).toEqual([
      'https://api.example/items?page=1',
      'https://api.example/items?page=2',
      'https://api.example/items?page=3',
    ])
  })

  it('loop detection: a cursor seen before is a PaginationError, URLs compared by href', async () => {
    const looping = await collectPages({
      start: 'a',
      fetch: async (c: string) => c,
      next: (c) => (c === 'a' ? 'b' : c === 'b' ? 'c' : 'a'),
    }).catch((e: unknown) => e)
    expect(looping).toBeInstanceOf(PaginationError)
    expect((looping as PaginationError).reason).toBe('loop')
    expect((looping as Error).message).toMatch(/page 3 points back to "a", a page already read/)
    const self = await collectPages({
      start: 'x',
      fetch: async (c: string) => c,
      next: () => 'x',
    }).catch((e: unknown) => e)
    expect((self as PaginationError).reason).toBe('loop')
    const urls = await collectPages({
      start: new URL('https://a.example/p?page=1'),
      fetch: async (u: URL) => u,
      next: () => new URL('https://a.example/p?page=1'),
    }).catch((e: unknown) => e)
    expect((urls as PaginationError).reason).toBe('loop')
    const objects = await collectPages({
      start: { after: 1 },
      fetch: async (c: { after: number }) => c,
      next: (c) => ({ after: c.after === 3 ? 1 : c.after + 1 }),
    }).catch((e: unknown) => e)
    expect((objects as PaginationError).reason).toBe('loop')
  })

  it('maxPages: one "next" beyond the bound is a PaginationError after maxPages pages', async () => {
    let fetched = 0
    const endless = collectPages({
      start: 0,
      fetch: async (n: number) => {
        fetched++
        return n
      },
      next: (n) => n + 1,
      maxPages: 5,
    })
    const error = await endless.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PaginationError)
    expect((error as PaginationError).reason).toBe('maxPages')
    expect(fetched).toBe(5)
    expect(
      await collectPages({
        start: 0,
        fetch: async (n: number) => n,
        next: (n) => (n < 4 ? n + 1 : undefined),
        maxPages: 5,
      }),
    ).toEqual([0, 1, 2, 3, 4])
    let defaultBound = 0
    await expect(
      collectPages({
        start: 0,
        fetch: async (n: number) => (defaultBound = n),
        next: (n) => n + 1,
      }),
    ).rejects.toThrow(/read 1000 pages \(maxPages\)/)
    expect(defaultBound).toBe(999)
  })

  it("honours the caller's signal between pages and passes it to fetch", async () => {
    useFakeTime()
    const controller = new AbortController()
    const signals: AbortSignal[] = []
    const walk = pages({
      start: 1,
      fetch: async (n: number, { signal }) => {
        signals.push(signal)
        return after(10, n, signal)
      },
      next: (n) => n + 1,
      signal: controller.signal,
    })
    const first = await settle(walk.next())
    expect(first).toEqual({ ok: true, value: { done: false, value: 1 } })
    // Aborted while the caller works on page 1: page 2 is never requested.
    controller.abort(new Error('request ended'))
    expect(await settle(walk.next())).toEqual({ ok: false, error: new Error('request ended') })
    expect(signals).toEqual([controller.signal])
    expect(await settle(walk.next())).toEqual({ ok: true, value: { done: true, value: undefined } })
  })

  it('an abort during a page request rejects the walk with the reason', async () => {
    useFakeTime()
    const controller = new AbortController()
    const walk = collectPages({
      start: 1,
      fetch: (n: number, { signal }) => after(100, n, signal),
      next: (n) => n + 1,
      signal: controller.signal,
    })
    setTimeout(() => controller.abort(new Error('deadline')), 150)
    expect(await settle(walk)).toEqual({ ok: false, error: new Error('deadline') })
  })

  it('L4: validates its options at the call', () => {
    const fetch = async (c: string) => c
    expect(() => pages({ start: 'a', fetch, nxt: () => undefined } as never)).toThrow(
      /unknown option `nxt`. Did you mean `next`\?/,
    )
    expect(() => pages({ fetch, next: () => undefined } as never)).toThrow(
      /`start` is required.*`start: undefined`/,
    )
    expect(() => pages({ start: 'a', fetch, next: 'b' } as never)).toThrow(
      /`next` must be a function/,
    )
    expect(() => pages({ start: 'a', fetch, next: () => undefined, maxPages: 1.5 })).toThrow(
      InvalidOptionError,
    )
    expect(() => pages({ start: 'a', fetch, next: () => undefined, signal: 'x' } as never)).toThrow(
      /`signal` must be an AbortSignal/,
    )
  })

  it('infers the page type from fetch and the cursor type from start and next', () => {
    // Types only: never run.
    const typesOnly = (): void => {
      const byLink = pages({
        start: 'https://api.example/items',
        fetch: async (url, { signal }) => ({ url, signal, headers: new Headers() }),
        next: (res) => nextLink(res),
      })
      expectTypeOf(byLink).toEqualTypeOf<
        AsyncGenerator<{ url: string; signal: AbortSignal; headers: Headers }, void, undefined>
      >()
      // A cursor API whose first request takes none: annotate the cursor (inference runs left to right).
      const byCursor = collectPages({
        start: undefined,
        fetch: async (cursor: string | undefined, { index }) => ({
          cursor,
          index,
          next: 'c' as string | null,
        }),
        next: (p) => p.next,
      })
      expectTypeOf(byCursor).toEqualTypeOf<
        Promise<{ cursor: string | undefined; index: number; next: string | null }[]>
      >()
      // @ts-expect-error next must give a cursor of the type fetch takes
      void collectPages({ start: 'a', fetch: async (c: string) => c.length, next: (n) => n + 1 })
    }
    expect(typeof typesOnly).toBe('function')
  })
})

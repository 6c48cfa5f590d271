/**
 * Why fanout/next memoizes per request with `requestScoped()` and not React's `cache()`: outside
 * a React Server Component render (a route handler, a server action, `after()` work) `cache()`
 * memoizes nothing — no error, no warning, each call runs again. This test pins that, so nobody
 * "fixes" the adapter back to `cache()`; test/next/e2e.test.ts shows the same inside a real
 * `next start` route handler (Next bundles route handlers with React's server build).
 */
import { describe, expect, it } from 'vitest'
import { currentRequest } from '../../src/core/request-context.js'
import { requestScoped } from '../../src/index.js'
import { withFanout } from '../../src/next/index.js'
import { fakeAfter } from './helpers.js'

// React ships no types of its own (and @types/react is not installed here): the one function used.
type Cache = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A) => R
const { cache } = (await import('react' as string)) as { cache: Cache }

describe("React's cache() in a route handler", () => {
  it('does not memoize; requestScoped() does, per request', async () => {
    let viaReact = 0
    let viaFanout = 0
    const loadUser = cache((id: string) => ({ id, load: ++viaReact }))
    const memo = requestScoped(() => new Map<string, { id: string; load: number }>())
    const loadOnce = (id: string) => {
      const seen = memo()
      let user = seen.get(id)
      if (user === undefined) seen.set(id, (user = { id, load: ++viaFanout }))
      return user
    }
    const GET = withFanout(
      () => {
        expect(currentRequest()).toBeDefined()
        const react = [loadUser('ann'), loadUser('ann'), loadUser('ann')]
        const fanout = [loadOnce('ann'), loadOnce('ann'), loadOnce('ann')]
        return Response.json({
          reactSame: react[0] === react[1] && react[1] === react[2],
          fanoutSame: fanout[0] === fanout[1] && fanout[1] === fanout[2],
        })
      },
      { after: fakeAfter().after },
    )
    expect(await (await GET(new Request('http://localhost/u'), {})).json()).toEqual({
      reactSame: false,
      fanoutSame: true,
    })
    expect(viaReact).toBe(3) // three calls, three loads
    expect(viaFanout).toBe(1)
    // A second request gets its own memo.
    await GET(new Request('http://localhost/u'), {})
    expect(viaFanout).toBe(2)
  })
})

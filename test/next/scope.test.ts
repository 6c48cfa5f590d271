/**
 * Two users at once through the same route handler never share a `requestScoped()` loader entry
 * nor a `cached(…, { scope: 'user' })` entry; a server action wrapped by `withFanoutAction()` gets
 * the same, with its deadline and user read from the request's headers.
 */
import { describe, expect, it } from 'vitest'
import { currentRequest } from '../../src/core/request-context.js'
import { withFanout, withFanoutAction } from '../../src/next/index.js'
import { barrier, userFixtures } from '../helpers/two-users.js'
import { fakeAfter } from './helpers.js'

describe('withFanout(): two users at once', () => {
  it('never share a requestScoped() loader entry nor a scope: "user" cache entry', async () => {
    const { batches, fetches, loadersFor, preferences } = userFixtures()
    const together = barrier(2)
    const GET = withFanout(
      async () => {
        await together() // both requests are in flight before either loads
        const loaders = loadersFor()
        // Three loads of one key in one request: one batch, one key.
        const [a, b, c] = await Promise.all([
          loaders.profile.load('me'),
          loaders.profile.load('me'),
          loaders.profile.load('me'),
        ])
        return Response.json({
          same: a === b && b === c,
          profile: a,
          prefs: await preferences('theme'),
        })
      },
      { after: fakeAfter().after, user: (request) => request.headers.get('x-user') ?? undefined },
    )
    const get = (user: string) =>
      GET(new Request('http://localhost/me', { headers: { 'x-user': user } }), {}).then(
        (r) => r.json() as Promise<unknown>,
      )
    const [ann, bob] = await Promise.all([get('ann'), get('bob')])
    expect(ann).toEqual({
      same: true,
      profile: { key: 'me', loadedFor: 'ann' },
      prefs: { key: 'theme', owner: 'ann' },
    })
    expect(bob).toEqual({
      same: true,
      profile: { key: 'me', loadedFor: 'bob' },
      prefs: { key: 'theme', owner: 'bob' },
    })
    expect(batches).toHaveLength(2)
    expect(batches.map((b) => b.keys)).toEqual([['me'], ['me']])
    expect(fetches.sort()).toEqual(['ann', 'bob'])

    // Later requests: each user is served their own entry from the cache, and a new loader set.
    expect(await get('bob')).toMatchObject({ prefs: { owner: 'bob' } })
    expect(fetches).toHaveLength(2)
    expect(batches).toHaveLength(3)
  })

  it('a scope: "user" cache refuses a request that named no user', async () => {
    const { preferences } = userFixtures()
    const GET = withFanout(async () => Response.json(await preferences('theme')), {
      after: fakeAfter().after,
    })
    await expect(GET(new Request('http://localhost/me'), {})).rejects.toMatchObject({
      name: 'NoUserError',
    })
  })
})

describe('withFanoutAction()', () => {
  it('reads the deadline and the user from the headers; each call is its own request', async () => {
    const { batches, loadersFor, preferences } = userFixtures()
    const fake = fakeAfter()
    let headers = new Headers({ 'x-user': 'ann', 'grpc-timeout': '250m' })
    const save = withFanoutAction(
      async (id: string) => {
        const ctx = currentRequest()!
        ctx.waitUntil(() => undefined)
        const profile = await loadersFor().profile.load(id)
        return {
          budget: Math.round(ctx.deadlineAt - ctx.startedAt), // two float clock readings
          aborted: ctx.signal.aborted,
          profile,
          prefs: await preferences('theme'),
        }
      },
      {
        after: fake.after,
        headers: () => headers,
        user: (h) => h.get('x-user') ?? undefined,
      },
    )
    expect(await save('p1')).toEqual({
      budget: 240,
      aborted: false,
      profile: { key: 'p1', loadedFor: 'ann' },
      prefs: { key: 'theme', owner: 'ann' },
    })
    headers = new Headers({ 'x-user': 'bob' })
    expect(await save('p1')).toMatchObject({ budget: Infinity, profile: { loadedFor: 'bob' } })
    expect(batches).toHaveLength(2) // a loader set per call
    expect(fake.queued).toBe(2)
    await fake.flush()
    expect(save.contexts.pending).toBe(0)
  })

  it('without a headers option, reads next/headers (which refuses outside a Next request)', async () => {
    const act = withFanoutAction(() => 'done', { after: fakeAfter().after })
    await expect(act()).rejects.toThrow(/outside a request scope/)
  })
})

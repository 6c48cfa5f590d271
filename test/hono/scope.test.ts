/**
 * Two users at once through the same route never share a request-scoped loader entry nor a
 * `cached(…, { scope: 'user' })` entry: the request context the middleware makes ambient is what
 * `requestScoped()()` and `scope: 'user'` read.
 */
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fanout, type FanoutEnv } from '../../src/hono/index.js'
import { isFanoutError } from '../../src/index.js'
import { barrier, userFixtures } from '../helpers/two-users.js'
import { listen, send, type Served } from './helpers.js'

let served: Served
const { batches, fetches, loadersFor, preferences } = userFixtures()

let together = barrier(2)

beforeAll(async () => {
  const app = new Hono<FanoutEnv>()
  // What an auth middleware would set; the header stands in for a verified session here.
  app.onError((error, c) => c.json({ error: isFanoutError(error) ? error.code : error.name }, 500))
  app.use(fanout({ user: (c) => c.req.header('x-user') }))
  app.get('/me', async (c) => {
    await together()
    const loads = await Promise.all([1, 2, 3].map(() => loadersFor().profile.load('me')))
    const prefs = await preferences('prefs')
    return c.json({
      user: c.get('fanout').user,
      profile: loads[0],
      oneLoad: loads.every((p) => p === loads[0]),
      prefs,
    })
  })
  served = await listen(app)
})

afterAll(() => served.close())

const as = (user: string) => send(`${served.origin}/me`, { headers: { 'x-user': user } })

describe('fanout/hono: two users at once', () => {
  it('never share a request-scoped loader entry nor a user-scoped cache entry', async () => {
    const [alice, bob] = await Promise.all([as('alice'), as('bob')])
    expect(JSON.parse(alice.body)).toEqual({
      user: 'alice',
      profile: { key: 'me', loadedFor: 'alice' },
      oneLoad: true,
      prefs: { key: 'prefs', owner: 'alice' },
    })
    expect(JSON.parse(bob.body)).toEqual({
      user: 'bob',
      profile: { key: 'me', loadedFor: 'bob' },
      oneLoad: true,
      prefs: { key: 'prefs', owner: 'bob' },
    })
    // One batch per request (three loads of one key each), one fetch per user.
    expect(batches.map((b) => b.user).sort()).toEqual(['alice', 'bob'])
    expect(batches.every((b) => b.keys.length === 1)).toBe(true)
    expect(fetches.sort()).toEqual(['alice', 'bob'])
  })

  it('serves each user their own cached entry afterwards, and a new loader set per request', async () => {
    together = barrier(2)
    const [alice, bob] = await Promise.all([as('alice'), as('bob')])
    expect(JSON.parse(alice.body)).toMatchObject({ prefs: { owner: 'alice' } })
    expect(JSON.parse(bob.body)).toMatchObject({ prefs: { owner: 'bob' } })
    expect(fetches).toHaveLength(2) // both from the cache
    expect(batches).toHaveLength(4) // the loaders did not outlive their requests
  })

  it('a request that names no user cannot use a user-scoped entry', async () => {
    together = barrier(1)
    const reply = await send(`${served.origin}/me`)
    expect(reply.status).toBe(500)
    expect(JSON.parse(reply.body)).toEqual({ error: 'FANOUT_NO_USER' })
    expect(fetches).toHaveLength(2)
  })
})

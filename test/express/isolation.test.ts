/**
 * Two users through the same Express route at the same time never share a `requestScoped()`
 * loader entry nor a `cached(…, { scope: 'user' })` entry, whether the user comes from the
 * `user` option or from `req.fanout.actAs()` after an auth step; within one request, three flow
 * tasks loading the same id make one batch call.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { Loader } from '../../src/batch/loader.js'
import { requestScoped } from '../../src/batch/request-scoped.js'
import { cached } from '../../src/cache/cached.js'
import { memoryCacheStore } from '../../src/cache/memory-store.js'
import { currentRequest } from '../../src/core/request-context.js'
import { fanout } from '../../src/express/index.js'
import { flow } from '../../src/flow/define.js'
import { barrier } from '../helpers/two-users.js'
import { closeServers, listen, send } from './server.js'

afterAll(closeServers)

interface Item {
  readonly id: number
  readonly owner: string
}

async function twoUsers(actAs: boolean) {
  const batches: { user: string | undefined; ids: number[] }[] = []
  const fetches: string[] = []
  const loaderSets = new Set<object>()
  const loadersFor = requestScoped(() => ({
    items: new Loader(
      async (ids: readonly number[]) => {
        const user = currentRequest()?.user
        batches.push({ user, ids: [...ids] })
        return ids.map((id): Item => ({ id, owner: user ?? 'nobody' }))
      },
      { id: (item: Item) => item.id },
    ),
  }))
  const inbox = cached(
    async (folder: string) => {
      const user = currentRequest()!.user!
      fetches.push(`${user}:${folder}`)
      return `${user}'s ${folder}`
    },
    { store: memoryCacheStore({ maxEntries: 100 }), ttl: 60_000, scope: 'user', name: 'inbox' },
  )
  const page = flow<number>('items')
    .task('a', (_, { input }) => loadersFor().items.load(input))
    .task('b', (_, { input }) => loadersFor().items.load(input))
    .task('c', (_, { input }) => loadersFor().items.load(input))
    .task('inbox', () => inbox('mail'))
  const together = barrier(2)
  const server = await listen((app) => {
    app.use(fanout(actAs ? {} : { user: (req) => req.get('x-user') }))
    app.get('/items/:id', async (req, res) => {
      // An auth step that names the user once it knows it.
      if (actAs) req.fanout.actAs(req.get('authorization')!.replace(/^Bearer /, ''))
      await together()
      loaderSets.add(loadersFor())
      const { a, b, c, inbox } = await page.run(Number(req.params.id))
      res.json({ items: [a, b, c], inbox })
    })
  })
  const get = (user: string) =>
    send(`${server.origin}/items/7`, {
      headers: actAs ? { authorization: `Bearer ${user}` } : { 'x-user': user },
    }).answer.then((answer) => {
      expect(answer.status, answer.body.slice(0, 500)).toBe(200)
      return JSON.parse(answer.body) as { items: Item[]; inbox: string }
    })
  const [ada, bob] = await Promise.all([get('ada'), get('bob')])
  return { ada, bob, batches, fetches, loaderSets, again: () => get('ada') }
}

describe.each([
  ['the user option', false],
  ['actAs() after an auth step', true],
])('fanout/express: two concurrent users (%s)', (_, actAs) => {
  it('never share a request-scoped loader entry nor a user-scoped cache entry', async () => {
    const { ada, bob, batches, fetches, loaderSets, again } = await twoUsers(actAs)
    expect(ada.items).toEqual(Array(3).fill({ id: 7, owner: 'ada' }))
    expect(bob.items).toEqual(Array(3).fill({ id: 7, owner: 'bob' }))
    expect(ada.inbox).toBe("ada's mail")
    expect(bob.inbox).toBe("bob's mail")
    // One batch per request, of one key for the three tasks' loads.
    expect(batches.sort((x, y) => x.user!.localeCompare(y.user!))).toEqual([
      { user: 'ada', ids: [7] },
      { user: 'bob', ids: [7] },
    ])
    expect(loaderSets.size).toBe(2)
    expect(fetches.sort()).toEqual(['ada:mail', 'bob:mail'])
    // A later request of Ada's finds her entry; the loaders are new.
    expect((await again()).inbox).toBe("ada's mail")
    expect(fetches).toHaveLength(2)
    expect(batches).toHaveLength(3)
  })
})

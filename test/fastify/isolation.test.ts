/**
 * Two users through the same route at the same time never share a `requestScoped()` loader
 * entry or a `cached(…, { scope: 'user' })` entry; and the plugin is per Fastify context: two
 * sibling contexts each with their own options are independent, and a context without it has none.
 */
import type { FastifyRequest } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { Loader } from '../../src/batch/loader.js'
import { requestScoped } from '../../src/batch/request-scoped.js'
import { cached } from '../../src/cache/cached.js'
import { memoryCacheStore } from '../../src/cache/memory-store.js'
import { currentRequest } from '../../src/core/request-context.js'
import { fanoutPlugin } from '../../src/fastify/index.js'
import { closeServers, listen, send, sleep } from './helpers.js'

afterEach(closeServers)

const user = (request: FastifyRequest) => request.headers['x-user'] as string | undefined
const as = (name: string) => ({ headers: { 'x-user': name } })

describe('fanout/fastify: one user per request', () => {
  it('concurrent users never share a requestScoped() loader entry', async () => {
    const batches: { user: string | undefined; keys: readonly number[] }[] = []
    const loadersFor = requestScoped(
      (request) =>
        new Loader<number, string>(async (keys) => {
          const who = (request as FastifyRequest).fanout.user
          batches.push({ user: who, keys })
          await sleep(30)
          return new Map(keys.map((k) => [k, `${who}:${k}`]))
        }),
    )
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin, { user })
      app.get('/item', async (request) => {
        // The same loader set, whether asked for by the request or ambiently.
        expect(loadersFor(request)).toBe(loadersFor())
        const three = await Promise.all([1, 1, 1].map((id) => loadersFor().load(id)))
        return { three }
      })
    })
    const [ada, bob] = await Promise.all([
      send(served.origin + '/item', as('ada')),
      send(served.origin + '/item', as('bob')),
    ])
    expect(JSON.parse(ada.body)).toEqual({ three: ['ada:1', 'ada:1', 'ada:1'] })
    expect(JSON.parse(bob.body)).toEqual({ three: ['bob:1', 'bob:1', 'bob:1'] })
    // One batch per request (three loads of one id are one call), each its own user's.
    expect(batches.map((b) => b.user).sort()).toEqual(['ada', 'bob'])
    expect(batches.every((b) => b.keys.length === 1)).toBe(true)
  })

  it("concurrent users never share a cached({ scope: 'user' }) entry", async () => {
    let calls = 0
    const profile = cached(
      async (key: string) => {
        calls++
        await sleep(50)
        return `${currentRequest()!.user}:${key}`
      },
      { store: memoryCacheStore({ maxEntries: 100 }), ttl: 60_000, scope: 'user' },
    )
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin)
      app.get('/profile', async (request) => {
        // After an auth gate: the request names its user.
        request.fanout.actAs(request.headers['x-user'] as string)
        return { profile: await profile('me') }
      })
    })
    const get = async (name: string) =>
      JSON.parse((await send(served.origin + '/profile', as(name))).body) as { profile: string }
    const [ada, bob] = await Promise.all([get('ada'), get('bob')])
    expect(ada.profile).toBe('ada:me')
    expect(bob.profile).toBe('bob:me')
    expect(calls).toBe(2)
    // Each user's entry serves that user again, from the cache.
    expect(await get('bob')).toEqual({ profile: 'bob:me' })
    expect(await get('ada')).toEqual({ profile: 'ada:me' })
    expect(calls).toBe(2)
  })
})

describe('fanout/fastify: encapsulation', () => {
  it('sibling contexts each with their own plugin are independent; a third has none', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const served = await listen(async (app) => {
      await app.register(async (a) => {
        await a.register(fanoutPlugin, { budget: 1_000 })
        a.get('/a', (request) => {
          request.fanout.waitUntil(() => held)
          return { budget: Math.round(request.fanout.deadlineAt - request.fanout.startedAt) }
        })
      })
      await app.register(async (b) => {
        await b.register(fanoutPlugin, { budget: 2_000 })
        b.get('/b', (request) => ({
          budget: Math.round(request.fanout.deadlineAt - request.fanout.startedAt),
        }))
      })
      await app.register(async (c) => {
        c.get('/c', (request) => ({
          // Not decorated here at all (undefined, whatever the type says).
          fanout: (request.fanout as unknown) === undefined,
          ambient: currentRequest() !== undefined,
          decorated: c.hasDecorator('fanout'),
        }))
      })
    })
    expect(JSON.parse((await send(served.origin + '/a')).body)).toEqual({ budget: 1_000 })
    expect(JSON.parse((await send(served.origin + '/b')).body)).toEqual({ budget: 2_000 })
    expect(JSON.parse((await send(served.origin + '/c')).body)).toEqual({
      fanout: true,
      ambient: false,
      decorated: false,
    })
    expect(served.app.hasDecorator('fanout')).toBe(false)
    release()
  })

  it('each sibling drains its own post-response work', async () => {
    const pending: Record<string, () => number> = {}
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const served = await listen(async (app) => {
      for (const name of ['a', 'b'])
        await app.register(async (child) => {
          await child.register(fanoutPlugin)
          pending[name] = () => child.fanout.pending
          child.get(`/${name}`, (request) => {
            request.fanout.waitUntil(() => held)
            return { ok: true }
          })
        })
    })
    await send(served.origin + '/a')
    await sleep(20)
    expect([pending.a!(), pending.b!()]).toEqual([1, 0])
    release()
    await held
    await sleep(0)
    expect([pending.a!(), pending.b!()]).toEqual([0, 0])
  })

  it('registered twice in one context, or again in a child, it says so', async () => {
    for (const setup of [
      async (app: import('fastify').FastifyInstance) => {
        await app.register(fanoutPlugin)
        await app.register(fanoutPlugin)
      },
      async (app: import('fastify').FastifyInstance) => {
        await app.register(fanoutPlugin)
        await app.register(async (child) => {
          await child.register(fanoutPlugin)
        })
      },
    ])
      await expect(listen(setup)).rejects.toThrow(/fanoutPlugin: already registered/)
  })
})

/**
 * The plugin's life around requests: `fastify.close()` waits for post-response work (bounded by
 * `drainTimeout`), 200 concurrent requests leave no listener, timer or pending work behind, and
 * bad options fail when Fastify loads the plugin, with errors that name it.
 */
import { getEventListeners } from 'node:events'
import { Agent } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { requestScoped } from '../../src/batch/request-scoped.js'
import { isFanoutError } from '../../src/core/errors.js'
import { currentRequest } from '../../src/core/request-context.js'
import { flow } from '../../src/flow/define.js'
import { createHttpClient } from '../../src/http/index.js'
import { fanoutPlugin, type FanoutFastifyOptions } from '../../src/fastify/index.js'
import { closeAll, serve, waitFor, type Upstream } from '../helpers/upstream.js'
import { closeServers, listen, resources, send, settle, sleep } from './helpers.js'

let upstream: Upstream

beforeAll(async () => {
  upstream = await serve((_req, res) => {
    setTimeout(() => res.end('{"ok":true}'), 5)
  })
})
afterEach(closeServers)
afterAll(closeAll)

describe('fanout/fastify: closing the server', () => {
  it('close() waits for post-response work still running', async () => {
    let finished = false
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin)
      app.get('/save', (request) => {
        request.fanout.waitUntil(async () => {
          await sleep(200)
          finished = true
        })
        return { ok: true }
      })
    })
    await send(served.origin + '/save')
    expect(served.app.fanout.pending).toBe(1)
    await served.close()
    expect(finished).toBe(true)
  })

  it('close() stops waiting after drainTimeout, and the work is told to stop', async () => {
    let reason: unknown
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin, { drainTimeout: 100 })
      app.get('/save', (request) => {
        request.fanout.waitUntil(
          () =>
            new Promise<void>((resolve) => {
              const signal = currentRequest()!.signal
              signal.addEventListener('abort', () => {
                reason = signal.reason
                resolve()
              })
            }),
        )
        return { ok: true }
      })
    })
    await send(served.origin + '/save')
    const started = performance.now()
    await served.close()
    const took = performance.now() - started
    expect(took).toBeGreaterThanOrEqual(90)
    expect(took).toBeLessThan(5_000)
    expect(isFanoutError(reason, 'FANOUT_ABORTED')).toBe(true)
  })
})

describe('fanout/fastify: 200 concurrent requests', () => {
  it('leave no listener, no timer and no pending work', async () => {
    const http = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
    const loadersFor = requestScoped(() => ({ seen: 0 }))
    const page = flow<{ url: string }>('page')
      .task(
        'a',
        async (_, { input, signal }) =>
          (await http.json<{ ok: boolean }>(input.url, { signal })).ok,
      )
      .task(
        'b',
        async (_, { input, signal }) =>
          (await http.json<{ ok: boolean }>(input.url, { signal })).ok,
      )
    const signals: AbortSignal[] = []
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin, { budget: 5_000 })
      app.get('/page', async (request) => {
        signals.push(request.fanout.signal)
        loadersFor().seen++
        request.fanout.waitUntil(() => sleep(5))
        return page.run({ url: upstream.url('/d') })
      })
    })
    await settle()
    const before = resources()
    const agent = new Agent({ connections: 200 })
    const answers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await fetch(served.origin + '/page', { dispatcher: agent } as RequestInit)
        return res.status
      }),
    )
    expect(answers.every((status) => status === 200)).toBe(true)
    await agent.close()
    await http.close()
    await waitFor(() => served.app.fanout.pending === 0, 'post-response work')
    // Sockets close on both sides a moment after the clients do; a timer of before may be gone.
    const extra = (): string[] =>
      Object.entries(resources())
        .filter(([kind, n]) => n > (before[kind] ?? 0))
        .map(([kind, n]) => `${kind}: ${n - (before[kind] ?? 0)}`)
    await waitFor(() => extra().length === 0, 'resources to come back', 5_000).catch(() => {})
    await settle()
    expect(extra()).toEqual([])
    expect(signals).toHaveLength(200)
    expect(signals.filter((s) => s.aborted || getEventListeners(s, 'abort').length > 0)).toEqual([])
  }, 60_000)
})

describe('fanout/fastify: options', () => {
  const bad: [FanoutFastifyOptions | unknown, RegExp][] = [
    [{ budget: -1 }, /^fanoutPlugin: `budget` must be within/],
    [{ budgt: 100 }, /^fanoutPlugin: unknown option `budgt`\. Did you mean `budget`\?/],
    [{ user: 'ada' }, /^fanoutPlugin: `user` must be/],
    [{ drainTimeout: '10s' }, /^fanoutPlugin: `drainTimeout` must be a number/],
    [{ deadlineHeaders: ['Grpc-Timeout'] }, /^fanoutPlugin: `deadlineHeaders` must be/],
    [{ budget: 5_000, maxBudget: 1_000 }, /^fanoutPlugin: `budget` \(5000 ms\) is longer/],
  ]
  for (const [options, message] of bad)
    it(`rejects ${JSON.stringify(options)} when Fastify loads the plugin`, async () => {
      const error = await listen(async (app) => {
        await app.register(fanoutPlugin, options as FanoutFastifyOptions)
      }).catch((e: unknown) => e)
      expect(isFanoutError(error, 'FANOUT_INVALID_OPTION')).toBe(true)
      expect((error as Error).message).toMatch(message)
    })

  it("ignores Fastify's own register() options", async () => {
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin, { prefix: '/x', logLevel: 'warn' } as FanoutFastifyOptions)
      app.get('/ok', (request) => ({ ok: request.fanout !== null }))
    })
    expect(JSON.parse((await send(served.origin + '/ok')).body)).toEqual({ ok: true })
  })

  it('a user() that throws or names no one fails the request, not the server', async () => {
    const served = await listen(async (app) => {
      await app.register(fanoutPlugin, {
        user: (request) => {
          if (request.headers['x-user'] === 'throw') throw new Error('bad session')
          return request.headers['x-user'] === 'empty' ? '' : 'ada'
        },
      })
      app.get('/me', (request) => ({ user: request.fanout.user }))
    })
    const as = (name: string) => send(served.origin + '/me', { headers: { 'x-user': name } })
    expect((await as('throw')).status).toBe(500)
    const empty = await as('empty')
    expect(empty.status).toBe(500)
    expect(JSON.parse(empty.body).message).toMatch(/`user` option must return a non-empty string/)
    expect(JSON.parse((await as('fine')).body)).toEqual({ user: 'ada' })
  })
})

/**
 * The HTTP client's cache (RFC 9111) kept in Redis: two clients — two processes as far as Redis
 * can tell, each with its own connection — share fresh entries and revalidations, and a private
 * answer never reaches the shared store.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/policies/index.js'
import { createHttpClient } from '../../src/http/index.js'
import { redisCacheStore } from '../../src/redis/index.js'
import { connect, redisUp, removeKeys, testPrefix, type TestRedis } from '../helpers/redis.js'

describe.runIf(redisUp)('HTTP caching in a Redis store shared by two clients', () => {
  const prefix = testPrefix()
  let a: TestRedis
  let b: TestRedis
  let server: Server
  let base = ''
  const hits: Record<string, number> = {}
  beforeAll(async () => {
    a = await connect('node-redis')
    b = await connect('ioredis')
    server = createServer((req, res) => {
      hits[req.url!] = (hits[req.url!] ?? 0) + 1
      if (req.url === '/me')
        return void res.writeHead(200, { 'cache-control': 'private, max-age=60' }).end('mine')
      if (req.headers['if-none-match'] === '"v1"')
        return void res.writeHead(304, { 'cache-control': 'max-age=60' }).end()
      res.writeHead(200, { 'cache-control': 'max-age=0', etag: '"v1"' }).end('shared')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await removeKeys(a, prefix)
    await Promise.all([a.close(), b.close()])
  })

  // Entries carry times of the writer's clock: processes sharing a store share the wall clock.
  const wallClock = { ...systemClock, now: Date.now }
  const clientOn = (redis: TestRedis) =>
    createHttpClient({
      ssrf: { allow: ['loopback'] },
      clock: wallClock,
      cache: { store: redisCacheStore({ redis: redis.connection, prefix }) },
    })

  it('one client stores, the other revalidates it with a 304 and both then hit', async () => {
    const first = clientOn(a)
    const second = clientOn(b)
    try {
      const r1 = await first.get(`${base}/item`)
      expect([r1.cache, await r1.text()]).toEqual(['miss', 'shared'])
      const r2 = await second.get(`${base}/item`)
      expect([r2.cache, await r2.text()]).toEqual(['revalidated', 'shared'])
      const r3 = await first.get(`${base}/item`)
      expect([r3.cache, await r3.text()]).toEqual(['hit', 'shared'])
      expect(hits['/item']).toBe(2)
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })

  it('a private answer is never stored in the shared store', async () => {
    const first = clientOn(a)
    const second = clientOn(b)
    try {
      expect((await first.get(`${base}/me`)).cache).toBe('miss')
      expect((await second.get(`${base}/me`)).cache).toBe('miss')
      expect(hits['/me']).toBe(2)
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })
})

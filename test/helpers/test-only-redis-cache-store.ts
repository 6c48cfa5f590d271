/**
 * TEST ONLY: a minimal CacheStore over Redis (JSON under one key, `SET … PX ttl`), standing in
 * for `redisCacheStore()` in the single-flight suites until that store exists; replace it then.
 * It has none of a real store's guarantees: no compare-by-`storedAt` on write, no guard (the
 * `storeTimeout` of `cached()` bounds each call), no key validation.
 */
import type { CacheEntry, CacheStore } from '../../src/cache/index.js'
import { defineScript, type RedisConnection } from '../../src/redis/index.js'

const GET = defineScript('test-cache-get', "return redis.call('GET', KEYS[1])")
const SET = defineScript(
  'test-cache-set',
  "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1",
)
const DEL = defineScript('test-cache-del', "return redis.call('DEL', KEYS[1])")

export function testOnlyRedisCacheStore(redis: RedisConnection, prefix: string): CacheStore {
  const at = (key: string): string => `${prefix}:cache:${key}`
  return {
    async get(key) {
      const raw = await redis.evalScript(GET, [at(key)], [])
      return typeof raw === 'string' ? (JSON.parse(raw) as CacheEntry) : undefined
    },
    async set(key, entry, ttlMs) {
      const px = Math.max(1, Math.min(Math.ceil(ttlMs), 2 ** 31))
      await redis.evalScript(SET, [at(key)], [JSON.stringify(entry), px])
    },
    async delete(key) {
      await redis.evalScript(DEL, [at(key)], [])
    },
  }
}

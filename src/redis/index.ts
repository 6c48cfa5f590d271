/**
 * `fanout/redis`: limits, caches and single-flight that hold across every process of a service,
 * on the Redis the service already runs. Bring your client: `fromNodeRedis(client)` (node-redis
 * 5 or 6, recommended) or `fromIoredis(client)` (ioredis 5.4+ or 6); this subpath imports neither.
 */
export type { RedisArgument, RedisConnection, RedisScript } from './connection.js'
export { fromNodeRedis, type NodeRedisClient, type NodeRedisSubscriber } from './node-redis.js'
export { fromIoredis, type IoredisClient, type IoredisSubscriber } from './ioredis.js'
export { defineScript } from './script.js'
export type { OnStoreError, StoreBreakerOptions } from './guard.js'
export type { RedisStoreOptions } from './store-options.js'
export {
  redisCacheStore,
  type RedisCacheStore,
  type RedisCacheStoreOptions,
} from './cache-store.js'
export {
  redisInvalidation,
  type RedisInvalidation,
  type RedisInvalidationOptions,
} from './invalidation.js'
export {
  redisConcurrencyStore,
  type RedisConcurrencyStore,
  type RedisConcurrencyStoreOptions,
} from './concurrency-store.js'
export { redisFlight, type RedisFlight, type RedisFlightOptions } from './flight.js'
export {
  redisRateLimitStore,
  type RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
} from './rate-limit-store.js'

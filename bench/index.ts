/**
 * The benchmark registry: one line per benchmark, each export a `Benchmark`. `npm run bench` runs
 * them in alphabetical order of these export names.
 */
export { adapters } from './adapters.js'
export { backoff } from './backoff.js'
export { budget } from './budget.js'
export { dag } from './dag.js'
export { dagLimited } from './dag-limited.js'
export { hedging } from './hedging.js'
export { http } from './http.js'
export { httpCache } from './http-cache.js'
export { limiter } from './limiter.js'
export { lint } from './lint.js'
export { loader } from './loader.js'
export { otel } from './otel.js'
export { queue } from './queue.js'
export { redis } from './redis.js'

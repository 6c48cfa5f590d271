/**
 * One process of the multi-process cases (E7, E8): `calls` calls spread over `spreadMs`, each
 * through one `rateLimit({ rate: 50, per: 1000, burst: 10 })` on the shared Redis store, to the
 * parent's loopback upstream. Its limiter's clock may be skewed (`skewMs`); Redis's is not.
 * Replies with how many calls went through, were refused by the limit, or by the store.
 */
import { execute, rateLimit, RateLimitExceededError, type Clock } from '../../../src/index.js'
import { StoreUnavailableError } from '../../../src/core/errors.js'
import { systemClock } from '../../../src/core/clock.js'
import { redisRateLimitStore } from '../../../src/redis/index.js'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { reply, workerInput } from '../../helpers/fork.js'
import { connect, type ClientKind } from '../../helpers/redis.js'

export interface WorkerInput {
  readonly kind: ClientKind
  readonly prefix: string
  readonly name: string
  readonly url: string
  readonly calls: number
  readonly spreadMs: number
  readonly skewMs: number
  /** Workers in the run: each starts once all have counted themselves in under `${prefix}:ready`. */
  readonly parties: number
}

export interface WorkerResult {
  readonly admitted: number
  readonly limited: number
  readonly unavailable: number
  /** Wall-clock times (ms since the epoch) at which this process learnt of each granted turn. */
  readonly turns: readonly number[]
  /** The longest this process's event loop was held up (a reply waits that long to be read). */
  readonly lagMs: number
}

const input = workerInput<WorkerInput>()
const redis = await connect(input.kind)
const store = redisRateLimitStore({
  redis: redis.connection,
  prefix: input.prefix,
  name: input.name,
  // Under this machine's load a reply can be late; a late answer must not look like a limit.
  timeout: 2_000,
  onStoreError: 'fail-closed',
})
const turns: number[] = []
const limiter = rateLimit({
  rate: 50,
  per: 1_000,
  burst: 10,
  maxWait: 0,
  store: {
    reserve: async (key, request) => {
      const result = await store.reserve(key, request)
      if (result.ok) turns.push(performance.timeOrigin + performance.now() + result.waitMs)
      return result
    },
    cancel: (key, ticket, now) => store.cancel(key, ticket, now),
  },
})
const clock: Clock = { ...systemClock, now: () => systemClock.now() + input.skewMs }
const call = limiter.wrap(async () => {
  const sent = performance.timeOrigin + performance.now()
  const response = await fetch(input.url, { headers: { 'x-sent': String(sent) } })
  await response.text()
})

// Start together (starting a process takes seconds on a busy machine).
const ready = `${input.prefix}:ready:${input.name}`
await redis.command(['INCR', ready])
while (Number(await redis.command(['GET', ready])) < input.parties)
  await new Promise((resolve) => setTimeout(resolve, 5))
const lag = monitorEventLoopDelay({ resolution: 5 })
lag.enable()
let admitted = 0
let limited = 0
let unavailable = 0
const pending: Promise<void>[] = []
const gap = input.spreadMs / input.calls
for (let i = 0; i < input.calls; i++) {
  pending.push(
    execute(call, { clock }).then(
      () => void admitted++,
      (error: unknown) => {
        if (error instanceof RateLimitExceededError) limited++
        else if (error instanceof StoreUnavailableError) unavailable++
        else throw error
      },
    ),
  )
  await new Promise((resolve) => setTimeout(resolve, gap))
}
await Promise.all(pending)
lag.disable()
await redis.close()
reply({ admitted, limited, unavailable, turns, lagMs: lag.max / 1e6 } satisfies WorkerResult)

/**
 * One process of the cross-process single-flight cases: a `cached()` over Redis (store and
 * flight), `callers` concurrent calls of one key once every process is ready. The loader counts
 * its calls in Redis (INCR), so the count holds across processes; in `kill` mode the first call
 * names its process and hangs, for the parent to SIGKILL.
 */
import { cached } from '../../src/cache/cached.js'
import { systemClock } from '../../src/core/clock.js'
import { redisCacheStore, redisFlight } from '../../src/redis/index.js'
import { reply, workerInput } from '../helpers/fork.js'
import { connect } from '../helpers/redis.js'
import {
  CACHE,
  type WorkerInput,
  type WorkerResult,
  type CallOutcome,
} from './single-flight-shared.js'

const input = workerInput<WorkerInput>()
const redis = await connect(input.kind, { port: input.port })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const fallbacks: string[] = []
const load = async (key: string): Promise<string> => {
  const n = Number(await redis.command(['INCR', `${input.prefix}:loads`]))
  if (input.mode === 'kill' && n === 1) {
    await redis.command(['SET', `${input.prefix}:holder`, process.pid])
    await new Promise(() => {}) // until the parent kills this process
  }
  await sleep(input.loaderMs)
  return `${key}:v${n}`
}

const users = cached(load, {
  ...CACHE,
  scope: 'shared',
  store: redisCacheStore({ redis: redis.connection, prefix: input.prefix }),
  flight: redisFlight({
    redis: redis.connection,
    prefix: input.prefix,
    name: 'sf',
    // Generous: two cores run three workers and the suite; a timeout here would be a fallback.
    timeout: 2000,
    onEvent: (event) => {
      if (event.type === 'store.failed') fallbacks.push(JSON.stringify(event))
    },
  }),
  flightLease: input.lease,
  storeTimeout: 2000,
  // Entries are judged across processes: one wall-clock time scale.
  clock: { ...systemClock, now: Date.now },
})

// Every process starts its calls at once.
await redis.command(['INCR', `${input.prefix}:ready`])
while (Number(await redis.command(['GET', `${input.prefix}:ready`])) < input.workers) await sleep(5)

const outcomes = await Promise.all(
  Array.from({ length: input.callers }, async (): Promise<CallOutcome> => {
    const controller = new AbortController()
    const deadline = setTimeout(
      () => controller.abort(new Error('deadline passed')),
      input.deadlineMs,
    )
    try {
      const { value, status } = await users.entry('k', { signal: controller.signal })
      return { ok: true, value, status }
    } catch (error) {
      return { ok: false, error: String(error) }
    } finally {
      clearTimeout(deadline)
    }
  }),
)
await sleep(input.lingerMs)
reply({ pid: process.pid, outcomes, fallbacks } satisfies WorkerResult)

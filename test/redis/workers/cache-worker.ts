/**
 * A second process for the shared-cache cases: one `cached()` on `redisCacheStore()`, asked for a
 * few keys; replies with how each was served and how often its own `fn` ran.
 */
import { systemClock } from '../../../src/core/clock.js'
import { cached } from '../../../src/cache/cached.js'
import { redisCacheStore } from '../../../src/redis/index.js'
import { connect, type ClientKind } from '../../helpers/redis.js'
import { reply, workerInput } from '../../helpers/fork.js'

interface Input {
  readonly kind: ClientKind
  readonly prefix: string
  readonly asks: readonly { readonly user: string; readonly id: number }[]
}

const input = workerInput<Input>()
const redis = await connect(input.kind)
const calls: string[] = []
const cache = cached(
  (k: { user: string; id: number }) => {
    calls.push(`${k.user}/${k.id}`)
    return { from: 'worker', user: k.user, id: k.id }
  },
  {
    store: redisCacheStore({ redis: redis.connection, prefix: input.prefix }),
    ttl: 60_000,
    name: 'profiles',
    scope: (k) => k.user,
    key: (k) => [k.id],
    clock: { ...systemClock, now: Date.now },
  },
)
const answers = []
for (const ask of input.asks) answers.push(await cache.entry(ask))
await redis.close()
reply({ answers, calls })

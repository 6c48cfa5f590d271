/**
 * A process sharing a `redisConcurrencyStore()` limit with others (the multi-process cases of
 * concurrency-store.test.ts). Modes:
 * - `load`: runs `calls` calls at once through `limit({ concurrency, perKey, store })` against the
 *   upstream, then replies how many succeeded;
 * - `hold`: starts `concurrency` calls that never end, sends 'holding' and stays alive (until killed);
 * - `wait`: runs one call behind a permit another process holds, sends 'refused' once the store
 *   first refused it, then replies whether it ran before its deadline.
 */
import { limit } from '../../../src/index.js'
import type { ConcurrencyStore } from '../../../src/policies/index.js'
import { redisConcurrencyStore } from '../../../src/redis/index.js'
import { reply, workerInput } from '../../helpers/fork.js'
import { connect, type ClientKind } from '../../helpers/redis.js'

export interface SemaphoreInput {
  readonly mode: 'load' | 'hold' | 'wait'
  readonly kind: ClientKind
  readonly port: number
  readonly prefix: string
  readonly name: string
  readonly concurrency: number
  readonly perKey?: number
  readonly calls?: number
  readonly url?: string
  readonly leaseMs?: number
  readonly storePollMs?: number
  readonly deadline?: number
}

export interface SemaphoreReply {
  readonly ok: number
  readonly failed: readonly string[]
}

const input = workerInput<SemaphoreInput>()
const redis = await connect(input.kind, { port: input.port })
// A generous store timeout: these cases are about the limit, on a machine that may be busy.
const store = redisConcurrencyStore({
  redis: redis.connection,
  prefix: input.prefix,
  name: 'sem',
  timeout: 5_000,
})

if (input.mode === 'load') {
  const keys = ['a', 'b', 'c']
  const limiter = limit({
    concurrency: input.concurrency,
    ...(input.perKey === undefined ? {} : { perKey: input.perKey, key: () => 'a' }),
    store,
    name: input.name,
    storePollMs: input.storePollMs ?? 50,
    leaseMs: input.leaseMs ?? 5_000,
  })
  const results = await Promise.allSettled(
    Array.from({ length: input.calls! }, (_, i) => {
      const key = keys[i % keys.length]!
      return limiter.run(() => fetch(`${input.url}/${key}`).then((r) => r.text()), {
        key,
        deadline: 30_000,
      })
    }),
  )
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []))
  await store.close()
  await redis.close()
  reply({ ok: results.length - failed.length, failed } satisfies SemaphoreReply)
} else if (input.mode === 'hold') {
  const limiter = limit({
    concurrency: input.concurrency,
    store,
    name: input.name,
    leaseMs: input.leaseMs ?? 5_000,
  })
  let started = 0
  for (let i = 0; i < input.concurrency; i++)
    void limiter.run(
      () =>
        new Promise<void>(() => {
          if (++started === input.concurrency) process.send!('holding')
        }),
    )
} else {
  // Subscribed before the first wait, so no release can slip by while the subscription opens.
  await redis.connection.subscribe(`${input.prefix}:sem:{sem}:released`, () => {})
  let refused = false
  const reporting: ConcurrencyStore = {
    acquire: async (request) => {
      const grant = await store.acquire(request)
      if (!grant.ok && !refused) {
        refused = true
        process.send!('refused')
      }
      return grant
    },
    renew: (...args) => store.renew(...args),
    release: (...args) => store.release(...args),
    watch: (key, listener) => store.watch(key, listener),
  }
  const limiter = limit({
    concurrency: input.concurrency,
    store: reporting,
    name: input.name,
    leaseMs: input.leaseMs ?? 30_000,
    storePollMs: input.storePollMs ?? 5_000,
  })
  const failed: string[] = []
  await limiter
    .run(() => 'ran', { deadline: input.deadline ?? 2_000 })
    .catch((error: unknown) => {
      failed.push(String(error))
    })
  await store.close()
  await redis.close()
  reply({ ok: failed.length === 0 ? 1 : 0, failed } satisfies SemaphoreReply)
}

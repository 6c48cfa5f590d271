/**
 * The two-users fixture of the adapters' isolation tests: a `requestScoped()` loader set and a
 * `cached(…, { scope: 'user' })` function, each recording which user it worked for, and a barrier
 * that proves two requests were in flight together.
 */
import { Loader } from '../../src/batch/loader.js'
import { requestScoped } from '../../src/batch/request-scoped.js'
import { cached } from '../../src/cache/cached.js'
import { memoryCacheStore } from '../../src/cache/memory-store.js'
import { currentRequest } from '../../src/core/request-context.js'

/** Resolves once `count` callers are waiting on it: proof they were in flight together. */
export function barrier(count: number): () => Promise<void> {
  let release: () => void = () => undefined
  const all = new Promise<void>((resolve) => (release = resolve))
  let arrived = 0
  return () => {
    if (++arrived === count) release()
    return all
  }
}

export interface Profile {
  readonly key: string
  readonly loadedFor: string | undefined
}

export function userFixtures() {
  /** Each loader batch, with the user of the request that made the loader. */
  const batches: { user: string | undefined; keys: string[] }[] = []
  /** The user of each cache miss of `preferences`. */
  const fetches: (string | undefined)[] = []
  const loadersFor = requestScoped(() => {
    // Made once per request, inside it: the user it was made for is the one it serves.
    const user = currentRequest()?.user
    return {
      profile: new Loader<string, Profile>((keys) => {
        batches.push({ user, keys: [...keys] })
        return new Map(keys.map((key) => [key, { key, loadedFor: user }]))
      }),
    }
  })
  const preferences = cached(
    (key: string) => {
      const owner = currentRequest()?.user
      fetches.push(owner)
      return { key, owner }
    },
    { store: memoryCacheStore({ maxEntries: 100 }), ttl: 60_000, scope: 'user' },
  )
  return { batches, fetches, loadersFor, preferences }
}

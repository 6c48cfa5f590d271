/**
 * Helpers for the HTTP cache's tests: a client with a cache on a hand-driven clock, a store that
 * keeps entries as JSON text (as a networked store would), and an upstream that answers from a
 * script.
 */
import type { ServerResponse } from 'node:http'
import { memoryCacheStore } from '../../src/cache/memory-store.js'
import type { CacheEntry, CacheStore } from '../../src/cache/store.js'
import type { TraceEvent } from '../../src/core/trace.js'
import {
  createHttpClient,
  type HttpCacheOptions,
  type HttpClient,
  type HttpClientOptions,
} from '../../src/http/index.js'
import { manualClock } from './clocks.js'
import { serve, type Seen, type Upstream } from './upstream.js'

export interface Reply {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string | readonly string[]>>
  readonly body?: string
  /** Reset the connection instead of answering. */
  readonly reset?: boolean
  /** Never answer (until the client gives up). */
  readonly hang?: boolean
}

/** An upstream whose `n`-th request (1-based) is answered by `script(seen, n)`. */
export async function scripted(
  script: (seen: Seen, n: number) => Reply,
): Promise<Upstream & { readonly calls: number }> {
  let calls = 0
  const up = await serve((_req, res: ServerResponse, seen) => {
    const reply = script(seen, ++calls)
    if (reply.reset === true) return void res.socket!.resetAndDestroy()
    if (reply.hang === true) return
    res.writeHead(reply.status ?? 200, reply.headers as Record<string, string | string[]>)
    res.end(reply.body ?? '')
  })
  return Object.defineProperty(up, 'calls', { get: () => calls }) as Upstream & {
    readonly calls: number
  }
}

/** A store that holds entries as JSON text, as Redis would, and records every key written. */
export function jsonStore(): CacheStore & {
  readonly keys: readonly string[]
  readonly texts: ReadonlyMap<string, string>
} {
  const texts = new Map<string, string>()
  const keys: string[] = []
  return {
    get: (key) => {
      const text = texts.get(key)
      return text === undefined ? undefined : (JSON.parse(text) as CacheEntry)
    },
    set: (key, entry) => {
      keys.push(key)
      texts.set(key, JSON.stringify(entry))
    },
    delete: (key) => void texts.delete(key),
    keys,
    texts,
  }
}

export interface CacheRig {
  readonly client: HttpClient
  readonly clock: ReturnType<typeof manualClock>
  readonly events: TraceEvent[]
  /** The types of the cache events so far (`cache.hit+revalidated` for a 304). */
  cacheEvents(): string[]
}

const clients: HttpClient[] = []

/** Closes the clients `rig()` made. */
export async function closeRigs(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()))
}

/** A client with a cache (a memory store unless given), no retries, on a manual clock. */
export function rig(
  cache: Partial<HttpCacheOptions> = {},
  options: HttpClientOptions = {},
): CacheRig {
  const clock = manualClock()
  const events: TraceEvent[] = []
  const client = createHttpClient({
    ssrf: { allow: ['loopback'] },
    retry: false,
    clock,
    onEvent: (e) => events.push(e),
    cache: { store: memoryCacheStore({ maxEntries: 100, clock }), ...cache },
    ...options,
  })
  clients.push(client)
  return {
    client,
    clock,
    events,
    cacheEvents: () =>
      events.flatMap((e) =>
        e.type === 'cache.hit' && e.revalidated === true
          ? ['cache.hit+revalidated']
          : e.type === 'cache.staleServed'
            ? [`${e.type}:${e.reason}`]
            : e.type.startsWith('cache.')
              ? [e.type]
              : [],
      ),
  }
}

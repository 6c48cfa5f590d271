/**
 * The HTTP client's cache (RFC 9111), one hop at a time: it sits between the client's redirect
 * loop and the limiter, so a hit takes no limiter slot and a redirect target is cached as itself.
 *
 * A GET is looked up under its URL (and its `Vary` selection); a fresh entry is served as is, a
 * stale one is revalidated with `If-None-Match` / `If-Modified-Since` through the request's own
 * path (its deadline, signal and context apply), or served at once while one background
 * revalidation runs (`stale-while-revalidate`), or served instead of a 5xx or a failed exchange
 * (`stale-if-error`). A non-error answer to an unsafe method deletes the target URI's entry and
 * those of its same-origin `Location` and `Content-Location` (§4.4).
 *
 * Store failures never fail a request: a get that fails is a miss, a set or delete that fails is
 * skipped. Writes are awaited, so a request that returned has its response stored.
 */
import type { Clock } from '../core/clock.js'
import type { Recorder } from '../core/trace.js'
import type { CacheStore } from '../cache/store.js'
import { MAX_CACHE_TTL } from '../cache/cached-options.js'
import {
  freshnessLifetime,
  initialAge,
  mayStore,
  requestDirectives,
  staleWindows,
  varyNames,
  type RequestDirectives,
} from './cache-control.js'
import {
  entryOf,
  headersToStore,
  mergeHeaders,
  primaryKey,
  readHttpEntry,
  sameSelection,
  selecting,
  variantKey,
  type HttpEntry,
  type StoredResponse,
} from './cache-entry.js'
import type { HttpCacheConfig } from './cache-types.js'
import type { HttpCacheStatus } from './cache-status.js'
import { HttpTimeoutError, NetworkError } from './errors.js'
import type { ExchangeResult } from './exchange.js'
import type { Hop } from './redirect.js'

/** One hop as the cache sees it. */
export interface CacheCall {
  readonly hop: Hop
  readonly task: string
  readonly trace: Recorder
  /** `client.stream()`: a streamed GET bypasses the cache (an unsafe method still invalidates). */
  readonly stream: boolean
  /** Sends a hop on the request's own path (limiter, deadline, signal). */
  send(hop: Hop): Promise<ExchangeResult>
  /** Sends a hop detached from the caller (a background revalidation), bounded by the phase limits. */
  background(hop: Hop): Promise<ExchangeResult>
}

/** A found entry: where it is stored, and the response it holds. */
interface Found {
  readonly primary: string
  readonly key: string | undefined
  readonly entry: (HttpEntry & { readonly value: StoredResponse }) | undefined
}

/** Background revalidations in flight at once; more stale hits wait for a later request. */
const MAX_REFRESHING = 1_000
/** A vary index outlives its variants: it is tiny, and losing it loses every variant. */
const INDEX_TTL = 24 * 60 * 60 * 1000
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export class HttpCache {
  readonly #store: CacheStore
  readonly #config: HttpCacheConfig
  readonly #clock: Clock
  readonly #refreshing = new Set<string>()

  constructor(config: HttpCacheConfig, clock: Clock) {
    this.#config = config
    this.#store = config.store
    this.#clock = clock
  }

  async exchange(call: CacheCall): Promise<ExchangeResult> {
    const hop = call.hop
    if (hop.method !== 'GET')
      return SAFE_METHODS.has(hop.method) ? call.send(hop) : this.#unsafe(call)
    // The caller's own conditional or range request is theirs to interpret.
    const h = hop.headers
    if (
      call.stream ||
      h['if-none-match'] !== undefined ||
      h['if-modified-since'] !== undefined ||
      h['range'] !== undefined
    )
      return call.send(hop)
    const directives = requestDirectives(h)
    const found = await this.#lookup(hop)
    const entry = found.entry
    const now = this.#clock.now()
    // An entry from the future (the clock went back, or another process's clock) is not trusted.
    if (entry === undefined || now < entry.storedAt) {
      this.#emit(call, 'cache.missed')
      return this.#fetch(call, found, hop, directives, 'miss')
    }
    const age = entry.value.initialAge + (now - entry.storedAt)
    const acceptable =
      !directives.noCache && (directives.maxAge === undefined || age <= directives.maxAge)
    if (acceptable && now < entry.freshUntil) {
      this.#emit(call, 'cache.hit')
      return served(entry.value, age, 'hit')
    }
    if (acceptable && now < entry.staleUntil) {
      this.#emit(call, 'cache.staleServed', 'revalidating')
      this.#refresh(call, found, directives)
      return served(entry.value, age, 'stale')
    }
    return this.#revalidate(call, found, directives)
  }

  /** A stale (or unacceptable) entry: a conditional request, or the stale copy if that fails and may. */
  async #revalidate(
    call: CacheCall,
    found: Found,
    directives: RequestDirectives,
  ): Promise<ExchangeResult> {
    const entry = found.entry!
    const sentAt = this.#clock.now()
    let result: ExchangeResult
    try {
      result = await call.send(conditional(call.hop, entry.value))
    } catch (error) {
      if (transient(error) && this.#clock.now() < entry.errorUntil)
        return this.#staleOnError(call, entry)
      throw error
    }
    if (result.status >= 500 && this.#clock.now() < entry.errorUntil)
      return this.#staleOnError(call, entry)
    return this.#settle(call, found, directives, result, sentAt)
  }

  /** What a revalidation's answer does: a 304 refreshes the entry, anything else is a new response. */
  async #settle(
    call: CacheCall,
    found: Found,
    directives: RequestDirectives,
    result: ExchangeResult,
    sentAt: number,
  ): Promise<ExchangeResult> {
    const entry = found.entry!
    if (result.status !== 304 || !hasValidator(entry.value.headers)) {
      const stored = await this.#keep(call, found, call.hop, directives, result, sentAt)
      return { ...result, cache: stored ?? 'miss' }
    }
    const merged: ExchangeResult = {
      status: entry.value.status,
      headers: mergeHeaders(entry.value.headers, result.headers),
      body: Buffer.from(entry.value.body, 'base64'),
    }
    const fresh = await this.#keep(call, found, call.hop, directives, merged, sentAt, result)
    if (call.trace.enabled)
      call.trace.emit({
        type: 'cache.hit',
        task: call.task,
        at: this.#clock.now(),
        cache: this.#config.name,
        revalidated: true,
      })
    const age = initialAge(result.headers, this.#clock.now() - sentAt)
    return { ...merged, headers: withAge(merged.headers, age), cache: fresh ?? 'revalidated' }
  }

  #staleOnError(call: CacheCall, entry: HttpEntry & { value: StoredResponse }): ExchangeResult {
    this.#emit(call, 'cache.staleServed', 'error')
    const age = entry.value.initialAge + (this.#clock.now() - entry.storedAt)
    return served(entry.value, age, 'stale')
  }

  /** A plain fetch for a miss; its answer stored when it may be. */
  async #fetch(
    call: CacheCall,
    found: Found,
    hop: Hop,
    directives: RequestDirectives,
    status: HttpCacheStatus,
  ): Promise<ExchangeResult> {
    const sentAt = this.#clock.now()
    const result = await call.send(hop)
    await this.#keep(call, found, hop, directives, result, sentAt)
    return { ...result, cache: status }
  }

  /** One background revalidation per entry at a time; its failures stay in the background. */
  #refresh(call: CacheCall, found: Found, directives: RequestDirectives): void {
    const key = found.key!
    if (this.#refreshing.has(key) || this.#refreshing.size >= MAX_REFRESHING) return
    this.#refreshing.add(key)
    const entry = found.entry!
    const sentAt = this.#clock.now()
    const background: CacheCall = { ...call, send: (hop) => call.background(hop) }
    call
      .background(conditional(call.hop, entry.value))
      .then((result) => this.#settle(background, found, directives, result, sentAt))
      .catch(() => undefined)
      .finally(() => this.#refreshing.delete(key))
  }

  /**
   * Stores `result` when it may be stored; otherwise deletes the entry it replaces, so a resource
   * that now says `no-store` is not served stale. `update`: the 304 whose age and timing count.
   * Resolves with 'revalidated' when a 304 was stored, undefined otherwise.
   */
  async #keep(
    call: CacheCall,
    found: Found,
    hop: Hop,
    directives: RequestDirectives,
    result: ExchangeResult,
    sentAt: number,
    update?: ExchangeResult,
  ): Promise<HttpCacheStatus | undefined> {
    const config = this.#config
    const shared = config.shared
    const headers = result.headers
    const authorized = hop.headers['authorization'] !== undefined
    const verdict = mayStore(
      result.status,
      headers,
      { authorized, noStore: directives.noStore },
      shared,
    )
    const now = this.#clock.now()
    const lifetime = freshnessLifetime(headers, shared, Date.now())
    const age = initialAge((update ?? result).headers, now - sentAt)
    const freshUntil = now + lifetime - age
    const windows = staleWindows(headers, shared)
    const staleUntil = freshUntil + windows.whileRevalidate
    const errorUntil = freshUntil + windows.ifError
    const keepUntil = Math.max(
      staleUntil,
      errorUntil,
      hasValidator(headers) ? freshUntil + config.keepStale : freshUntil,
    )
    const ttl = Math.min(keepUntil - now, MAX_CACHE_TTL)
    if (
      !verdict.store ||
      result.stream !== undefined ||
      result.body.length > config.maxBodyBytes ||
      !(ttl > 0)
    ) {
      if (found.key !== undefined) await this.#delete(found.key)
      return undefined
    }
    const names = varyNames(headers)
    const selection = names.length === 0 ? null : selecting(names, hop.headers)
    const value: StoredResponse = {
      kind: 'response',
      status: result.status,
      headers: headersToStore(headers),
      body: result.body.toString('base64'),
      initialAge: age,
      vary: selection,
    }
    const times = { storedAt: now, freshUntil, staleUntil, errorUntil }
    if (selection === null) await this.#set(found.primary, entryOf(value, times), ttl)
    else {
      const index = entryOf({ kind: 'vary', names }, { ...times, freshUntil: now + INDEX_TTL })
      await this.#set(found.primary, index, Math.max(ttl, INDEX_TTL))
      await this.#set(variantKey(found.primary, selection), entryOf(value, times), ttl)
    }
    if (call.trace.enabled)
      call.trace.emit({
        type: 'cache.stored',
        task: call.task,
        at: now,
        cache: config.name,
        kind: 'value',
        ttlMs: Math.max(0, freshUntil - now),
      })
    return update !== undefined ? 'revalidated' : undefined
  }

  /** An unsafe method: a non-error answer invalidates the target and its same-origin locations (§4.4). */
  async #unsafe(call: CacheCall): Promise<ExchangeResult> {
    const result = await call.send(call.hop)
    if (result.status >= 200 && result.status < 400) {
      const url = call.hop.url
      const targets = [url]
      for (const name of ['location', 'content-location']) {
        const raw = result.headers[name]
        if (raw === undefined) continue
        try {
          const other = new URL(raw, url)
          if (other.origin === url.origin) targets.push(other)
        } catch {
          // Not a URL: nothing to invalidate.
        }
      }
      for (const target of targets) await this.#delete(primaryKey(this.#config.name, target))
    }
    return result
  }

  async #lookup(hop: Hop): Promise<Found> {
    const primary = primaryKey(this.#config.name, hop.url)
    const none: Found = { primary, key: undefined, entry: undefined }
    const entry = await this.#get(primary)
    if (entry === undefined) return none
    if (entry.value.kind === 'response')
      return entry.value.vary === null
        ? { primary, key: primary, entry: entry as Found['entry'] }
        : none
    const selection = selecting(entry.value.names, hop.headers)
    const key = variantKey(primary, selection)
    const variant = await this.#get(key)
    if (
      variant === undefined ||
      variant.value.kind !== 'response' ||
      !sameSelection(variant.value.vary, selection)
    )
      return { primary, key: undefined, entry: undefined }
    return { primary, key, entry: variant as Found['entry'] }
  }

  async #get(key: string): Promise<HttpEntry | undefined> {
    try {
      return readHttpEntry(await this.#store.get(key))
    } catch {
      return undefined
    }
  }

  async #set(key: string, entry: HttpEntry, ttl: number): Promise<void> {
    try {
      await this.#store.set(key, entry, ttl)
    } catch {
      // Not stored: the next request fetches again.
    }
  }

  async #delete(key: string): Promise<void> {
    try {
      await this.#store.delete(key)
    } catch {
      // A store that cannot delete cannot serve either, in the common case (it is down).
    }
  }

  #emit(
    call: CacheCall,
    type: 'cache.hit' | 'cache.missed' | 'cache.staleServed',
    reason?: 'revalidating' | 'error',
  ): void {
    if (!call.trace.enabled) return
    const base = { task: call.task, at: this.#clock.now(), cache: this.#config.name }
    if (type === 'cache.staleServed') call.trace.emit({ type, ...base, reason: reason! })
    else call.trace.emit({ type, ...base })
  }
}

function hasValidator(headers: Readonly<Record<string, string>>): boolean {
  return headers['etag'] !== undefined || headers['last-modified'] !== undefined
}

/** The hop with the stored response's validators as preconditions (§4.3.1). */
function conditional(hop: Hop, stored: StoredResponse): Hop {
  const etag = stored.headers['etag']
  const modified = stored.headers['last-modified']
  if (etag === undefined && modified === undefined) return hop
  const headers = Object.assign(Object.create(null) as Record<string, string>, hop.headers)
  if (etag !== undefined) headers['if-none-match'] = etag
  if (modified !== undefined) headers['if-modified-since'] = modified
  return { ...hop, headers }
}

/** Failures a stale copy may stand in for: the upstream did not answer (never the caller's abort or deadline). */
function transient(error: unknown): boolean {
  return (
    error instanceof NetworkError ||
    (error instanceof HttpTimeoutError && error.code === 'FANOUT_TIMEOUT')
  )
}

function withAge(headers: Readonly<Record<string, string>>, ageMs: number): Record<string, string> {
  const out = Object.assign(Object.create(null) as Record<string, string>, headers)
  out['age'] = String(Math.floor(Math.max(0, ageMs) / 1000))
  return out
}

function served(value: StoredResponse, ageMs: number, cache: HttpCacheStatus): ExchangeResult {
  return {
    status: value.status,
    headers: withAge(value.headers, ageMs),
    body: Buffer.from(value.body, 'base64'),
    cache,
  }
}

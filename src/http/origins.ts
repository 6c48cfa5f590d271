/**
 * The client's connection pools. One undici `Pool` per origin in a map bounded by `maxOrigins`;
 * the least recently used is closed (gracefully: requests on it finish) when a new origin needs
 * room, so attacker-chosen host names cannot grow it (I16). undici's `Agent` is not used: it
 * refuses new origins past its `maxOrigins` instead of evicting, and keeps a pool per origin that
 * still has sockets open. Proxied origins share one `ProxyAgent` per proxy.
 */
import type { LookupFunction } from 'node:net'
import type { Pool, ProxyAgent, buildConnector } from 'undici'
import { undici } from './undici.js'
import type { ClientConfig } from './options.js'
import { connectOnClock } from './phase-timers.js'
import { proxyFor } from './proxy.js'
import type { SsrfVerdict } from './ssrf.js'
import { UNSET_SOCKET_OPTIONS } from './unset.js'

/** undici's (and Node's) default; a larger header block fails with ResponseTooLargeError (I15). */
export const MAX_HEADER_SIZE = 16 * 1024

export interface OriginState {
  /** Undefined when the origin is an IP literal (or a localhost name) the guard refuses, or is proxied. */
  readonly pool: Pool | undefined
  /** The proxy this origin's requests are tunnelled through. */
  readonly proxy: ProxyAgent | undefined
  readonly refused: SsrfVerdict | undefined
}

export class Origins {
  readonly #config: ClientConfig
  readonly #poolOptions: Pool.Options
  readonly #origins = new Map<string, OriginState>()
  /** One agent per proxy, shared by the origins it serves (undici keeps a pool per origin inside it). */
  readonly #proxies = new Map<string, ProxyAgent>()
  #recent: OriginState | undefined
  readonly #closing = new Set<Promise<void>>()
  /** Set by `close()`. */
  closed: Promise<void> | undefined

  constructor(config: ClientConfig, lookup: LookupFunction | undefined) {
    this.#config = config
    const connector = connectOnClock(
      undici.buildConnector({
        ...UNSET_SOCKET_OPTIONS,
        timeout: 0,
        ...(lookup !== undefined ? { lookup } : {}),
        ...(config.tls as buildConnector.BuildOptions | undefined),
      }),
      config.clock,
      config.connectTimeout,
    )
    this.#poolOptions = {
      connections: config.connections,
      connect: connector,
      // 0: off. The phase limits are ours, on the clock (exchange.ts).
      headersTimeout: 0,
      bodyTimeout: 0,
      maxHeaderSize: MAX_HEADER_SIZE,
      // The body limit is ours (counted after decoding); undici's, on raw bytes, stays off.
      maxResponseSize: -1,
    }
  }

  /** The origin's pool (or proxy, or refusal), most recently used last so the first is the one to evict. */
  of(url: URL): OriginState {
    const key = url.origin
    const known = this.#origins.get(key)
    if (known !== undefined) {
      if (known !== this.#recent) {
        this.#origins.delete(key)
        this.#origins.set(key, known)
        this.#recent = known
      }
      return known
    }
    const config = this.#config
    const refused = config.ssrf?.checkHostname(url.hostname)
    const via =
      refused === undefined && config.proxy !== undefined ? proxyFor(config.proxy, url) : undefined
    const state: OriginState = {
      pool:
        refused === undefined && via === undefined
          ? new undici.Pool(key, this.#poolOptions)
          : undefined,
      proxy: via === undefined ? undefined : this.#proxyAgent(via),
      refused,
    }
    if (this.#origins.size >= config.maxOrigins) {
      const [oldestKey, oldest] = this.#origins.entries().next().value as [string, OriginState]
      this.#origins.delete(oldestKey)
      if (oldest.pool !== undefined) this.#retire(oldest.pool)
    }
    this.#origins.set(key, state)
    this.#recent = state
    return state
  }

  #proxyAgent(proxy: URL): ProxyAgent {
    let agent = this.#proxies.get(proxy.href)
    if (agent === undefined) {
      const config = this.#config
      const tls = {
        ...UNSET_SOCKET_OPTIONS,
        ...(config.tls as buildConnector.BuildOptions | undefined),
        timeout: config.connectTimeout,
      }
      agent = new undici.ProxyAgent({
        uri: proxy.href,
        connections: config.connections,
        headersTimeout: 0,
        bodyTimeout: 0,
        maxHeaderSize: MAX_HEADER_SIZE,
        maxResponseSize: -1,
        // Tunnel every target, http: too, so the proxy relays bytes and never rewrites a request.
        proxyTunnel: true,
        requestTls: tls,
        proxyTls: tls,
      } as ProxyAgent.Options)
      this.#proxies.set(proxy.href, agent)
    }
    return agent
  }

  #retire(dispatcher: Pool | ProxyAgent): void {
    const done: Promise<void> = dispatcher.close().then(
      () => void this.#closing.delete(done),
      () => void this.#closing.delete(done),
    )
    this.#closing.add(done)
  }

  /** Closes every pool once its requests are done. Idempotent. */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed
    for (const state of this.#origins.values())
      if (state.pool !== undefined) this.#retire(state.pool)
    for (const agent of this.#proxies.values()) this.#retire(agent)
    this.#proxies.clear()
    this.#origins.clear()
    this.#recent = undefined
    this.closed = Promise.all([...this.#closing]).then(() => undefined)
    return this.closed
  }
}

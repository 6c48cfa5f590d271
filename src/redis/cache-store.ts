/**
 * `redisCacheStore(options)`: a `CacheStore` for `cached()` that every process of a service shares.
 *
 * - Entries are kept as JSON text under `<prefix>:cache:<name>:{<key>}` (the braces make the key
 *   its own Redis Cluster hash tag, so entries spread over the slots and a lock on the same key
 *   can share its slot) with `PX` = the `ttlMs` `cached()` asks for.
 * - Only values that survive JSON unchanged are stored: plain objects, arrays, strings, finite
 *   numbers, booleans and null. Anything else (a Map, a Date, a class instance, a response with
 *   `Headers`, NaN, an `undefined` property) is refused: `set` rejects with a `TypeError` naming
 *   where, emits `store.skipped` (`not-json`), and `cached()` serves the value unstored.
 * - A write is compare-by-`storedAt`, in one script: an entry older than the one Redis holds is
 *   not written. A slow refresher, a write delayed on the wire, or a late lock holder's write never
 *   replaces a newer entry. `storedAt` is the writer's clock: give every `cached()` a wall clock.
 * - A serialised entry over `maxEntryBytes` is not stored, and removes the entry it would have
 *   replaced (unless that one is newer), like `memoryCacheStore`'s `maxEntrySize`.
 * - When Redis is slow, partitioned or down, every operation ends within `timeout`; a read is a
 *   miss and a write is skipped (`onStoreError: 'miss'`, the default), with a `store.failed`
 *   event each time. A key that holds another type (another application under the prefix)
 *   rejects with `StoreError` whatever the policy (E12).
 */
import { Buffer } from 'node:buffer'
import { StoreUnavailableError, type StoreError } from '../core/errors.js'
import { own } from '../core/own.js'
import { checkNumber } from '../core/validate.js'
import { readEntry, type CacheEntry, type CacheStore } from '../cache/store.js'
import { jsonProblem } from './json-safe.js'
import { defineScript } from './script.js'
import {
  readOnStoreError,
  readStoreOptions,
  type RedisStoreOptions,
  type StoreSetup,
} from './store-options.js'

export interface RedisCacheStoreOptions extends RedisStoreOptions {
  /**
   * What a read or write does when Redis cannot answer in time, fails, or its breaker is open:
   * `'miss'` (default) reads a miss and skips the write; `'fail-closed'` rejects with
   * `StoreUnavailableError` (which `cached()` still treats as a miss). Both emit `store.failed`.
   * A `delete` that fails always rejects: an invalidation must not be dropped silently.
   */
  readonly onStoreError?: 'miss' | 'fail-closed'
  /**
   * The largest serialised entry stored, in bytes (UTF-8 JSON). A larger one is not stored, emits
   * `store.skipped` (`too-large`) and removes the entry it would replace. 1–536 870 912 (Redis's
   * string limit), default 1 048 576 (1 MiB).
   */
  readonly maxEntryBytes?: number
}

export interface RedisCacheStore extends CacheStore {
  get(key: string): Promise<CacheEntry | undefined>
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void>
  delete(key: string): Promise<void>
  /**
   * Like `set`, and says what happened: `true` when the entry was written, `false` when Redis
   * holds a newer one (by `storedAt`) and kept it, or when the write was skipped (too large, or
   * Redis unavailable under `'miss'`). A tiered store uses it to keep its L1 no newer than L2.
   */
  setIfNewer(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean>
  /** The Redis key an entry of `key` is kept under. */
  keyOf(key: string): string
}

export const DEFAULT_MAX_ENTRY_BYTES = 1_048_576
const MAX_ENTRY_BYTES = 536_870_912

const GET = defineScript('cache-get', "return redis.call('GET', KEYS[1])")

/**
 * ARGV: storedAt, entry JSON ('' = remove), PX. Only the head of the held entry is read
 * (GETRANGE): its `storedAt` is serialised first, so a 1 MB entry is never copied into Lua. A value
 * without that head (another layout) is replaced. Returns '1' written, '0' a newer one kept.
 */
const SET = defineScript(
  'cache-set',
  `local head = redis.call('GETRANGE', KEYS[1], 0, 63)
local held = tonumber(string.match(head, '^{"storedAt":([-+.%deE]+)[,}]'))
if held ~= nil and held > tonumber(ARGV[1]) then return '0' end
if ARGV[2] == '' then redis.call('UNLINK', KEYS[1]) return '0' end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return '1'`,
)

const DELETE = defineScript('cache-delete', "return tostring(redis.call('UNLINK', KEYS[1]))")

export function redisCacheStore(options: RedisCacheStoreOptions): RedisCacheStore {
  const where = 'redisCacheStore()'
  const opts = own(options) as Partial<Record<keyof RedisCacheStoreOptions, unknown>>
  const setup = readStoreOptions(where, opts, 'cache', ['onStoreError', 'maxEntryBytes'])
  const policy = readOnStoreError(where, opts.onStoreError, ['miss', 'fail-closed'], 'miss')
  const maxEntryBytes =
    opts.maxEntryBytes === undefined
      ? DEFAULT_MAX_ENTRY_BYTES
      : checkNumber(where, 'maxEntryBytes', opts.maxEntryBytes, {
          min: 1,
          max: MAX_ENTRY_BYTES,
          integer: true,
          unit: 'bytes',
        })
  return new RedisCache(setup, policy, maxEntryBytes)
}

class RedisCache implements RedisCacheStore {
  readonly #keyStart: string

  constructor(
    readonly setup: StoreSetup,
    readonly policy: 'miss' | 'fail-closed',
    readonly maxEntryBytes: number,
  ) {
    this.#keyStart = `${setup.prefix}:cache:${setup.name}:{`
  }

  keyOf(key: string): string {
    return `${this.#keyStart}${key}}`
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    let text: unknown
    try {
      text = await this.#run('get', [key], [])
    } catch (error) {
      return this.#fallback(error, undefined)
    }
    if (typeof text !== 'string') return undefined
    try {
      // A value another writer left in another layout is a miss; the next set replaces it.
      return readEntry(JSON.parse(text))
    } catch {
      return undefined
    }
  }

  async set(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    await this.setIfNewer(key, entry, ttlMs)
  }

  async setIfNewer(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    const checked = readEntry(entry)
    const problem =
      checked === undefined
        ? 'entry is not a cache entry of this version of fanout'
        : !Number.isFinite(checked.storedAt)
          ? `entry.storedAt is ${String(checked.storedAt)}`
          : checked.kind === 'value'
            ? jsonProblem(checked.value)
            : undefined
    if (problem !== undefined || checked === undefined) {
      this.#skipped('not-json')
      // Like a value too large: nothing older stands in for the one that could not be kept.
      if (checked !== undefined && Number.isFinite(checked.storedAt))
        await this.#run('set', [key], [String(checked.storedAt), '', 1]).catch((error: unknown) =>
          this.#fallback(error, undefined),
        )
      throw new TypeError(
        `Store "${this.setup.name}": cannot keep this entry in Redis: ${problem ?? 'not an entry'}. ` +
          'A shared cache stores JSON: cache plain data (e.g. the parsed body, not the response), or keep this cache in memory.',
      )
    }
    if (!(ttlMs > 0))
      throw new RangeError(
        `Store "${this.setup.name}": ttlMs must be a positive number of ms, got ${String(ttlMs)}.`,
      )
    let text = serialise(checked)
    const bytes = text.length * 3 <= this.maxEntryBytes ? text.length : byteLength(text)
    if (bytes > this.maxEntryBytes) {
      this.#skipped('too-large', bytes)
      // Nothing newer is kept, and nothing older stands in for it.
      text = ''
    }
    try {
      const reply = await this.#run(
        'set',
        [key],
        [String(checked.storedAt), text, Math.max(1, Math.ceil(ttlMs))],
      )
      return reply === '1' || reply === 1
    } catch (error) {
      return this.#fallback(error, false)
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#run('delete', [key], [])
    } catch (error) {
      if (error instanceof StoreUnavailableError)
        this.setup.guard.reportFallback(error, 'fail-closed')
      throw error
    }
  }

  #run(
    operation: 'get' | 'set' | 'delete',
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const script = operation === 'get' ? GET : operation === 'set' ? SET : DELETE
    const redisKeys = keys.map((k) => this.keyOf(k))
    return this.setup.guard.run(operation, () =>
      this.setup.redis.evalScript(script, redisKeys, args),
    )
  }

  /** The policy's answer to a failed read or write; `StoreError` always surfaces. */
  #fallback<T>(error: unknown, missed: T): T {
    if (!(error instanceof StoreUnavailableError)) throw error as StoreError
    if (this.policy === 'fail-closed') {
      this.setup.guard.reportFallback(error, 'fail-closed')
      throw error
    }
    this.setup.guard.reportFallback(error, 'miss')
    return missed
  }

  #skipped(reason: 'not-json' | 'too-large', bytes?: number): void {
    const { recorder, name, clock } = this.setup
    if (recorder.enabled)
      recorder.emit({
        type: 'store.skipped',
        task: name,
        at: clock.now(),
        store: name,
        operation: 'set',
        reason,
        ...(bytes === undefined ? {} : { bytes }),
      })
  }
}

/** JSON with `storedAt` first: the write script reads only the head to compare. */
function serialise(entry: CacheEntry): string {
  const times = {
    storedAt: entry.storedAt,
    format: entry.format,
    version: entry.version,
    freshUntil: entry.freshUntil,
    staleUntil: entry.staleUntil,
    errorUntil: entry.errorUntil,
  }
  return JSON.stringify(
    entry.kind === 'value'
      ? { ...times, kind: 'value', value: entry.value }
      : { ...times, kind: 'error', status: entry.status, code: entry.code },
  )
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

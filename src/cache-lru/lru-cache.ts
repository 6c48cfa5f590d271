/* eslint-disable @typescript-eslint/no-empty-object-type, @typescript-eslint/no-namespace -- mirrors lru-cache's own generic defaults and namespace so callers write types as with a static import */
/**
 * lru-cache, `fanout/cache/lru-cache`'s optional peer (10 or 11: the options and calls used are
 * the same in both), loaded so that a project without it gets a `MissingPeerError` naming the
 * install command rather than a bare module-not-found. Both majors ship a CommonJS build, so a
 * synchronous `require` does it and the subpath needs no top-level await. `createRequire` is why
 * this subpath needs `node:module` (Node, Deno, Bun), and why it is not part of `fanout/cache`.
 */
import { createRequire } from 'node:module'
import type * as LruCache from 'lru-cache'
import { requirePeer } from '../core/peer.js'

export const { LRUCache } = requirePeer<typeof LruCache>(createRequire(import.meta.url), {
  name: 'lru-cache',
  neededBy: 'fanout/cache/lru-cache',
  install: 'npm install lru-cache',
})
export type LRUCache<K extends {}, V extends {}, FC = unknown> = LruCache.LRUCache<K, V, FC>
// Mirrors lru-cache's own `LRUCache.Options` type, so callers write it as with a static import.
export declare namespace LRUCache {
  type Options<K extends {}, V extends {}, FC> = LruCache.LRUCache.Options<K, V, FC>
}

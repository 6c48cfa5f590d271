/** `lruCacheStore()` keeps the contract of `memoryCacheStore()`, on lru-cache. */
import { describeMemoryStore } from '../../test/helpers/memory-store-contract.js'
import { lruCacheStore } from './index.js'

describeMemoryStore('lruCacheStore()', lruCacheStore)

/**
 * Benchmarks measure fanout as users get it: the compiled package in dist/ (`npm run bench`
 * builds it first), not the TypeScript source through tsx, whose esbuild transform adds a
 * `keepNames` call to every function created at run time.
 */
import type * as Fanout from '../src/index.js'
import type * as FanoutPolicies from '../src/policies/index.js'

const entry = new URL('../dist/index.js', import.meta.url).href
export const fanout = (await import(entry)) as typeof Fanout
/** `fanout/policies`: backoff arithmetic, classification, stores, clock. */
export const policies = (await import(
  new URL('../dist/policies/index.js', import.meta.url).href
)) as typeof FanoutPolicies

/**
 * `fanout/profile` (Node only): a runtime waterfall finder. `profile()` listens to undici's and
 * node:http's diagnostics channels, groups outbound calls by the incoming request (or `run()`
 * unit) they were made in, and reports per route the chains of calls made one after another that
 * did not use each other's responses — with what a `Promise.all` would save and where in the code
 * each call is. `fanout profile -- node app.js` runs an application under it.
 */
export { profile, withRequest, UNSCOPED, type Profiler } from './profiler.js'
export { formatReport } from './report.js'
export type { ChainReport, ChainStep, ProfileReport, RouteReport, SavedMs } from './report.js'
export type { CallInfo, ProfileOptions } from './options.js'

/**
 * Reading the client's and each request's options. Only own properties are read (a polluted
 * `Object.prototype` changes nothing, I10), unknown names get a "did you mean", every value is
 * checked with a message that names it, and header names and values are checked before anything
 * is sent (no CR, LF or other control character, I12).
 *
 * This module is the stable entry point: the types live in option-types.ts, the shared checks in
 * option-checks.ts, and the two parsers in client-options.ts and request-options.ts.
 */
export type {
  ClientConfig,
  HttpClientOptions,
  HttpRequestOptions,
  HttpTimeouts,
  HttpTlsOptions,
  PemInput,
  QueryValue,
  RequestConfig,
} from './option-types.js'
export { ACCEPT_ENCODING, parseClientOptions } from './client-options.js'
export { parseRequestOptions } from './request-options.js'

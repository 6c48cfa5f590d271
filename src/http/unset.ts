/**
 * What undici and node:net/node:tls would otherwise read from a polluted `Object.prototype` when
 * fanout leaves an option out (I10). Each name is an own `undefined` here ("not set"), and both
 * undici and Node copy option objects with a spread, which keeps own keys: so a polluted `ca`
 * never becomes a trusted certificate authority, a polluted `socketPath` or `path` never redirects
 * the connection to a local socket, and a polluted `query` or `servername` never changes a request.
 * Names Node fills with its own defaults before reading them (`rejectUnauthorized`,
 * `checkServerIdentity`, `ciphers`, `minDHSize`) must not appear: an own `undefined` would replace
 * the default.
 */

/** Spread first into the connector's options (and a proxy's TLS options). */
export const UNSET_SOCKET_OPTIONS: object = Object.freeze({
  socketPath: undefined,
  path: undefined,
  allowH2: undefined,
  useH2c: undefined,
  maxCachedSessions: undefined,
  session: undefined,
  servername: undefined,
  secureContext: undefined,
  ca: undefined,
  cert: undefined,
  key: undefined,
  pfx: undefined,
  passphrase: undefined,
  crl: undefined,
  sigalgs: undefined,
  ecdhCurve: undefined,
  dhparam: undefined,
  secureProtocol: undefined,
  minVersion: undefined,
  maxVersion: undefined,
  honorCipherOrder: undefined,
  secureOptions: undefined,
  sessionIdContext: undefined,
  ticketKeys: undefined,
  privateKeyEngine: undefined,
  privateKeyIdentifier: undefined,
  clientCertEngine: undefined,
  pskCallback: undefined,
  requestOCSP: undefined,
  enableTrace: undefined,
  signal: undefined,
  onread: undefined,
  fd: undefined,
  allowHalfOpen: undefined,
  localPort: undefined,
  family: undefined,
  hints: undefined,
  lookup: undefined,
  blockList: undefined,
  keepAlive: undefined,
  keepAliveInitialDelay: undefined,
  autoSelectFamily: undefined,
  autoSelectFamilyAttemptTimeout: undefined,
})

/** Spread first into every request handed to undici's `dispatch`. */
export const UNSET_DISPATCH_OPTIONS: object = Object.freeze({
  query: undefined,
  idempotent: undefined,
  blocking: undefined,
  reset: undefined,
  expectContinue: undefined,
  servername: undefined,
  throwOnError: undefined,
  maxRedirections: undefined,
  typeOfService: undefined,
})

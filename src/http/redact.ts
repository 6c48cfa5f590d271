/**
 * What may be shown of a request or response: URLs without userinfo or secret query values
 * (OpenTelemetry's `url.full` rules, I7, I8), headers without credentials (I9).
 */

/** Query keys (compared lower-case) whose values are secrets: signatures, keys, tokens. */
export const SECRET_QUERY_KEYS: ReadonlySet<string> = new Set([
  'sig',
  'signature',
  'x-goog-signature',
  'x-goog-credential',
  'awsaccesskeyid',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'api_key',
  'apikey',
  'key',
  'client_secret',
  'password',
])

/** Request headers that carry credentials whatever the configuration. */
export const CREDENTIAL_HEADERS: readonly string[] = [
  'authorization',
  'cookie',
  'proxy-authorization',
]

/** Response headers kept out of errors: they set credentials. */
const SETS_CREDENTIALS: readonly string[] = ['set-cookie', 'set-cookie2']

/**
 * The URL as it may be reported: userinfo replaced by `REDACTED:REDACTED`, the values of secret
 * query keys by `REDACTED` (keys kept), and no fragment (never sent, and where OAuth puts tokens).
 */
export function redactUrl(url: URL): string {
  const userinfo = url.username !== '' || url.password !== '' ? 'REDACTED:REDACTED@' : ''
  return `${url.protocol}//${userinfo}${url.host}${url.pathname}${redactQuery(url.search)}`
}

function redactQuery(search: string): string {
  if (search.length < 2) return search
  const parts = search.slice(1).split('&')
  let changed = false
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const rawKey = part.slice(0, eq)
    if (SECRET_QUERY_KEYS.has(decodeKey(rawKey))) {
      parts[i] = `${rawKey}=REDACTED`
      changed = true
    }
  }
  return changed ? `?${parts.join('&')}` : search
}

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' ')).toLowerCase()
  } catch {
    return raw.toLowerCase()
  }
}

/** Response headers without the ones that set or carry credentials (`extra`: lower-case names). */
export function withoutCredentials(
  headers: Readonly<Record<string, string>>,
  extra: ReadonlySet<string>,
): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  for (const name of Object.keys(headers)) {
    if (SETS_CREDENTIALS.includes(name) || CREDENTIAL_HEADERS.includes(name) || extra.has(name))
      continue
    out[name] = headers[name]!
  }
  return out
}

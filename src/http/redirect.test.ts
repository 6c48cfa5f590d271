/**
 * The redirect step on its own. Scheme changes (http → https, https → http) are proved here: the
 * loopback tests in client.test.ts have no TLS server the client could trust, so they cover host
 * and port changes on the wire and this file covers what would be sent after a scheme change.
 */
import { describe, expect, it } from 'vitest'
import { RedirectError } from './errors.js'
import { hopKey, nextHop, type Hop, type RedirectRules } from './redirect.js'

const rules: RedirectRules = {
  maxRedirects: 5,
  credentialHeaders: new Set(['authorization', 'cookie', 'proxy-authorization', 'x-api-key']),
}

const headers = (record: Record<string, string>): Record<string, string> =>
  Object.assign(Object.create(null) as Record<string, string>, record)

const credentials = headers({
  authorization: 'Bearer secret',
  cookie: 'session=secret',
  'proxy-authorization': 'Basic secret',
  'x-api-key': 'secret',
  'x-trace': 'keep-me',
})

const hop = (url: string, extra: Partial<Hop> = {}): Hop => ({
  url: new URL(url),
  method: 'GET',
  headers: credentials,
  body: undefined,
  ...extra,
})

const step = (
  from: Hop,
  status: number,
  location: string,
  redirects = 0,
  visited = new Set([hopKey(from)]),
): Hop => nextHop(from, status, location, redirects, visited, rules)

const failure = (fn: () => unknown): RedirectError => {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(RedirectError)
    return error as RedirectError
  }
  throw new Error('expected a RedirectError')
}

describe('redirect step', () => {
  it('I5: credential headers are stripped when the scheme changes (same host and port), other headers kept', () => {
    const next = step(hop('http://api.test:8443/a'), 302, 'https://api.test:8443/b')
    expect(next.url.href).toBe('https://api.test:8443/b')
    expect({ ...next.headers }).toEqual({ 'x-trace': 'keep-me' })
  })

  it('I5: … when the host changes, and when only the port changes', () => {
    expect({ ...step(hop('https://api.test/a'), 301, 'https://other.test/a').headers }).toEqual({
      'x-trace': 'keep-me',
    })
    expect({ ...step(hop('https://api.test/a'), 307, 'https://api.test:444/a').headers }).toEqual({
      'x-trace': 'keep-me',
    })
  })

  it('I5: credential headers are kept on a same-origin redirect (relative or absolute Location)', () => {
    expect({ ...step(hop('https://api.test/a'), 302, '/b').headers }).toEqual({ ...credentials })
    expect({ ...step(hop('https://api.test/a'), 302, 'https://API.test:443/c').headers }).toEqual({
      ...credentials,
    })
  })

  it('I5: once stripped, credentials do not come back on a later hop to the first origin', () => {
    const first = hop('https://api.test/a')
    const visited = new Set([hopKey(first)])
    const away = step(first, 302, 'https://cdn.test/x', 0, visited)
    const back = step(away, 302, 'https://api.test/b', 1, visited)
    expect(back.headers.authorization).toBeUndefined()
  })

  it('I5: credentials in the Location URL are dropped (and the fragment)', () => {
    const next = step(hop('https://api.test/a'), 302, 'https://user:pass@api.test/b#frag')
    expect(next.url.href).toBe('https://api.test/b')
  })

  it('I5: 303 becomes a GET without a body or body headers', () => {
    const post = hop('https://api.test/a', {
      method: 'POST',
      body: '{"x":1}',
      headers: headers({ 'content-type': 'application/json', authorization: 'x' }),
    })
    const next = step(post, 303, '/done')
    expect(next).toMatchObject({ method: 'GET', body: undefined })
    expect({ ...next.headers }).toEqual({ authorization: 'x' })
    expect(step(hop('https://api.test/a', { method: 'HEAD' }), 303, '/b').method).toBe('HEAD')
  })

  it('I5: 301/302 after a POST become a GET; 307/308 keep method and body on the same origin', () => {
    const post = hop('https://api.test/a', {
      method: 'POST',
      body: 'x',
      headers: headers({ 'content-type': 'text/plain' }),
    })
    expect(step(post, 302, '/b')).toMatchObject({ method: 'GET', body: undefined })
    expect(step(post, 307, '/b')).toMatchObject({
      method: 'POST',
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    })
    expect(step(post, 308, '/b')).toMatchObject({ method: 'POST', body: 'x' })
    const put = hop('https://api.test/a', { method: 'PUT', body: 'x' })
    expect(step(put, 302, '/b')).toMatchObject({ method: 'PUT', body: 'x' })
  })

  it('I5: a cross-origin 307/308 drops the body and its headers', () => {
    const post = hop('https://api.test/a', {
      method: 'POST',
      body: 'secret-payload',
      headers: headers({ 'content-type': 'text/plain', 'content-length': '14' }),
    })
    const next = step(post, 307, 'https://other.test/b')
    expect(next).toMatchObject({ method: 'POST', body: undefined })
    expect({ ...next.headers }).toEqual({})
  })

  it('I6: https → http is refused (downgrade)', () => {
    const error = failure(() =>
      step(hop('https://api.test/a?token=s3cret'), 302, 'http://api.test/a'),
    )
    expect(error.reason).toBe('downgrade')
    expect(error.url).toBe('https://api.test/a?token=REDACTED')
    expect(error.message).not.toContain('s3cret')
  })

  it('I6: a loop is refused, naming the URL that repeats', () => {
    const first = hop('https://api.test/a')
    const visited = new Set([hopKey(first)])
    const b = step(first, 302, '/b', 0, visited)
    const error = failure(() => step(b, 302, '/a', 1, visited))
    expect(error.reason).toBe('loop')
    expect(error.location).toBe('https://api.test/a')
  })

  it('I6: more than maxRedirects is refused', () => {
    const error = failure(() => step(hop('https://api.test/a'), 302, '/b', 5))
    expect(error.reason).toBe('too-many')
    expect(error.message).toContain('maxRedirects (5)')
  })

  it('I13: a Location with another scheme, no URL or control characters is refused', () => {
    for (const location of [
      'file:///etc/passwd',
      'data:text/plain,hi',
      'ftp://x.test/',
      'gopher://x.test/',
      'javascript:alert(1)',
    ]) {
      expect(failure(() => step(hop('https://api.test/a'), 302, location)).reason).toBe('scheme')
    }
    expect(failure(() => step(hop('https://api.test/a'), 302, 'http://[::1')).reason).toBe(
      'invalid-location',
    )
    expect(failure(() => step(hop('https://api.test/a'), 302, '/a\u0000b')).reason).toBe(
      'invalid-location',
    )
  })
})

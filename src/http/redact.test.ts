import { describe, expect, it } from 'vitest'
import { redactUrl, withoutCredentials } from './redact.js'

describe('redaction', () => {
  it('I7: userinfo becomes REDACTED:REDACTED', () => {
    expect(redactUrl(new URL('https://user:pass@api.test/x'))).toBe(
      'https://REDACTED:REDACTED@api.test/x',
    )
    expect(redactUrl(new URL('https://user@api.test/x'))).toBe(
      'https://REDACTED:REDACTED@api.test/x',
    )
  })

  it('I8: secret query values are redacted whatever their case or encoding; keys, other values and order are kept', () => {
    const url = new URL(
      'https://api.test/x?page=2&sig=a&Signature=b&X-Goog-Signature=c&AWSAccessKeyId=d&token=e&api_key=f&key=g&access_token=h&%74oken=i&X-Amz-Signature=j&q=token',
    )
    expect(redactUrl(url)).toBe(
      'https://api.test/x?page=2&sig=REDACTED&Signature=REDACTED&X-Goog-Signature=REDACTED&AWSAccessKeyId=REDACTED&token=REDACTED&api_key=REDACTED&key=REDACTED&access_token=REDACTED&%74oken=REDACTED&X-Amz-Signature=REDACTED&q=token',
    )
  })

  it('I8: the fragment is dropped, a query without secrets is left byte for byte', () => {
    expect(redactUrl(new URL('https://api.test/cb#access_token=secret'))).toBe(
      'https://api.test/cb',
    )
    expect(redactUrl(new URL('https://api.test/x?a=%20b+c&d'))).toBe(
      'https://api.test/x?a=%20b+c&d',
    )
    expect(redactUrl(new URL('https://api.test/x?%zz=1'))).toBe('https://api.test/x?%zz=1')
  })

  it('I9: response headers lose set-cookie and credential headers', () => {
    const headers = {
      'set-cookie': 'a=b',
      authorization: 'x',
      'x-api-key': 'y',
      'content-type': 'text/plain',
    }
    expect({ ...withoutCredentials(headers, new Set(['x-api-key'])) }).toEqual({
      'content-type': 'text/plain',
    })
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { retryAfterOf } from '../policies/retry-after.js'
import { readSignal } from '../policies/rate-limit-signal.js'
import { headerValue } from './headers.js'

describe('headerValue: one reader for every headers shape', () => {
  it('asks a Headers object, whatever the case of the name', () => {
    const headers = new Headers({ 'Retry-After': '5' })
    expect(headerValue(headers, 'retry-after')).toBe('5')
    expect(headerValue(headers, 'RETRY-AFTER')).toBe('5')
  })

  it('reads a plain record in any case, on either side', () => {
    expect(headerValue({ 'Retry-After': '5' }, 'retry-after')).toBe('5')
    expect(headerValue({ 'retry-after': '5' }, 'Retry-After')).toBe('5')
  })

  it('joins repeated values with ", " as Headers.get does: arrays, and names differing only in case', () => {
    expect(headerValue({ link: ['<a>; rel="next"', '<b>; rel="last"'] }, 'link')).toBe(
      '<a>; rel="next", <b>; rel="last"',
    )
    expect(
      headerValue({ 'Cache-Control': 'private', 'cache-control': 'max-age=5' }, 'cache-control'),
    ).toBe('private, max-age=5')
    const headers = new Headers()
    headers.append('x-a', '1')
    headers.append('x-a', '2')
    expect(headerValue(headers, 'x-a')).toBe(headerValue({ 'x-a': ['1', '2'] }, 'x-a'))
  })

  it('reads finite numbers, alone or in an array, and skips what is not a value', () => {
    expect(headerValue({ 'retry-after': 5 }, 'retry-after')).toBe('5')
    expect(headerValue({ 'x-n': [0, '1'] }, 'x-n')).toBe('0, 1')
    expect(headerValue({ 'x-n': Number.NaN }, 'x-n')).toBeUndefined()
    expect(headerValue({ 'x-n': Infinity }, 'x-n')).toBeUndefined()
    expect(headerValue({ 'x-o': { a: 1 }, 'X-O': undefined }, 'x-o')).toBeUndefined()
    expect(headerValue({ 'x-o': [null, { a: 1 }, 'v'] }, 'x-o')).toBe('v')
  })

  it('is undefined when absent, and for anything that is not an object', () => {
    expect(headerValue({}, 'retry-after')).toBeUndefined()
    expect(headerValue(new Headers(), 'retry-after')).toBeUndefined()
    for (const odd of [undefined, null, 'retry-after: 5', 5, true])
      expect(headerValue(odd, 'retry-after')).toBeUndefined()
  })

  it('reads a record without a prototype', () => {
    const headers = Object.assign(Object.create(null) as object, { 'Retry-After': '7' })
    expect(headerValue(headers, 'retry-after')).toBe('7')
  })

  describe('own properties only (I10)', () => {
    const proto = Object.prototype as Record<string, unknown>
    afterEach(() => {
      delete proto['retry-after']
    })

    it('a polluted Object.prototype supplies no value', () => {
      proto['retry-after'] = '60'
      expect(headerValue({}, 'retry-after')).toBeUndefined()
      expect(headerValue({ 'x-other': '1' }, 'retry-after')).toBeUndefined()
      expect(headerValue({ 'Retry-After': '5' }, 'retry-after')).toBe('5')
    })

    it('inherited fields of a record other than its own are not read', () => {
      const inherited = Object.create({ 'retry-after': '9' }) as object
      expect(headerValue(inherited, 'retry-after')).toBeUndefined()
    })
  })
})

describe('the policies read headers the same way', () => {
  it('retry: a numeric Retry-After in a plain record counts, as it does for the rate limiter', () => {
    const error = Object.assign(new Error('429'), { status: 429, headers: { 'Retry-After': 2 } })
    expect(retryAfterOf(error, 0)).toBe(2_000)
    expect(readSignal(error, 'error')).toEqual({ throttled: true, pauseMs: 2_000, cause: '429' })
  })

  it('Headers and the equivalent record give the same signal', () => {
    const record = { status: 429, headers: { 'retry-after': '3' } }
    const fetched = { status: 429, headers: new Headers({ 'Retry-After': '3' }) }
    expect(readSignal(record, 'value')).toEqual(readSignal(fetched, 'value'))
    expect(readSignal(record, 'value')).toMatchObject({ pauseMs: 3_000 })
  })
})

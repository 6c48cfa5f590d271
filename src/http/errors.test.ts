/**
 * Every error fanout/http creates is a FanoutError with its documented code, and every classifier
 * (retry, idempotency, trace labels, adaptive concurrency, circuit breaker, rate-limit adaptivity,
 * cached()'s stale-if-error) reads it as it read the plain Error it used to be: the classifiers key
 * on codes and statuses, not on classes. No socket here: each error is built directly.
 */
import { describe, expect, it, vi } from 'vitest'
import { after, failAfter, settle, useFakeTime } from '../../test/helpers/time.js'
import { cached } from '../cache/cached.js'
import type { CallContext } from '../core/call.js'
import type { Clock } from '../core/clock.js'
import { FanoutError, isFanoutError } from '../core/errors.js'
import { noopRecorder } from '../core/trace.js'
import { isOverloadError } from '../policies/adaptive.js'
import { circuitBreaker } from '../policies/circuit-breaker.js'
import { failureLabel, isIdempotentError, isRetryableError } from '../policies/classify.js'
import { rateLimit } from '../policies/rate-limit.js'
import { memoryCacheStore } from '../cache/index.js'
import {
  HttpError,
  HttpTimeoutError,
  InvalidJsonError,
  NetworkError,
  ProtocolError,
  RedirectError,
  ResponseTooLargeError,
  SsrfBlockedError,
} from './index.js'
import { exchangeError } from './errors.js'
import { parseSsrfOptions } from './ssrf.js'

const URL_ = 'https://api.example/v1/items'
const bytes = new TextEncoder().encode('{"error":"x"}')

const httpError = (
  status: number,
  method = 'GET',
  headers: Record<string, string> = {},
): HttpError =>
  new HttpError({ status, headers, retryAfterMs: undefined, method, url: URL_, body: bytes })
const networkCause = (code: string, message = `read ${code}`): Error =>
  Object.assign(new Error(message), { code })
const ssrfError = (): SsrfBlockedError =>
  new SsrfBlockedError(
    parseSsrfOptions('test', undefined)!.checkHostname('169.254.169.254')!,
    '169.254.169.254',
    'http://169.254.169.254/',
  )

/**
 * One sample per error class and kind, with what each classifier made of it before these errors
 * were FanoutErrors (and what it makes of it now): retried, an overload signal, counted by a
 * breaker as a failure, served stale by cached({ staleIfError }).
 */
const samples: ReadonlyArray<{
  name: string
  error: Error
  code: string
  retried: boolean
  overload: boolean
  breaker: boolean
  stale: boolean
  label: string
}> = [
  {
    name: 'HttpError 503',
    error: httpError(503),
    code: 'FANOUT_HTTP_STATUS',
    retried: true,
    overload: true,
    breaker: true,
    stale: true,
    label: '503',
  },
  {
    name: 'HttpError 429',
    error: httpError(429),
    code: 'FANOUT_HTTP_STATUS',
    retried: true,
    overload: true,
    breaker: true,
    stale: false,
    label: '429',
  },
  {
    name: 'HttpError 404',
    error: httpError(404),
    code: 'FANOUT_HTTP_STATUS',
    retried: false,
    overload: false,
    breaker: false,
    stale: false,
    label: '404',
  },
  {
    name: 'ResponseTooLargeError',
    error: new ResponseTooLargeError('body', 1024, 'GET', URL_, ''),
    code: 'FANOUT_HTTP_TOO_LARGE',
    retried: false,
    overload: false,
    breaker: true,
    stale: false,
    label: 'FANOUT_HTTP_TOO_LARGE',
  },
  {
    name: 'RedirectError',
    error: new RedirectError('loop', 'redirect loop', {
      method: 'GET',
      url: URL_,
      location: URL_,
      redirects: 1,
    }),
    code: 'FANOUT_HTTP_REDIRECT',
    retried: false,
    overload: false,
    breaker: true,
    stale: false,
    label: 'FANOUT_HTTP_REDIRECT',
  },
  {
    name: 'SsrfBlockedError',
    error: ssrfError(),
    code: 'FANOUT_HTTP_SSRF',
    retried: false,
    overload: false,
    breaker: true,
    stale: false,
    label: 'FANOUT_HTTP_SSRF',
  },
  {
    name: 'InvalidJsonError',
    error: new InvalidJsonError({
      status: 200,
      method: 'GET',
      url: URL_,
      contentType: 'application/json',
      bytes: 3,
      position: 1,
    }),
    code: 'FANOUT_HTTP_INVALID_JSON',
    retried: false,
    overload: false,
    breaker: true,
    stale: false,
    label: '200',
  },
  {
    name: 'HttpTimeoutError (a phase limit)',
    error: new HttpTimeoutError('headers', 800, 'GET', URL_, 'timeout'),
    code: 'FANOUT_TIMEOUT',
    retried: true,
    overload: true,
    breaker: true,
    stale: true,
    label: 'FANOUT_TIMEOUT',
  },
  {
    name: 'HttpTimeoutError (the deadline)',
    error: new HttpTimeoutError('body', 800, 'GET', URL_, 'deadline'),
    code: 'FANOUT_DEADLINE',
    retried: false,
    overload: false,
    breaker: false,
    stale: false,
    label: 'FANOUT_DEADLINE',
  },
  ...['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].map(
    (cause) => ({
      name: `NetworkError (${cause})`,
      error: new NetworkError('GET', URL_, networkCause(cause)),
      code: 'FANOUT_NETWORK',
      retried: true,
      overload: true,
      breaker: true,
      stale: true,
      label: cause,
    }),
  ),
  ...[
    'HPE_INVALID_CONSTANT',
    'Z_DATA_ERROR',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  ].map((cause) => ({
    name: `ProtocolError (${cause})`,
    error: new ProtocolError('GET', URL_, networkCause(cause, 'bad')),
    code: 'FANOUT_HTTP_PROTOCOL',
    retried: false,
    overload: false,
    breaker: true,
    stale: false,
    label: cause,
  })),
]

const context = (clock?: Clock): CallContext => ({
  signal: new AbortController().signal,
  deadlineAt: Infinity,
  attempt: 1,
  task: 'call',
  clock: clock ?? { now: () => 0, setTimeout: () => ({}), clearTimeout: () => {} },
  trace: noopRecorder,
})

describe('fanout/http errors: FanoutErrors, classified as before', () => {
  it.each(samples)(
    '$name: a FanoutError with its code and a name of its own',
    ({ error, code }) => {
      expect(isFanoutError(error)).toBe(true)
      expect(error).toBeInstanceOf(FanoutError)
      expect(isFanoutError(error, code as never)).toBe(true)
      expect((error as FanoutError).code).toBe(code)
      expect(error.name).toBe(error.constructor.name)
    },
  )

  it.each(samples)(
    '$name: retry(), isOverloadError and the trace label read it as before',
    ({ error, retried, overload, label }) => {
      expect(isRetryableError(error)).toBe(retried)
      expect(isOverloadError(error)).toBe(overload)
      expect(failureLabel(error)).toBe(label)
      expect(isIdempotentError(error)).toBe(error instanceof SsrfBlockedError ? undefined : true)
    },
  )

  it.each(samples)(
    '$name: a circuit breaker counts it as a failure as before (4xx but 408/429 and deadlines are not)',
    async ({ error, breaker }) => {
      const b = circuitBreaker({ consecutive: 1 })
      await expect(b.wrap(() => Promise.reject(error))(context())).rejects.toBe(error)
      expect(b.state).toBe(breaker ? 'open' : 'closed')
    },
  )

  it.each(samples)(
    '$name: cached({ staleIfError }) serves a stale value over it as before (5xx, network errors, time limits)',
    async ({ error, stale }) => {
      useFakeTime()
      let calls = 0
      const c = cached(
        (_key: string, { signal }) =>
          ++calls === 1 ? after(10, 'v1', signal) : failAfter(10, error, signal),
        {
          store: memoryCacheStore({ maxEntries: 10 }),
          ttl: 100,
          staleIfError: 10_000,
          scope: 'shared',
        },
      )
      await settle(c('k'))
      await vi.advanceTimersByTimeAsync(200)
      expect(await settle(c.entry('k'))).toEqual(
        stale
          ? { ok: true, value: { value: 'v1', status: 'stale-if-error' } }
          : { ok: false, error },
      )
    },
  )

  it('D8: rate-limit adaptivity learns from an HttpError 429 (the upstream’s answer), not from a phase time limit', async () => {
    useFakeTime()
    for (const [error, factor] of [
      [httpError(429, 'GET', { 'retry-after': '0' }), 0.7],
      [new HttpTimeoutError('headers', 800, 'GET', URL_, 'timeout'), 1],
    ] as const) {
      const limiter = rateLimit({ rate: 10, per: 1_000, burst: 10 })
      const call = limiter.wrap(() => Promise.reject(error))
      expect(await settle(call(context()))).toEqual({ ok: false, error })
      expect(limiter.stats()).toMatchObject({ rateFactor: factor })
    }
  })

  it('a message shows at most 200 characters of a URL, however long; the url property keeps it whole', () => {
    const huge = `https://api.example/${'a'.repeat(1024 * 1024)}`
    const verdict = parseSsrfOptions('test', undefined)!.checkHostname('169.254.169.254')!
    const errors: Array<Error & { url: string }> = [
      new HttpError({
        status: 503,
        headers: {},
        retryAfterMs: undefined,
        method: 'GET',
        url: huge,
        body: bytes,
      }),
      new ResponseTooLargeError('body', 1024, 'GET', huge, ''),
      new RedirectError('loop', 'redirect loop', {
        method: 'GET',
        url: huge,
        location: huge,
        redirects: 1,
      }),
      new SsrfBlockedError(verdict, `${'a'.repeat(1024 * 1024)}.example`, huge),
      new InvalidJsonError({
        status: 200,
        method: 'GET',
        url: huge,
        contentType: undefined,
        bytes: 3,
        position: 1,
      }),
      new HttpTimeoutError('headers', 800, 'GET', huge, 'timeout'),
      new NetworkError('GET', huge, networkCause('ECONNRESET')),
      new ProtocolError('GET', huge, networkCause('HPE_INVALID_CONSTANT')),
    ]
    for (const error of errors) {
      expect(error.message.length, error.name).toBeLessThan(1_000)
      expect(error.message, error.name).toContain(`${huge.slice(0, 199)}…`)
      expect(error.url, error.name).toBe(huge)
    }
  })

  it('a POST that failed on the network is not repeated by retry(): the error names its method', () => {
    const error = exchangeError(networkCause('ECONNRESET'), 'POST', URL_)
    expect(error).toBeInstanceOf(NetworkError)
    expect(isRetryableError(error)).toBe(true)
    expect(isIdempotentError(error)).toBe(false)
    expect(isIdempotentError(httpError(503, 'POST'))).toBe(false)
  })

  it('exchangeError wraps what undici or Node threw: transient codes as NetworkError, anything else as ProtocolError; fanout errors pass', () => {
    const reset = networkCause('ECONNRESET', 'read ECONNRESET')
    const wrapped = exchangeError(reset, 'GET', URL_) as NetworkError
    expect(wrapped).toMatchObject({
      name: 'NetworkError',
      code: 'FANOUT_NETWORK',
      causeCode: 'ECONNRESET',
      method: 'GET',
      url: URL_,
    })
    expect(wrapped.cause).toBe(reset)
    expect(wrapped.message).toBe(`GET ${URL_}: the connection failed (read ECONNRESET)`)
    const socket = exchangeError(networkCause('UND_ERR_SOCKET', 'other side closed'), 'GET', URL_)
    expect(socket.message).toBe(
      `GET ${URL_}: the connection failed (UND_ERR_SOCKET: other side closed)`,
    )
    const tls = exchangeError(
      networkCause('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match'),
      'GET',
      URL_,
    )
    expect(tls).toMatchObject({
      name: 'ProtocolError',
      code: 'FANOUT_HTTP_PROTOCOL',
      causeCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
    })
    const bare = exchangeError('a string', 'GET', URL_) as ProtocolError
    expect([bare.code, bare.causeCode, (bare.cause as Error).message]).toEqual([
      'FANOUT_HTTP_PROTOCOL',
      undefined,
      'a string',
    ])
    // The original's message is repeated, bounded: a huge one cannot make a huge message.
    const huge = exchangeError(networkCause('ECONNRESET', 'x'.repeat(1_000_000)), 'GET', URL_)
    expect(huge.message.length).toBeLessThan(400)
    const own = httpError(503)
    expect(exchangeError(own, 'GET', URL_)).toBe(own)
  })
})

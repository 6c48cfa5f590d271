import { describe, expectTypeOf, it } from 'vitest'
import { flow, retry, type Policy, type Recorder } from '../index.js'
import {
  createHttpClient,
  type BeforeRequestHook,
  type HttpClient,
  type HttpRequestInfo,
  type HttpResponse,
  type HttpRetry,
  type HttpStreamResponse,
} from './index.js'

declare const client: HttpClient

describe('fanout/http types', () => {
  it('the method helpers resolve with a response; get() and head() take no method and no body', () => {
    expectTypeOf(client.get('/a')).toEqualTypeOf<Promise<HttpResponse>>()
    expectTypeOf(client.head('/a')).toEqualTypeOf<Promise<HttpResponse>>()
    expectTypeOf(client.post('/a', { json: { name: 'ada' } })).toEqualTypeOf<
      Promise<HttpResponse>
    >()
    expectTypeOf(client.put('/a', { body: new Uint8Array(2) })).toEqualTypeOf<
      Promise<HttpResponse>
    >()
    expectTypeOf(
      client.patch('/a', { json: [1], headers: { 'idempotency-key': 'k' } }),
    ).toEqualTypeOf<Promise<HttpResponse>>()
    expectTypeOf(client.delete(new URL('https://api.test/a'))).toEqualTypeOf<
      Promise<HttpResponse>
    >()
    // @ts-expect-error get() sends GET: another method goes through request()
    void client.get('/a', { method: 'POST' })
    // @ts-expect-error a GET has no body
    void client.get('/a', { json: { a: 1 } })
    // @ts-expect-error a HEAD has no body
    void client.head('/a', { body: 'x' })
    // @ts-expect-error post() sends POST
    void client.post('/a', { method: 'PUT' })
    expectTypeOf(client.request('/a', { method: 'PURGE' })).toEqualTypeOf<Promise<HttpResponse>>()
    expectTypeOf(client.json<{ id: number }>('/a', { method: 'POST', json: {} })).toEqualTypeOf<
      Promise<{ id: number }>
    >()
  })

  it('retry takes true/false, attempts, retry() options or a policy; idempotent and trace per request', () => {
    expectTypeOf<HttpRetry>().toEqualTypeOf<
      boolean | number | import('../index.js').RetryOptions | Policy
    >()
    createHttpClient({ retry: false })
    createHttpClient({ retry: 4 })
    createHttpClient({ retry: { maxAttempts: 2, baseDelay: 50 } })
    createHttpClient({ retry: retry({ maxAttempts: 2 }) })
    // @ts-expect-error not a retry option
    createHttpClient({ retry: 'always' })
    // @ts-expect-error maxAttempts is retry()'s name
    createHttpClient({ retry: { limit: 2 } })
    void client.post('/orders', { json: {}, idempotent: true, retry: 5 })
    const page = flow().task('orders', (_, ctx) => {
      expectTypeOf(ctx.trace).toEqualTypeOf<Recorder>()
      return client.get('/orders', {
        signal: ctx.signal,
        deadlineAt: ctx.deadlineAt,
        trace: ctx.trace,
      })
    })
    void page
  })

  it('a beforeRequest hook gets the request and may change its headers only', () => {
    const hook: BeforeRequestHook = async (req) => {
      expectTypeOf(req).toEqualTypeOf<HttpRequestInfo>()
      expectTypeOf(req.attempt).toEqualTypeOf<number>()
      expectTypeOf(req.url).toEqualTypeOf<string>()
      req.headers.authorization = 'Bearer t'
      // @ts-expect-error the URL is read-only
      req.url = 'https://elsewhere.test/'
    }
    createHttpClient({ beforeRequest: hook })
    createHttpClient({ beforeRequest: [hook, (req) => void delete req.headers['x-debug']] })
    // @ts-expect-error a hook is a function
    createHttpClient({ beforeRequest: { authorization: 'x' } })
  })

  it('stream() resolves with a body that is a ReadableStream of bytes', async () => {
    const res = await client.stream('/events', { method: 'POST', json: { prompt: 'hi' } })
    expectTypeOf(res).toEqualTypeOf<HttpStreamResponse>()
    expectTypeOf(res.body).toEqualTypeOf<ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>>()
    expectTypeOf(res.body).toMatchTypeOf<ReadableStream<Uint8Array>>()
    for await (const chunk of res.body) expectTypeOf(chunk).toEqualTypeOf<Uint8Array>()
    expectTypeOf(res.status).toEqualTypeOf<number>()
    // @ts-expect-error a streamed response has no buffered text()
    void res.text()
  })
})

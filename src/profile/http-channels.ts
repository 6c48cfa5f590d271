/**
 * `node:http`'s diagnostics channels, as Node 20 publishes them: the client's
 * `http.client.request.start` (in the caller's stack and async context) and
 * `http.client.response.finish` (published when the response's headers arrive, despite its name;
 * the call ends at the response's `end`), `http.client.request.error` where Node has it; and the
 * server's `http.server.request.start` and `http.server.response.finish`, which mark a unit of
 * work per incoming request.
 *
 * Bodies: a `ClientRequest`'s `write`/`end` and an `IncomingMessage`'s `push` are wrapped on that
 * object only, to read the chunks on their way through; no listener is added that would change
 * how the application's streams flow (only `end` and `close`, which never do).
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { OutboundCall } from './call.js'
import { headerPairs, listen, quietly, type CallSink } from './sink.js'

type Fn = (this: unknown, ...args: unknown[]) => unknown

/** Reads the first argument of each call to `target[method]`, on this object only. */
function wrap(target: object, method: string, read: (chunk: unknown) => void): void {
  const holder = target as Record<string, unknown>
  const original = holder[method]
  if (typeof original !== 'function') return
  holder[method] = function (this: unknown, ...args: unknown[]): unknown {
    quietly(() => read(args[0]))
    return (original as Fn).apply(this, args)
  }
}

function urlOf(request: ClientRequest): URL | undefined {
  try {
    const host = request.getHeader('host')
    const authority =
      typeof host === 'string' && host !== '' ? host : (request as { host?: string }).host
    return new URL(request.path, `${request.protocol}//${authority}`)
  } catch {
    return undefined
  }
}

function clientStart(sink: CallSink, calls: WeakMap<object, OutboundCall>, message: unknown): void {
  const request = (message as { request: ClientRequest }).request
  const url = urlOf(request)
  if (url === undefined) return
  const call = sink.begin({
    method: request.method,
    url,
    headers: headerPairs(request.getHeaders()),
  })
  if (call === undefined) return
  calls.set(request, call)
  const read = (chunk: unknown): void => {
    if (typeof chunk !== 'function') call.sent(chunk)
  }
  wrap(request, 'write', read)
  wrap(request, 'end', read)
  // No response ever came (a refused connection, a reset): the call failed when the request closed.
  request.once('close', () => {
    if (call.status === undefined) quietly(() => call.end(performance.now(), true))
  })
}

function clientResponse(calls: WeakMap<object, OutboundCall>, message: unknown): void {
  const { request, response } = message as { request: object; response: IncomingMessage }
  const call = calls.get(request)
  if (call === undefined) return
  call.responded(response.statusCode ?? 0, headerPairs(response.rawHeaders))
  wrap(response, 'push', (chunk) => call.received(chunk))
  response.once('end', () => quietly(() => call.end(performance.now(), false)))
  response.once('close', () => quietly(() => call.end(performance.now(), !response.complete)))
}

export function listenToNodeHttp(sink: CallSink): () => void {
  const calls = new WeakMap<object, OutboundCall>()
  return listen({
    'http.client.request.start': (message) => clientStart(sink, calls, message),
    'http.client.response.finish': (message) => clientResponse(calls, message),
    'http.client.request.error': (message) => {
      calls.get((message as { request: object }).request)?.end(performance.now(), true)
    },
    'http.server.request.start': (message) => {
      const { request, response } = message as {
        request: IncomingMessage
        response: ServerResponse
      }
      sink.serverStart(request, response)
    },
    'http.server.response.finish': (message) => {
      sink.serverEnd((message as { response: ServerResponse }).response)
    },
  })
}

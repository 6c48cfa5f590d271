/**
 * Outbound calls made through undici — the `undici` package, and `fetch` (Node's is undici too:
 * 6.x on Node 20) — heard on undici's diagnostics channels: `undici:request:create` (the stack
 * and async context are the caller's there), `:headers`, `:trailers` (the body was read to the
 * end) and `:error`.
 *
 * Bodies: undici 7 publishes each chunk on `undici:request:bodyChunkSent` and
 * `:bodyChunkReceived`. The undici inside Node 20 does not, so for a request whose class does not
 * publish them its `onBodySent`/`onData` are wrapped, on that request object only, to read the
 * chunk on its way through.
 */
import { performance } from 'node:perf_hooks'
import type { OutboundCall } from './call.js'
import { headerPairs, listen, quietly, type CallSink } from './sink.js'

interface UndiciRequest {
  readonly origin?: unknown
  readonly path?: unknown
  readonly method?: unknown
  readonly headers?: unknown
  onData?: (this: unknown, chunk: unknown) => unknown
  onBodySent?: (this: unknown, chunk: unknown) => unknown
}

interface RequestMessage {
  readonly request: UndiciRequest
}

/** Whether a request class publishes a body channel itself (undici 7), per class and method. */
const publishes = new WeakMap<object, Map<string, boolean>>()

function publishesChunks(request: UndiciRequest, method: 'onData' | 'onBodySent'): boolean {
  const proto = Object.getPrototypeOf(request) as object | null
  if (proto === null) return false
  let known = publishes.get(proto)
  if (known === undefined) publishes.set(proto, (known = new Map()))
  let answer = known.get(method)
  if (answer === undefined) {
    const fn = (proto as UndiciRequest)[method]
    const source = typeof fn === 'function' ? Function.prototype.toString.call(fn) : ''
    answer = /bodyChunk(?:Received|Sent)/.test(source)
    known.set(method, answer)
  }
  return answer
}

/** Reads the chunks passing through `request[method]`, on this object only. */
function wrap(
  request: UndiciRequest,
  method: 'onData' | 'onBodySent',
  read: (chunk: unknown) => void,
): void {
  const original = request[method]
  if (typeof original !== 'function' || publishesChunks(request, method)) return
  request[method] = function (this: unknown, chunk: unknown): unknown {
    quietly(() => read(chunk))
    return original.call(this, chunk)
  }
}

function startOf(request: UndiciRequest): { method: string; url: URL } | undefined {
  try {
    const url = new URL(String(request.path ?? '/'), String(request.origin))
    return { method: String(request.method ?? 'GET'), url }
  } catch {
    return undefined
  }
}

export function listenToUndici(sink: CallSink): () => void {
  const calls = new WeakMap<object, OutboundCall>()
  const callOf = (message: unknown): OutboundCall | undefined => {
    const request = (message as RequestMessage | null)?.request
    return typeof request === 'object' && request !== null ? calls.get(request) : undefined
  }
  return listen({
    'undici:request:create': (message) => {
      const request = (message as RequestMessage).request
      const start = startOf(request)
      if (start === undefined) return
      const call = sink.begin({ ...start, headers: headerPairs(request.headers) })
      if (call === undefined) return
      calls.set(request, call)
      wrap(request, 'onBodySent', (chunk) => call.sent(chunk))
      wrap(request, 'onData', (chunk) => call.received(chunk))
    },
    'undici:request:bodyChunkSent': (message) => {
      callOf(message)?.sent((message as { chunk?: unknown }).chunk)
    },
    'undici:request:headers': (message) => {
      const response = (message as { response?: { statusCode?: unknown; headers?: unknown } })
        .response
      callOf(message)?.responded(Number(response?.statusCode), headerPairs(response?.headers))
    },
    'undici:request:bodyChunkReceived': (message) => {
      callOf(message)?.received((message as { chunk?: unknown }).chunk)
    },
    'undici:request:trailers': (message) => {
      callOf(message)?.end(performance.now(), false)
    },
    'undici:request:error': (message) => {
      callOf(message)?.end(performance.now(), true)
    },
  })
}

/**
 * HTTP client spans for fanout/http's hops, on the stable HTTP semantic conventions: kind CLIENT,
 * named by the method, with `http.request.method`, `server.address`, `server.port`, `url.full`
 * (origin and path: the query may hold a key), `http.request.resend_count` for a retry or a
 * redirect, `http.response.status_code`, and `error.type` (the status for a 4xx/5xx, else the
 * error's code). The span's context goes out in the hop's headers (`traceparent`), so the upstream
 * continues the trace.
 *
 * Counted once: when `@opentelemetry/instrumentation-undici` is active it makes a span for every
 * request undici sends, fanout's included, and fanout makes none (`httpSpans: 'auto'`, the
 * default, reads that from whether anyone subscribes to `undici:request:create`).
 */
import type { Attributes, Span, Tracer } from '@opentelemetry/api'
import diagnostics from 'node:diagnostics_channel'
import type { RequestMessage } from '../core/diagnostics.js'
import { api } from './api.js'
import type { Instruments } from './metrics.js'
import { isAbort, type ChannelHandlers } from './spans.js'

export type HttpSpans = 'auto' | boolean

interface Hop {
  readonly span: Span
  readonly startedAt: number
  readonly attributes: Attributes
}

const HOP = Symbol('fanout.otel.hop')
type Carrier = RequestMessage & { [HOP]?: Hop | undefined }

const DEFAULT_PORT: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 }

/** The channel instrumentation-undici subscribes to: looked up once, read per hop. */
const undiciCreate = diagnostics.channel('undici:request:create')

function makesSpans(mode: HttpSpans): boolean {
  return mode === 'auto' ? !undiciCreate.hasSubscribers : mode
}

function baseAttributes(m: RequestMessage): Attributes {
  const url = new URL(m.origin)
  const resends = m.attempt - 1 + m.redirects
  return {
    'http.request.method': m.method,
    'server.address': url.hostname.replace(/^\[|\]$/g, ''),
    'server.port': url.port === '' ? (DEFAULT_PORT[url.protocol] ?? 0) : Number(url.port),
    'url.full': m.origin + m.path,
    ...(resends > 0 ? { 'http.request.resend_count': resends } : {}),
  }
}

export function requestHandlers(
  tracer: Tracer,
  mode: HttpSpans,
  metrics: Instruments | undefined,
): ChannelHandlers {
  return {
    start(message) {
      const m = message as Carrier
      if (!makesSpans(mode)) return
      const attributes = baseAttributes(m)
      const parent = api.context.active()
      const span = tracer.startSpan(m.method, { kind: api.SpanKind.CLIENT, attributes }, parent)
      api.propagation.inject(api.trace.setSpan(parent, span), m.headers)
      m[HOP] = { span, startedAt: performance.now(), attributes }
    },
    error() {},
    asyncEnd(message) {
      const m = message as Carrier
      const hop = m[HOP]
      if (hop === undefined) return
      m[HOP] = undefined
      const status = m.status ?? 0
      const aborted = m.errorType !== undefined && status === 0 && isAbort(m.errorType)
      const failed = !aborted && (m.errorType !== undefined || status >= 400)
      const type = aborted ? undefined : status >= 400 ? String(status) : m.errorType
      const { span } = hop
      const end: Attributes = {
        ...(status > 0 ? { 'http.response.status_code': status } : {}),
        ...(type !== undefined ? { 'error.type': type } : {}),
        ...(aborted ? { 'fanout.outcome': 'aborted' } : {}),
      }
      span.setAttributes(end)
      if (failed) span.setStatus({ code: api.SpanStatusCode.ERROR })
      span.end()
      metrics?.httpDuration.record((performance.now() - hop.startedAt) / 1000, {
        'http.request.method': hop.attributes['http.request.method'],
        'server.address': hop.attributes['server.address'],
        'server.port': hop.attributes['server.port'],
        ...end,
      })
    },
  }
}

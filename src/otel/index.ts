/**
 * `fanout/otel`: fanout's runs, tasks, attempts, HTTP requests, batches and cache lookups as
 * OpenTelemetry spans, and its retries, queue waits, breaker transitions, cache results and
 * in-flight tasks as metrics, through `@opentelemetry/api` (an optional peer) and whatever SDK
 * the application registered.
 *
 * It subscribes to fanout's diagnostics channels (see fanout/diagnostics), so nothing is passed
 * to flows or clients, and with it stopped fanout publishes nothing: the cost returns to one
 * property read per call.
 *
 * @example
 * const otel = instrumentFanout()   // after the SDK is registered
 * // … on shutdown:
 * otel.stop()
 */
import diagnostics from 'node:diagnostics_channel'
import type { MeterProvider, TracerProvider } from '@opentelemetry/api'
import { InvalidArgumentError } from '../core/errors.js'
import { checkKnownKeys, show, snapshot } from '../core/validate.js'
import { api } from './api.js'
import { eventHandler } from './events.js'
import { requestHandlers, type HttpSpans } from './http-spans.js'
import { instruments } from './metrics.js'
import {
  attemptHandlers,
  batchHandlers,
  runHandlers,
  taskHandlers,
  type ChannelHandlers,
} from './spans.js'

export type { HttpSpans } from './http-spans.js'

export interface OtelOptions {
  /** Where spans go. Default: the globally registered provider (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider
  /** Where metrics go. Default: the globally registered provider (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProvider
  /** Record metrics. Default true. */
  readonly metrics?: boolean
  /**
   * fanout/http's own client spans (and `http.client.request.duration`): `'auto'` (default)
   * makes them unless something subscribes to undici's `undici:request:create`, which is what
   * `@opentelemetry/instrumentation-undici` does: its spans then cover fanout's requests, nested
   * under fanout's attempt spans, and nothing is counted twice. `true`/`false` decide it outright.
   */
  readonly httpSpans?: HttpSpans
}

export interface FanoutInstrumentation {
  /** Unsubscribes: no more spans or metrics; spans already started still end. */
  stop(): void
}

const WHERE = 'instrumentFanout()'
const KNOWN = ['tracerProvider', 'meterProvider', 'metrics', 'httpSpans'] as const
const NAME = 'fanout'

/** Only one at a time: two would make every span twice. */
let current: FanoutInstrumentation | undefined

function provider<T>(name: string, value: unknown, method: string): T | undefined {
  if (value === undefined) return undefined
  if (typeof (value as Record<string, unknown> | null)?.[method] !== 'function') {
    throw new InvalidArgumentError(
      `${WHERE}: \`${name}\` must be an OpenTelemetry ${name === 'tracerProvider' ? 'TracerProvider' : 'MeterProvider'} (with ${method}()), got ${show(value)}.`,
    )
  }
  return value as T
}

function parse(options: OtelOptions | undefined): Required<Pick<OtelOptions, 'httpSpans'>> & {
  tracerProvider: TracerProvider | undefined
  meterProvider: MeterProvider | undefined
  metrics: boolean
} {
  const o = snapshot(WHERE, options)
  checkKnownKeys(WHERE, o, KNOWN)
  if (o.metrics !== undefined && typeof o.metrics !== 'boolean')
    throw new InvalidArgumentError(
      `${WHERE}: \`metrics\` must be true or false, got ${show(o.metrics)}.`,
    )
  if (o.httpSpans !== undefined && o.httpSpans !== 'auto' && typeof o.httpSpans !== 'boolean') {
    throw new InvalidArgumentError(
      `${WHERE}: \`httpSpans\` must be 'auto', true or false, got ${show(o.httpSpans)}.`,
    )
  }
  return {
    tracerProvider: provider<TracerProvider>('tracerProvider', o.tracerProvider, 'getTracer'),
    meterProvider: provider<MeterProvider>('meterProvider', o.meterProvider, 'getMeter'),
    metrics: o.metrics ?? true,
    httpSpans: o.httpSpans ?? 'auto',
  }
}

/** (Un)subscribes the handlers of a TracingChannel's `start`, `error` and `asyncEnd`. */
function each(
  name: string,
  handlers: ChannelHandlers,
  fn: (channel: string, listener: (message: unknown) => void) => unknown,
): void {
  fn(`tracing:${name}:start`, handlers.start)
  fn(`tracing:${name}:error`, handlers.error)
  fn(`tracing:${name}:asyncEnd`, handlers.asyncEnd)
}

/**
 * Starts making spans and metrics for every fanout run in this process. Call it once the SDK is
 * registered (or pass the providers); `stop()` it on shutdown. A second call while one is active
 * throws: both would make every span.
 */
export function instrumentFanout(options?: OtelOptions): FanoutInstrumentation {
  const o = parse(options)
  if (current !== undefined) {
    throw new InvalidArgumentError(
      `${WHERE}: fanout is already instrumented in this process; stop() the first instrumentation before starting another.`,
    )
  }
  const tracer = (o.tracerProvider ?? api.trace.getTracerProvider()).getTracer(NAME)
  const metrics = o.metrics
    ? instruments((o.meterProvider ?? api.metrics.getMeterProvider()).getMeter(NAME))
    : undefined
  const traced: [string, ChannelHandlers][] = [
    ['fanout:run', runHandlers(tracer)],
    ['fanout:task', taskHandlers(tracer, metrics)],
    ['fanout:attempt', attemptHandlers(tracer)],
    ['fanout:batch', batchHandlers(tracer)],
    ['fanout:request', requestHandlers(tracer, o.httpSpans, metrics)],
  ]
  for (const [name, handlers] of traced) each(name, handlers, diagnostics.subscribe)
  const onEvent = eventHandler(tracer, metrics)
  diagnostics.subscribe('fanout:event', onEvent)
  const instrumentation: FanoutInstrumentation = {
    stop() {
      if (current !== instrumentation) return
      current = undefined
      for (const [name, handlers] of traced) each(name, handlers, diagnostics.unsubscribe)
      diagnostics.unsubscribe('fanout:event', onEvent)
    },
  }
  current = instrumentation
  return instrumentation
}

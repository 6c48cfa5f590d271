/**
 * An OpenTelemetry SDK for the tests, in memory: a tracer provider whose spans an exporter keeps,
 * a meter provider whose metrics a reader collects on demand, the W3C propagator, and the
 * AsyncLocalStorage context manager a Node service registers.
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
}

export interface Sdk {
  readonly exporter: InMemorySpanExporter
  readonly tracerProvider: BasicTracerProvider
  readonly meterProvider: MeterProvider
  spans(): ReadableSpan[]
  /** The data points of one metric, as `{ attributes, value }` (histograms: count and sum). */
  metric(name: string): Promise<{ attributes: Record<string, unknown>; value: unknown }[]>
  shutdown(): Promise<void>
}

export function startSdk(): Sdk {
  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  })
  trace.setGlobalTracerProvider(tracerProvider)
  const reader = new TestReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  metrics.setGlobalMeterProvider(meterProvider)
  return {
    exporter,
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    async metric(name) {
      const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics }
      const found = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .filter((m) => m.descriptor.name === name)
      return found.flatMap((m) =>
        m.dataPoints.map((p) => ({ attributes: { ...p.attributes }, value: p.value })),
      )
    },
    async shutdown() {
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
      trace.disable()
      metrics.disable()
      propagation.disable()
      context.disable()
    },
  }
}

/** The spans as an indented tree of labels (siblings sorted), for exact comparisons. */
export function spanTree(
  spans: readonly ReadableSpan[],
  label = (s: ReadableSpan) => s.name,
): string[] {
  const byParent = new Map<string | undefined, ReadableSpan[]>()
  const ids = new Set(spans.map((s) => s.spanContext().spanId))
  for (const s of spans) {
    const parent = s.parentSpanContext?.spanId
    const key = parent !== undefined && ids.has(parent) ? parent : undefined
    const list = byParent.get(key) ?? []
    list.push(s)
    byParent.set(key, list)
  }
  const lines: string[] = []
  const walk = (parent: string | undefined, depth: number): void => {
    // By label: siblings that start in the same microsecond have no order to rely on.
    const children = (byParent.get(parent) ?? []).sort((a, b) => label(a).localeCompare(label(b)))
    for (const s of children) {
      lines.push(`${'  '.repeat(depth)}${label(s)}`)
      walk(s.spanContext().spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  return lines
}

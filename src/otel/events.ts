/**
 * fanout's `TraceEvent`s in OpenTelemetry terms: what happened inside a span becomes a span
 * event on the span current when it happened (a retry scheduled, a hedge fired, a timeout, a
 * queue wait, a breaker opening, a store failing over); a cache lookup becomes a span of its own;
 * the counts go to the metrics. Names only, never keys or messages: events
 * carry none.
 */
import type { Attributes, Tracer } from '@opentelemetry/api'
import type { TraceEvent } from '../core/trace.js'
import { api } from './api.js'
import type { Instruments } from './metrics.js'

function annotate(name: string, attributes: Attributes): void {
  api.trace.getActiveSpan()?.addEvent(name, attributes)
}

function cacheSpan(tracer: Tracer, cache: string, result: string, revalidated: boolean): void {
  const span = tracer.startSpan(`cache ${cache}`, {
    kind: api.SpanKind.INTERNAL,
    attributes: {
      'fanout.cache.name': cache,
      'fanout.cache.result': result,
      ...(revalidated ? { 'fanout.cache.revalidated': true } : {}),
    },
  })
  span.end()
}

/** Events that spans already stand for: they are not counted as policy events. */
const SPANNED: ReadonlySet<string> = new Set([
  'task.started',
  'task.settled',
  'attempt.started',
  'request.started',
  'request.finished',
  'batch.dispatched',
  'batch.settled',
])

/** The handler of the `fanout:event` channel. */
export function eventHandler(
  tracer: Tracer,
  metrics: Instruments | undefined,
): (message: unknown) => void {
  return (message) => {
    const e = message as TraceEvent
    if (metrics !== undefined && !SPANNED.has(e.type))
      metrics.policyEvents.add(1, { 'fanout.event': e.type })
    switch (e.type) {
      case 'retry.scheduled':
        annotate('fanout.retry.scheduled', {
          'fanout.attempt': e.attempt,
          'fanout.retry.delay_ms': e.delayMs,
          'fanout.retry.reason': e.reason,
          'fanout.retry.cause': e.cause,
        })
        metrics?.retries.add(1, { 'fanout.retry.reason': e.reason })
        return
      case 'retry.budgetExhausted':
        annotate('fanout.retry.budget_exhausted', { 'fanout.attempt': e.attempt })
        return
      case 'hedge.fired':
        annotate('fanout.hedge.fired', {
          'fanout.hedge': e.hedge,
          'fanout.hedge.after_ms': e.afterMs,
        })
        return
      case 'hedge.won':
        annotate('fanout.hedge.won', { 'fanout.hedge.winner': e.winner })
        return
      case 'timeout.fired':
        annotate('fanout.timeout', { 'fanout.timeout_ms': e.timeoutMs })
        return
      case 'circuit.changed':
        annotate('fanout.breaker.changed', {
          'fanout.breaker.name': e.breaker,
          'fanout.breaker.from': e.from,
          'fanout.breaker.state': e.to,
        })
        metrics?.breakerTransitions.add(1, {
          'fanout.breaker.name': e.breaker,
          'fanout.breaker.state': e.to,
        })
        return
      case 'slot.waited':
      case 'rate.waited': {
        const kind = e.type === 'slot.waited' ? 'concurrency' : 'rate'
        const attributes = { 'fanout.limiter.name': e.limiter, 'fanout.limiter.kind': kind }
        annotate('fanout.queue.wait', { ...attributes, 'fanout.queue.wait_ms': e.waitMs })
        metrics?.queueWait.record(e.waitMs / 1000, attributes)
        return
      }
      case 'cache.hit':
      case 'cache.missed':
      case 'cache.staleServed': {
        const result = e.type === 'cache.hit' ? 'hit' : e.type === 'cache.missed' ? 'miss' : 'stale'
        cacheSpan(tracer, e.cache, result, e.type === 'cache.hit' && e.revalidated === true)
        metrics?.cacheRequests.add(1, {
          'fanout.cache.name': e.cache,
          'fanout.cache.result': result,
        })
        return
      }
      case 'store.failed':
        annotate('fanout.store.failed', {
          'fanout.store.name': e.store,
          'fanout.store.operation': e.operation,
          'fanout.store.reason': e.reason,
          'fanout.store.policy': e.policy,
        })
        return
      default:
        return
    }
  }
}

/**
 * The metrics fanout/otel records, on the stable HTTP semantic conventions where one applies
 * (`http.client.request.duration`) and under `fanout.*` for the rest. Attributes name only
 * components (a flow, a limiter, a breaker, a cache), never keys or users: their number stays
 * bounded by the code, not by the traffic.
 */
import type { Histogram, Meter, Counter, UpDownCounter } from '@opentelemetry/api'

export interface Instruments {
  /** Seconds per HTTP hop, when fanout makes the HTTP spans (see `httpSpans`). */
  readonly httpDuration: Histogram
  /** Seconds a call waited in a limiter's queue: `fanout.limiter.kind` is concurrency or rate. */
  readonly queueWait: Histogram
  /** Flow tasks running now. */
  readonly active: UpDownCounter
  /** Retries scheduled, by `fanout.retry.reason` (backoff or retry-after). */
  readonly retries: Counter
  /** Circuit breaker transitions, by breaker and `fanout.breaker.state` (the new state). */
  readonly breakerTransitions: Counter
  /** Cache lookups by `fanout.cache.result` (hit, miss, stale): the hit ratio is hit / all. */
  readonly cacheRequests: Counter
  /** Every policy event (a retry, a hedge, a timeout, a wait, a breaker change…), by `fanout.event`. */
  readonly policyEvents: Counter
}

/** Bucket boundaries the HTTP semantic conventions advise for request durations, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

export function instruments(meter: Meter): Instruments {
  return {
    httpDuration: meter.createHistogram('http.client.request.duration', {
      description: 'Duration of HTTP client requests.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    queueWait: meter.createHistogram('fanout.queue.wait.duration', {
      description: 'Time a call waited in a limiter queue before it ran.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    active: meter.createUpDownCounter('fanout.task.active', {
      description: 'Flow tasks running now.',
      unit: '{task}',
    }),
    retries: meter.createCounter('fanout.retries', {
      description: 'Retries scheduled after a failed attempt.',
      unit: '{retry}',
    }),
    breakerTransitions: meter.createCounter('fanout.breaker.transitions', {
      description: 'Circuit breaker state changes.',
      unit: '{transition}',
    }),
    cacheRequests: meter.createCounter('fanout.cache.requests', {
      description: 'Cache lookups, by result (hit, miss, stale).',
      unit: '{request}',
    }),
    policyEvents: meter.createCounter('fanout.policy.events', {
      description: 'Events of the policies (retries, hedges, timeouts, waits, breaker changes…).',
      unit: '{event}',
    }),
  }
}

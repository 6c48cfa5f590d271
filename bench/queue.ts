/**
 * `queue`: what fanout's job layer costs over the broker's own client, on the same broker in the
 * same process. For each backend, the raw client (BullMQ's `Worker` and `queue.add()`; amqplib's
 * consume + ack and confirmed publish to a quorum queue) against `worker()` and `offload()` on
 * fanout's backend doing the same durable work:
 *
 * - `worker_per_s`: jobs drained per second by one worker, no-op handler;
 * - `enqueue_p50_ms` / `enqueue_p99_ms`: one enqueue at a time, as a route makes it;
 * - `worker_vs_raw` and `enqueue_p50_vs_raw`: fanout's value divided by the raw client's, the
 *   numbers the project holds itself to (≥ 0.9 and ≤ 1.1).
 *
 * Metric names start with the backend (`bullmq_…`, `amqp_…`); a suffix says the variant
 * (`_ioredis`: BullMQ over ioredis; `_redis_records`: fanout's RabbitMQ backend keeping its job
 * records in Redis, against the same raw amqplib run).
 *
 * The parts live in `queue-bullmq.ts` and `queue-amqp.ts`; a backend whose broker is not answering
 * is skipped with a note.
 */
import type { BenchContext, BenchReport, Benchmark, Measurement, TableSpec } from './harness.js'
import { amqpMeasurements } from './queue-amqp.js'
import { bullmqMeasurements } from './queue-bullmq.js'

/** fanout's row over the raw row, for the metrics the bars are about. */
function ratios(
  all: readonly Measurement[],
  fanout: string,
  raw: string,
  prefix: string,
  suffix: string,
  rawSuffix = suffix,
): Measurement[] {
  const value = (contender: string, metric: string): number | undefined =>
    all.find((m) => m.contender === contender && m.metric === metric)?.value
  const out: Measurement[] = []
  for (const [metric, name] of [
    ['worker_per_s', 'worker_vs_raw'],
    ['enqueue_p50_ms', 'enqueue_p50_vs_raw'],
  ] as const) {
    const f = value(fanout, `${prefix}${metric}${suffix}`)
    const r = value(raw, `${prefix}${metric}${rawSuffix}`)
    if (f !== undefined && r !== undefined && r > 0)
      out.push({ contender: fanout, metric: `${prefix}${name}${suffix}`, value: f / r, unit: 'x' })
  }
  return out
}

function table(title: string, raw: string, prefix: string, suffix: string): TableSpec {
  return {
    title,
    metrics: [
      `${prefix}worker_per_s${suffix}`,
      `${prefix}enqueue_p50_ms${suffix}`,
      `${prefix}enqueue_p99_ms${suffix}`,
      `${prefix}worker_vs_raw${suffix}`,
      `${prefix}enqueue_p50_vs_raw${suffix}`,
    ],
    baseline: raw,
  }
}

export const queue: Benchmark = {
  name: 'queue',
  description:
    "Background jobs: fanout's worker() and offload() over BullMQ and RabbitMQ against the raw clients (jobs/s, enqueue latency)",
  async run(ctx: BenchContext): Promise<BenchReport> {
    const bull = await bullmqMeasurements({ progress: ctx.progress })
    const amqp = await amqpMeasurements({ progress: ctx.progress })
    // Each part's metrics get its backend's name, so the tables keep the backends apart.
    const named = (part: readonly Measurement[], backend: string): Measurement[] =>
      part.map((m) => ({ ...m, metric: `${backend}_${m.metric}` }))
    const measured = [...named(bull.measurements, 'bullmq'), ...named(amqp.measurements, 'amqp')]
    const measurements = [
      ...measured,
      ...ratios(measured, 'fanout-bullmq', 'bullmq', 'bullmq_', ''),
      ...ratios(measured, 'fanout-bullmq', 'bullmq', 'bullmq_', '_ioredis'),
      ...ratios(measured, 'fanout-amqp', 'amqplib', 'amqp_', ''),
      // The raw client keeps no job records: fanout with Redis records against the same raw run.
      ...ratios(measured, 'fanout-amqp', 'amqplib', 'amqp_', '_redis_records', ''),
    ]
    return {
      measurements,
      notes: [...bull.notes, ...amqp.notes],
      tables: [
        table('BullMQ on Redis, node-redis client', 'bullmq', 'bullmq_', ''),
        table('BullMQ on Redis, ioredis client', 'bullmq', 'bullmq_', '_ioredis'),
        table('RabbitMQ (amqplib), job records in memory', 'amqplib', 'amqp_', ''),
        table('RabbitMQ (amqplib), job records in Redis', 'amqplib', 'amqp_', '_redis_records'),
      ],
    }
  },
}

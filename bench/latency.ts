/** Latency percentiles of a run's samples (ms), as the queue benchmarks report them. */
export interface Latency {
  readonly p50: number
  readonly p99: number
}

/** Sorts `samples` in place and reads its p50 and p99. */
export function percentiles(samples: Float64Array): Latency {
  samples.sort()
  return {
    p50: samples[Math.floor(samples.length * 0.5)]!,
    p99: samples[Math.floor(samples.length * 0.99)]!,
  }
}

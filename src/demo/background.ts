/**
 * The demo's background work: the fanout page offloads "recompute recommendations" to an
 * embedded `memoryQueue()`, and a `worker()` in the same process runs the recomputes under a
 * retry policy while the page has long answered. A real service runs the worker in another
 * process on BullMQ or RabbitMQ (docs/queue.md); the code is the same.
 */
import { retry } from '../index.js'
import {
  accepted,
  jobStatus,
  memoryQueue,
  worker,
  type JobQueue,
  type JobStatus,
  type OffloadResult,
} from '../queue/index.js'
import { recompute, RECOMPUTE_JOB, type PageHttp, type PageJobs } from './page.js'
import type { UpstreamUrls } from './upstreams.js'

/** What happened to the offloaded work, once it had settled. */
export interface BackgroundReport {
  /** Offloads the page made (each one a 202 for its visitor). */
  readonly offloads: number
  /** Offloads that found their product's recompute already there (the idempotency key). */
  readonly deduplicated: number
  /** Distinct jobs the offloads point to (one may be the warm-up's), all waited for. */
  readonly jobs: number
  readonly completed: number
  /** Jobs that ended failed or dead. */
  readonly failed: number
  /** Jobs not finished when the wait ended (none on a normal run). */
  readonly unfinished: number
  /** The 202 the route would send for the first offload: status, Location, Retry-After. */
  readonly firstAnswer: string | undefined
}

export interface Background {
  readonly jobs: PageJobs
  /** Forgets the offloads so far (the warm-up's), so the report counts the measured loads only. */
  begin(): void
  /** Waits (up to `timeoutMs`) for every job offloaded so far to finish, and reports. */
  settle(timeoutMs: number): Promise<BackgroundReport>
  close(): Promise<void>
}

export function startBackground(http: PageHttp, urls: UpstreamUrls): Background {
  const queue = memoryQueue({ maxQueued: 1_000 })
  const runner = worker(
    queue,
    RECOMPUTE_JOB,
    async (data: { productId: number }, ctx) => {
      await recompute(http, urls, data.productId, ctx)
      return { productId: data.productId }
    },
    { concurrency: 4, attempts: 3, policies: [retry({ maxAttempts: 2, baseDelay: 20 })] },
  )
  const ids = new Set<string>()
  let offloads = 0
  let deduplicated = 0
  let first: OffloadResult | undefined
  const jobs: PageJobs = {
    queue,
    onOffload(result) {
      offloads++
      if (result.deduplicated) deduplicated++
      first ??= result
      ids.add(result.jobId)
    },
  }
  return {
    jobs,
    begin() {
      ids.clear()
      offloads = deduplicated = 0
      first = undefined
    },
    async settle(timeoutMs) {
      const statuses = await settled(queue, [...ids], timeoutMs)
      const count = (...states: JobStatus['state'][]): number =>
        statuses.filter((s) => s !== undefined && states.includes(s.state)).length
      const completed = count('completed')
      const failed = count('failed', 'dead')
      return {
        offloads,
        deduplicated,
        jobs: ids.size,
        completed,
        failed,
        unfinished: ids.size - completed - failed,
        firstAnswer: first === undefined ? undefined : answer(first),
      }
    },
    async close() {
      await runner.close({ graceMs: 1_000 })
      await queue.close()
    },
  }
}

/** The jobs' statuses once all are final, or as they are when `timeoutMs` runs out. */
async function settled(
  queue: JobQueue,
  ids: readonly string[],
  timeoutMs: number,
): Promise<(JobStatus | undefined)[]> {
  const until = performance.now() + timeoutMs
  for (;;) {
    const statuses = await Promise.all(ids.map((id) => jobStatus(queue, id)))
    const open = statuses.some((s) => s?.state === 'queued' || s?.state === 'running')
    if (!open || performance.now() >= until) return statuses
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function answer(result: OffloadResult): string {
  const response = accepted(result, { location: `/jobs/${result.jobId}` })
  const location = response.headers.get('location') ?? ''
  const shown = location.length > 24 ? `${location.slice(0, 21)}…` : location
  return `${response.status} Accepted, Location: ${shown}, Retry-After: ${response.headers.get('retry-after')}`
}

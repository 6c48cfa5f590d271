/**
 * The two-process jobs example (examples/jobs.ts) against real Redis: a route that answers 202
 * and a worker process on one BullMQ queue. One Idempotency-Key gives one job; the renderer's 503
 * is absorbed by the worker's retry policy, so the job completes on its first queue attempt.
 */
import { describe, expect, it } from 'vitest'
import { runJobsExample } from '../../examples/jobs.js'
import { REDIS_HOST, REDIS_PORT, redisRequired, redisUp } from '../helpers/redis.js'

describe.runIf(redisUp || redisRequired)('examples/jobs.ts', () => {
  it('a 202 route and a worker process: one job per Idempotency-Key, completed with its result', async () => {
    const run = await runJobsExample(`redis://${REDIS_HOST}:${REDIS_PORT}`)
    const [first, second] = run.submissions
    expect(first!.status).toBe(202)
    expect(second!.status).toBe(202)
    expect(second!.jobId).toBe(first!.jobId)
    expect(first!.location).toBe(`/jobs/${first!.jobId}`)
    expect(run.final).toEqual({
      id: first!.jobId,
      name: 'render-report',
      state: 'completed',
      attemptsMade: 1,
      result: { reportId: 'weekly-42', pages: 3, attempt: 1 },
    })
    // One 503, then the render: the retry happened inside the worker, not on the queue.
    expect(run.renderCalls).toBe(2)
  }, 60_000)
})

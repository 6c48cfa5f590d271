import { describe, expectTypeOf, it } from 'vitest'
import {
  memoryQueue,
  offload,
  worker,
  jobStatus,
  type JobContext,
  type JobData,
  type JobStatus,
  type OffloadResult,
  type Worker,
} from '../../src/queue/index.js'

const queue = memoryQueue()

describe('fanout/queue types', () => {
  it('offload() takes JSON data only and resolves with the job id', () => {
    expectTypeOf(offload(queue, 'job', { id: 1, tags: ['a'], note: null })).toEqualTypeOf<
      Promise<OffloadResult>
    >()
    type Report = { readonly reportId: string; readonly pages: readonly number[] }
    const report: Report = { reportId: 'r', pages: [1] }
    void offload(queue, 'job', report)
    // Interfaces pass too (JobData's index signature alone would refuse them), optional members too.
    interface Order {
      readonly id: string
      readonly lines: readonly { sku: string; qty: number }[]
      readonly note?: string
    }
    const order: Order = { id: 'o', lines: [{ sku: 's', qty: 1 }] }
    expectTypeOf(offload(queue, 'job', order)).toEqualTypeOf<Promise<OffloadResult>>()
    // @ts-expect-error undefined is not JSON
    void offload(queue, 'job', undefined)
    // @ts-expect-error a Map is not JSON
    void offload(queue, 'job', { byId: new Map<string, number>() })
    // @ts-expect-error a Date is not JSON: it would arrive as a string
    void offload(queue, 'job', { at: new Date() })
    // @ts-expect-error functions do not cross a process boundary
    void offload(queue, 'job', { run: () => 1 })
    // @ts-expect-error options are checked too
    void offload(queue, 'job', 1, { attempts: '3' })
  })

  it('worker() infers the data from the handler and checks its result is JSON', () => {
    const w = worker(queue, 'job', (data: { readonly n: number }, ctx) => {
      expectTypeOf(data.n).toEqualTypeOf<number>()
      expectTypeOf(ctx).toEqualTypeOf<JobContext>()
      expectTypeOf(ctx.jobId).toEqualTypeOf<string>()
      expectTypeOf(ctx.attempt).toEqualTypeOf<number>()
      expectTypeOf(ctx.attempts).toEqualTypeOf<number>()
      expectTypeOf(ctx.deadline).toEqualTypeOf<number | null>()
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>()
      return Promise.resolve({ doubled: data.n * 2 })
    })
    expectTypeOf(w).toEqualTypeOf<Worker>()
    interface Job {
      readonly id: string
    }
    interface Done {
      readonly url: string
    }
    worker(queue, 'job', (data: Job): Done => ({ url: data.id }))
    // A handler with nothing to return completes with null.
    worker(queue, 'job', async () => {})
    // @ts-expect-error a result must be JSON: it is stored in the broker
    worker(queue, 'job', () => new Map<string, number>())
    // @ts-expect-error the data a job carries is JSON, never a class instance
    worker(queue, 'job', (data: { at: Date }) => data.at.getTime())
  })

  it('explicit type arguments pin both sides', () => {
    worker<{ id: string }, { ok: boolean }>(queue, 'job', (data) => {
      expectTypeOf(data).toEqualTypeOf<{ id: string }>()
      return { ok: true }
    })
  })

  it('jobStatus() narrows on state', async () => {
    const status = await jobStatus(queue, 'id')
    expectTypeOf(status).toEqualTypeOf<JobStatus | undefined>()
    if (status?.state === 'completed') expectTypeOf(status.result).toEqualTypeOf<JobData>()
    if (status?.state === 'dead') expectTypeOf(status.error.code).toEqualTypeOf<string>()
    if (status?.state === 'queued') expectTypeOf(status.runAt).toEqualTypeOf<number | null>()
  })
})

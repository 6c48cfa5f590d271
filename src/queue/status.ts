/**
 * Thin helpers for the routes around jobs: `GET /jobs/:id` (`jobStatus`, `statusResponse`),
 * an operator's requeue of the dead letter, a client's cancel. They check their arguments and
 * turn a broker's raw failure into `QueueUnavailableError`, like `offload()`.
 */
import { isFanoutError, QueueUnavailableError } from '../core/errors.js'
import { invoke } from '../core/call.js'
import { checkKnownKeys, checkNumber, snapshot } from '../core/validate.js'
import { InvalidOptionError } from '../core/errors.js'
import type { JobQueue, JobStatus } from './job-queue.js'
import { checkJobId, checkJobName } from './job-name.js'

function guarded<T>(queue: JobQueue, operation: string, fn: () => Promise<T>): Promise<T> {
  return invoke(fn).catch((error: unknown) => {
    if (isFanoutError(error)) throw error
    throw new QueueUnavailableError(
      queue.backend,
      operation,
      'error',
      `the ${queue.backend} queue could not answer ${operation}`,
      { cause: error },
    )
  })
}

/** The job's status, or `undefined` when the queue does not know the id (never added, or past its retention). */
export function jobStatus(queue: JobQueue, id: string): Promise<JobStatus | undefined> {
  checkJobId('jobStatus()', id)
  return guarded(queue, 'status', () => queue.status(id))
}

/** Cancels a queued job, or aborts a running one's signal; false when unknown or already final. */
export function cancelJob(queue: JobQueue, id: string): Promise<boolean> {
  checkJobId('cancelJob()', id)
  return guarded(queue, 'cancel', () => queue.cancel(id))
}

export interface RequeueDeadOptions {
  /** Only these jobs; default every dead job of the name. */
  readonly ids?: readonly string[]
}

/** Puts dead-lettered jobs back to run again, with their attempts reset; answers how many. */
export function requeueDead(
  queue: JobQueue,
  name: string,
  options?: RequeueDeadOptions,
): Promise<number> {
  checkJobName('requeueDead()', name)
  const opts = snapshot('requeueDead()', options)
  checkKnownKeys('requeueDead()', opts, ['ids'])
  if (opts.ids !== undefined) {
    if (!Array.isArray(opts.ids))
      throw new InvalidOptionError('requeueDead(): `ids` must be an array of job ids.')
    checkNumber('requeueDead()', 'ids.length', opts.ids.length, {
      min: 0,
      max: 10_000,
      integer: true,
    })
    for (const id of opts.ids) checkJobId('requeueDead()', id)
  }
  const ids = opts.ids === undefined ? undefined : [...opts.ids]
  return guarded(queue, 'requeueDead', () =>
    queue.requeueDead(name, ids === undefined ? undefined : { ids }),
  )
}

/**
 * The body of `GET /jobs/:id`: the status itself, a JSON document whose shape is `JobStatus`
 * (`{ id, name, state, attemptsMade, … }` with `runAt`/`lastError` when queued, `result` when
 * completed, `error: { code, status }` when failed or dead). 404 for an unknown id; a
 * `Retry-After` while the job is not final.
 */
export function statusResponse(
  status: JobStatus | undefined,
  options?: { readonly retryAfter?: number },
): Response {
  const opts = snapshot('statusResponse()', options)
  checkKnownKeys('statusResponse()', opts, ['retryAfter'])
  const retryAfter =
    opts.retryAfter === undefined
      ? 1
      : checkNumber('statusResponse()', 'retryAfter', opts.retryAfter, {
          min: 0,
          max: 86_400,
          integer: true,
          unit: 's',
        })
  const json = { 'content-type': 'application/json' }
  if (status === undefined)
    return new Response(JSON.stringify({ error: 'not found' }), { status: 404, headers: json })
  const pending = status.state === 'queued' || status.state === 'running'
  return new Response(JSON.stringify(status), {
    status: 200,
    headers: pending ? { ...json, 'retry-after': String(retryAfter) } : json,
  })
}

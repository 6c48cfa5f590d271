/**
 * Slow work off the request path, in two processes sharing one BullMQ queue on Redis:
 *
 *   npx tsx examples/jobs.ts        (Redis on 127.0.0.1:6379, or REDIS_URL)
 *
 * The parent is the web service. Its routes, on loopback:
 *
 *   POST /reports     offload('render-report') with the request's Idempotency-Key, answered
 *                     202 Accepted with Location: /jobs/:id and Retry-After (503 if the queue
 *                     cannot take it: the enqueue fails fast, it never hangs the request)
 *   GET  /jobs/:id    jobStatus(), for the client to poll
 *
 * It forks a worker process that runs `worker(queue, 'render-report', …)`: the handler calls a
 * flaky renderer (its first answer is a 503) through a `retry()` policy, so the short transient
 * is absorbed in-process and the job completes on its first queue-level attempt. The parent then
 * plays a client: it submits the same report twice with one Idempotency-Key (one job), polls the
 * Location until the job completes, and stops the worker with SIGTERM (a graceful close).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { retry } from '../src/index.js'
import {
  acceptedHeaders,
  idempotencyKeyOf,
  jobStatus,
  offload,
  statusResponse,
  worker,
  type JobQueue,
} from '../src/queue/index.js'
import { bullmqQueue } from '../src/queue-bullmq/index.js'

/** What the client saw. */
export interface JobsRun {
  /** The two submissions: status, Location and job id of each. */
  readonly submissions: readonly { status: number; location: string; jobId: string }[]
  /** The status body the client read last. */
  readonly final: unknown
  /** Calls the renderer received (a 503, then the render). */
  readonly renderCalls: number
  /** Status polls the client made before the job completed. */
  readonly polls: number
}

interface WorkerInput {
  readonly redisUrl: string
  readonly prefix: string
  readonly renderer: string
}

const JOB = 'render-report'

async function openQueue(redisUrl: string, prefix: string) {
  const client = await createClient({ url: redisUrl }).connect()
  return { queue: bullmqQueue({ connection: client, prefix }), client }
}

// --- the worker process ---------------------------------------------------------------------

async function runWorker({ redisUrl, prefix, renderer }: WorkerInput): Promise<void> {
  const { queue, client } = await openQueue(redisUrl, prefix)
  const reports = worker(
    queue,
    JOB,
    async (data: { reportId: string }, ctx) => {
      const response = await fetch(`${renderer}/render/${data.reportId}`, { signal: ctx.signal })
      // A 503 is a transient: thrown with its status, the retry() policy tries again.
      if (!response.ok) throw Object.assign(new Error('renderer busy'), { status: response.status })
      const { pages } = (await response.json()) as { pages: number }
      return { reportId: data.reportId, pages, attempt: ctx.attempt }
    },
    { concurrency: 2, policies: [retry({ maxAttempts: 3, baseDelay: 50 })] },
  )
  process.send!('ready')
  // SIGTERM: stop fetching, let a running report finish for up to 10 s, then exit.
  process.once('SIGTERM', () => {
    void reports
      .close({ graceMs: 10_000 })
      .then(() => queue.close())
      .then(() => client.close())
      .then(() => process.exit(0))
  })
}

// --- the web service ------------------------------------------------------------------------

function routes(queue: JobQueue) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://service')
    if (req.method === 'POST' && url.pathname === '/reports') {
      const reportId = url.searchParams.get('id') ?? 'weekly'
      const key = idempotencyKeyOf(req)
      try {
        const job = await offload(
          queue,
          JOB,
          { reportId },
          {
            // The key identifies the submission; the scope keeps one tenant's keys from another's.
            ...(key === undefined ? {} : { idempotencyKey: key, scope: 'tenant-1' }),
            deadline: 500,
          },
        )
        res.writeHead(202, acceptedHeaders(job, { location: `/jobs/${job.jobId}` }))
        res.end(JSON.stringify(job))
      } catch {
        res.writeHead(503, { 'retry-after': '5' }).end()
      }
      return
    }
    const id = /^\/jobs\/([\w-]+)$/.exec(url.pathname)?.[1]
    if (req.method === 'GET' && id !== undefined) {
      // A Web Response (what Next.js and Hono routes return); here copied onto Node's res.
      const answer = statusResponse(await jobStatus(queue, id))
      answer.headers.forEach((value, name) => res.setHeader(name, value))
      res.writeHead(answer.status).end(await answer.text())
      return
    }
    res.writeHead(404).end()
  }
}

/** A renderer whose first answer is a 503. */
function renderer() {
  let calls = 0
  const server = createServer((req, res) => {
    calls++
    if (calls === 1) return void res.writeHead(503).end()
    setTimeout(() => res.end(JSON.stringify({ pages: 3 })), 50)
  })
  return { server, calls: () => calls }
}

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Runs the service, the worker process and the client; says what the client saw. */
export async function runJobsExample(
  redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  log: (line: string) => void = () => {},
): Promise<JobsRun> {
  const prefix = `fanout-example-jobs:${process.pid}:${Date.now()}`
  const { queue, client } = await openQueue(redisUrl, prefix)
  const render = renderer()
  const service = createServer((req, res) => void routes(queue)(req, res))
  let child: ChildProcess | undefined
  try {
    const [base, rendererUrl] = await Promise.all([listen(service), listen(render.server)])
    child = await forkWorker({ redisUrl, prefix, renderer: rendererUrl })
    const submissions = []
    for (let i = 0; i < 2; i++) {
      // eslint-disable-next-line fanout/no-await-in-loop-independent -- the second submission is a client's retry: it comes after the first answer
      const response = await fetch(`${base}/reports?id=weekly-42`, {
        method: 'POST',
        headers: { 'idempotency-key': '"6f1c2a9e-report-weekly-42"' },
      })
      const { jobId } = (await response.json()) as { jobId: string }
      const location = response.headers.get('location') ?? ''
      submissions.push({ status: response.status, location, jobId })
      log(`POST /reports → ${response.status}, Location: ${location}`)
    }
    let polls = 0
    let final: unknown
    for (;;) {
      polls++
      final = await (await fetch(`${base}${submissions[0]!.location}`)).json()
      if (
        (final as { state?: string }).state !== 'queued' &&
        (final as { state?: string }).state !== 'running'
      )
        break
      if (polls > 200) throw new Error('the job did not finish within 20 s')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    log(`GET ${submissions[0]!.location} → ${JSON.stringify(final)}`)
    return { submissions, final, renderCalls: render.calls(), polls }
  } finally {
    if (child !== undefined) await stop(child)
    await new Promise<void>((resolve) => service.close(() => resolve()))
    await new Promise<void>((resolve) => render.server.close(() => resolve()))
    await queue.close()
    await removeKeys(client, prefix)
    await client.close()
  }
}

function forkWorker(input: WorkerInput): Promise<ChildProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['worker', JSON.stringify(input)], {
    execArgv: ['--import', 'tsx'],
  })
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child))
    child.once('exit', (code) =>
      reject(new Error(`the worker exited (${code}) before it was ready`)),
    )
  })
}

/** SIGTERM, and wait for the worker's graceful exit. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

async function removeKeys(client: Awaited<ReturnType<typeof openQueue>>['client'], prefix: string) {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
    if (keys.length > 0) await client.unlink(keys)
}

if (process.argv[2] === 'worker') {
  await runWorker(JSON.parse(process.argv[3]!) as WorkerInput)
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = await runJobsExample(undefined, (line) => console.log(line))
  const [first, second] = run.submissions
  console.log(
    `one Idempotency-Key, two submissions, ${first!.jobId === second!.jobId ? 'one job' : 'two jobs (unexpected)'}; ` +
      `the renderer saw ${run.renderCalls} calls (a 503 retried in the worker); the client polled ${run.polls} times.`,
  )
}

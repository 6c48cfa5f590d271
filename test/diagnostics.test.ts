/**
 * fanout on node:diagnostics_channel: what each channel publishes, once, and only while someone
 * subscribes; a subscriber's `within` runs the work; a `fanout:request` subscriber's headers go
 * out with the hop.
 */
import diagnostics from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { execute, flow, Loader, type TraceEvent } from '../src/index.js'
import { noopRecorder } from '../src/policies/index.js'
import {
  diagnosticsChannels,
  subscribeDiagnostics,
  type AttemptMessage,
  type RequestMessage,
  type RunMessage,
  type TaskMessage,
} from '../src/diagnostics/index.js'
import { createHttpClient } from '../src/http/index.js'
import { closeAll, serve } from './helpers/upstream.js'

const stops: (() => void)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0)) stop()
  await closeAll()
})

function watch(): {
  events: TraceEvent[]
  starts: string[]
  ends: string[]
} {
  const events: TraceEvent[] = []
  const starts: string[] = []
  const ends: string[] = []
  stops.push(
    subscribeDiagnostics({
      event: (e) => events.push(e),
      run: {
        start: (m: RunMessage) => starts.push(`run ${m.kind} ${m.name}`),
        end: (m) => ends.push(`run ${m.name}${m.error === undefined ? '' : ' failed'}`),
      },
      task: {
        start: (m: TaskMessage) => starts.push(`task ${m.flow}.${m.task}${m.gate ? ' gate' : ''}`),
        end: (m) => ends.push(`task ${m.task}`),
      },
      attempt: {
        start: (m: AttemptMessage) => starts.push(`attempt ${m.task} #${m.attempt}`),
        end: (m) => ends.push(`attempt ${m.task} #${m.attempt}${m.error ? ' failed' : ''}`),
      },
    }),
  )
  return { events, starts, ends }
}

describe('diagnostics channels', () => {
  it('stay off without a subscriber: the recorder of an unobserved call is disabled', () => {
    expect(noopRecorder.enabled).toBe(false)
    const stop = subscribeDiagnostics({ event: () => {} })
    expect(noopRecorder.enabled).toBe(true)
    stop()
    expect(noopRecorder.enabled).toBe(false)
  })

  it('publish a flow run, its tasks and each retry attempt, in order', async () => {
    const seen = watch()
    let calls = 0
    const page = flow('page')
      .gate('auth', async () => 'ok')
      .task(
        'user',
        async () => {
          if (++calls === 1) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' })
          return 'ada'
        },
        { retry: { maxAttempts: 2, baseDelay: 1 } },
      )
    expect(await page.run()).toEqual({ auth: 'ok', user: 'ada' })
    expect(seen.starts).toEqual([
      'run flow page',
      'task page.auth gate',
      'task page.user',
      'attempt user #1',
      'attempt user #2',
    ])
    expect(seen.ends).toEqual([
      'task auth',
      'attempt user #1 failed',
      'attempt user #2',
      'task user',
      'run page',
    ])
    expect(seen.events.map((e) => e.type)).toEqual([
      'task.started',
      'task.settled',
      'task.started',
      'attempt.started',
      'retry.scheduled',
      'attempt.started',
      'task.settled',
    ])
  })

  it('publish an execute() call, and its failure', async () => {
    const seen = watch()
    await expect(
      execute(async () => Promise.reject(new Error('no')), { name: 'lookup' }),
    ).rejects.toThrow('no')
    expect(seen.starts).toEqual(['run call lookup'])
    expect(seen.ends).toEqual(['run lookup failed'])
  })

  it('run the work through a subscriber’s `within`, so its context is current inside', async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks')
    const store = new AsyncLocalStorage<string>()
    const seenInside: (string | undefined)[] = []
    stops.push(
      subscribeDiagnostics({
        task: {
          start: (m) => {
            m.within = (fn) => store.run(`span:${m.task}`, fn)
          },
        },
      }),
    )
    await flow('f')
      .task('a', async () => void seenInside.push(store.getStore()))
      .task('b', async () => {
        await Promise.resolve()
        seenInside.push(store.getStore())
      })
      .run()
    expect(seenInside).toEqual(['span:a', 'span:b'])
  })

  it('carry a store bound to a channel’s start (bindStore) into the work', async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks')
    const store = new AsyncLocalStorage<string>()
    const start = diagnostics.tracingChannel('fanout:task').start
    start.bindStore(store, (m) => `bound:${(m as TaskMessage).task}`)
    try {
      let inside: string | undefined
      await flow('f')
        .task('a', async () => {
          await Promise.resolve()
          inside = store.getStore()
        })
        .run()
      expect(inside).toBe('bound:a')
    } finally {
      start.unbindStore(store)
    }
  })

  it('publish a shared batch’s events once, however many callers wait on it', async () => {
    const seen = watch()
    const users = new Loader(async (ids: readonly number[]) => ids.map((id) => ({ id })), {
      id: (u: { id: number }) => u.id,
      name: 'users',
    })
    await flow('two')
      .task('a', (_, ctx) => users.load(1, { context: ctx }))
      .task('b', (_, ctx) => users.load(2, { context: ctx }))
      .run()
    const batch = seen.events.filter((e) => e.type.startsWith('batch.'))
    expect(batch.map((e) => e.type)).toEqual(['batch.dispatched', 'batch.settled'])
  })

  it('let a fanout:request subscriber add a header to the hop, and report its status', async () => {
    const upstream = await serve((_req, res) => res.end('{}'))
    const ends: RequestMessage[] = []
    stops.push(
      subscribeDiagnostics({
        request: {
          start: (m) => {
            m.headers['traceparent'] = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
          },
          end: (m) => ends.push(m),
        },
      }),
    )
    const client = createHttpClient({ ssrf: { allow: ['loopback'] }, retry: false })
    stops.push(() => void client.close())
    await client.json(upstream.url('/items?api_key=secret'))
    expect(upstream.seen[0]!.headers['traceparent']).toMatch(/^00-0af7/)
    expect(ends).toHaveLength(1)
    expect(ends[0]).toMatchObject({ method: 'GET', path: '/items', status: 200, attempt: 1 })
    expect(JSON.stringify(ends[0]!.path)).not.toContain('secret')
  })

  it('names its channels, and rejects unknown handlers', () => {
    expect(diagnosticsChannels.event).toBe('fanout:event')
    expect(diagnostics.tracingChannel(diagnosticsChannels.run)).toBeDefined()
    expect(() => subscribeDiagnostics({ events: () => {} } as never)).toThrow(/events/)
    expect(() => subscribeDiagnostics({ run: {} })).toThrow(/start.*end/)
  })
})

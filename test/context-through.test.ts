/**
 * One context, every door: a flow task's context goes through `cached()` → `Loader` → `retry()`
 * → the HTTP client, so ONE deadline bounds the HTTP attempt made deep inside a cached, batched
 * call, and ONE observation hook (the run's `onEvent`) hears its events tagged with the task.
 * Real loopback server; time is a manual clock, so nothing here waits for a deadline.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { CallContext } from '../src/core/call.js'
import { DeadlineError, isFanoutError } from '../src/core/errors.js'
import type { TraceEvent } from '../src/core/trace.js'
import { Loader } from '../src/batch/loader.js'
import { cached } from '../src/cache/cached.js'
import { singleFlight } from '../src/cache/single-flight.js'
import { flow } from '../src/flow/define.js'
import { retry } from '../src/policies/retry.js'
import { memoryCacheStore } from '../src/cache/memory-store.js'
import { createHttpClient } from '../src/http/client.js'
import { manualClock } from './helpers/clocks.js'
import { closeAll, serve, waitFor } from './helpers/upstream.js'

afterEach(closeAll)

interface User {
  readonly id: number
  readonly name: string
}

/** A users service that never answers: it records when each request's connection went away. */
async function hangingUsers(clock: { now(): number }) {
  const closedAt: number[] = []
  const up = await serve((_req, res) => {
    res.on('close', () => closedAt.push(clock.now()))
  })
  return { up, closedAt }
}

/** cached() → Loader → retry() → http.json(), every step handed the caller's context. */
function profileStack(usersOrigin: string, clock: ReturnType<typeof manualClock>) {
  const clientEvents: TraceEvent[] = []
  const http = createHttpClient({
    ssrf: { allow: ['loopback'] },
    clock,
    retry: false,
    onEvent: (e) => clientEvents.push(e),
  })
  const readUsers = retry({ maxAttempts: 3 }).wrap(
    (ctx: CallContext & { readonly ids: readonly number[] }) =>
      http.json<User[]>(`${usersOrigin}/users?ids=${ctx.ids.join(',')}`, { context: ctx }),
  )
  const users = new Loader((ids: readonly number[], ctx) => readUsers({ ...ctx, ids }), {
    id: (user: User) => user.id,
    name: 'users',
    clock,
  })
  const getUser = cached((id: number, ctx) => users.load(id, { context: ctx }), {
    store: memoryCacheStore({ maxEntries: 100 }),
    ttl: 60_000,
    scope: 'shared',
    name: 'profiles',
    clock,
  })
  return { http, getUser, clientEvents }
}

const types = (events: readonly TraceEvent[]): string[] => events.map((e) => e.type)

describe('one context from a flow task to an HTTP attempt', () => {
  it('the flow deadline reaches the attempt inside cached() → Loader → retry(), and its events reach the flow tagged with the task', async () => {
    const clock = manualClock()
    const { up, closedAt } = await hangingUsers(clock)
    const { http, getUser, clientEvents } = profileStack(up.origin, clock)
    const events: TraceEvent[] = []
    const page = flow('page').task('author', (_, ctx) => getUser(7, { context: ctx }))
    const run = page.run(undefined, { clock, deadline: 1_000, onEvent: (e) => events.push(e) })
    const outcome = run.then(
      () => undefined,
      (error: unknown) => error,
    )

    await waitFor(() => up.seen.length === 1, 'the batch request')
    expect(up.seen[0]!.url).toBe('/users?ids=7')
    // Every event so far, on the run's one hook, tagged with the task that asked.
    expect(types(events)).toEqual([
      'task.started',
      'cache.missed',
      'batch.dispatched',
      'attempt.started',
      'request.started',
    ])
    expect(events.every((e) => e.task === 'author')).toBe(true)
    // The HTTP attempt saw the flow's deadline: 1,000 ms of budget at t=0.
    expect(events.at(-1)).toMatchObject({
      type: 'request.started',
      method: 'GET',
      origin: up.origin,
      path: '/users',
      attempt: 1,
      budgetMs: 1_000,
    })

    clock.advance(999)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(closedAt).toEqual([]) // still waiting, one ms before the deadline

    clock.advance(1)
    const error = await outcome
    expect(error).toBeInstanceOf(DeadlineError)
    await waitFor(() => closedAt.length === 1, 'the attempt to be aborted')
    expect(closedAt).toEqual([1_000]) // the request was cut at the flow's deadline, not later
    // The client's own hook saw the attempt end, aborted from outside, in the headers phase. It
    // hears the shared work untagged: under the batch's own task, the loader's name. (The flow
    // had left the shared call when this happened, so its hook does not hear it.)
    expect(clientEvents.find((e) => e.type === 'request.finished')).toMatchObject({
      outcome: 'aborted',
      status: 0,
      phase: 'headers',
      at: 1_000,
      task: 'users',
    })
    expect(types(events)).not.toContain('request.finished')
    // Nothing left on the clock (a spare connection undici opened may still be finishing its connect).
    await waitFor(() => clock.pending === 0, 'every timer to be released')
    await http.close()
  })

  it('shared work: two flows join one cached, batched call — its deadline is the later one, each hears it under its own task, the first to leave does not cut it', async () => {
    const clock = manualClock()
    const { up, closedAt } = await hangingUsers(clock)
    const { http, getUser } = profileStack(up.origin, clock)
    const eventsA: TraceEvent[] = []
    const eventsB: TraceEvent[] = []
    const a = flow('a')
      .task('header', (_, ctx) => getUser(7, { context: ctx }))
      .run(undefined, { clock, deadline: 500, onEvent: (e) => eventsA.push(e) })
      .catch((error: unknown) => error)
    const b = flow('b')
      .task('sidebar', (_, ctx) => getUser(7, { context: ctx }))
      .run(undefined, { clock, deadline: 1_000, onEvent: (e) => eventsB.push(e) })
      .catch((error: unknown) => error)

    await waitFor(() => up.seen.length === 1, 'the one batch request')
    const startedA = eventsA.find((e) => e.type === 'request.started')
    const startedB = eventsB.find((e) => e.type === 'request.started')
    expect(startedA).toMatchObject({ task: 'header', budgetMs: 1_000 })
    expect(startedB).toMatchObject({ task: 'sidebar', budgetMs: 1_000 })

    clock.advance(500)
    expect(await a).toBeInstanceOf(DeadlineError)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(closedAt).toEqual([]) // b still waits: the shared request goes on

    clock.advance(500)
    expect(isFanoutError(await b, 'FANOUT_DEADLINE')).toBe(true)
    await waitFor(() => closedAt.length === 1, 'the shared request to be aborted')
    expect(closedAt).toEqual([1_000])
    expect(up.seen).toHaveLength(1)
    await http.close()
  })
})

describe('SharedContext through singleFlight()', () => {
  const context = (
    task: string,
    deadlineAt: number,
    events: TraceEvent[],
    signal = new AbortController().signal,
  ): CallContext => ({
    signal,
    deadlineAt,
    attempt: 1,
    task,
    clock: { now: () => 0, setTimeout: () => ({}), clearTimeout: () => {} },
    trace: { enabled: true, emit: (e) => events.push(e) },
  })

  it('the work sees the latest deadline of those waiting, reports to each under its task, and stops reporting to one that left', async () => {
    const flights = singleFlight({ name: 'users' })
    const seenA: TraceEvent[] = []
    const seenB: TraceEvent[] = []
    const leaveA = new AbortController()
    let work: CallContext | undefined
    let finish: (value: string) => void = () => {}
    const run = (ctx: CallContext): Promise<string> => {
      work = ctx
      return new Promise((resolve) => (finish = resolve))
    }
    const pa = flights.run('k', run, { context: context('a', 500, seenA, leaveA.signal) })
    const pb = flights.run('k', run, { context: context('b', 900, seenB) })
    expect(work!.deadlineAt).toBe(900)
    expect(work!.task).toBe('users')
    const event: TraceEvent = { type: 'attempt.started', task: 'users', at: 0, attempt: 1 }
    work!.trace.emit(event)
    expect(seenA).toEqual([{ ...event, task: 'a' }])
    expect(seenB).toEqual([{ ...event, task: 'b' }])

    leaveA.abort('gone')
    await expect(pa).rejects.toBe('gone')
    expect(work!.signal.aborted).toBe(false) // b still waits
    expect(work!.deadlineAt).toBe(900)
    work!.trace.emit(event)
    expect(seenA).toHaveLength(1) // a left: it hears nothing more
    expect(seenB).toHaveLength(2)
    finish('v')
    expect(await pb).toBe('v')
  })

  it('a caller without a context (no deadline) makes the work unbounded; `signal` and `context` together are refused', async () => {
    const flights = singleFlight()
    let work: CallContext | undefined
    const p1 = flights.run('k', (ctx) => ((work = ctx), new Promise<number>(() => {})), {
      context: context('a', 500, []),
    })
    void p1.catch(() => {})
    void flights.run('k', () => 1).catch(() => {})
    expect(work!.deadlineAt).toBe(Infinity)
    await expect(
      flights.run('k', () => 1, {
        signal: new AbortController().signal,
        context: context('a', 1, []),
      }),
    ).rejects.toThrow(/give `signal` or `context`, not both/)
  })
})

/**
 * The runnable example (examples/route.ts) against its simulated services, over real HTTP on
 * 127.0.0.1. Assertions are about the shape of the traces, never about wall-clock durations.
 *
 * Latencies here are fixed (no jitter, no slow responses) and far apart: every service answers in
 * 10 ms except `balance`, which takes 300 ms. So "`access` ran while `balance` was still running"
 * has a margin of ~280 ms, which a slow or busy machine does not eat.
 */
import { describe, expect, it } from 'vitest'
import { FlowError, type FlowTrace, type TaskTrace } from '../src/index.js'
import { startServices, type ServiceOptions } from '../examples/lib/services.js'
import {
  routeFlow,
  runExample,
  DEMO_TOKEN,
  type ExampleResult,
  type Page,
  type Way,
} from '../examples/route.js'

const FIXED: ServiceOptions = {
  latencyScale: 0.2,
  latency: { auth: 50, user: 50, settings: 50, balance: 1500, access: 50 },
  jitter: 0,
  slowRate: 0,
}

const EXPECTED_PAGE: Page = {
  user: { id: 'u_7', name: 'Ada Lovelace', plan: 'pro' },
  settings: { theme: 'dark', locale: 'en-GB' },
  balance: { currency: 'EUR', cents: 123456 },
  access: { user: 'u_7', resource: 'reports', allowed: true },
}

function tasks(
  trace: FlowTrace,
): Record<string, TaskTrace & { startedAt: number; endedAt: number }> {
  const out: Record<string, TaskTrace & { startedAt: number; endedAt: number }> = {}
  for (const t of trace.tasks) {
    expect(t.status, `${trace.flow}: ${t.name}`).toBe('fulfilled')
    expect(t.startedAt).toBeTypeOf('number')
    expect(t.endedAt).toBeTypeOf('number')
    out[t.name] = t as TaskTrace & { startedAt: number; endedAt: number }
  }
  return out
}

/**
 * When a task's own work began: its function may be called early and then await `$.x`; its work
 * (here, its HTTP request) starts once the last of those reads has been answered.
 */
function workStart(task: TaskTrace & { startedAt: number }): number {
  return Math.max(task.startedAt, ...task.waits.filter((w) => w.kind === 'read').map((w) => w.to))
}

describe('examples/route.ts', () => {
  let result: ExampleResult | undefined
  const lines: string[] = []
  const run = async (): Promise<ExampleResult> =>
    (result ??= await runExample({ ...FIXED, loads: 2, seed: 1, log: (line) => lines.push(line) }))

  it('serves the same response all three ways, and prints three waterfalls and a summary', async () => {
    const { ways, requests } = await run()
    for (const way of ['sequential', 'grouped', 'fanout'] as const satisfies readonly Way[]) {
      expect(ways[way].pages).toEqual([EXPECTED_PAGE, EXPECTED_PAGE])
      expect(ways[way].traces).toHaveLength(2)
      expect(ways[way].traces.every((t) => t.status === 'fulfilled')).toBe(true)
    }
    // One request per service per load per way: nothing retried, nothing duplicated.
    expect(requests).toEqual({ auth: 6, user: 6, settings: 6, balance: 6, access: 6 })

    const out = lines.join('\n')
    expect(out).not.toMatch(/\x1b\[/) // colour is off unless asked for
    for (const heading of [
      '(a) sequential awaits: load 1 of 2',
      '(b) hand-grouped Promise.all: load 1 of 2',
      '(c) fanout flow: load 1 of 2',
    ]) {
      expect(lines).toContain(heading)
    }
    expect(out).toContain('Summary (median of 2 loads)')
    expect(out).toContain('all three returned the same response data')
  })

  it('sequential: each call starts after the previous one ended', async () => {
    const { ways } = await run()
    for (const trace of ways.sequential.traces) {
      const t = tasks(trace)
      const order = ['auth', 'user', 'settings', 'balance', 'access']
      for (let i = 1; i < order.length; i++)
        expect(t[order[i]!]!.startedAt).toBeGreaterThanOrEqual(t[order[i - 1]!]!.endedAt)
      expect(trace.criticalPath).toEqual(order)
    }
  })

  it('hand-grouped Promise.all: access waits for the whole group, balance included', async () => {
    const { ways } = await run()
    for (const trace of ways.grouped.traces) {
      const t = tasks(trace)
      for (const name of ['user', 'settings', 'balance'])
        expect(t[name]!.startedAt).toBeGreaterThanOrEqual(t.auth!.endedAt)
      expect(t.access!.startedAt).toBeGreaterThanOrEqual(t.balance!.endedAt)
      expect(trace.criticalPath).toEqual(['auth', 'balance', 'access'])
    }
  })

  it('fanout: nothing starts before auth; access runs after user and overlaps balance', async () => {
    const { ways } = await run()
    for (const trace of ways.fanout.traces) {
      const t = tasks(trace)
      expect(t.auth!.gate).toBe(true)
      // The gate: no data task was even called before auth had ended.
      for (const name of ['user', 'settings', 'balance', 'access'])
        expect(t[name]!.startedAt).toBeGreaterThanOrEqual(t.auth!.endedAt)
      // access read $.user and waited for it: its request went out only once user had ended...
      const read = t.access!.waits.find((w) => w.kind === 'read' && w.on === 'user')
      expect(read).toBeDefined()
      expect(read!.to).toBeGreaterThanOrEqual(t.user!.endedAt)
      expect(workStart(t.access!)).toBeGreaterThanOrEqual(t.user!.endedAt)
      // ...and while balance was still running: the overlap hand-grouping cannot have.
      expect(workStart(t.access!)).toBeLessThan(t.balance!.endedAt)
      expect(t.access!.endedAt).toBeLessThan(t.balance!.endedAt)
      expect(trace.criticalPath).toEqual(['auth', 'balance'])
    }
  })

  it('fanout: when auth rejects the token the flow fails on the gate and no other service is called', async () => {
    const services = await startServices(FIXED)
    try {
      const error: unknown = await routeFlow.run({ token: 'stolen', services: services.urls }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(FlowError)
      expect((error as FlowError).task).toBe('auth')
      expect((error as FlowError).message).toMatch(
        /^Flow "route": gate "auth" failed: HttpError: GET http:\/\/127\.0\.0\.1:\d+\/verify answered HTTP 401 \(no gated task was started\)$/,
      )
      expect(services.requests).toEqual({ auth: 1, user: 0, settings: 0, balance: 0, access: 0 })
      // And with the right token the same flow works against the same services.
      await expect(
        routeFlow.run({ token: DEMO_TOKEN, services: services.urls }),
      ).resolves.toMatchObject(EXPECTED_PAGE)
    } finally {
      await services.close()
    }
  })
})

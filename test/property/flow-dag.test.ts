/**
 * R8 over generated DAGs: with every task succeeding, each task starts exactly when its last
 * input is ready and the run takes exactly the critical path; with failures, a required failure
 * starts no dependant and aborts what runs, and optional failures yield their fallback.
 */
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { flow, FlowError, type Flow } from '../../src/index.js'
import { after, now, settle, useFakeTime } from '../helpers/time.js'

interface Node {
  deps: readonly number[]
  duration: number
  fails: 'no' | 'required' | 'optional'
}

const dagArb: fc.Arbitrary<Node[]> = fc.integer({ min: 1, max: 25 }).chain((n) =>
  fc.tuple(
    ...Array.from({ length: n }, (_, i) =>
      fc.record({
        deps:
          i === 0
            ? fc.constant<readonly number[]>([])
            : fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { maxLength: 3 }),
        duration: fc.integer({ min: 1, max: 50 }),
        fails: fc.constantFrom<Node['fails']>('no', 'no', 'no', 'required', 'optional'),
      }),
    ),
  ),
)

/** Start and end of every task if nothing fails; fallbacks do not change timing. */
function schedule(nodes: readonly Node[]): { start: number[]; end: number[] } {
  const start: number[] = []
  const end: number[] = []
  nodes.forEach((node, i) => {
    start[i] = Math.max(0, ...node.deps.map((d) => end[d]!))
    end[i] = start[i]! + node.duration
  })
  return { start, end }
}

function build(
  nodes: readonly Node[],
  observed: { started: Map<number, number>; aborted: Set<number> },
  t0: () => number,
) {
  let f = flow('generated') as unknown as Flow<Record<string, number>>
  nodes.forEach((node, i) => {
    const fn = async (
      $: Record<string, Promise<number>>,
      { signal }: { signal: AbortSignal },
    ): Promise<number> => {
      let sum = 0
      for (const d of node.deps) sum += await $[`t${d}`]!
      observed.started.set(i, now() - t0())
      signal.addEventListener('abort', () => observed.aborted.add(i))
      await after(node.duration, null, signal)
      if (node.fails !== 'no') throw new Error(`t${i} failed`)
      return sum + 1
    }
    f = (node.fails === 'optional'
      ? f.task(`t${i}` as never, fn as never, { fallback: -1 })
      : f.task(`t${i}` as never, fn as never)) as unknown as Flow<Record<string, number>>
  })
  return f
}

/** Runs the generated DAG under fake time and reports what happened. */
async function runGenerated(nodes: readonly Node[]) {
  useFakeTime()
  try {
    const observed = { started: new Map<number, number>(), aborted: new Set<number>() }
    const t0 = now()
    const result = await settle(build(nodes, observed, () => t0).run())
    const elapsed = now() - t0
    // Let aborted tasks observe their abort before fake time is switched off.
    await vi.advanceTimersByTimeAsync(0)
    return { observed, result, elapsed }
  } finally {
    vi.useRealTimers()
  }
}

describe('R8: generated DAGs', () => {
  it('R8: without failures each task starts when its last input is ready and the run takes the critical path', async () => {
    await fc.assert(
      fc.asyncProperty(dagArb, async (generated) => {
        const nodes = generated.map((n) => ({ ...n, fails: 'no' as const }))
        const { observed, result, elapsed } = await runGenerated(nodes)
        const { start, end } = schedule(nodes)
        expect(result.ok).toBe(true)
        nodes.forEach((_, i) => expect(observed.started.get(i)).toBe(start[i]))
        expect(elapsed).toBe(Math.max(...end))
        expect(observed.aborted.size).toBe(0)
      }),
      { numRuns: 150 },
    )
  })

  it('R8: a required failure starts no dependant and aborts every running task; optional failures fall back', async () => {
    await fc.assert(
      fc.asyncProperty(dagArb, async (nodes) => {
        const { observed, result } = await runGenerated(nodes)
        const { start, end } = schedule(nodes)
        const required = nodes.map((n, i) => i).filter((i) => nodes[i]!.fails === 'required')
        if (required.length === 0) {
          expect(result.ok).toBe(true)
          const values = (result as { value: Record<string, number> }).value
          nodes.forEach((n, i) => {
            if (n.fails === 'optional') expect(values[`t${i}`]).toBe(-1)
          })
          return
        }
        const failedAt = Math.min(...required.map((i) => end[i]!))
        expect(result.ok).toBe(false)
        const error = (result as { error: FlowError }).error
        expect(error).toBeInstanceOf(FlowError)
        expect(end[Number(error.task.slice(1))]).toBe(failedAt)
        // Descendants of the failed task never started.
        const descendants = new Set<number>([Number(error.task.slice(1))])
        nodes.forEach((n, i) => {
          if (n.deps.some((d) => descendants.has(d))) descendants.add(i)
        })
        descendants.delete(Number(error.task.slice(1)))
        for (const d of descendants) expect(observed.started.has(d)).toBe(false)
        // Nothing started after the failure; whatever was running then was aborted.
        for (const [i, at] of observed.started) {
          expect(at).toBeLessThanOrEqual(failedAt)
          if (at < failedAt && end[i]! > failedAt) expect(observed.aborted.has(i)).toBe(true)
        }
        expect(start.length).toBe(nodes.length)
      }),
      { numRuns: 150 },
    )
  })
})

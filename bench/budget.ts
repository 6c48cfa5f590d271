/**
 * `budget`: does the retry budget let ordinary flakiness through, and does it stop an outage's
 * retries? The probe, in process: 200 calls at concurrency 10 with 4 attempts per call
 * against an upstream failing a random 10 % or 30 % of attempts with a 503, and a total outage of
 * 1,000 calls. Counts, not time: calls that succeeded, and upstream attempts per call.
 *
 * Contenders, each making at most 4 attempts with jittered exponential backoff:
 * - `fanout`: `retry({ maxAttempts: 4 })` with its default budget;
 * - `fanout-grpc-sizing`: the same with `retryBudget({ maxTokens: 10, tokenRatio: 0.1 })`, gRPC's
 *   example sizing and fanout's default before (what the issue measured);
 * - `cockatiel`: `retry(handleAll, { maxAttempts: 3 })` (3 retries), which has no budget;
 * - `hand-written`: a loop of 4 attempts with full-jitter sleeps, no budget.
 *
 * The upstream answers after 1 ms (a real timer) and fails each attempt with a probability drawn
 * from a mulberry32 stream per (run, workload), the same for every contender; backoff base 1 ms
 * (cap 8 ms) for all, which the budgets do not depend on, so a run takes milliseconds instead
 * of seconds. Results are means over RUNS seeds; every run is checked (successes + failures =
 * calls, attempts within 1–4 per call).
 */
import { ExponentialBackoff, handleAll, retry as cockatielRetry } from 'cockatiel'
import { fanout } from './fanout.js'
import type { BenchContext, BenchReport, Benchmark, Measurement } from './harness.js'
import { seededRandom } from '../src/core/random.js'

const { execute, retry, retryBudget } = fanout

const RUNS = 10
const CALLS = 200
const OUTAGE_CALLS = 1_000
const CONCURRENCY = 10
const MAX_ATTEMPTS = 4
const BASE_MS = 1
const CAP_MS = 8

const CONTENDERS = ['fanout', 'fanout-grpc-sizing', 'cockatiel', 'hand-written'] as const
type Contender = (typeof CONTENDERS)[number]

class Unavailable extends Error {
  readonly status = 503
}

/** One upstream per run: fails an attempt with probability `rate`, answers after 1 ms. */
function upstream(rate: number, seed: number) {
  const random = seededRandom(seed)
  let attempts = 0
  const call = (): Promise<string> =>
    new Promise((resolve, reject) => {
      attempts++
      const failed = random() < rate
      setTimeout(
        () => (failed ? reject(new Unavailable('503 Service Unavailable')) : resolve('ok')),
        1,
      )
    })
  return {
    call,
    get attempts() {
      return attempts
    },
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A fresh contender (its budget, if any, starts full), as a function that makes one logical call. */
function contender(name: Contender, call: () => Promise<string>): () => Promise<string> {
  switch (name) {
    case 'fanout':
    case 'fanout-grpc-sizing': {
      const budget = name === 'fanout' ? undefined : retryBudget({ maxTokens: 10, tokenRatio: 0.1 })
      const wrapped = retry({
        maxAttempts: MAX_ATTEMPTS,
        baseDelay: BASE_MS,
        maxDelay: CAP_MS,
        ...(budget !== undefined ? { budget } : {}),
      }).wrap(() => call())
      return () => execute(wrapped)
    }
    case 'cockatiel': {
      const policy = cockatielRetry(handleAll, {
        maxAttempts: MAX_ATTEMPTS - 1,
        backoff: new ExponentialBackoff({ initialDelay: BASE_MS, maxDelay: CAP_MS }),
      })
      return () => policy.execute(() => call())
    }
    case 'hand-written':
      return async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await call()
          } catch (error) {
            if (attempt >= MAX_ATTEMPTS) throw error
            await sleep(Math.random() * Math.min(CAP_MS, BASE_MS * 2 ** (attempt - 1)))
          }
        }
      }
  }
}

/** `calls` logical calls, CONCURRENCY at a time; successes and upstream attempts. */
async function workload(
  name: Contender,
  rate: number,
  calls: number,
  seed: number,
): Promise<{ ok: number; attemptsPerCall: number }> {
  const api = upstream(rate, seed)
  const one = contender(name, api.call)
  let next = 0
  let ok = 0
  let failed = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < calls) {
        next++
        await one().then(
          () => ok++,
          () => failed++,
        )
      }
    }),
  )
  if (ok + failed !== calls || api.attempts < calls || api.attempts > calls * MAX_ATTEMPTS) {
    throw new Error(`budget: ${name} at ${rate}: ${ok} + ${failed} calls, ${api.attempts} attempts`)
  }
  return { ok, attemptsPerCall: api.attempts / calls }
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length

export const budget: Benchmark = {
  name: 'budget',
  description:
    'retry budgets: calls saved at 10 % and 30 % random 503s, attempts per call in a total outage',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const measurements: Measurement[] = []
    const rows = new Map<Contender, Record<string, number[]>>()
    for (const name of CONTENDERS)
      rows.set(name, {
        ok_30pct: [],
        attempts_per_call_30pct: [],
        ok_10pct: [],
        attempts_per_call_outage: [],
      })
    // Interleaved: every contender meets run r's seeds before any meets run r + 1's.
    for (let run = 0; run < RUNS; run++) {
      ctx.progress(`run ${run + 1}/${RUNS}`)
      const seed = ctx.seed * 1_000 + run
      for (const name of CONTENDERS) {
        const row = rows.get(name)!
        const at30 = await workload(name, 0.3, CALLS, seed)
        row.ok_30pct!.push(at30.ok)
        row.attempts_per_call_30pct!.push(at30.attemptsPerCall)
        row.ok_10pct!.push((await workload(name, 0.1, CALLS, seed + 500)).ok)
        if (run < 3)
          row.attempts_per_call_outage!.push(
            (await workload(name, 1, OUTAGE_CALLS, seed)).attemptsPerCall,
          )
      }
    }
    for (const [name, row] of rows) {
      for (const [metric, values] of Object.entries(row)) {
        measurements.push({
          contender: name,
          metric,
          value: mean(values),
          unit: metric.startsWith('ok_') ? 'calls' : 'x',
        })
      }
    }
    return {
      measurements,
      notes: [
        `seed ${ctx.seed}: ${CALLS} calls at concurrency ${CONCURRENCY}, ${MAX_ATTEMPTS} attempts per call, means of ${RUNS} runs (outage: ${OUTAGE_CALLS} calls, 3 runs).`,
        `Backoff base ${BASE_MS} ms, cap ${CAP_MS} ms for every contender (real timers); the counts do not depend on the delays.`,
      ],
      tables: [
        {
          title: `Random 503s: calls of ${CALLS} that succeeded (higher is better; ~198.4 at 30 % and ~200 at 10 % with no budget)`,
          metrics: ['ok_30pct', 'ok_10pct', 'attempts_per_call_30pct'],
          notes: [
            'fanout-grpc-sizing: 10 tokens, 0.1 back per success (fanout’s earlier default): drained by 30 % errors.',
          ],
        },
        {
          title: `Total outage: upstream attempts per call over ${OUTAGE_CALLS} calls (lower is better; ${MAX_ATTEMPTS} with no budget)`,
          metrics: ['attempts_per_call_outage'],
        },
      ],
    }
  },
}

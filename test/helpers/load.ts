/**
 * Bookkeeping for the adapters' load and leak checks: a bounded pool of jobs, the live resources
 * by kind, a few turns of the event loop, and how much of a real-time window the machine (not the
 * code) is to blame for.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

/** Runs `job` `count` times with at most `concurrency` at once. */
export async function pool<T>(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<T>,
): Promise<T[]> {
  const out = new Array<T>(count)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      out[i] = await job(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return out
}

/** `process.getActiveResourcesInfo()` counted by kind. */
export function resources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

/** Timers and immediates alive now (what a leak would add to). */
export function timers(): number {
  return process
    .getActiveResourcesInfo()
    .filter((kind) => kind === 'Timeout' || kind === 'Immediate').length
}

/** Resolves after a few turns of the event loop: the callbacks of what just closed have run. */
export async function settleTurns(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/**
 * What a real-time measurement owes to the machine rather than to the code under test: over a
 * window, how late the event loop ran (the process was ready but did not run) and how much of
 * the wall time the process did not spend on the CPU. Starvation = the smaller of the two, so a
 * wait the code itself causes (a timer, a slow I/O path) is never excused, nor is busy work.
 */
export interface Window {
  /** Milliseconds since `measureWindow()`, and the share of them the loop was starved. */
  stop(): { wallMs: number; starvedMs: number }
}

export function measureWindow(): Window {
  const lag = monitorEventLoopDelay({ resolution: 1 })
  lag.enable()
  const startedAt = performance.now()
  const cpuAt = process.cpuUsage()
  return {
    stop() {
      const wallMs = performance.now() - startedAt
      const cpu = process.cpuUsage(cpuAt)
      const cpuMs = (cpu.user + cpu.system) / 1_000
      lag.disable()
      // The histogram's max is the worst lateness of its 1 ms timer, in ns (0 when it never ran).
      const lateMs = Math.max(0, lag.max / 1e6 - 1)
      return { wallMs, starvedMs: Math.max(0, Math.min(lateMs, wallMs - cpuMs)) }
    },
  }
}

/**
 * A way to force a full garbage collection in benchmarks that measure live heap: `global.gc`
 * when node runs with --expose-gc; otherwise V8's flag set at run time and `gc` taken from a
 * fresh context. `undefined` when neither works (heap metrics are then skipped, with a note).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: unknown }).gc
  if (typeof exposed === 'function') return exposed as () => void
  try {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as unknown
    return typeof gc === 'function' ? (gc as () => void) : undefined
  } catch {
    return undefined
  }
}

export const gc = findGc()

/** `gc`, or an error for a measurement that cannot run without it. */
function requireGc(): () => void {
  if (gc === undefined)
    throw new Error(
      'this measurement needs a way to force a garbage collection (run node with --expose-gc)',
    )
  return gc
}

/**
 * Live heap during one run: the base is read after a full collection, once the previous run's
 * last jobs have finished (so nothing of it is counted); `sample()` collects and records the heap
 * above the base; `peak()` is the largest sample.
 */
export async function heapProbe(): Promise<{ sample(): void; peak(): number }> {
  const collect = requireGc()
  await new Promise((resolve) => setImmediate(resolve))
  collect()
  const base = process.memoryUsage().heapUsed
  let peak = 0
  return {
    sample() {
      collect()
      peak = Math.max(peak, process.memoryUsage().heapUsed - base)
    },
    peak: () => peak,
  }
}

/**
 * What a `Loader` shows the outside while a batch runs: the batch function's context, the
 * `batch.dispatched` / `batch.settled` trace events and the `onBatch` adapter. Kept apart from the
 * batching logic so observation can change without touching how keys are collected and settled.
 */
import type { Clock } from '../core/clock.js'
import type { EventListener, Recorder, TraceEvent } from '../core/trace.js'
import type { Batch } from './batch.js'
import type { BatchContext, LoaderBatchEvent } from './loader-types.js'

/**
 * The batch function's context. Getters, read when the function reads them: the signal is made
 * only if asked for (most batch functions never abort anything), and the deadline moves as
 * callers join and leave.
 */
export function batchContextOf<K, V, Id>(
  batch: Batch<K, V, Id>,
  name: string,
  clock: Clock,
  trace: Recorder,
): BatchContext {
  const shared = batch.shared
  return {
    get signal() {
      return (batch.controller ??= new AbortController()).signal
    },
    get deadlineAt() {
      return batch.pinned || batch.bare || shared === undefined ? Infinity : shared.deadlineAt
    },
    attempt: 1,
    task: name,
    clock: shared === undefined ? clock : shared.context.clock,
    trace: shared === undefined ? trace : shared.context.trace,
    scope: batch.scope,
  }
}

/** `batch.dispatched`, when `trace` records; the start time to report the outcome against. */
export function reportDispatched<K, V, Id>(
  batch: Batch<K, V, Id>,
  name: string,
  clock: Clock,
  trace: Recorder,
): number {
  const startedAt = trace.enabled ? clock.now() : 0
  if (trace.enabled) {
    trace.emit({
      type: 'batch.dispatched',
      task: name,
      at: startedAt,
      loader: name,
      size: batch.keys.length,
      scoped: batch.scope !== undefined,
    })
  }
  return startedAt
}

/** `batch.settled`: before the callers hear of the outcome, so each still-waiting caller's recorder gets it. */
export function reportSettled<K, V, Id>(
  batch: Batch<K, V, Id>,
  name: string,
  clock: Clock,
  trace: Recorder,
  outcome: LoaderBatchEvent['outcome'],
  startedAt: number,
): void {
  if (!trace.enabled) return
  const at = clock.now()
  trace.emit({
    type: 'batch.settled',
    task: name,
    at,
    loader: name,
    size: batch.keys.length,
    scoped: batch.scope !== undefined,
    outcome,
    durationMs: at - startedAt,
  })
}

/** `onEvent` and `onBatch` as one listener: `onBatch` gets each `batch.settled` in its own shape. */
export function listenerOf(
  onEvent: EventListener | undefined,
  onBatch: ((event: LoaderBatchEvent) => void) | undefined,
): EventListener | undefined {
  if (onBatch === undefined) return onEvent
  return (event: TraceEvent) => {
    if (event.type === 'batch.settled') {
      const { loader, size, scoped, outcome, at, durationMs } = event
      try {
        onBatch({ loader, size, scoped, outcome, startedAt: at - durationMs, durationMs })
      } catch {
        // An observer's bug must not become an unhandled rejection in the loader.
      }
    }
    onEvent?.(event)
  }
}

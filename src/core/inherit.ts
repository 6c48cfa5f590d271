/**
 * How work started inside a request context inherits it: the request's signal joins the caller's
 * own, its deadline caps the caller's, and its event listener hears the run too. Outside a
 * request the options come back untouched, at the cost of one storage read.
 */
import type { Clock } from './clock.js'
import { currentRequest } from './request-context.js'
import { eitherSignal } from './signals.js'
import type { TraceEvent } from './trace.js'

export interface Inheritable {
  readonly signal?: AbortSignal | undefined
  readonly deadlineAt?: number | undefined
  readonly onEvent?: ((event: TraceEvent) => void) | undefined
}

export interface Inherited<O> {
  readonly options: O
  /** Releases the joined signal's listeners; call when the work has ended. */
  readonly release: (() => void) | undefined
}

export function inheritRequest<O extends Inheritable>(options: O, clock: Clock): Inherited<O> {
  const request = currentRequest()
  if (request === undefined) return { options, release: undefined }
  let release: (() => void) | undefined
  let signal = request.signal
  if (options.signal !== undefined && options.signal !== signal) {
    const joined = eitherSignal(options.signal, signal)
    signal = joined.signal
    release = joined.dispose
  }
  const deadlineAt = Math.min(options.deadlineAt ?? Infinity, request.deadlineOn(clock))
  const own = options.onEvent
  const heard = request.onEvent
  const onEvent =
    heard === undefined
      ? own
      : (event: TraceEvent) => {
          try {
            heard(event)
          } catch {
            // A listener that throws is ignored, as everywhere.
          }
          own?.(event)
        }
  return {
    options: { ...options, signal, deadlineAt, ...(onEvent === undefined ? {} : { onEvent }) },
    release,
  }
}

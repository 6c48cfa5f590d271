/**
 * The client's `request.started` and `request.finished` events for one hop. They name the
 * origin and the path only: the query may carry a key (`?api_key=`), userinfo never reaches a
 * hop, and headers, bodies and error messages are never reported (I9).
 */
import type { Clock } from '../core/clock.js'
import type { Recorder } from '../core/trace.js'
import { codeOf } from '../policies/classify.js'
import type { Exchange, ExchangeTiming } from './exchange.js'

export interface HopObservation {
  readonly trace: Recorder
  readonly task: string
  readonly attempt: number
  readonly redirects: number
  readonly deadlineAt: number
  readonly clock: Clock
  /** Whether a failure came from outside the exchange (the caller's signal, the deadline). */
  readonly cancelled: (error: unknown) => boolean
}

export function observeHop(exchange: Exchange, o: HopObservation): void {
  const { trace, task, attempt, redirects, clock } = o
  const { url, method } = exchange.hop
  const origin = url.origin
  const path = url.pathname
  const at = clock.now()
  trace.emit({
    type: 'request.started',
    task,
    at,
    method,
    origin,
    path,
    attempt,
    redirects,
    budgetMs: o.deadlineAt - at,
  })
  exchange.observe((timing: ExchangeTiming) => {
    const error = timing.error
    trace.emit({
      type: 'request.finished',
      task,
      at: clock.now(),
      method,
      origin,
      path,
      attempt,
      redirects,
      outcome: error === undefined ? 'response' : o.cancelled(error) ? 'aborted' : 'failed',
      status: timing.status,
      phase: timing.phase,
      errorCode: error === undefined ? null : (codeOf(error) ?? nameOf(error)),
      connectMs: timing.connectMs,
      headersMs: timing.headersMs,
      bodyMs: timing.bodyMs,
    })
  })
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error
}

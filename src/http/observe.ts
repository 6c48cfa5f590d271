/**
 * The client's `request.started` and `request.finished` events for one hop. They name the
 * origin and the path only: the query may carry a key (`?api_key=`), userinfo never reaches a
 * hop, and headers, bodies and error messages are never reported (I9).
 */
import type { Clock } from '../core/clock.js'
import { requestChannel, type RequestMessage } from '../core/diagnostics.js'
import type { Recorder } from '../core/trace.js'
import { codeOf } from '../policies/classify.js'
import type { Exchange, ExchangeTiming } from './exchange.js'
import type { Hop } from './redirect.js'

export interface HopObservation {
  readonly trace: Recorder
  readonly task: string
  readonly attempt: number
  readonly redirects: number
  readonly deadlineAt: number
  readonly clock: Clock
  /** Whether a failure came from outside the exchange (the caller's signal, the deadline). */
  readonly cancelled: (error: unknown) => boolean
  /** The hop's `fanout:request` message, when someone subscribes. */
  readonly message: RequestMessage | undefined
}

export function observeHop(exchange: Exchange, o: HopObservation): void {
  const { trace, task, attempt, redirects, clock } = o
  const { url, method } = exchange.hop
  const origin = url.origin
  const path = url.pathname
  const at = clock.now()
  const events = trace.enabled
  if (events) {
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
  }
  const message = o.message
  exchange.observe((timing: ExchangeTiming) => {
    const error = timing.error
    const errorCode = error === undefined ? null : (codeOf(error) ?? nameOf(error))
    if (message !== undefined) endMessage(message, timing.status, error, errorCode)
    if (!events) return
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
      errorCode,
      connectMs: timing.connectMs,
      headersMs: timing.headersMs,
      bodyMs: timing.bodyMs,
    })
  })
}

/**
 * The `fanout:request` message of a hop, published on `start` before the hop is sent: a
 * subscriber may add propagation headers to `message.headers`, which the hop then carries.
 * Undefined while nobody subscribes.
 */
export function startMessage(
  hop: Hop,
  task: string,
  attempt: number,
  redirects: number,
): RequestMessage | undefined {
  const channel = requestChannel
  if (channel === undefined || !channel.hasSubscribers) return undefined
  const { url, method } = hop
  const message: RequestMessage = {
    task,
    method,
    origin: url.origin,
    path: url.pathname,
    attempt,
    redirects,
    headers: { ...hop.headers },
  }
  channel.start.publish(message)
  channel.end.publish(message)
  return message
}

/** Ends a hop's message: `asyncEnd` with its status, after `error` when it failed. */
function endMessage(
  message: RequestMessage,
  status: number,
  error: unknown,
  errorCode: string | null,
): void {
  const channel = requestChannel!
  message.status = status
  if (error !== undefined) {
    message.error = error
    message.errorType = errorCode ?? 'Error'
    channel.error.publish(message)
  }
  channel.asyncStart.publish(message)
  channel.asyncEnd.publish(message)
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error
}

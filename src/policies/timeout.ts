/**
 * `timeout(ms)`: each call gets at most `ms`, and never more than what is left before
 * `ctx.deadlineAt`. When time is up the call's signal is aborted with a `TimeoutError` and the
 * call rejects with it at once; a call whose time is already up is never started.
 */
import type { Call, CallContext, Policy } from '../core/call.js'
import { TimeoutError, DeadlineError } from '../core/errors.js'
import { withTimeLimit } from '../core/time-limit.js'
import { checkDuration } from '../core/validate.js'

export function timeout(ms: number): Policy {
  const limit = checkDuration('timeout()', 'ms', ms)
  return {
    name: `timeout(${limit})`,
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return (ctx) => withTimeout(next, ctx, limit)
    },
  }
}

/** Runs `next` with a time limit of `ms` capped by the deadline. Exported for the flow engine. */
export function withTimeout<T, C extends CallContext>(
  next: Call<T, C>,
  ctx: C,
  ms: number,
): Promise<T> {
  const remaining = ctx.deadlineAt - ctx.clock.now()
  const byDeadline = remaining < ms
  const budget = byDeadline ? remaining : ms
  const makeError = (): TimeoutError =>
    byDeadline
      ? new DeadlineError(`"${ctx.task}" ran out of time: the deadline passed`, Math.max(0, budget))
      : new TimeoutError(`"${ctx.task}" timed out after ${ms} ms`, ms)
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason)
  if (budget <= 0) return Promise.reject(makeError())

  return withTimeLimit(
    ctx.clock,
    ctx.signal,
    budget,
    () => {
      if (ctx.trace.enabled)
        ctx.trace.emit({
          type: 'timeout.fired',
          task: ctx.task,
          at: ctx.clock.now(),
          timeoutMs: budget,
        })
      return makeError()
    },
    (signal) => next({ ...ctx, signal }),
  )
}

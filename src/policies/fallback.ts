/**
 * `withFallback(call, fallback)`: a call that answers with a fallback instead of failing.
 * Unlike the other policies it changes the result type (`T | F`), so it wraps a call rather
 * than being a `Policy` in a pipe; inside flows, an optional task's `fallback` option does the
 * same and also records the error in the trace.
 */
import type { Call, CallContext } from '../core/call.js'
import { own } from '../core/own.js'
import { checkFunction } from '../core/validate.js'

export interface FallbackOptions {
  /** Which failures to replace. Default: all but the caller's own abort. */
  readonly when?: (error: unknown) => boolean
}

/**
 * @example
 * const reviews = withFallback(getReviews, () => [])
 */
export function withFallback<T, F, C extends CallContext = CallContext>(
  call: Call<T, C>,
  fallback: (error: unknown, ctx: C) => F | PromiseLike<F>,
  options?: FallbackOptions,
): Call<T | F, C> {
  checkFunction('withFallback()', 'call', call, '(ctx) => Promise')
  checkFunction('withFallback()', 'fallback', fallback, '(error, ctx) => value')
  const opts = own(options)
  const when =
    opts.when === undefined
      ? undefined
      : checkFunction<(error: unknown) => boolean>(
          'withFallback()',
          'when',
          opts.when,
          '(error) => boolean',
        )
  return async (ctx) => {
    try {
      return await call(ctx)
    } catch (error) {
      if (ctx.signal.aborted || (when !== undefined && !when(error))) throw error
      return fallback(error, ctx)
    }
  }
}

import { linkSignal } from '../core/signals.js'

/**
 * A task whose function takes its context, `($, { signal }) => …`, gets a signal of its own
 * that follows the run's, instead of the run's itself: a flow of a dozen tasks each passing its
 * signal to `fetch` would otherwise put a dozen listeners on one signal and trip Node's
 * MaxListenersExceededWarning. The run's signal keeps one listener for all of them (`linkSignal`
 * shares it). A task that does not declare the parameter gets the run's signal (nothing to
 * allocate; the zero-latency overhead benchmark doubled when every task paid for a signal or an
 * accessor). The link is never undone: work a task left running is still cancelled when the
 * run fails.
 */
export function taskSignal(run: AbortSignal): AbortSignal {
  return run.aborted ? run : linkSignal(run).signal
}

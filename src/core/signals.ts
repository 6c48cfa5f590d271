/**
 * Child abort signals that follow a parent and can also be aborted on their own, and that leave
 * no listener on the parent once disposed (a long-lived request signal reused across thousands
 * of calls must not accumulate listeners).
 *
 * All of fanout's subscriptions to one signal share a single real listener: a request signal
 * watched by 50 parallel tasks would otherwise trip Node's MaxListenersExceededWarning, and the
 * core cannot raise that limit (it imports nothing from Node).
 *
 * `AbortSignal.any` is not used: on Node 20 its signals are kept alive by the sources they follow.
 */

const subscribers = new WeakMap<AbortSignal, Set<() => void>>()

/**
 * Calls `listener` once when `signal` aborts; returns the function that unsubscribes. The real
 * listener is removed as soon as the last subscriber leaves.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  let set = subscribers.get(signal)
  if (set === undefined) {
    const fresh = new Set<() => void>()
    set = fresh
    subscribers.set(signal, fresh)
    const dispatch = (): void => {
      subscribers.delete(signal)
      for (const fn of [...fresh]) fn()
      fresh.clear()
    }
    signal.addEventListener('abort', dispatch, { once: true })
    dispatchers.set(fresh, dispatch)
  }
  // Wrapped so the same function subscribed twice is two subscriptions.
  const entry = (): void => listener()
  set.add(entry)
  const owned = set
  return () => {
    if (!owned.delete(entry) || owned.size > 0) return
    subscribers.delete(signal)
    const dispatch = dispatchers.get(owned)
    if (dispatch !== undefined) signal.removeEventListener('abort', dispatch)
  }
}

const dispatchers = new WeakMap<Set<() => void>, () => void>()

export interface LinkedSignal {
  readonly signal: AbortSignal
  abort(reason: unknown): void
  /** Detaches from the parent. Idempotent. */
  dispose(): void
}

export function linkSignal(parent: AbortSignal | undefined): LinkedSignal {
  const controller = new AbortController()
  if (parent === undefined) {
    return { signal: controller.signal, abort: (reason) => controller.abort(reason), dispose() {} }
  }
  if (parent.aborted) {
    controller.abort(parent.reason)
    return { signal: controller.signal, abort() {}, dispose() {} }
  }
  const unsubscribe = onAbort(parent, () => controller.abort(parent.reason))
  return {
    signal: controller.signal,
    abort(reason) {
      unsubscribe()
      controller.abort(reason)
    },
    dispose: unsubscribe,
  }
}

/** A signal that fires when either parent does; `dispose()` leaves no listener on them. */
export function eitherSignal(a: AbortSignal, b: AbortSignal): LinkedSignal {
  const link = linkSignal(a)
  if (link.signal.aborted) return link
  if (b.aborted) {
    link.abort(b.reason)
    return link
  }
  const off = onAbort(b, () => link.abort(b.reason))
  return {
    signal: link.signal,
    abort: link.abort,
    dispose() {
      link.dispose()
      off()
    },
  }
}

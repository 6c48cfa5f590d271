/**
 * Child abort signals that follow a parent and can also be aborted on their own, and that leave
 * no listener on the parent once disposed (a long-lived request signal reused across thousands
 * of calls must not accumulate listeners).
 *
 * `AbortSignal.any` is not used: on Node 20 its signals are kept alive by the sources they follow.
 */

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
  const forward = (): void => controller.abort(parent.reason)
  parent.addEventListener('abort', forward, { once: true })
  let attached = true
  const dispose = (): void => {
    if (!attached) return
    attached = false
    parent.removeEventListener('abort', forward)
  }
  return {
    signal: controller.signal,
    abort(reason) {
      dispose()
      controller.abort(reason)
    },
    dispose,
  }
}

/** Listens for `abort` once and returns the function that stops listening. */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  signal.addEventListener('abort', listener, { once: true })
  return () => signal.removeEventListener('abort', listener)
}

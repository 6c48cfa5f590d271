/**
 * undici 6 calls a dispatch handler through its first protocol (`onConnect(abort)`,
 * `onHeaders(…, resume)`, `onData`, `onComplete`, `onError`, where returning false pauses);
 * `Exchange` speaks undici 7's controller protocol (`onRequestStart(controller)`,
 * `onResponseStart`, …, `controller.pause()`). This adapter is the translation undici 7 itself
 * applies in the other direction (its `UnwrapHandler`), so one `Exchange` serves both majors.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'

type ParseHeaders = (raw: Buffer[] | string[] | null) => IncomingHttpHeaders

/** The controller undici 7 would hand the handler, over undici 6's `abort` and `resume`. */
class LegacyController implements Dispatcher.DispatchController {
  #paused = false
  #aborted = false
  #reason: Error | null = null
  resumeWire: (() => void) | undefined = undefined

  constructor(private readonly abortWire: (reason?: Error) => void) {}

  get aborted(): boolean {
    return this.#aborted
  }
  get paused(): boolean {
    return this.#paused
  }
  get reason(): Error | null {
    return this.#reason
  }
  pause(): void {
    this.#paused = true
  }
  resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.resumeWire?.()
  }
  abort(reason: Error): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.abortWire(reason)
  }
}

/** The handler methods undici 6 calls. */
export interface LegacyHandler {
  onConnect(abort: (reason?: Error) => void, context?: unknown): void
  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText?: string,
  ): boolean
  onData(chunk: Buffer): boolean
  onComplete(rawTrailers: Buffer[] | null): void
  onError(error: Error): void
}

/** `handler` (controller protocol) as undici 6 wants to call it. */
export function legacyHandler(
  handler: Dispatcher.DispatchHandler,
  parseHeaders: ParseHeaders,
): LegacyHandler {
  // An error before any connection (a refused connect) comes without onConnect: the handler
  // then gets a controller with nothing to abort.
  let controller = new LegacyController(() => {})
  return {
    onConnect(abort, context) {
      controller = new LegacyController(abort)
      handler.onRequestStart?.(controller, context)
    },
    onHeaders(statusCode, rawHeaders, resume, statusText) {
      controller.resumeWire = resume
      handler.onResponseStart?.(controller, statusCode, parseHeaders(rawHeaders), statusText)
      return !controller.paused
    },
    onData(chunk) {
      handler.onResponseData?.(controller, chunk)
      return !controller.paused
    },
    onComplete(rawTrailers) {
      handler.onResponseEnd?.(controller, parseHeaders(rawTrailers ?? []))
    },
    onError(error) {
      handler.onResponseError?.(controller, error)
    },
  }
}

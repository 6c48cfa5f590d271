/**
 * fanout on `node:diagnostics_channel`: the way an APM, `fanout/otel` or your own code watches
 * every run, task, attempt and HTTP request without being passed to each of them.
 *
 * Channels (each a `TracingChannel`: `tracing:<name>:start`, `:end`, `:asyncStart`, `:asyncEnd`,
 * `:error`), published only while someone subscribes:
 *
 * - `fanout:run`      a flow run or an `execute()` call: `{ kind: 'flow' | 'call', name }`;
 * - `fanout:task`     a flow task's call: `{ flow, task, gate }`;
 * - `fanout:attempt`  one attempt of a `retry()` or a `hedge()`: `{ policy, task, attempt, hedge }`;
 * - `fanout:batch`    one call of a `Loader`'s batch function: `{ loader, size, scoped }`;
 * - `fanout:request`  one hop of fanout/http: `{ method, origin, path, attempt, redirects,
 *                     headers }`, ending with `status` (0 when none) and `errorType` (a code).
 *
 * and one plain channel, `fanout:event`, that carries every `TraceEvent` as it happens.
 *
 * Why a message may carry `within`: a subscriber that must make its own context current while
 * the traced work runs (OpenTelemetry's active span, so that spans made inside nest under it)
 * sets `message.within = (fn) => …` in its `start` handler; fanout then runs the work through it.
 * The `fanout:request` start handler may add propagation headers to `message.headers`.
 *
 * Why through `process.getBuiltinModule`: the core stays runtime-neutral. Where the module is
 * missing (browsers, edge runtimes without it, Node before 20.16) every channel is inert and
 * costs one property read.
 */

/** The part of a `diagnostics_channel` Channel fanout uses. */
export interface DiagnosticsChannel {
  readonly hasSubscribers: boolean
  publish(message: unknown): void
}

/** The part of a `TracingChannel` fanout uses. */
export interface DiagnosticsTracingChannel {
  readonly hasSubscribers: boolean
  readonly start: DiagnosticsChannel
  readonly end: DiagnosticsChannel
  readonly asyncStart: DiagnosticsChannel
  readonly asyncEnd: DiagnosticsChannel
  readonly error: DiagnosticsChannel
  tracePromise<T>(fn: () => Promise<T>, message: object): Promise<T>
}

interface DiagnosticsModule {
  channel(name: string): DiagnosticsChannel
  tracingChannel?(name: string): DiagnosticsTracingChannel
}

/** What every traced message may carry: set by a subscriber's `start` handler (see above). */
export interface TracedMessage {
  /** Called as a method (`message.within(fn)`), so one function can serve every message. */
  within?: <T>(this: TracedMessage, fn: () => T) => T
  /** Set by Node when the work fails. */
  error?: unknown
  /** Set by Node when the work succeeds. */
  result?: unknown
}

export interface RunMessage extends TracedMessage {
  readonly kind: 'flow' | 'call'
  readonly name: string
}

export interface TaskMessage extends TracedMessage {
  readonly flow: string
  readonly task: string
  readonly gate: boolean
}

export interface AttemptMessage extends TracedMessage {
  /** `retry`: one try of a `retry()`; `hedge`: one of a `hedge()`'s parallel attempts. */
  readonly policy: 'retry' | 'hedge'
  readonly task: string
  readonly attempt: number
  /** 0 for a retry's attempt and a hedged call's primary, n for the n-th hedge. */
  readonly hedge: number
}

export interface BatchMessage extends TracedMessage {
  /** The loader's name. */
  readonly loader: string
  /** Distinct keys in the batch. */
  readonly size: number
  /** Whether its loads carried a scope (never the scope: it may name a user). */
  readonly scoped: boolean
}

export interface RequestMessage extends TracedMessage {
  readonly task: string
  readonly method: string
  /** `https://host:port`: no userinfo. */
  readonly origin: string
  /** The path only: the query may hold a key. */
  readonly path: string
  readonly attempt: number
  readonly redirects: number
  /** The hop's headers; a `start` subscriber may add propagation headers (`traceparent`). */
  headers: Record<string, string>
  /** At the end: the response status, 0 when there was none. */
  status?: number
  /** At the end of a failed hop: an error code or name (never a message). */
  errorType?: string
}

const INERT: DiagnosticsChannel = Object.freeze({ hasSubscribers: false, publish() {} })

function loadModule(): DiagnosticsModule | undefined {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process
    const mod = proc?.getBuiltinModule?.('node:diagnostics_channel') as
      DiagnosticsModule | undefined
    return typeof mod?.channel === 'function' ? mod : undefined
  } catch {
    return undefined
  }
}

const dc = loadModule()

function tracing(name: string): DiagnosticsTracingChannel | undefined {
  const channel = dc?.tracingChannel?.(name)
  // `hasSubscribers` on a TracingChannel arrived in Node 20.13; without it the channel is unused.
  return channel !== undefined && typeof channel.hasSubscribers === 'boolean' ? channel : undefined
}

/** Every `TraceEvent`, once, as it is emitted. */
export const eventChannel: DiagnosticsChannel = dc?.channel('fanout:event') ?? INERT
export const runChannel = tracing('fanout:run')
export const taskChannel = tracing('fanout:task')
export const attemptChannel = tracing('fanout:attempt')
export const requestChannel = tracing('fanout:request')
export const batchChannel = tracing('fanout:batch')

/**
 * Runs `fn` traced on `channel` when someone subscribes, else just runs it: the cost without a
 * subscriber is one property read.
 */
export function traced<T>(
  channel: DiagnosticsTracingChannel | undefined,
  message: RunMessage | TaskMessage | AttemptMessage | BatchMessage,
  fn: () => Promise<T>,
): Promise<T> {
  if (channel === undefined || !channel.hasSubscribers) return fn()
  try {
    return channel.tracePromise(
      () => (message.within === undefined ? fn() : message.within(fn)),
      message,
    )
  } catch (error) {
    // tracePromise rethrows a synchronous throw of `fn`; callers expect a rejection.
    return Promise.reject(error)
  }
}

/** Whether `channel` has a subscriber right now (false where diagnostics_channel is missing). */
export function subscribed(channel: DiagnosticsTracingChannel | undefined): boolean {
  return channel !== undefined && channel.hasSubscribers
}

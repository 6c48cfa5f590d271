/**
 * Spans for fanout's traced channels: a run (a flow or an `execute()` call), each task and each
 * attempt. Each span is made current while its work runs (through the message's `within`), so
 * what starts inside — the next level of fanout's spans, an HTTP client's spans, a database
 * driver's — nests under it, and the run itself nests under whatever was current when it started
 * (the incoming request's span).
 *
 * A failure sets the span's status to ERROR and `error.type` to the error's code (or name). The
 * error's message is never recorded: it may carry a URL with a key, or a user's data.
 */
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api'
import type {
  AttemptMessage,
  BatchMessage,
  RunMessage,
  TaskMessage,
  TracedMessage,
} from '../core/diagnostics.js'
import { codeOf } from '../policies/classify.js'
import { api } from './api.js'
import type { Instruments } from './metrics.js'

const SPAN = Symbol('fanout.otel.span')
const CONTEXT = Symbol('fanout.otel.context')

type Carrier = TracedMessage & { [SPAN]?: Span | undefined; [CONTEXT]?: Context }

/** Every message's `within`: runs the work with the message's span current. */
function within<T>(this: TracedMessage, fn: () => T): T {
  return api.context.with((this as Carrier)[CONTEXT]!, fn)
}

/** The handlers of one TracingChannel. */
/**
 * The handlers of one TracingChannel. Only `start`, `error` and `asyncEnd`: a sub-channel nobody
 * subscribes to costs nothing to publish on, and `end`/`asyncStart` tell fanout nothing.
 */
export interface ChannelHandlers {
  start(message: unknown): void
  asyncEnd(message: unknown): void
  error(message: unknown): void
}

/** `error.type`: the error's code, else its name. */
export function errorType(error: unknown): string {
  const code = codeOf(error)
  if (code !== undefined) return code
  return error instanceof Error ? error.name : typeof error
}

/**
 * Work cut off rather than failed: a hedge that lost, a task stopped by its run's end, a caller
 * that went away. Its span says `fanout.outcome: aborted` and is not an error.
 */
export function isAbort(type: string): boolean {
  return type === 'FANOUT_ABORTED' || type === 'AbortError' || type === 'ABORT_ERR'
}

/** Starts `name` under the current context, makes it current for the work, ends it at the end. */
function handlers<M extends TracedMessage>(
  tracer: Tracer,
  describe: (message: M) => { name: string; attributes: Attributes },
  onStart?: (message: M) => void,
  onEnd?: (message: M) => void,
): ChannelHandlers {
  return {
    start(message) {
      const m = message as Carrier
      const { name, attributes } = describe(message as M)
      const parent: Context = api.context.active()
      const span = tracer.startSpan(name, { kind: api.SpanKind.INTERNAL, attributes }, parent)
      m[SPAN] = span
      m[CONTEXT] = api.trace.setSpan(parent, span)
      m.within = within
      onStart?.(message as M)
    },
    error(message) {
      const m = message as Carrier
      const span = m[SPAN]
      if (span === undefined) return
      const type = errorType(m.error)
      if (isAbort(type)) {
        span.setAttribute('fanout.outcome', 'aborted')
        return
      }
      span.setAttribute('error.type', type)
      span.setStatus({ code: api.SpanStatusCode.ERROR })
    },
    asyncEnd(message) {
      const m = message as Carrier
      m[SPAN]?.end()
      m[SPAN] = undefined
      onEnd?.(message as M)
    },
  }
}

export function runHandlers(tracer: Tracer): ChannelHandlers {
  return handlers(tracer, (m: RunMessage) => ({
    name: `${m.kind} ${m.name}`,
    attributes: { [m.kind === 'flow' ? 'fanout.flow.name' : 'fanout.call.name']: m.name },
  }))
}

export function taskHandlers(tracer: Tracer, metrics: Instruments | undefined): ChannelHandlers {
  const count = (m: TaskMessage, by: number): void =>
    metrics?.active.add(by, { 'fanout.flow.name': m.flow })
  return handlers(
    tracer,
    (m: TaskMessage) => ({
      name: `task ${m.task}`,
      attributes: {
        'fanout.flow.name': m.flow,
        'fanout.task.name': m.task,
        ...(m.gate ? { 'fanout.task.gate': true } : {}),
      },
    }),
    (m: TaskMessage) => count(m, 1),
    (m: TaskMessage) => count(m, -1),
  )
}

export function attemptHandlers(tracer: Tracer): ChannelHandlers {
  return handlers(tracer, (m: AttemptMessage) =>
    m.policy === 'retry'
      ? {
          name: `attempt ${m.task}`,
          attributes: { 'fanout.task.name': m.task, 'fanout.attempt': m.attempt },
        }
      : {
          name: `hedge ${m.task}`,
          attributes: {
            'fanout.task.name': m.task,
            'fanout.attempt': m.attempt,
            'fanout.hedge': m.hedge,
          },
        },
  )
}

export function batchHandlers(tracer: Tracer): ChannelHandlers {
  return handlers(tracer, (m: BatchMessage) => ({
    name: `batch ${m.loader}`,
    attributes: {
      'fanout.loader.name': m.loader,
      'fanout.batch.size': m.size,
      'fanout.batch.scoped': m.scoped,
    },
  }))
}

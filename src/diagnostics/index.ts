/**
 * `fanout/diagnostics`: the names and message shapes of the channels fanout publishes on
 * `node:diagnostics_channel`, and `subscribeDiagnostics()`, which subscribes to them all at once.
 * Subscribing is how an APM or your own code watches every run, task, attempt, HTTP hop and event
 * of a process without passing a hook to each; with no subscriber, publishing costs one property
 * read per call.
 *
 * @example
 * const stop = subscribeDiagnostics({ event: (e) => e.type === 'retry.scheduled' && retries++ })
 */
import { InvalidOptionError } from '../core/errors.js'
import type {
  AttemptMessage,
  BatchMessage,
  RequestMessage,
  RunMessage,
  TaskMessage,
  TracedMessage,
} from '../core/diagnostics.js'
import type { TraceEvent } from '../core/trace.js'
import { checkFunction, checkKnownKeys, snapshot } from '../core/validate.js'

export type {
  AttemptMessage,
  BatchMessage,
  RequestMessage,
  RunMessage,
  TaskMessage,
  TracedMessage,
} from '../core/diagnostics.js'

/** The channel names. The traced ones are `TracingChannel`s (`tracing:<name>:start`…). */
export const diagnosticsChannels = Object.freeze({
  event: 'fanout:event',
  run: 'fanout:run',
  task: 'fanout:task',
  attempt: 'fanout:attempt',
  batch: 'fanout:batch',
  request: 'fanout:request',
} as const)

/** What a traced unit of work reports: its start, and its end (after `error` when it failed). */
export interface TracedHandlers<M extends TracedMessage> {
  readonly start?: (message: M) => void
  readonly end?: (message: M) => void
}

export interface DiagnosticsHandlers {
  readonly event?: (event: TraceEvent) => void
  readonly run?: TracedHandlers<RunMessage>
  readonly task?: TracedHandlers<TaskMessage>
  readonly attempt?: TracedHandlers<AttemptMessage>
  readonly batch?: TracedHandlers<BatchMessage>
  readonly request?: TracedHandlers<RequestMessage>
}

interface Subscribable {
  subscribe(handler: (message: unknown) => void): void
  unsubscribe(handler: (message: unknown) => void): void
}
interface TracingSubscribable {
  subscribe(handlers: Record<string, (message: unknown) => void>): void
  unsubscribe(handlers: Record<string, (message: unknown) => void>): void
}
interface Module {
  channel(name: string): Subscribable
  tracingChannel(name: string): TracingSubscribable
}

const WHERE = 'subscribeDiagnostics()'
const KNOWN = ['event', 'run', 'task', 'attempt', 'batch', 'request'] as const
const TRACED = ['run', 'task', 'attempt', 'batch', 'request'] as const

function diagnosticsModule(): Module {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  const mod = proc?.getBuiltinModule?.('node:diagnostics_channel') as Partial<Module> | undefined
  if (typeof mod?.tracingChannel !== 'function' || typeof mod.channel !== 'function') {
    // Not a FanoutError: nothing the caller passed is wrong, the runtime lacks the module.
    throw new Error(
      `${WHERE}: this runtime has no node:diagnostics_channel with tracing channels (Node ≥ 20.16, Bun and Deno have it).`,
    )
  }
  return mod as Module
}

/**
 * Subscribes `handlers` to fanout's channels and returns the function that unsubscribes them.
 * `end` hears a unit of work when it settled (`message.error` is set when it failed). A handler
 * that throws is Node's to report (as an uncaught exception on the next tick), never the call's.
 */
export function subscribeDiagnostics(handlers: DiagnosticsHandlers): () => void {
  const opts = snapshot(WHERE, handlers)
  checkKnownKeys(WHERE, opts, KNOWN)
  const dc = diagnosticsModule()
  const undo: (() => void)[] = []
  if (opts.event !== undefined) {
    const listener = checkFunction<(message: unknown) => void>(
      WHERE,
      'event',
      opts.event,
      '(event) => void',
    )
    const channel = dc.channel(diagnosticsChannels.event)
    channel.subscribe(listener)
    undo.push(() => channel.unsubscribe(listener))
  }
  for (const name of TRACED) {
    const given = opts[name] as TracedHandlers<TracedMessage> | undefined
    if (given === undefined) continue
    const h = snapshot(`${WHERE} \`${name}\``, given)
    checkKnownKeys(`${WHERE} \`${name}\``, h, ['start', 'end'] as const)
    if (h.start === undefined && h.end === undefined)
      throw new InvalidOptionError(`${WHERE}: \`${name}\` needs \`start\` or \`end\`.`)
    const noop = (): void => {}
    const tracing: Record<string, (message: unknown) => void> = {
      start: (h.start ?? noop) as (message: unknown) => void,
      end: noop,
      asyncStart: noop,
      asyncEnd: (h.end ?? noop) as (message: unknown) => void,
      error: noop,
    }
    const channel = dc.tracingChannel(diagnosticsChannels[name])
    channel.subscribe(tracing)
    undo.push(() => channel.unsubscribe(tracing))
  }
  return () => {
    for (const fn of undo.splice(0)) fn()
  }
}

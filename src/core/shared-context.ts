/**
 * The context of work that several callers share: a `cached()` fetch, a `Loader` batch, a
 * `singleFlight()` run. Each caller brings its own `CallContext`; the shared work gets one
 * context made from all of them, so no single caller decides for the others:
 *
 * - `signal` aborts only when every caller has left (the first caller giving up, or missing its
 *   deadline, must not fail the others who still wait);
 * - `deadlineAt` is the LATEST deadline of the callers still waiting (the work is worth finishing
 *   while anyone still wants it), and `Infinity` while a caller without a deadline waits; read it
 *   when you need it: it moves as callers join and leave;
 * - `trace` reaches every waiting caller's recorder, each event re-tagged with that caller's
 *   task, so a flow sees the shared HTTP attempts under the task that asked; a caller that left
 *   hears no more (its flow may have ended);
 * - `clock` is the first caller's, so the deadlines compare on one time scale.
 *
 * Callers are expected to share a clock (they do in one process unless a test injects one).
 */
import type { CallContext } from './call.js'
import type { Clock } from './clock.js'
import { InvalidOptionError } from './errors.js'
import { retagged, type Recorder, type TraceEvent } from './trace.js'
import { show } from './validate.js'

/** One caller waiting for the shared work: its context, or undefined when it brought none. */
export interface Joiner {
  readonly context: CallContext | undefined
}

export class SharedContext {
  readonly #controller = new AbortController()
  readonly #joiners: Joiner[] = []
  /** Callers waiting without a context: no deadline, nobody to report to. */
  #bare = 0
  /** Before anyone joined and after everybody left, the last deadline seen. */
  #lastDeadline = Infinity
  #clock: Clock | undefined
  /** The context the shared work receives. Plain own getters: a layer's `{ ...ctx }` copy keeps them. */
  readonly context: CallContext

  constructor(
    /** Names the work in its own events (the cache's or loader's name). */
    readonly task: string,
    fallbackClock: Clock,
    /** The component's own `onEvent`, which hears every event untagged. */
    readonly own: Recorder,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the closure below must see this joined call
    const self = this
    const trace: Recorder = {
      get enabled() {
        return self.#tracing()
      },
      emit: (event) => this.#emit(event),
    }
    this.context = {
      signal: this.#controller.signal,
      get deadlineAt() {
        return self.deadlineAt
      },
      attempt: 1,
      task,
      get clock() {
        return self.#clock ?? fallbackClock
      },
      trace,
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Callers still waiting. */
  get size(): number {
    return this.#joiners.length
  }

  get deadlineAt(): number {
    if (this.#bare > 0) return Infinity
    const joiners = this.#joiners
    if (joiners.length === 0) return this.#lastDeadline
    let latest = -Infinity
    for (const j of joiners) if (j.context!.deadlineAt > latest) latest = j.context!.deadlineAt
    return latest
  }

  /** A caller starts waiting. Pair it with `leave()` when it stops waiting, for whatever reason. */
  join(context: CallContext | undefined): Joiner {
    const joiner: Joiner = { context }
    this.#joiners.push(joiner)
    if (context === undefined) this.#bare++
    else this.#clock ??= context.clock
    return joiner
  }

  /** A caller stops waiting (settled, or left). Returns how many still wait. */
  leave(joiner: Joiner): number {
    const i = this.#joiners.indexOf(joiner)
    if (i < 0) return this.#joiners.length
    if (this.#joiners.length === 1) this.#lastDeadline = this.deadlineAt
    this.#joiners.splice(i, 1)
    if (joiner.context === undefined) this.#bare--
    return this.#joiners.length
  }

  /** Stops the work: when every caller has left. */
  abort(reason: unknown): void {
    this.#controller.abort(reason)
  }

  #tracing(): boolean {
    if (this.own.enabled) return true
    for (const j of this.#joiners) if (j.context?.trace.enabled === true) return true
    return false
  }

  #emit(event: TraceEvent): void {
    if (this.own.enabled) this.own.emit(event)
    const joiners = this.#joiners
    // Each recorder once, under the task of the first of its callers (two tasks of one flow
    // share the flow's recorder).
    let seen: Set<Recorder> | undefined
    for (let i = 0; i < joiners.length; i++) {
      const context = joiners[i]!.context
      if (context === undefined || !context.trace.enabled) continue
      const recorder = context.trace
      if (joiners.length > 1) {
        seen ??= new Set()
        if (seen.has(recorder)) continue
        seen.add(recorder)
      }
      recorder.emit(event.task === context.task ? event : retagged(event, context.task))
    }
  }
}

/**
 * Reads a `context` option: a `CallContext` as a flow task, `execute()` or a policy hands it to
 * its call. Checked for the fields the shared work reads, so a wrong object fails here and not
 * deep inside an attempt.
 */
export function checkContext(where: string, value: unknown): CallContext {
  const ctx = value as Partial<CallContext> | null
  if (
    typeof ctx !== 'object' ||
    ctx === null ||
    !(ctx.signal instanceof AbortSignal) ||
    typeof ctx.deadlineAt !== 'number' ||
    typeof ctx.task !== 'string' ||
    typeof ctx.clock?.now !== 'function' ||
    typeof ctx.trace?.emit !== 'function'
  ) {
    throw new InvalidOptionError(
      `${where}: \`context\` must be the CallContext a flow task, execute() or a policy passes to its call ({ signal, deadlineAt, attempt, task, clock, trace }), got ${show(value)}.`,
    )
  }
  return ctx as CallContext
}

/** Rejects `{ signal, context }` together: a context already carries the caller's signal. */
export function checkSignalOrContext(where: string, signal: unknown, context: unknown): void {
  if (signal !== undefined && context !== undefined) {
    throw new InvalidOptionError(
      `${where}: give \`signal\` or \`context\`, not both: the context already carries its signal (ctx.signal).`,
    )
  }
}

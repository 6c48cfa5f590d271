/**
 * Executing a flow. Every task whose gates and `after` tasks are done is called at once; a task
 * that reads `$.x` waits for `x` alone. The engine keeps a wait-for graph (reads, gates, `after`)
 * and checks each new read edge, so a cycle fails the run instead of hanging it.
 *
 * Invariants:
 * - a task's function is called at most once per run, never before its gates and `after` tasks
 *   have succeeded, and never after the run has ended;
 * - once the run has ended nothing it owns is left behind: no timer, no listener on the caller's
 *   signal, no pending promise a task could still be waiting on;
 * - a result that arrives after the end is ignored, and no rejection goes unhandled.
 */
import type { Clock, TimerHandle } from '../core/clock.js'
import { AbortedError, DeadlineError, isFanoutError } from '../core/errors.js'
import { onAbort } from '../core/signals.js'
import { disabledRecorder, recorderFor, type Recorder, type TraceEvent } from '../core/trace.js'
import { subscribed, taskChannel, traced } from '../core/diagnostics.js'
import { CycleError, DependencyError, FlowError, SkippedError, type TaskFailure } from './errors.js'
import { FlowExit, type RunOptions } from './types.js'
import { fallbackFor, type TaskDef } from './task-def.js'
import { compileCall, DEPS, type CompiledFlow } from './compiled.js'
import { deferred, handled, noop, PendingRead } from './deferred.js'
import {
  FULFILLED,
  REJECTED,
  RUNNING,
  SKIPPED,
  SLOT_ACQUIRING,
  SLOT_HELD,
  SLOT_NONE,
  Task,
  WAITING,
  type MutableWait,
} from './task.js'
import { findCycle } from './cycle.js'
import { runLimit, TaskSlots } from './run-slots.js'
import { depsFor, depsHandler, type DepsHandler } from './deps-proxy.js'
import { taskSignal } from './task-signal.js'
import { flowTrace, learn, outcomes, values } from './outcome.js'

// Re-exported so define.ts keeps importing the engine's surface from one place.
export type { TaskDef, CompiledFlow }
export { compileCall }

export type Mode = 'run' | 'settle'

/** Thrown by `ctx.exit()` to unwind the exiting task; never seen outside the engine. */
const EXIT = Symbol('fanout.exit')

export class FlowRun {
  readonly promise: Promise<unknown>
  #resolve: (value: unknown) => void = noop
  #reject: (error: unknown) => void = noop
  readonly #controller = new AbortController()
  readonly #tasks: Task[]
  readonly #failures: TaskFailure[] = []
  readonly #events: TraceEvent[] | undefined
  readonly #recorder: Recorder
  /** `onEvent`: every event as it happens, the tasks' own (`task.started`, `task.settled`) too. */
  readonly #live: Recorder
  #remaining: number
  #gatesLeft: number
  #ended = false
  /** Set once a task reads a later task: from then on each new read edge is checked for a cycle. */
  #backEdges = false
  #timer: TimerHandle | undefined
  #detachSignal: (() => void) | undefined
  #handler: DepsHandler | undefined
  /** Slots every task must hold while it runs (not while it waits for what it reads). */
  readonly #slots: TaskSlots | undefined
  /** Times are taken for the trace or for learning. */
  readonly #timing: boolean
  /** Someone subscribes to `fanout:task` (settled at the run's start). */
  readonly #tracedTasks: boolean
  /**
   * Set while many tasks become ready at once (the run's start, gates opening): they queue for
   * slots together and are granted best-first, instead of first-declared grabbing the free ones.
   */
  #batch = false

  constructor(
    readonly flow: CompiledFlow,
    readonly input: unknown,
    readonly options: RunOptions,
    readonly mode: Mode,
    readonly clock: Clock,
    readonly startedAt: number,
    readonly deadlineAt: number,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    const defs = flow.defs
    this.#tasks = new Array<Task>(defs.length)
    for (let i = 0; i < defs.length; i++) this.#tasks[i] = new Task(defs[i]!)
    for (const task of this.#tasks) {
      for (const i of task.def.after) (this.#tasks[i]!.dependents ??= []).push(task)
    }
    this.#remaining = defs.length
    this.#gatesLeft = flow.gates
    const tracing = options.onTrace !== undefined
    // Whether anyone hears this run (its `onEvent`, a diagnostics subscriber) is settled once, at
    // its start: checking the channels per task would charge every task of every run.
    const heard = recorderFor(options.onEvent)
    const live = heard.enabled ? heard : disabledRecorder
    this.#live = live
    this.#tracedTasks = subscribed(taskChannel)
    this.#timing = tracing || live.enabled || flow.learned !== undefined
    const limit = runLimit(flow)
    this.#slots =
      limit === undefined
        ? undefined
        : new TaskSlots(
            limit,
            this.#controller.signal,
            clock,
            (task) => flow.learned?.rank[task.def.index] ?? 0,
            () => this.#ended,
            (task) => {
              if (this.#timing) task.resumedAt = this.#now()
            },
          )
    this.#events = tracing ? [] : undefined
    // Policy events go to the trace's list and, as they happen, to `onEvent`.
    this.#recorder = tracing
      ? {
          enabled: true,
          emit: (event) => {
            if (!this.#ended) this.#events!.push(event)
            if (live.enabled) live.emit(event)
          },
        }
      : live

    const external = options.signal
    if (external !== undefined) {
      this.#detachSignal = onAbort(external, () =>
        this.#end('rejected', external.reason, external.reason),
      )
    }
    if (deadlineAt !== Infinity) {
      const ms = deadlineAt - startedAt
      this.#timer = clock.setTimeout(() => {
        this.#timer = undefined
        this.#missDeadline()
      }, ms)
    }
    if (defs.length === 0) {
      this.#end('fulfilled', undefined, undefined)
      return
    }
    this.#startReady()
  }

  /** Starts every ready task; under a limit they compete for slots by remaining critical path. */
  #startReady(): void {
    this.#batch = this.#slots !== undefined
    for (const t of this.#tasks) {
      if (this.#ended) break
      if (this.#ready(t)) this.#start(t)
    }
    this.#batch = false
    this.#slots?.slots.pump()
  }

  #ready(task: Task): boolean {
    return (
      task.state === WAITING && task.prerequisites === 0 && (task.def.gate || this.#gatesLeft === 0)
    )
  }

  #now(): number {
    return this.clock.now() - this.startedAt
  }

  #start(task: Task): void {
    task.state = RUNNING
    const slots = this.#slots
    if (slots === undefined || (!this.#batch && slots.slots.tryAcquire())) {
      if (slots !== undefined) task.slot = SLOT_HELD
      this.#invoke(task)
      return
    }
    task.slot = SLOT_ACQUIRING
    slots.acquire(task).then(
      () => {
        task.slot = SLOT_HELD
        if (this.#ended) this.#slots!.release(task)
        else this.#invoke(task)
      },
      () => {
        // The run ended while the task waited for a slot; it was never called.
        task.slot = SLOT_NONE
      },
    )
  }

  #invoke(task: Task): void {
    if (this.#timing) task.startedAt = this.#now()
    const def = task.def
    if (this.#live.enabled)
      this.#live.emit({ type: 'task.started', task: def.name, at: this.clock.now() })
    const ctx = {
      signal: def.readsContext ? taskSignal(this.#controller.signal) : this.#controller.signal,
      deadlineAt: this.deadlineAt,
      attempt: 1,
      task: def.name,
      clock: this.clock,
      trace: this.#recorder,
      input: this.input,
      exit: this.#exitFor(task),
      [DEPS]: this.#deps(task),
    }
    let pending: Promise<unknown>
    const call = this.flow.calls[def.index]!
    try {
      pending = this.#tracedTasks
        ? traced(taskChannel, { flow: this.flow.name, task: def.name, gate: def.gate }, () =>
            call(ctx),
          )
        : call(ctx)
    } catch (error) {
      // A policy that throws synchronously is treated like one that rejects.
      pending = Promise.reject(error)
    }
    if (this.#slots === undefined) {
      pending.then(
        (value) => this.#settle(task, true, value),
        (error: unknown) => this.#settle(task, false, error),
      )
      return
    }
    // The slot goes back when the call settles, even after the run ended: a limiter shared
    // with other runs must never count a call that is still running as gone.
    pending.then(
      (value) => {
        this.#slots!.release(task)
        this.#settle(task, true, value)
      },
      (error: unknown) => {
        this.#slots!.release(task)
        this.#settle(task, false, error)
      },
    )
  }

  /** `$` for one task (see deps-proxy.ts); the handler is made once per run. */
  #deps(reader: Task): object {
    this.#handler ??= depsHandler(this.flow, this.#tasks, (r, t) => this.#read(r, t))
    return depsFor(reader, this.#handler)
  }

  #read(reader: Task, target: Task): Promise<unknown> {
    if (this.flow.learned !== undefined) (reader.read ??= []).push(target.def.index)
    switch (target.state) {
      case FULFILLED:
        return Promise.resolve(target.value)
      case REJECTED:
      case SKIPPED:
        return handled(Promise.reject(new DependencyError(target.def.name, target.error)))
    }
    if (this.#ended) return handled(Promise.reject(this.#controller.signal.reason))
    if (reader !== target && target.def.index > reader.def.index) this.#backEdges = true
    if (reader === target || this.#backEdges) {
      const cycle = findCycle(this.#tasks, this.#gatesLeft, reader, target)
      if (cycle !== undefined) {
        const error = new CycleError(this.flow.name, cycle)
        if (this.mode === 'run')
          this.#end('rejected', error, new AbortedError(error.message, { cause: error }))
        return handled(Promise.reject(error))
      }
    }
    ;(reader.reading ??= []).push(target)
    if (this.#events !== undefined) {
      const wait: MutableWait = { on: target.def.name, kind: 'read', from: this.#now(), to: -1 }
      ;(reader.waits ??= []).push(wait)
      ;(target.waitedBy ??= []).push(wait)
    }
    const result = (target.result ??= deferred()).promise
    if (this.#slots === undefined || reader.state !== RUNNING) return result
    // The slot is given away when the task starts waiting (the first `then`, which `await` and
    // `Promise.all` call), not when it reads: a task that reads `$.x` early and awaits it later
    // is working meanwhile and keeps its slot.
    return new PendingRead(() => this.#slots!.waitFor(reader, result))
  }

  #exitFor(task: Task): (value: unknown) => never {
    return (value) => this.#exit(task, value)
  }

  #exit(task: Task, value: unknown): never {
    if (!this.#ended && task.state === RUNNING) {
      task.state = FULFILLED
      task.value = value
      if (this.#timing) task.endedAt = this.#now()
      const exit = new FlowExit(task.def.name, value)
      this.#end(
        'exited',
        exit,
        new AbortedError(`Flow "${this.flow.name}" was ended early by task "${task.def.name}"`),
      )
    }
    throw EXIT
  }

  #settle(task: Task, ok: boolean, outcome: unknown): void {
    if (this.#ended || task.state !== RUNNING) return
    if (this.#timing) task.endedAt = this.#now()
    let value = outcome
    if (!ok) {
      const error = outcome
      // A task's time limit is capped by the run's deadline, so its timer and the run's can fire
      // in either order: once the deadline has passed, the run reports it whichever fired first.
      // Any FANOUT_DEADLINE counts (fanout/http's too), and timers keep whole milliseconds, so
      // one due within the last millisecond is the run's.
      if (isFanoutError(error, 'FANOUT_DEADLINE') && this.clock.now() >= this.deadlineAt - 1) {
        this.#missDeadline()
        return
      }
      if (task.def.hasFallback) {
        this.#failures.push({ task: task.def.name, error })
        try {
          value = fallbackFor(task.def, error)
          task.fellBack = true
          task.error = error
        } catch (fallbackError) {
          this.#fail(task, fallbackError)
          return
        }
      } else {
        this.#failures.push({ task: task.def.name, error })
        this.#fail(task, error)
        return
      }
    }
    task.state = FULFILLED
    task.value = value
    if (this.#live.enabled) this.#taskSettled(task, task.fellBack ? 'fallback' : 'fulfilled')
    this.#finishWaits(task)
    task.result?.resolve(value)
    this.#remaining--
    if (task.def.gate && --this.#gatesLeft === 0) {
      this.#startReady()
      if (this.#ended) return
    }
    if (task.dependents !== undefined) {
      for (const t of task.dependents) {
        if (this.#ended) return
        t.prerequisites--
        if (this.#ready(t)) this.#start(t)
      }
    }
    this.#maybeDone()
  }

  /** `task.settled`, for `onEvent`. */
  #taskSettled(task: Task, outcome: 'fulfilled' | 'fallback' | 'rejected' | 'aborted'): void {
    const at = this.clock.now()
    const durationMs = task.startedAt < 0 ? 0 : this.#now() - task.startedAt
    this.#live.emit({ type: 'task.settled', task: task.def.name, at, outcome, durationMs })
  }

  #fail(task: Task, error: unknown): void {
    if (this.#live.enabled && task.state === RUNNING) this.#taskSettled(task, 'rejected')
    task.state = REJECTED
    task.error = error
    this.#finishWaits(task)
    if (this.mode === 'run') {
      const failure = new FlowError(
        this.flow.name,
        task.def.name,
        error,
        this.#failures.slice(),
        task.def.gate,
      )
      this.#end(
        'rejected',
        failure,
        new AbortedError(`Flow "${this.flow.name}" was aborted: task "${task.def.name}" failed`, {
          cause: failure,
        }),
      )
      return
    }
    task.result?.reject(new DependencyError(task.def.name, error))
    this.#remaining--
    // settle(): what waits for a failed task is skipped, transitively.
    const blocked: Task[] = task.def.gate
      ? this.#tasks.filter((t) => !t.def.gate && t.state === WAITING)
      : []
    if (task.dependents !== undefined) blocked.push(...task.dependents)
    while (blocked.length > 0) {
      const t = blocked.pop()!
      if (t.state !== WAITING) continue
      t.state = SKIPPED
      t.error = new SkippedError(t.def.name, task.def.name, error)
      this.#finishWaits(t)
      t.result?.reject(new DependencyError(t.def.name, t.error))
      this.#remaining--
      if (t.dependents !== undefined) blocked.push(...t.dependents)
    }
    this.#maybeDone()
  }

  #missDeadline(): void {
    const ms = this.deadlineAt - this.startedAt
    const error = new DeadlineError(
      `Flow "${this.flow.name}" missed its deadline of ${Math.round(ms)} ms`,
      ms,
    )
    if (!this.#fallBackAtDeadline(error)) this.#end('rejected', error, error)
  }

  /**
   * At the deadline, when every unfinished task is optional, they take their fallbacks and the
   * run returns its partial results in time: a request's budget (a caller's `grpc-timeout`)
   * drops the extras, not the page. A required task still unfinished fails the run as before.
   */
  #fallBackAtDeadline(error: DeadlineError): boolean {
    const cut = this.#tasks.filter((t) => t.state === WAITING || t.state === RUNNING)
    if (cut.length === 0 || cut.some((t) => !t.def.hasFallback)) return false
    const values: unknown[] = []
    try {
      for (const t of cut) values.push(fallbackFor(t.def, error))
    } catch {
      return false
    }
    cut.forEach((t, i) => {
      this.#failures.push({ task: t.def.name, error })
      if (t.state === RUNNING) {
        if (this.#live.enabled) this.#taskSettled(t, 'fallback')
        if (this.#timing) t.endedAt = this.#now()
      }
      t.state = FULFILLED
      t.value = values[i]
      t.fellBack = true
      t.error = error
      this.#finishWaits(t)
      t.result?.resolve(t.value)
      this.#remaining--
    })
    this.#end('fulfilled', undefined, undefined)
    // What still runs is cut off with the deadline as the reason.
    this.#controller.abort(error)
    return true
  }

  #finishWaits(task: Task): void {
    if (task.waitedBy === undefined) return
    const now = this.#now()
    for (const wait of task.waitedBy) wait.to = now
  }

  #maybeDone(): void {
    if (this.#remaining === 0 && !this.#ended) this.#end('fulfilled', undefined, undefined)
  }

  /**
   * Ends the run exactly once: releases the deadline timer and the caller's signal, aborts what
   * still runs, settles every promise a task might still await, then resolves or rejects.
   */
  #end(status: 'fulfilled' | 'rejected' | 'exited', payload: unknown, abortReason: unknown): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer)
    this.#detachSignal?.()
    if (this.#live.enabled) {
      for (const task of this.#tasks)
        if (task.state === RUNNING && task.startedAt >= 0) this.#taskSettled(task, 'aborted')
    }
    if (status !== 'fulfilled') this.#controller.abort(abortReason)
    for (const task of this.#tasks) {
      if (task.state === WAITING || task.state === RUNNING) task.result?.reject(abortReason)
    }
    if (status === 'fulfilled' && this.flow.learned !== undefined)
      learn(this.#tasks, this.flow.learned)
    const resolve = this.#resolve
    const reject = this.#reject
    let result: unknown = payload
    if (status === 'fulfilled')
      result = this.mode === 'run' ? values(this.#tasks) : outcomes(this.#tasks)
    if (this.options.onTrace !== undefined) {
      try {
        this.options.onTrace(
          flowTrace(this.flow.name, this.#tasks, this.#events, status, this.#now()),
        )
      } catch (error) {
        reject(error)
        return
      }
    }
    if (status === 'rejected') reject(payload)
    else resolve(result)
  }
}

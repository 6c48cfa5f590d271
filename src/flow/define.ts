/**
 * Defining a flow. A flow is built once (usually at module scope) by adding tasks in order, and
 * run many times. Each added task can read the results of the tasks added before it, so the type
 * of `$` grows with the builder and a typo or a forward reference is a type error.
 *
 * Builders are persistent: `.task()` returns a new flow and leaves the old one usable, so a shared
 * base flow can be extended differently by different routes.
 */
import type { Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import {
  checkClock,
  checkKnownKeys,
  checkName,
  checkNumber,
  checkTimeOptions,
  show,
  snapshot,
} from '../core/validate.js'
import type { Limiter } from '../policies/limit.js'
import { slotsOf } from '../policies/slots.js'
import { Learned } from './schedule.js'
import { taskParts, type AnyTaskOptions } from './task-options.js'
import { compileCall, type CompiledFlow, type TaskDef } from './run.js'
import { runFlow } from './start.js'
import type {
  FlowDescription,
  OptionalTaskOptions,
  RunArgs,
  RunOptions,
  RunResult,
  SettleResult,
  TaskFn,
  TaskOptions,
} from './types.js'

type Empty = Record<never, never>
/** R plus `{ [K]: T }`, flattened so editor tooltips stay readable. */
type Add<R, K extends string, T> = {
  [P in keyof R | K]: P extends K ? T : P extends keyof R ? R[P] : never
}
type AddGroup<R, G> = {
  [P in keyof R | keyof G]: P extends keyof G
    ? G[P] extends (...args: never[]) => infer T
      ? Awaited<T>
      : never
    : P extends keyof R
      ? R[P]
      : never
}
/** A new task name, or a type error that says why not. */
type NewName<R, K extends string> = K extends keyof R ? `task "${K}" is already defined` : K
type AnyTaskFn = (...args: never[]) => unknown

interface Node {
  readonly def: TaskDef
  readonly prev: Node | undefined
}

const RUN_OPTIONS = ['signal', 'deadline', 'deadlineAt', 'clock', 'onTrace', 'onEvent'] as const

export class Flow<R = Empty, Input = void, Exit = never> {
  readonly name: string
  readonly #clock: Clock | undefined
  readonly #limit: Limiter | number | undefined
  readonly #last: Node | undefined
  readonly #size: number
  #compiled: CompiledFlow | undefined
  /**
   * Name → task for this builder. Handed over to the child on `.task()` (so building n tasks costs
   * O(n), not O(n²)) and rebuilt from the list only if this builder is extended a second time.
   */
  #byName: Map<string, TaskDef> | undefined

  /** @internal Use `flow()`. */
  constructor(
    name: string,
    clock: Clock | undefined,
    limit: Limiter | number | undefined,
    last: Node | undefined,
    size: number,
    byName?: Map<string, TaskDef>,
  ) {
    this.name = name
    this.#clock = clock
    this.#limit = limit
    this.#last = last
    this.#size = size
    this.#byName = byName
  }

  /**
   * Adds a task. It starts as soon as the run starts (after the gates and its `after` tasks) and
   * waits only for the results it reads through `$`.
   */
  task<K extends string, T, F>(
    name: NewName<R, K>,
    fn: TaskFn<R, Input, Exit, T>,
    options: OptionalTaskOptions<keyof R & string, F>,
  ): Flow<Add<R, K, T | F>, Input, Exit>
  task<K extends string, T>(
    name: NewName<R, K>,
    fn: TaskFn<R, Input, Exit, T>,
    options?: TaskOptions<keyof R & string>,
  ): Flow<Add<R, K, T>, Input, Exit>
  task(name: string, fn: AnyTaskFn, options?: AnyTaskOptions): never {
    // The overloads above carry the types; the implementation only builds.
    return this.#add(name, fn, options, false) as never
  }

  /**
   * Adds several tasks at once that read only earlier tasks (like a `Promise.all` group, but each
   * member still starts the moment its own inputs are ready). `options` apply to each member.
   */
  tasks<G extends Record<string, TaskFn<R, Input, Exit, unknown>>>(
    group: G & {
      [K in keyof G]: K extends keyof R ? `task "${K & string}" is already defined` : unknown
    },
    options?: TaskOptions<keyof R & string>,
  ): Flow<AddGroup<R, G>, Input, Exit> {
    if (typeof group !== 'object' || group === null) {
      throw new InvalidOptionError(
        `flow "${this.name}": tasks() takes an object of task functions, got ${show(group)}.`,
      )
    }
    let next: Flow<Empty, Input, Exit> = this as unknown as Flow<Empty, Input, Exit>
    for (const [name, fn] of Object.entries(group))
      next = next.#add(name, fn as AnyTaskFn, options, false)
    return next as unknown as Flow<AddGroup<R, G>, Input, Exit>
  }

  /**
   * Adds a gate: every non-gate task waits for every gate, and if a gate fails no gated task is
   * ever started. Use gates for authentication, authorisation and validation. Gates must be added
   * before other tasks (they cannot read what waits for them).
   */
  gate<K extends string, T>(
    name: NewName<R, K>,
    fn: TaskFn<R, Input, Exit, T>,
    options?: TaskOptions<keyof R & string>,
  ): Flow<Add<R, K, T>, Input, Exit> {
    return this.#add(name, fn as AnyTaskFn, options, true) as unknown as Flow<
      Add<R, K, T>,
      Input,
      Exit
    >
  }

  /** Runs the flow. Resolves with every task's result; rejects with a `FlowError` if a required task fails. */
  run(...args: RunArgs<Input>): Promise<RunResult<R, Exit>> {
    return runFlow(this.#compile(), args[0], checkRunOptions(this.name, args[1]), 'run') as Promise<
      RunResult<R, Exit>
    >
  }

  /**
   * Runs the flow to the end whatever fails, like `Promise.allSettled`: resolves with each task's
   * outcome and never rejects for a task failure (it still rejects on abort and deadline).
   */
  settle(...args: RunArgs<Input>): Promise<SettleResult<R, Exit>> {
    return runFlow(
      this.#compile(),
      args[0],
      checkRunOptions(this.name, args[1]),
      'settle',
    ) as Promise<SettleResult<R, Exit>>
  }

  /** The static shape: tasks, gates, declared `after` edges and policies. Nothing runs. */
  describe(): FlowDescription {
    const { defs } = this.#compile()
    return {
      name: this.name,
      tasks: defs.map((d) => ({
        name: d.name,
        gate: d.gate,
        optional: d.hasFallback,
        after: d.after.map((i) => defs[i]!.name),
        timeout: d.timeout,
        policies: d.policies.map((p) => p.name),
      })),
    }
  }

  #compile(): CompiledFlow {
    if (this.#compiled !== undefined) return this.#compiled
    const defs: TaskDef[] = new Array<TaskDef>(this.#size)
    for (let node = this.#last; node !== undefined; node = node.prev)
      defs[node.def.index] = node.def
    const index = new Map<string, number>()
    let gates = 0
    for (const d of defs) {
      index.set(d.name, d.index)
      if (d.gate) gates++
    }
    const limit =
      this.#limit === undefined || typeof this.#limit === 'number'
        ? this.#limit
        : slotsOf(this.#limit)
    this.#compiled = {
      name: this.name,
      clock: this.#clock,
      defs,
      index,
      gates,
      calls: defs.map(compileCall),
      limit,
      learned: limit === undefined ? undefined : new Learned(defs),
    }
    return this.#compiled
  }

  #tasksByName(): Map<string, TaskDef> {
    if (this.#byName === undefined) {
      this.#byName = new Map()
      for (let node = this.#last; node !== undefined; node = node.prev)
        this.#byName.set(node.def.name, node.def)
    }
    return this.#byName
  }

  #add(
    name: string,
    fn: AnyTaskFn,
    rawOptions: AnyTaskOptions | undefined,
    gate: boolean,
  ): Flow<Empty, Input, Exit> {
    const where = `flow "${this.name}": ${gate ? 'gate' : 'task'} ${typeof name === 'string' ? `"${name}"` : show(name)}`
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidOptionError(`${where}: the name must be a non-empty string.`)
    }
    const byName = this.#tasksByName()
    if (byName.has(name)) {
      throw new InvalidOptionError(
        `${where}: a task with this name is already defined; task names must be unique.`,
      )
    }
    if (typeof fn !== 'function') {
      throw new InvalidOptionError(
        `${where}: expected a function ($, ctx) => value, got ${show(fn)}.`,
      )
    }
    if (gate && this.#last !== undefined && !this.#last.def.gate) {
      throw new InvalidOptionError(
        `${where}: gates must be added before other tasks (every task waits for every gate, so a gate cannot come after a task).`,
      )
    }
    const parts = taskParts(where, name, rawOptions, gate, byName)
    const def: TaskDef = {
      name,
      index: this.#size,
      gate,
      fn: fn as TaskDef['fn'],
      after: parts.after,
      timeout: parts.timeout,
      policies: parts.policies,
      pipeline: parts.pipeline,
      hasFallback: parts.hasFallback,
      fallback: parts.fallback,
      readsContext: (fn as (...args: unknown[]) => unknown).length >= 2,
    }
    this.#byName = undefined
    byName.set(name, def)
    return new Flow<Empty, Input, Exit>(
      this.name,
      this.#clock,
      this.#limit,
      { def, prev: this.#last },
      this.#size + 1,
      byName,
    )
  }
}

export interface FlowOptions {
  /** Shown in errors and traces. */
  readonly name?: string
  /** Default source of time for runs; tests pass a fake one. */
  readonly clock?: Clock
  /**
   * At most this many tasks of a run work at once (a number: per run; a `limit()` limiter: shared
   * with everything else that uses it). A task gives its slot back while it waits for a result it
   * read, and waiting tasks are ordered by their remaining critical path, learned from earlier
   * runs (create the limiter with `priority: true` for a shared one to honour that order).
   */
  readonly limit?: Limiter | number
}

/**
 * Starts defining a flow. `Input` is what `run(input)` takes; `Exit` is the type a task may end
 * the flow with through `ctx.exit(value)`.
 *
 * @example
 * const page = flow<{ userId: string }>({ name: 'page' })
 *   .task('user', (_, { input }) => getUser(input.userId))
 *   .task('posts', async ($) => getPosts((await $.user).id))
 */
export function flow<Input = void, Exit = never>(
  options: FlowOptions | string = {},
): Flow<Empty, Input, Exit> {
  const opts = snapshot('flow()', typeof options === 'string' ? { name: options } : options)
  checkKnownKeys('flow()', opts, ['name', 'clock', 'limit'])
  if (opts.clock !== undefined) checkClock('flow()', opts.clock)
  let limit: Limiter | number | undefined
  if (opts.limit !== undefined) {
    if (typeof opts.limit === 'number')
      limit = checkNumber('flow()', 'limit', opts.limit, { min: 1, max: 1_000_000, integer: true })
    else if (
      typeof opts.limit === 'object' &&
      opts.limit !== null &&
      slotsOf(opts.limit)?.shared === true
    ) {
      throw new InvalidOptionError(
        'flow(): `limit` cannot be a limiter with a `store` (a flow schedules its tasks through local slots); give the flow a number or a local limit(), and put the shared limiter on the tasks that call the upstream: { policies: [sharedLimiter] }.',
      )
    } else if (
      typeof opts.limit === 'object' &&
      opts.limit !== null &&
      slotsOf(opts.limit) !== undefined
    )
      limit = opts.limit
    else
      throw new InvalidOptionError(
        `flow(): \`limit\` must be a number of tasks or a limit() limiter, got ${show(opts.limit)}.`,
      )
  }
  return new Flow<Empty, Input, Exit>(
    opts.name === undefined ? 'flow' : checkName('flow()', opts.name),
    opts.clock,
    limit,
    undefined,
    0,
  )
}

function checkRunOptions(name: string, raw: RunOptions | undefined): RunOptions {
  const where = `flow "${name}": run options`
  const options = snapshot(where, raw)
  checkKnownKeys(where, options, RUN_OPTIONS)
  checkTimeOptions(where, options)
  if (options.onTrace !== undefined && typeof options.onTrace !== 'function') {
    throw new InvalidOptionError(
      `${where}: \`onTrace\` must be a function, got ${show(options.onTrace)}.`,
    )
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new InvalidOptionError(
      `${where}: \`onEvent\` must be a function, got ${show(options.onEvent)}.`,
    )
  }
  return options
}

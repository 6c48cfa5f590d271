/**
 * The incoming request, as the outbound calls made for it need to know it: a signal that fires
 * only when the client really went away, a deadline, the user the request acts for, where events
 * go, and work to do once the response is out. `fanout/next`, `fanout/express`, `fanout/fastify`
 * and `fanout/hono` are a few lines each over this; any other server can use it directly.
 *
 * Inside `ctx.run(fn)` the context is ambient: every flow run, `execute()` call, `cached()` entry
 * with `scope: 'user'` and `requestScoped()` loader set started there inherits it, without being
 * passed anything (see ambient.ts for the runtimes where that holds).
 *
 * @example
 * const contexts = requestContexts({ budget: 2_000 })
 * const ctx = contexts.open({ request, headers: request.headers, signal: request.signal })
 * try { return await ctx.run(() => page.run({ id })) } finally { void ctx.end() }
 */
import { ambient, ambientStorage } from './ambient.js'
import type { Clock } from './clock.js'
import { ClientClosedError, FanoutError } from './errors.js'
import { budgetFromHeaders, type HeaderSource } from './request-deadline.js'
import {
  checkRequestOptions,
  type RequestContextOptions,
  type RequestSettings,
} from './request-options.js'
import { onAbort } from './signals.js'
import type { TraceEvent } from './trace.js'
import { show } from './validate.js'

export type { RequestContextOptions } from './request-options.js'

/** What a server knows about one incoming request, handed to `open()`. */
export interface RequestSource {
  /** The request object; `requestScoped()` keys its loaders by it. */
  readonly request: object
  /** Where a caller's time budget is read from (`grpc-timeout`, `x-request-timeout-ms`…). */
  readonly headers?: HeaderSource
  /** Fires when the client disconnected before the response finished, and at no other time. */
  readonly signal?: AbortSignal
  /** The user the request acts for, when known up front (a verified session, a JWT's subject). */
  readonly user?: string
  /** This request's own budget in ms (e.g. the framework's handler timeout), when shorter. */
  readonly budget?: number
  /**
   * How the platform runs work after the response (Next's `after()`). Without it, the work
   * starts when `end()` is called.
   */
  readonly defer?: (work: () => Promise<void>) => void
}

/** What a flow run or `execute()` call takes to follow the request explicitly. */
export interface RequestRunOptions {
  readonly signal: AbortSignal
  readonly deadlineAt: number
  readonly clock: Clock
}

const NEVER = new AbortController().signal
/** What `end()` returns when there was no post-response work: one promise, not one per request. */
const DONE = Promise.resolve()

export class RequestContext {
  readonly request: object
  readonly clock: Clock
  readonly startedAt: number
  /** Absolute time on `clock` by which the response must be out; `Infinity` without a budget. */
  readonly deadlineAt: number
  /** Hears the events of every run inside (the `onEvent` option). */
  readonly onEvent: ((event: TraceEvent) => void) | undefined
  /** Made when the signal is first read: a request whose handler starts no work pays nothing. */
  #controller: AbortController | undefined
  readonly #source: AbortSignal | undefined
  readonly #settings: RequestSettings
  readonly #owner: RequestContexts | undefined
  readonly #defer: ((work: () => Promise<void>) => void) | undefined
  #user: string | undefined
  #detach: (() => void) | undefined
  #ended = false
  /** A context post-response work runs in: its own `waitUntil` work starts at once. */
  #after = false
  #deferred: (() => Promise<void>)[] | undefined
  #afterDone: Promise<void> | undefined

  /** @internal — made by `requestContexts().open()`. */
  constructor(
    source: RequestSource,
    settings: RequestSettings,
    owner?: RequestContexts,
    after = false,
  ) {
    this.#after = after
    this.request = source.request
    this.#settings = settings
    this.#owner = owner
    this.#defer = source.defer
    this.#user = source.user
    this.clock = settings.clock
    this.onEvent = settings.onEvent
    this.startedAt = this.clock.now()
    this.deadlineAt = this.startedAt + budgetOf(source, settings)
    this.#source = source.signal
  }

  /** Aborts when the client disconnects before `end()`, with a `ClientClosedError`. */
  get signal(): AbortSignal {
    return (this.#controller ??= this.#follow()).signal
  }

  #follow(): AbortController {
    const controller = new AbortController()
    const source = this.#source
    if (source === undefined || this.#ended) return controller
    // Post-response work is stopped by a draining server, with its reason.
    const reason = (): unknown => (this.#after ? source.reason : ClientClosedError.withoutStack())
    if (source.aborted) controller.abort(reason())
    else
      this.#detach = onAbort(source, () => {
        if (!this.#ended) controller.abort(reason())
      })
    return controller
  }

  /**
   * For adapters that learn of a disconnect from an event rather than a signal (a Node response
   * closing before it ended): the client closed the connection before the response was sent.
   * Does nothing once the context has ended.
   */
  clientClosed(): void {
    if (this.#ended) return
    const controller = (this.#controller ??= new AbortController())
    if (!controller.signal.aborted) controller.abort(ClientClosedError.withoutStack())
  }

  /** The user the request acts for (the scope of `cached()` entries with `scope: 'user'`). */
  get user(): string | undefined {
    return this.#user
  }

  /** Whether post-response work is waiting for `end()` (an adapter hands it to the platform). */
  get hasPendingWork(): boolean {
    return this.#deferred !== undefined
  }

  /** True once the response is out (`end()`). */
  get ended(): boolean {
    return this.#ended
  }

  /** Milliseconds left before the deadline (never negative; `Infinity` without one). */
  remaining(): number {
    return Math.max(0, this.deadlineAt - this.clock.now())
  }

  /** The deadline as a time on another clock (a flow with its own clock inherits it this way). */
  deadlineOn(clock: Clock): number {
    if (this.deadlineAt === Infinity || clock === this.clock) return this.deadlineAt
    return clock.now() + (this.deadlineAt - this.clock.now())
  }

  /** For runtimes without AsyncLocalStorage: `flow.run(input, ctx.runOptions)`. */
  get runOptions(): RequestRunOptions {
    return { signal: this.signal, deadlineAt: this.deadlineAt, clock: this.clock }
  }

  /**
   * Names the user once it is known (after an auth gate). A request acts for one user: naming
   * another later throws, so a cache entry can never be written under the wrong user.
   */
  actAs(user: string): void {
    if (typeof user !== 'string' || user === '')
      throw new TypeError(`actAs(): the user must be a non-empty string, got ${show(user)}.`)
    if (this.#user !== undefined && this.#user !== user)
      throw new FanoutError(
        'FANOUT_INVALID_ARGUMENT',
        'actAs(): this request already acts for another user; one request acts for one user.',
      )
    this.#user = user
  }

  /** Runs `fn` with this context ambient: what it starts inherits the request. */
  run<T>(fn: () => T): T {
    const storage = this.#settings.ambient ? ambientStorage() : undefined
    return storage === undefined ? fn() : storage.run(this, fn)
  }

  /**
   * Work for after the response: cache writes, refreshes, audit. It is not cancelled when the
   * client leaves; it runs ambient in a context of its own, with the request's user and trace,
   * no deadline (or `afterBudget`), and a signal that fires only when the server drains. Failures
   * go to `onError`. A promise is tracked as it is.
   */
  waitUntil(work: (() => unknown) | PromiseLike<unknown>): void {
    if (typeof work !== 'function') {
      if (typeof (work as PromiseLike<unknown> | null)?.then !== 'function')
        throw new TypeError(`waitUntil(): pass a function or a promise, got ${show(work)}.`)
      this.#track(Promise.resolve(work))
      return
    }
    const job = (): Promise<void> => {
      const after = this.#afterContext()
      return this.#track(after.run(() => invoke(work)).finally(() => after.#release()))
    }
    if (this.#defer !== undefined) this.#defer(job)
    else if (this.#ended || this.#after) void job()
    else (this.#deferred ??= []).push(job)
  }

  /**
   * The response is out, or the connection is gone: the signal fires no more, its listener is
   * released, and post-response work starts. Resolves when this request's work has finished
   * (never rejects: failures went to `onError`). Idempotent.
   */
  end(): Promise<void> {
    if (this.#ended) return this.#afterDone ?? DONE
    this.#ended = true
    this.#release()
    const jobs = this.#deferred
    this.#deferred = undefined
    this.#afterDone = jobs === undefined ? DONE : runAll(jobs)
    return this.#afterDone
  }

  #release(): void {
    this.#detach?.()
    this.#detach = undefined
  }

  #afterContext(): RequestContext {
    const settings = this.#settings
    return new RequestContext(
      {
        request: this.request,
        signal: this.#owner?.drainSignal ?? NEVER,
        budget: settings.afterBudget,
        ...(this.#user === undefined ? {} : { user: this.#user }),
      },
      { ...settings, budget: settings.afterBudget, deadlineHeaders: [] },
      this.#owner,
      true,
    )
  }

  #track(work: Promise<unknown>): Promise<void> {
    const done = work.then(
      () => undefined,
      (error: unknown) => report(this.#settings, error),
    )
    this.#owner?.track(done)
    return done
  }
}

function invoke(work: () => unknown): Promise<unknown> {
  try {
    return Promise.resolve(work())
  } catch (error) {
    return Promise.reject(error)
  }
}

function runAll(jobs: readonly (() => Promise<void>)[]): Promise<void> {
  return Promise.all(jobs.map((job) => job())).then(() => undefined)
}

function report(settings: RequestSettings, error: unknown): void {
  try {
    settings.onError(error)
  } catch {
    // A reporter that throws must not turn into an unhandled rejection.
  }
}

/** The smallest of the server's budget, the source's, and the caller's header (less the margin). */
function budgetOf(source: RequestSource, settings: RequestSettings): number {
  let budget = Math.min(settings.budget, source.budget ?? Infinity)
  if (source.headers !== undefined && settings.deadlineHeaders.length > 0) {
    const asked = budgetFromHeaders(source.headers, settings.deadlineHeaders)
    if (asked !== undefined)
      budget = Math.min(budget, settings.maxBudget, Math.max(0, asked - settings.margin))
  }
  return budget
}

/** The request context the calling code runs for, or undefined outside one. */
export function currentRequest(): RequestContext | undefined {
  const store = ambient()
  return store instanceof RequestContext ? store : undefined
}

/** One server's request contexts: their options, and the post-response work still running. */
export class RequestContexts {
  // Set once: by the constructor, or by fromSettings() right after it.
  #settings: RequestSettings
  readonly #pending = new Set<Promise<void>>()
  readonly #drain = new AbortController()

  constructor(options?: RequestContextOptions) {
    this.#settings = checkRequestOptions('requestContexts()', options)
  }

  /**
   * @internal — for adapters, which check these options beside their own (`splitRequestOptions`)
   * so that errors name the adapter; the settings are not checked a second time.
   */
  static fromSettings(settings: RequestSettings): RequestContexts {
    const contexts = new RequestContexts()
    contexts.#settings = settings
    return contexts
  }

  /** Opens the context of one incoming request. Call `end()` when its response is out. */
  open(source: RequestSource): RequestContext {
    if (typeof source !== 'object' || source === null || typeof source.request !== 'object')
      throw new TypeError(
        `requestContexts().open(): pass { request, headers?, signal? }, got ${show(source)}.`,
      )
    return new RequestContext(source, this.#settings, this)
  }

  /** Post-response work still running. */
  get pending(): number {
    return this.#pending.size
  }

  /** @internal — the signal post-response work gets: fires when `drain()` gives up waiting. */
  get drainSignal(): AbortSignal {
    return this.#drain.signal
  }

  /** @internal */
  track(work: Promise<void>): void {
    this.#pending.add(work)
    void work.finally(() => this.#pending.delete(work))
  }

  /**
   * For a graceful shutdown: waits for the post-response work still running; after `timeoutMs`
   * its signal aborts and the wait ends.
   */
  async drain(timeoutMs = Infinity): Promise<void> {
    const all = Promise.all(this.#pending).then(() => undefined)
    if (timeoutMs === Infinity) return all
    let timer: ReturnType<Clock['setTimeout']> | undefined
    const clock = this.#settings.clock
    const late = new Promise<void>((resolve) => {
      timer = clock.setTimeout(() => {
        this.#drain.abort(new FanoutError('FANOUT_ABORTED', 'the server is shutting down'))
        resolve()
      }, timeoutMs)
    })
    try {
      await Promise.race([all, late])
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer)
    }
  }
}

/**
 * The request contexts of one server.
 *
 * @example
 * const contexts = requestContexts({ budget: 2_000, maxBudget: 10_000 })
 */
export function requestContexts(options?: RequestContextOptions): RequestContexts {
  return new RequestContexts(options)
}

/**
 * Every error fanout creates is a `FanoutError` with a stable `code`. The brand is a
 * `Symbol.for` key, so `isFanoutError` works even when two copies of fanout are installed.
 */

const brand = Symbol.for('fanout.error')

export type FanoutErrorCode =
  | 'FANOUT_INVALID_OPTION'
  | 'FANOUT_INVALID_ARGUMENT'
  | 'FANOUT_TASK_FAILED'
  | 'FANOUT_TIMEOUT'
  | 'FANOUT_DEADLINE'
  | 'FANOUT_CYCLE'
  | 'FANOUT_UNKNOWN_TASK'
  | 'FANOUT_DEPENDENCY_FAILED'
  | 'FANOUT_SKIPPED'
  | 'FANOUT_ABORTED'
  | 'FANOUT_RATE_LIMITED'
  | 'FANOUT_RETRY_BUDGET'
  | 'FANOUT_CIRCUIT_OPEN'
  | 'FANOUT_QUEUE_FULL'
  | 'FANOUT_NOT_FOUND'
  | 'FANOUT_PAGINATION'
  | 'FANOUT_URL_TOO_LONG'
  | 'FANOUT_HTTP_STATUS'
  | 'FANOUT_HTTP_TOO_LARGE'
  | 'FANOUT_HTTP_SSRF'
  | 'FANOUT_HTTP_REDIRECT'
  | 'FANOUT_HTTP_INVALID_JSON'
  | 'FANOUT_HTTP_PROTOCOL'
  | 'FANOUT_NETWORK'
  | 'FANOUT_MISSING_PEER'
  | 'FANOUT_STORE_UNAVAILABLE'
  | 'FANOUT_STORE'
  | 'FANOUT_LEASE_LOST'
  | 'FANOUT_QUEUE_UNAVAILABLE'
  | 'FANOUT_CLIENT_CLOSED'
  | 'FANOUT_NO_USER'

export class FanoutError extends Error {
  readonly code: FanoutErrorCode
  constructor(code: FanoutErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'FanoutError'
    Object.defineProperty(this, brand, { value: true })
  }
}

/** True for any error created by fanout (any installed copy), optionally with the given code. */
export function isFanoutError(error: unknown, code?: FanoutErrorCode): error is FanoutError {
  if (typeof error !== 'object' || error === null || !(brand in error)) return false
  return code === undefined || (error as { code?: unknown }).code === code
}

/**
 * A part of fanout needs an optional peer dependency that is not installed (`fanout/http` needs
 * undici, `fanout/cache/lru-cache` lru-cache, `fanout lint` eslint, @typescript-eslint/parser and
 * ignore).
 * Thrown when that part is loaded, instead of a bare module-not-found, with the command that
 * fixes it. Check it with `isFanoutError(error, 'FANOUT_MISSING_PEER')`.
 */
export class MissingPeerError extends FanoutError {
  constructor(
    /** The packages that are missing, e.g. `['undici']`. */
    readonly packages: readonly string[],
    /** The command that installs them, e.g. `npm install undici`. */
    readonly install: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('FANOUT_MISSING_PEER', message, options)
    this.name = 'MissingPeerError'
  }
}

/** An option failed validation. Thrown at construction, before anything runs. */
export class InvalidOptionError extends FanoutError {
  constructor(message: string) {
    super('FANOUT_INVALID_OPTION', message)
    this.name = 'InvalidOptionError'
  }
}

/**
 * A call's argument is beyond a documented limit (e.g. a `cacheKey()` part nested deeper than
 * 100 levels): refused at once with the limit named, before any work or a stack overflow.
 */
export class InvalidArgumentError extends FanoutError {
  constructor(message: string) {
    super('FANOUT_INVALID_ARGUMENT', message)
    this.name = 'InvalidArgumentError'
  }
}

/** A per-attempt or per-task time limit elapsed. The call's signal was aborted with this error. */
export class TimeoutError extends FanoutError {
  readonly timeoutMs: number
  constructor(
    message: string,
    timeoutMs: number,
    code: 'FANOUT_TIMEOUT' | 'FANOUT_DEADLINE' = 'FANOUT_TIMEOUT',
  ) {
    super(code, message)
    this.name = 'TimeoutError'
    this.timeoutMs = timeoutMs
  }
}

/** The overall deadline passed. A `TimeoutError` whose code is `FANOUT_DEADLINE`. */
export class DeadlineError extends TimeoutError {
  constructor(message: string, timeoutMs: number) {
    super(message, timeoutMs, 'FANOUT_DEADLINE')
    this.name = 'DeadlineError'
  }
}

/** The work was cancelled because something else failed or exited first. */
export class AbortedError extends FanoutError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FANOUT_ABORTED', message, options)
    this.name = 'AbortedError'
  }
}

/** Short, single-line description of an unknown thrown value, for messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  if (typeof error === 'string') return error
  try {
    return String(error)
  } catch {
    return Object.prototype.toString.call(error)
  }
}

/**
 * The upstream asked to wait longer than allowed (`maxRetryAfter` or the time left before the
 * deadline), so the call failed at once instead of sleeping. `retryAfterMs` is the requested wait.
 */
export class RateLimitedError extends FanoutError {
  readonly retryAfterMs: number
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super('FANOUT_RATE_LIMITED', message, options)
    this.name = 'RateLimitedError'
    this.retryAfterMs = retryAfterMs
  }
}

/**
 * `retry()` would have retried, but the retry budget said no: too many recent attempts to this
 * upstream failed. `cause` is the upstream's last error; its `status` and `retryAfterMs` are
 * copied here, so code that reads `err.status` still sees the 503.
 */
export class RetryBudgetError extends FanoutError {
  /** Attempts made before the budget stopped the call. */
  readonly attempts: number
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined
  constructor(
    message: string,
    cause: unknown,
    init: { attempts: number; status: number | undefined; retryAfterMs: number | undefined },
  ) {
    super('FANOUT_RETRY_BUDGET', message, { cause })
    this.name = 'RetryBudgetError'
    this.attempts = init.attempts
    this.status = init.status
    this.retryAfterMs = init.retryAfterMs
  }
}

/** A circuit breaker is open: the call was not made. It will let a probe through at `retryAt`. */
export class CircuitOpenError extends FanoutError {
  readonly breaker: string
  /** Time on the breaker's clock when it will next let a call through. */
  readonly retryAt: number
  /** Milliseconds from when this error was created until `retryAt`. */
  readonly retryAfterMs: number
  constructor(breaker: string, retryAt: number, retryAfterMs: number) {
    super(
      'FANOUT_CIRCUIT_OPEN',
      `Circuit "${breaker}" is open: calls are failing fast; it will let a trial call through in ${Math.ceil(retryAfterMs)} ms`,
    )
    this.name = 'CircuitOpenError'
    this.breaker = breaker
    this.retryAt = retryAt
    this.retryAfterMs = retryAfterMs
  }
}

/** A limiter's queue is at its bound: the call was rejected at once, never buffered. */
export class QueueFullError extends FanoutError {
  readonly maxQueue: number
  constructor(message: string, maxQueue: number) {
    super('FANOUT_QUEUE_FULL', message)
    this.name = 'QueueFullError'
    this.maxQueue = maxQueue
  }
}

/** Why a rate limiter refused a call instead of making it wait (a full queue is a `QueueFullError`). */
export type RateLimitRejection = 'maxWait' | 'deadline' | 'weight' | 'maxKeys'

/**
 * A local rate limiter refused a call at once instead of making it wait: the wait it needed
 * (`retryAfterMs`, `Infinity` when it could never be let through) did not fit `reason`.
 * A `RateLimitedError`, so code that handles the upstream's 429s handles this too.
 */
export class RateLimitExceededError extends RateLimitedError {
  /** The limiter's name. */
  readonly limiter: string
  readonly reason: RateLimitRejection
  constructor(limiter: string, reason: RateLimitRejection, message: string, retryAfterMs: number) {
    super(message, retryAfterMs)
    this.name = 'RateLimitExceededError'
    this.limiter = limiter
    this.reason = reason
  }
}

/**
 * A batch answered without the key a caller asked for (matched by id, never by position). Carries
 * a 404 `status`, so fallbacks and negative caching treat it like the upstream's own not-found.
 */
export class NotFoundError extends FanoutError {
  readonly status = 404
  /** The key that was missing from the batch's answer. */
  readonly key: unknown
  constructor(message: string, key: unknown) {
    super('FANOUT_NOT_FOUND', message)
    this.name = 'NotFoundError'
    this.key = key
  }
}

/** Why a shared store could not answer: it took too long, it failed, or its breaker is open. */
export type StoreFailure = 'timeout' | 'error' | 'circuit-open'

/**
 * A shared store (Redis, say) could not answer in time and the store's `onStoreError` policy is
 * `'fail-closed'`: the call was refused rather than let through unlimited. Never a 429: nothing
 * upstream refused anything. `cause` holds the client's error, when there was one.
 */
export class StoreUnavailableError extends FanoutError {
  /** The store's name. */
  readonly store: string
  /** What it was asked to do (`reserve`, `acquire`, `get`, ...). */
  readonly operation: string
  readonly reason: StoreFailure
  constructor(
    store: string,
    operation: string,
    reason: StoreFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('FANOUT_STORE_UNAVAILABLE', message, options)
    this.name = 'StoreUnavailableError'
    this.store = store
    this.operation = operation
    this.reason = reason
  }
}

/**
 * A shared store answered with an error that no retry or fallback can fix: its key holds another
 * kind of value (another application uses the prefix), or the server refused the command. Raised
 * whatever `onStoreError` says, because falling back would hide a misconfiguration.
 */
export class StoreError extends FanoutError {
  readonly store: string
  readonly operation: string
  constructor(store: string, operation: string, message: string, options?: { cause?: unknown }) {
    super('FANOUT_STORE', message, options)
    this.name = 'StoreError'
    this.store = store
    this.operation = operation
  }
}

/**
 * A limiter with a shared `store` could not keep a running call's permit: a renewal found the
 * lease gone (it ran out, e.g. while the process was stalled, and may be held by another call
 * now), or the store could not confirm it. The call's signal is aborted with this error, so the
 * call stops instead of running on past the shared limit. `cause` holds the store's error, when
 * there was one.
 */
export class LeaseLostError extends FanoutError {
  /** The limiter's name. */
  readonly limiter: string
  constructor(limiter: string, message: string, options?: { cause?: unknown }) {
    super('FANOUT_LEASE_LOST', message, options)
    this.name = 'LeaseLostError'
    this.limiter = limiter
  }
}

/** Why a job queue's broker could not take a job: it took too long, it failed, or it is closed. */
export type QueueFailure = 'timeout' | 'error' | 'closed'

/**
 * A job queue's broker (Redis for BullMQ, RabbitMQ) could not take or answer in time. Raised within
 * the enqueue's own timeout instead of buffering the job offline, so a route can answer 503 at
 * once. `cause` holds the client's error, when there was one.
 */
export class QueueUnavailableError extends FanoutError {
  /** The queue's backend (`memory`, `bullmq`, `amqp`). */
  readonly backend: string
  /** What it was asked to do (`enqueue`, `status`, ...). */
  readonly operation: string
  readonly reason: QueueFailure
  constructor(
    backend: string,
    operation: string,
    reason: QueueFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('FANOUT_QUEUE_UNAVAILABLE', message, options)
    this.name = 'QueueUnavailableError'
    this.backend = backend
    this.operation = operation
    this.reason = reason
  }
}

/**
 * The reason a request context's signal aborts with: the client closed the connection before the
 * response was sent. Retrying after it is pointless, and `retry()` does not.
 */
export class ClientClosedError extends FanoutError {
  constructor() {
    super('FANOUT_CLIENT_CLOSED', 'the client closed the connection before the response was sent')
    this.name = 'ClientClosedError'
  }

  /**
   * One without a stack trace: it marks an event, not a place in the code, and what receives it
   * (a stream being destroyed) may format its stack, which costs milliseconds under source maps.
   */
  static withoutStack(): ClientClosedError {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      return new ClientClosedError()
    } finally {
      Error.stackTraceLimit = limit
    }
  }
}

/**
 * A `cached()` call with `scope: 'user'` ran where no user is known: outside a request context,
 * or before the request named its user. Failing is the safe answer: an entry stored without its
 * user could be served to anybody.
 */
export class NoUserError extends FanoutError {
  constructor(where: string) {
    super(
      'FANOUT_NO_USER',
      `${where}: \`scope: 'user'\` needs the user of the current request, and none is known here. ` +
        `Run it inside a request context (fanout/next, fanout/express, fanout/fastify, fanout/hono) that names its user ` +
        `(the \`user\` option, or ctx.actAs(id) after the auth gate).`,
    )
    this.name = 'NoUserError'
  }
}

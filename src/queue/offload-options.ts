/** The options of `offload()`, checked at each call (own properties only). */
import type { CallContext } from '../core/call.js'
import { systemClock, type Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import {
  checkDuration,
  checkKnownKeys,
  checkNumber,
  checkTimeOptions,
  show,
  snapshot,
} from '../core/validate.js'
import type { CredentialPolicy } from './credentials.js'

export interface OffloadOptions {
  /**
   * Makes the job idempotent: a second `offload()` with the same key, name and `scope` finds the
   * job already there (while the backend still knows it) instead of adding one. Typically the
   * request's `Idempotency-Key` header (`idempotencyKeyOf(request)`).
   */
  readonly idempotencyKey?: string | undefined
  /**
   * Whose key it is (a tenant, a user): required with `idempotencyKey`, so keys never cross
   * users; without a key it has no effect (`{ idempotencyKey: idempotencyKeyOf(request), scope }`
   * makes a new job when the request has no key).
   */
  readonly scope?: string | undefined
  /** Queue-level attempts in all. Default 3. */
  readonly attempts?: number
  /** Run no earlier than this many ms from now. Default 0. */
  readonly delay?: number
  /** The job is pointless this many ms from now: a worker that picks it up later fails it with `FANOUT_DEADLINE`. */
  readonly jobDeadline?: number
  /** What to do with credential-looking data (H5): `'refuse'` (default) or `'redact'`. */
  readonly credentials?: CredentialPolicy
  /** The caller's context (a flow task's `ctx`): its signal and deadline bound the enqueue. */
  readonly context?: CallContext | undefined
  /** Stops waiting for the enqueue; it rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined
  /** The enqueue must finish within this many ms, or it rejects with `DeadlineError`. */
  readonly deadline?: number
  /** Absolute deadline for the enqueue on `clock`. */
  readonly deadlineAt?: number
  readonly clock?: Clock
}

export interface OffloadSettings {
  readonly key: { readonly value: string; readonly scope: string } | undefined
  readonly attempts: number
  readonly delayMs: number
  readonly jobDeadline: number | undefined
  readonly credentials: CredentialPolicy
  readonly signal: AbortSignal | undefined
  /** On `clock`; `Infinity` when nothing bounds the enqueue. */
  readonly deadlineAt: number
  readonly clock: Clock
}

const WHERE = 'offload()'
const KNOWN = [
  'idempotencyKey',
  'scope',
  'attempts',
  'delay',
  'jobDeadline',
  'credentials',
  'context',
  'signal',
  'deadline',
  'deadlineAt',
  'clock',
] as const

/** Printable ASCII without spaces at the ends, as `idempotencyKeyOf()` accepts. */
const KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/

export function offloadSettings(options: OffloadOptions | undefined): OffloadSettings {
  const opts = snapshot(WHERE, options)
  checkKnownKeys(WHERE, opts, KNOWN)
  checkTimeOptions(WHERE, opts)
  const context = checkContext(opts.context)
  if (context !== undefined && opts.signal !== undefined)
    throw new InvalidOptionError(
      `${WHERE}: pass \`signal\` or \`context\`, not both: the context already carries its signal.`,
    )
  const clock = opts.clock ?? context?.clock ?? systemClock
  const now = clock.now()
  let deadlineAt = Math.min(opts.deadlineAt ?? Infinity, context?.deadlineAt ?? Infinity)
  if (opts.deadline !== undefined) deadlineAt = Math.min(deadlineAt, now + opts.deadline)
  if (
    opts.credentials !== undefined &&
    opts.credentials !== 'refuse' &&
    opts.credentials !== 'redact'
  )
    throw new InvalidOptionError(
      `${WHERE}: \`credentials\` must be 'refuse' or 'redact', got ${show(opts.credentials)}.`,
    )
  return {
    key: checkKey(opts.idempotencyKey, opts.scope),
    attempts:
      opts.attempts === undefined
        ? 3
        : checkNumber(WHERE, 'attempts', opts.attempts, { min: 1, max: 1_000, integer: true }),
    delayMs: opts.delay === undefined ? 0 : checkDuration(WHERE, 'delay', opts.delay, { min: 0 }),
    jobDeadline:
      opts.jobDeadline === undefined
        ? undefined
        : checkDuration(WHERE, 'jobDeadline', opts.jobDeadline),
    credentials: opts.credentials ?? 'refuse',
    signal: opts.signal ?? context?.signal,
    deadlineAt,
    clock,
  }
}

function checkContext(value: unknown): CallContext | undefined {
  if (value === undefined) return undefined
  const c = value as Partial<CallContext> | null
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.deadlineAt !== 'number' ||
    typeof c.signal !== 'object' ||
    typeof c.clock !== 'object'
  )
    throw new InvalidOptionError(
      `${WHERE}: \`context\` must be a call context (a flow task's or a policy's ctx), got ${show(value)}.`,
    )
  return c as CallContext
}

function checkKey(key: unknown, scope: unknown): OffloadSettings['key'] {
  // A scope without a key is the usual route code with no Idempotency-Key header: a new job.
  if (key === undefined) return undefined
  if (typeof key !== 'string' || !KEY.test(key))
    throw new InvalidOptionError(
      `${WHERE}: \`idempotencyKey\` must be 1–255 printable ASCII characters, got ${show(key)}.`,
    )
  if (typeof scope !== 'string' || scope.trim() === '' || scope.length > 255)
    throw new InvalidOptionError(
      `${WHERE}: an \`idempotencyKey\` needs a \`scope\` (the tenant or user it belongs to, 1–255 characters), ` +
        `so one client's key never finds another's job; got ${show(scope)}.`,
    )
  return { value: key, scope }
}

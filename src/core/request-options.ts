/** The options of `requestContexts()`, checked once when the server starts. */
import { systemClock, type Clock } from './clock.js'
import { describeError } from './errors.js'
import type { TraceEvent } from './trace.js'
import {
  checkBoolean,
  checkClock,
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  snapshot,
} from './validate.js'
import { InvalidOptionError } from './errors.js'

export interface RequestContextOptions {
  /** Every request's time budget in ms: flows inside get this deadline. Default: none. */
  readonly budget?: number
  /**
   * The longest budget a caller's header can set, in ms. A header only ever shortens the
   * budget; this caps it when there is no `budget`. Default: `budget`, or none.
   */
  readonly maxBudget?: number
  /**
   * Headers through which a caller sends its own budget, lower-case. `grpc-timeout` uses the gRPC
   * syntax (`250m`, `5S`), the others whole milliseconds. Default
   * `['grpc-timeout', 'x-request-timeout-ms']`; `false` or `[]` ignores callers' budgets.
   */
  readonly deadlineHeaders?: false | readonly string[]
  /** Taken off a caller's budget for the response's way back, in ms. Default 10. */
  readonly margin?: number
  /** Deadline of post-response work (`waitUntil`), in ms. Default: none. */
  readonly afterBudget?: number
  /**
   * Whether work started inside the request inherits it without being passed anything (through
   * AsyncLocalStorage). Default true. On Node 20 an AsyncLocalStorage in use charges every
   * promise; with `false` nothing is ambient, and code passes `ctx.runOptions` itself.
   */
  readonly ambient?: boolean
  /** Hears the events of every flow run and call inside each request. */
  readonly onEvent?: (event: TraceEvent) => void
  /** Hears post-response work that failed. Default: `console.error` with the error's name and message. */
  readonly onError?: (error: unknown) => void
  readonly clock?: Clock
}

/** The options, checked and with their defaults. */
export interface RequestSettings {
  readonly budget: number
  readonly maxBudget: number
  readonly deadlineHeaders: readonly string[]
  readonly margin: number
  readonly afterBudget: number
  readonly ambient: boolean
  readonly onEvent: ((event: TraceEvent) => void) | undefined
  readonly onError: (error: unknown) => void
  readonly clock: Clock
}

/**
 * The keys of `RequestContextOptions`, for adapters that take them beside options of their own.
 * The check below fails to compile when the interface gains a key this list lacks: an unknown-key
 * error must never reject an option the core accepts.
 */
export const REQUEST_CONTEXT_KEYS = Object.freeze([
  'budget',
  'maxBudget',
  'deadlineHeaders',
  'margin',
  'afterBudget',
  'ambient',
  'onEvent',
  'onError',
  'clock',
] as const satisfies readonly (keyof RequestContextOptions)[])

type Unlisted = Exclude<keyof RequestContextOptions, (typeof REQUEST_CONTEXT_KEYS)[number]>
const everyKeyListed: [Unlisted] extends [never] ? true : Unlisted = true
void everyKeyListed

export const DEFAULT_DEADLINE_HEADERS: readonly string[] = Object.freeze([
  'grpc-timeout',
  'x-request-timeout-ms',
])

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

function defaultOnError(error: unknown): void {
  // Name and message only: a stack or a cause may carry request data into the logs.
  console.error(`fanout: post-response work failed: ${describeError(error)}`)
}

function checkHeaders(where: string, value: unknown): readonly string[] {
  if (value === false) return []
  if (!Array.isArray(value) || value.some((h) => typeof h !== 'string' || !HEADER_NAME.test(h)))
    throw new InvalidOptionError(
      `${where}: \`deadlineHeaders\` must be false or a list of lower-case header names, e.g. ['grpc-timeout', 'x-request-timeout-ms'].`,
    )
  return Object.freeze([...(value as string[])])
}

function optionalDuration(where: string, name: string, value: unknown): number {
  return value === undefined ? Infinity : checkDuration(where, name, value, { allowInfinity: true })
}

export function checkRequestOptions(
  where: string,
  options: RequestContextOptions | undefined,
): RequestSettings {
  const o = snapshot(where, options)
  checkKnownKeys(where, o, REQUEST_CONTEXT_KEYS)
  return settingsOf(where, o)
}

/** An adapter's options, checked: the request contexts' settings, and the adapter's own values. */
export interface SplitRequestOptions<K extends string> {
  readonly settings: RequestSettings
  /** The adapter's own options as given (own properties only), for the adapter to check. */
  readonly own: { readonly [P in K]?: unknown }
}

/**
 * Checks the options of an adapter that takes the request contexts' options beside its own
 * (`ownKeys`): an unknown key is matched against both for its hint, and every error names `where`.
 */
export function splitRequestOptions<K extends string>(
  where: string,
  options: object | undefined,
  ownKeys: readonly K[],
): SplitRequestOptions<K> {
  const o = snapshot(where, options) as Record<string, unknown>
  checkKnownKeys(where, o, [...REQUEST_CONTEXT_KEYS, ...ownKeys])
  // Null-prototype, as the snapshot: a polluted Object.prototype must not read as an option.
  const core = Object.create(null) as Record<string, unknown>
  const own = Object.create(null) as { [P in K]?: unknown }
  for (const [key, value] of Object.entries(o))
    if ((ownKeys as readonly string[]).includes(key)) own[key as K] = value
    else core[key] = value
  return { settings: settingsOf(where, core as Partial<RequestContextOptions>), own }
}

function settingsOf(where: string, o: Partial<RequestContextOptions>): RequestSettings {
  if (o.clock !== undefined) checkClock(where, o.clock)
  const budget = optionalDuration(where, 'budget', o.budget)
  const maxBudget =
    o.maxBudget === undefined ? budget : optionalDuration(where, 'maxBudget', o.maxBudget)
  if (o.budget !== undefined && budget > maxBudget)
    throw new InvalidOptionError(
      `${where}: \`budget\` (${budget} ms) is longer than \`maxBudget\` (${maxBudget} ms).`,
    )
  return {
    budget,
    maxBudget,
    deadlineHeaders:
      o.deadlineHeaders === undefined
        ? DEFAULT_DEADLINE_HEADERS
        : checkHeaders(where, o.deadlineHeaders),
    margin:
      o.margin === undefined
        ? 10
        : checkNumber(where, 'margin', o.margin, { min: 0, max: 60_000, unit: 'ms' }),
    afterBudget: optionalDuration(where, 'afterBudget', o.afterBudget),
    ambient: o.ambient === undefined ? true : checkBoolean(where, 'ambient', o.ambient),
    onEvent:
      o.onEvent === undefined
        ? undefined
        : checkFunction(where, 'onEvent', o.onEvent, '(event) => void'),
    onError:
      o.onError === undefined
        ? defaultOnError
        : checkFunction(where, 'onError', o.onError, '(error) => void'),
    clock: o.clock ?? systemClock,
  }
}

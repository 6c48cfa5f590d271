/**
 * The time budget a caller sends with its request. Two forms:
 *
 * - `grpc-timeout`: `1*8DIGIT` then a case-sensitive unit: `H` hours, `M` minutes, `S` seconds,
 *   `m` milliseconds, `u` microseconds, `n` nanoseconds (the gRPC over HTTP/2 spec). `M` is
 *   minutes: `100M` is 100 minutes, not 100 ms.
 * - any other header named in `deadlineHeaders` (e.g. `x-request-timeout-ms`): whole milliseconds.
 *
 * A value that does not parse is ignored, not an error: a budget is advice from the caller, and a
 * malformed one must not fail the request. When a header comes more than once the smallest budget
 * wins (the most careful reading).
 */

const GRPC = /^(\d{1,8})([HMSmun])$/
const MS = /^\d{1,15}$/
const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
}

/** Milliseconds of a `grpc-timeout` value, or undefined when it does not parse. */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = GRPC.exec(value.trim())
  if (match === null) return undefined
  return Number(match[1]) * (UNIT_MS[match[2]!] as number)
}

/** Milliseconds of a plain-millisecond header value, or undefined when it does not parse. */
export function parseMilliseconds(value: string): number | undefined {
  const text = value.trim()
  return MS.test(text) ? Number(text) : undefined
}

/** Where request headers are read from: a `Headers`, Node's `req.headers`, or a lookup. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>

/** Every value of one header (lower-case name), split on commas. */
export function headerValues(headers: HeaderSource, name: string): string[] {
  const raw =
    typeof (headers as { get?: unknown }).get === 'function'
      ? (headers as { get(name: string): string | null }).get(name)
      : (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name]
  if (raw === null || raw === undefined) return []
  const joined = typeof raw === 'string' ? raw : raw.join(',')
  return joined.split(',')
}

/** The smallest budget the named headers carry, in ms, or undefined when none parses. */
export function budgetFromHeaders(
  headers: HeaderSource,
  names: readonly string[],
): number | undefined {
  let best: number | undefined
  for (const name of names) {
    const parse = name === 'grpc-timeout' ? parseGrpcTimeout : parseMilliseconds
    for (const value of headerValues(headers, name)) {
      const ms = parse(value)
      if (ms !== undefined && (best === undefined || ms < best)) best = ms
    }
  }
  return best
}

/**
 * A `grpc-timeout` value for `ms` milliseconds: whole milliseconds when they fit the 8 digits
 * the syntax allows, else the smallest coarser unit that does (rounded down, never longer).
 */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(0, Math.floor(ms))
  for (const [unit, size] of [
    ['m', 1],
    ['S', 1_000],
    ['M', 60_000],
    ['H', 3_600_000],
  ] as const) {
    const value = Math.floor(whole / size)
    if (value <= 99_999_999) return `${value}${unit}`
  }
  return '99999999H'
}

/**
 * The headers that pass the time left on to the next service: `grpc-timeout` and
 * `x-request-timeout-ms`, from a context's `deadlineAt` (a task's, a call's or a request's), so
 * the service called gives up when its answer could no longer be used. Empty without a deadline.
 *
 * @example
 * http.json(url, { context: ctx, headers: deadlineHeaders(ctx) })
 */
export function deadlineHeaders(context: {
  readonly deadlineAt: number
  readonly clock: { now(): number }
}): Record<string, string> {
  if (!Number.isFinite(context.deadlineAt)) return {}
  const left = Math.max(0, Math.floor(context.deadlineAt - context.clock.now()))
  return { 'grpc-timeout': formatGrpcTimeout(left), 'x-request-timeout-ms': String(left) }
}

/**
 * Construction-time validation. Messages say which option, what was received, the valid range,
 * and how to fix it: a typo or a unit mistake should cost one read of the error, not a debugging
 * session.
 */
import { InvalidOptionError } from './errors.js'
import { own } from './own.js'

/** Renders a received value for a message without throwing on exotic inputs. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === null ||
    value === undefined
  )
    return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`
  if (Array.isArray(value)) return `an array of length ${value.length}`
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`
}

export interface DurationRule {
  /** Smallest allowed value in ms, inclusive. Default 1: 0 never silently means "no limit". */
  readonly min?: number
  readonly max?: number
  readonly allowInfinity?: boolean
}

/** A duration in milliseconds: a finite number within [min, max]. */
export function checkDuration(
  where: string,
  name: string,
  value: unknown,
  rawRule?: DurationRule,
): number {
  const rule = own(rawRule)
  const min = rule.min ?? 1
  const max = rule.max ?? Number.MAX_SAFE_INTEGER
  const inf = rule.allowInfinity === true
  const range = `${min}–${max === Number.MAX_SAFE_INTEGER ? 'Number.MAX_SAFE_INTEGER' : max} ms${inf ? ' or Infinity' : ''}`
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new InvalidOptionError(
      `${where}: \`${name}\` must be a number of milliseconds (${range}), got ${show(value)}.` +
        (typeof value === 'string' ? ' Pass a number, e.g. 500, not a string.' : ''),
    )
  }
  if (value === Infinity && inf) return value
  if (value < min || value > max || !Number.isFinite(value)) {
    const hint = value === 0 ? ' 0 does not mean "no limit": omit the option instead.' : ''
    throw new InvalidOptionError(
      `${where}: \`${name}\` must be within ${range}, got ${show(value)}.${hint}`,
    )
  }
  return value
}

/** Rejects keys that are not in `known`, suggesting the closest known key. */
export function checkKnownKeys(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue
    const guess = closest(key, known)
    throw new InvalidOptionError(
      `${where}: unknown option \`${key}\`.` +
        (guess !== undefined ? ` Did you mean \`${guess}\`?` : '') +
        ` Known options: ${known.map((k) => `\`${k}\``).join(', ')}.`,
    )
  }
}

/** The closest candidate by edit distance, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      bestDistance = d
      best = candidate
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3))
    ? best
    : undefined
}

function editDistance(a: string, b: string): number {
  // Damerau (optimal string alignment): a swapped pair like `retires`/`retries` costs 1.
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[] = new Array<number>(rows * cols).fill(0)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1)
      d[i * cols + j] = v
    }
  }
  return d[rows * cols - 1]!
}

/**
 * Takes a snapshot of a plain options object: later mutation by the caller has no effect, and
 * only its own properties count (see `own`).
 */
export function snapshot<T extends object>(where: string, options: T | undefined): Partial<T> {
  if (options === undefined) return Object.create(null) as Partial<T>
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(`${where}: options must be a plain object, got ${show(options)}.`)
  }
  return own(options)
}

export interface NumberRule {
  readonly min: number
  readonly max: number
  /** Whole numbers only. */
  readonly integer?: boolean
  /** Allows the value `Infinity` even though `max` is finite. */
  readonly allowInfinity?: boolean
  /** Unit shown after the range, e.g. "ms". */
  readonly unit?: string
}

/** A number within [min, max] (an integer if asked), or an error naming the option and the range. */
export function checkNumber(
  where: string,
  name: string,
  value: unknown,
  rawRule: NumberRule,
): number {
  const rule = own(rawRule) as NumberRule
  const unit = rule.unit !== undefined ? ` ${rule.unit}` : ''
  const kind = rule.integer === true ? 'an integer' : 'a number'
  const range = `${kind} from ${rule.min} to ${rule.max}${unit}${rule.allowInfinity === true ? ' or Infinity' : ''}`
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new InvalidOptionError(
      `${where}: \`${name}\` must be ${range}, got ${show(value)}.` +
        (typeof value === 'string' ? ' Pass a number, not a string.' : ''),
    )
  }
  if (value === Infinity && rule.allowInfinity === true) return value
  if (value < rule.min || value > rule.max || (rule.integer === true && !Number.isInteger(value))) {
    throw new InvalidOptionError(`${where}: \`${name}\` must be ${range}, got ${show(value)}.`)
  }
  return value
}

/** A function, or an error naming the option. */
export function checkFunction<F>(where: string, name: string, value: unknown, shape: string): F {
  if (typeof value !== 'function')
    throw new InvalidOptionError(
      `${where}: \`${name}\` must be a function ${shape}, got ${show(value)}.`,
    )
  return value as F
}

/** A boolean, or an error naming the option. */
export function checkBoolean(where: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new InvalidOptionError(`${where}: \`${name}\` must be true or false, got ${show(value)}.`)
  return value
}

/** An object with now(), setTimeout() and clearTimeout(), or an error naming the option. */
export function checkClock(where: string, clock: unknown): void {
  const c = clock as { now?: unknown; setTimeout?: unknown; clearTimeout?: unknown } | null
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.now !== 'function' ||
    typeof c.setTimeout !== 'function' ||
    typeof c.clearTimeout !== 'function'
  ) {
    throw new InvalidOptionError(
      `${where}: \`clock\` must have now(), setTimeout() and clearTimeout(), got ${show(clock)}.`,
    )
  }
}

/** An optional display name: a non-blank string, or an error naming the option. */
export function checkName(where: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InvalidOptionError(
      `${where}: \`name\` must be a non-empty string, got ${show(value)}.`,
    )
  return value
}

/**
 * The options every entry point that starts work shares — `signal`, `deadline` (ms),
 * `deadlineAt` (a time on the clock) and `clock` — checked the same way everywhere.
 */
export function checkTimeOptions(
  where: string,
  options: { signal?: unknown; deadline?: unknown; deadlineAt?: unknown; clock?: unknown },
): void {
  const { signal, deadline, deadlineAt, clock } = options
  if (
    signal !== undefined &&
    !(typeof signal === 'object' && signal !== null && 'aborted' in signal)
  ) {
    throw new InvalidOptionError(
      `${where}: \`signal\` must be an AbortSignal, got ${show(signal)}.`,
    )
  }
  if (deadline !== undefined) checkDuration(where, 'deadline', deadline, { allowInfinity: true })
  if (deadlineAt !== undefined && (typeof deadlineAt !== 'number' || Number.isNaN(deadlineAt))) {
    throw new InvalidOptionError(
      `${where}: \`deadlineAt\` must be a time on the clock (a number), got ${show(deadlineAt)}.`,
    )
  }
  if (clock !== undefined) checkClock(where, clock)
}

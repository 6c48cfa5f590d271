/**
 * The options of `adaptiveConcurrency()` and their checks, kept apart from the policy so the
 * algorithm reads on its own.
 */
import { InvalidOptionError } from '../core/errors.js'
import {
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  closest,
  show,
  snapshot,
  checkName,
} from '../core/validate.js'
import type { Limiter } from './limit.js'

interface CommonOptions {
  /** The lowest limit. An integer from 1 to 1 000 000, default 1. */
  readonly min?: number
  /**
   * The highest limit. An integer from `min` to 1 000 000. Default: the limiter's concurrency
   * when the policy is created (so the limit never rises above what you configured), or 1 000
   * when that is Infinity.
   */
  readonly max?: number
  /** Calls per window: the limit is judged (and moved by at most one step) once per window. An integer from 1 to 10 000, default 10. */
  readonly windowSize?: number
  /**
   * How much slower than usual a window may be before it counts as congested: 1.5 (the default)
   * lets it be 50% slower. `aimd` compares with the lowest window latency seen (which creeps up
   * by 1% per window while every window is slower, so a lasting change of latency becomes the
   * new normal); `gradient` with the long-term latency. A number from 1 to 10.
   */
  readonly tolerance?: number
  /** Share of the limit kept after an overload error (and, for `aimd`, a slow window). At least 0.5 and below 1, default 0.9. */
  readonly backoffRatio?: number
  /**
   * Whether an error means the upstream is overloaded. Default {@link isOverloadError}: timeouts,
   * 408, 429, 5xx and network errors. Errors it rejects are not counted at all. An error raised
   * after the caller aborted is never counted, whatever this says.
   */
  readonly isOverload?: (error: unknown) => boolean
  /** Shown in `limit.adjusted` events. Default "adaptive". */
  readonly name?: string
}

/**
 * Additive increase, multiplicative decrease: +1 after a window of fast calls that used at least
 * half the limit; × `backoffRatio` after an overload error or a slow window.
 */
export interface AimdOptions extends CommonOptions {
  readonly algorithm?: 'aimd'
  /**
   * A window whose average latency is above this many ms is slow. 1–3 600 000. Default: relative
   * to the observed minimum, see `tolerance` (pass one or the other).
   */
  readonly latencyThreshold?: number
}

/**
 * Gradient2: each window, limit ← limit × gradient + √limit, smoothed (20% of the way), where
 * gradient = clamp(tolerance × long-term latency / window latency, 0.5, 1). Overload errors cut
 * the limit by `backoffRatio` too.
 */
export interface GradientOptions extends CommonOptions {
  readonly algorithm: 'gradient'
  readonly latencyThreshold?: never
}

export type AdaptiveConcurrencyOptions = AimdOptions | GradientOptions

const WHERE = 'adaptiveConcurrency()'
const KNOWN = [
  'algorithm',
  'min',
  'max',
  'windowSize',
  'latencyThreshold',
  'tolerance',
  'backoffRatio',
  'isOverload',
  'name',
] as const
type Known = (typeof KNOWN)[number]
const ALGORITHMS = ['aimd', 'gradient'] as const
export type Algorithm = (typeof ALGORITHMS)[number]

/** The limiter's own bound on `concurrency`. */
const LIMIT_MAX = 1_000_000
/** Default `max` when the limiter's concurrency is Infinity. */
const DEFAULT_MAX = 1_000
/** The options, checked, with their defaults (`isOverload` undefined: the default predicate). */
export interface AdaptiveSettings {
  readonly algorithm: Algorithm
  readonly min: number
  readonly max: number
  /** The limiter's concurrency when the policy was created. */
  readonly initial: number
  readonly windowSize: number
  readonly latencyThreshold: number | undefined
  readonly tolerance: number
  readonly backoffRatio: number
  readonly isOverload: ((error: unknown) => boolean) | undefined
  readonly name: string
}

export function parseAdaptiveOptions(
  limiter: Limiter,
  options: AdaptiveConcurrencyOptions | undefined,
): AdaptiveSettings {
  checkLimiter(limiter)
  const opts = snapshot(WHERE, options) as Partial<Record<Known, unknown>>
  checkKnownKeys(WHERE, opts, KNOWN)
  const algorithm: Algorithm =
    opts.algorithm === undefined ? 'aimd' : checkAlgorithm(opts.algorithm)
  const min =
    opts.min === undefined
      ? 1
      : checkNumber(WHERE, 'min', opts.min, { min: 1, max: LIMIT_MAX, integer: true })
  const initial = limiter.concurrency
  const max =
    opts.max === undefined
      ? Math.max(min, Number.isFinite(initial) ? initial : DEFAULT_MAX)
      : checkNumber(WHERE, 'max', opts.max, { min: 1, max: LIMIT_MAX, integer: true })
  if (max < min)
    throw new InvalidOptionError(
      `${WHERE}: \`max\` must be at least \`min\`, got min: ${min}, max: ${max}.`,
    )
  const windowSize =
    opts.windowSize === undefined
      ? 10
      : checkNumber(WHERE, 'windowSize', opts.windowSize, { min: 1, max: 10_000, integer: true })
  if (opts.latencyThreshold !== undefined && algorithm === 'gradient') {
    throw new InvalidOptionError(
      `${WHERE}: \`latencyThreshold\` only applies to algorithm "aimd": "gradient" compares each window with the long-term latency (tune it with \`tolerance\`).`,
    )
  }
  if (opts.latencyThreshold !== undefined && opts.tolerance !== undefined) {
    throw new InvalidOptionError(
      `${WHERE}: \`latencyThreshold\` and \`tolerance\` are two ways to say what is slow (a fixed number of ms, or relative to the fastest window seen): pass one or the other, not both (got latencyThreshold: ${show(opts.latencyThreshold)}, tolerance: ${show(opts.tolerance)}).`,
    )
  }
  const latencyThreshold =
    opts.latencyThreshold === undefined
      ? undefined
      : checkDuration(WHERE, 'latencyThreshold', opts.latencyThreshold, { max: 3_600_000 })
  const tolerance = opts.tolerance === undefined ? 1.5 : checkTolerance(opts.tolerance)
  const backoffRatio = opts.backoffRatio === undefined ? 0.9 : checkBackoffRatio(opts.backoffRatio)
  const isOverload =
    opts.isOverload === undefined
      ? undefined
      : checkFunction<(error: unknown) => boolean>(
          WHERE,
          'isOverload',
          opts.isOverload,
          '(error) => boolean',
        )
  const name = opts.name === undefined ? 'adaptive' : checkName(WHERE, opts.name)

  return {
    algorithm,
    min,
    max,
    initial,
    windowSize,
    latencyThreshold,
    tolerance,
    backoffRatio,
    isOverload,
    name,
  }
}

function checkLimiter(limiter: unknown): void {
  const l = limiter as Partial<Limiter> | null
  if (
    typeof l !== 'object' ||
    l === null ||
    typeof l.wrap !== 'function' ||
    typeof l.concurrency !== 'number' ||
    typeof l.activeCount !== 'number'
  ) {
    throw new InvalidOptionError(
      `${WHERE}: the first argument must be the limiter from limit() that the policy sits inside, as in pipe(limiter, adaptiveConcurrency(limiter)), got ${show(limiter)}.`,
    )
  }
}

function checkAlgorithm(value: unknown): Algorithm {
  if (typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value))
    return value as Algorithm
  const guess = typeof value === 'string' ? closest(value, ALGORITHMS) : undefined
  throw new InvalidOptionError(
    `${WHERE}: \`algorithm\` must be "aimd" or "gradient", got ${show(value)}.` +
      (guess !== undefined ? ` Did you mean "${guess}"?` : ''),
  )
}

function checkTolerance(value: unknown): number {
  const range =
    'a number from 1 to 10 (how much slower than usual a window may be: 1.5 = 50% slower)'
  if (typeof value !== 'number' || Number.isNaN(value) || !(value >= 1 && value <= 10)) {
    const hint =
      typeof value === 'string'
        ? ' Pass a number, not a string.'
        : typeof value === 'number' && value >= 0 && value < 1
          ? ` Below 1 even a window at the usual latency would count as slow; for "${Math.round(value * 100)}% slower" pass ${1 + value}.`
          : ''
    throw new InvalidOptionError(
      `${WHERE}: \`tolerance\` must be ${range}, got ${show(value)}.${hint}`,
    )
  }
  return value
}

function checkBackoffRatio(value: unknown): number {
  const range =
    'a number from 0.5 to below 1 (the share of the limit kept after an overload: 0.9 keeps 90%)'
  if (typeof value !== 'number' || Number.isNaN(value) || !(value >= 0.5 && value < 1)) {
    const hint =
      typeof value === 'string'
        ? ' Pass a number, not a string.'
        : value === 1
          ? ' 1 would never lower the limit.'
          : typeof value === 'number' && value > 1 && value < 100
            ? ` For ${value}% pass ${value / 100}.`
            : typeof value === 'number' && value > 0 && value < 0.5
              ? ' Below 0.5 a single error would more than halve the limit.'
              : ''
    throw new InvalidOptionError(
      `${WHERE}: \`backoffRatio\` must be ${range}, got ${show(value)}.${hint}`,
    )
  }
  return value
}

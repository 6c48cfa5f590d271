/**
 * `hedge(options)`: hedged requests for idempotent calls ("The Tail at Scale", Dean & Barroso).
 * The primary attempt starts at once; if it has not settled after the hedge delay, another attempt
 * of the same call starts, and so on up to `maxHedges`. The first success wins.
 *
 * Invariants:
 * - at most 1 + `maxHedges` attempts per call; a hedge never starts after the call has settled,
 *   after the caller's signal aborted, at or after `ctx.deadlineAt`, or while the instance's
 *   hedges over its last 1,000 calls exceed `maxExtraRatio` of those calls;
 * - the call settles exactly once: with the first success, or, once every attempt has failed,
 *   with the primary's error, or at once with the caller's reason when the caller aborts;
 * - when it settles, every other attempt still in flight has its signal aborted and its late
 *   result (or rejection) is ignored, without an unhandled rejection;
 * - nothing is left behind: the hedge timer is cleared and every child signal detached from
 *   `ctx.signal` on every path.
 */
import { attemptChannel, subscribed, traced } from '../core/diagnostics.js'
import { invoke, type Call, type CallContext, type Policy } from '../core/call.js'
import type { Clock, TimerHandle } from '../core/clock.js'
import { AbortedError, InvalidOptionError } from '../core/errors.js'
import { linkSignal, onAbort, type LinkedSignal } from '../core/signals.js'
import { checkDuration, checkKnownKeys, checkNumber, show, snapshot } from '../core/validate.js'

/** A delay that follows the upstream: the observed `percentile` latency of this policy's calls. */
export interface PercentileDelay {
  /** Which latency to hedge at, as a fraction: 0.95 hedges calls slower than 95% of recent ones. 0.5–0.999. */
  readonly percentile: number
  /** The delay in ms until `minSamples` latencies have been observed. Default 100. */
  readonly initial?: number
  /** How many observed latencies the percentile needs before it replaces `initial`. Default 20, at most 512. */
  readonly minSamples?: number
}

export interface HedgeOptions {
  /**
   * Must be `true`: hedging sends the same request more than once, so it is only for calls that
   * are safe to repeat (reads, or writes carrying an idempotency key). Anything else is a type
   * error and throws at construction.
   */
  readonly idempotent: true
  /**
   * How long an attempt may run before the next one starts: a fixed number of ms, or a
   * percentile of observed latency. Default `{ percentile: 0.95 }` (initial 100 ms, 20 samples).
   */
  readonly delay?: number | PercentileDelay
  /** Extra attempts per call, an integer from 1 to 4 (at most 5 attempts in all). Default 1. */
  readonly maxHedges?: number
  /**
   * Bound on the extra load: a hedge starts only while the hedges fired over this instance's last
   * 1,000 calls are at most `maxExtraRatio` × those calls (a sliding count, so a long healthy
   * stretch banks no credit for a slow spell). Overshoots by at most one hedge. 0.001–4, default 0.1.
   */
  readonly maxExtraRatio?: number
}

const WHERE = 'hedge()'
const KNOWN = ['idempotent', 'delay', 'maxHedges', 'maxExtraRatio'] as const
const KNOWN_DELAY = ['percentile', 'initial', 'minSamples'] as const
/** Latencies kept for the percentile: the most recent this many. */
const SAMPLES = 512
/** The percentile is recomputed after this many new samples (a sort of at most SAMPLES numbers). */
const RECOMPUTE_EVERY = 32
/** The sliding count behind `maxExtraRatio`: the last this many calls. */
const LOAD_WINDOW = 1_000

/**
 * Hedges an idempotent call: if an attempt has not settled after `delay`, a second one starts, and
 * the first success wins; the others are aborted. Share one instance per upstream: its latency
 * percentile and its load bound are per instance, across every call it wraps.
 *
 * The percentile delay is learned from the primary attempts: a primary that succeeds contributes
 * its latency, one cut short by a winning hedge its elapsed time (a lower bound, which ranks it
 * above the delay where it belongs). Hedges contribute nothing, so hedging does not hide the tail
 * it cuts, and about `1 - percentile` of calls are hedged.
 *
 * Each attempt gets its own signal (aborted when another attempt wins or the caller aborts) and
 * `attempt` = `ctx.attempt + n`, n = 0 for the primary. With tracing on it emits `hedge.fired` for
 * each hedge and, for calls that fired one, `hedge.won` (winner 0 = the primary).
 *
 * @example
 * const search = pipe(timeout(2_000), hedge({ idempotent: true, delay: { percentile: 0.95 } }))
 * const results = await execute(search.wrap(({ signal }) => fetch(url, { signal }).then((r) => r.json())))
 */
export function hedge(options: HedgeOptions): Policy {
  const opts = snapshot(WHERE, options)
  checkKnownKeys(WHERE, opts, KNOWN)
  if (opts.idempotent !== true) {
    throw new InvalidOptionError(
      `${WHERE}: \`idempotent\` must be true, got ${show(opts.idempotent)}. Hedging sends the same request more than once: ` +
        'use it only for calls that are safe to repeat (reads, or writes with an idempotency key), and say so with `idempotent: true`.',
    )
  }
  const maxHedges =
    opts.maxHedges === undefined
      ? 1
      : checkNumber(WHERE, 'maxHedges', opts.maxHedges, { min: 1, max: 4, integer: true })
  const maxExtraRatio =
    opts.maxExtraRatio === undefined
      ? 0.1
      : checkNumber(WHERE, 'maxExtraRatio', opts.maxExtraRatio, { min: 0.001, max: 4 })
  const delay = makeDelay(opts.delay)
  const load = new LoadBound(maxExtraRatio)
  return {
    name: `hedge(${delay.label})`,
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      return (ctx) => hedged(next, ctx, delay, load, maxHedges)
    },
  }
}

// --- delay -------------------------------------------------------------------------------------

interface Delay {
  readonly label: string
  /** The delay for a call starting now, in ms. */
  current(): number
  /** A primary attempt's latency (or a lower bound of it). */
  observe(ms: number): void
}

function makeDelay(value: unknown): Delay {
  if (value === undefined) return new PercentileWindow(0.95, 100, 20)
  if (typeof value === 'number') {
    const ms = checkDuration(WHERE, 'delay', value)
    return { label: String(ms), current: () => ms, observe() {} }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      `${WHERE}: \`delay\` must be a number of milliseconds or { percentile, initial?, minSamples? }, got ${show(value)}.` +
        (typeof value === 'string' ? ' Pass a number, e.g. 50, or { percentile: 0.95 }.' : ''),
    )
  }
  const spec = snapshot(`${WHERE} \`delay\``, value as PercentileDelay)
  checkKnownKeys(`${WHERE} \`delay\``, spec, KNOWN_DELAY)
  if (typeof spec.percentile === 'number' && spec.percentile > 1 && spec.percentile <= 100) {
    throw new InvalidOptionError(
      `${WHERE}: \`delay.percentile\` must be a number from 0.5 to 0.999, got ${show(spec.percentile)}. It is a fraction: pass ${spec.percentile / 100} for p${spec.percentile}.`,
    )
  }
  const percentile = checkNumber(WHERE, 'delay.percentile', spec.percentile, {
    min: 0.5,
    max: 0.999,
  })
  const initial =
    spec.initial === undefined ? 100 : checkDuration(WHERE, 'delay.initial', spec.initial)
  const minSamples =
    spec.minSamples === undefined
      ? 20
      : checkNumber(WHERE, 'delay.minSamples', spec.minSamples, {
          min: 1,
          max: SAMPLES,
          integer: true,
        })
  return new PercentileWindow(percentile, initial, minSamples)
}

/**
 * The `percentile` of the last SAMPLES observed latencies, kept in a ring buffer and recomputed
 * every RECOMPUTE_EVERY samples: O(1) amortised per call, constant memory.
 */
class PercentileWindow implements Delay {
  readonly label: string
  readonly #ring = new Float64Array(SAMPLES)
  #count = 0
  #next = 0
  #fresh = 0
  #value: number

  constructor(
    readonly percentile: number,
    initial: number,
    readonly minSamples: number,
  ) {
    this.label = `p${Number((percentile * 100).toPrecision(6))}`
    this.#value = initial
  }

  current(): number {
    return this.#value
  }

  observe(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return
    this.#ring[this.#next] = ms
    this.#next = (this.#next + 1) % SAMPLES
    if (this.#count < SAMPLES) this.#count++
    this.#fresh++
    if (this.#count < this.minSamples) return
    if (this.#count === this.minSamples || this.#fresh >= RECOMPUTE_EVERY) this.#recompute()
  }

  #recompute(): void {
    this.#fresh = 0
    const sorted = this.#ring.slice(0, this.#count).sort()
    const rank = Math.min(
      this.#count - 1,
      Math.max(0, Math.ceil(this.percentile * this.#count) - 1),
    )
    // At least 1 ms: hedging a call that takes no time at all is pure extra load.
    this.#value = Math.max(1, sorted[rank]!)
  }
}

// --- load bound --------------------------------------------------------------------------------

/** Hedges fired over the last LOAD_WINDOW calls, each hedge counted in the slot of the newest call. */
class LoadBound {
  readonly #perCall = new Uint16Array(LOAD_WINDOW)
  #calls = 0
  #hedges = 0

  constructor(readonly ratio: number) {}

  callStarted(): void {
    const slot = this.#calls % LOAD_WINDOW
    if (this.#calls >= LOAD_WINDOW) this.#hedges -= this.#perCall[slot]!
    this.#perCall[slot] = 0
    this.#calls++
  }

  /** Fires a hedge if the bound allows one. */
  tryHedge(): boolean {
    if (this.#hedges > this.ratio * Math.min(this.#calls, LOAD_WINDOW)) return false
    const slot = (this.#calls - 1) % LOAD_WINDOW
    this.#perCall[slot] = this.#perCall[slot]! + 1
    this.#hedges++
    return true
  }
}

// --- running -----------------------------------------------------------------------------------

function hedged<T, C extends CallContext>(
  next: Call<T, C>,
  ctx: C,
  delay: Delay,
  load: LoadBound,
  maxHedges: number,
): Promise<T> {
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason)
  const clock: Clock = ctx.clock
  const startedAt = clock.now()
  const delayMs = delay.current()
  load.callStarted()

  return new Promise<T>((resolve, reject) => {
    let done = false
    let timer: TimerHandle | undefined
    /** Per attempt, its child signal while it is in flight. */
    const live: (LinkedSignal | undefined)[] = []
    let running = 0
    let fired = 0
    let primaryError: unknown

    /** Ends the call: no more hedges, no listener, every attempt still in flight aborted. */
    const finish = (reason: () => unknown): void => {
      done = true
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
      stopListening()
      let error: unknown
      for (let n = 0; n < live.length; n++) {
        const link = live[n]
        if (link === undefined) continue
        live[n] = undefined
        link.abort((error ??= reason()))
      }
    }

    const stopListening = onAbort(ctx.signal, () => {
      if (done) return
      finish(() => ctx.signal.reason)
      reject(ctx.signal.reason)
    })

    const launch = (n: number): void => {
      const link = linkSignal(ctx.signal)
      live[n] = link
      running++
      const attemptStartedAt = clock.now()
      const attempt = ctx.attempt + n
      const run = (): Promise<T> => next({ ...ctx, signal: link.signal, attempt })
      const pending = subscribed(attemptChannel)
        ? traced(attemptChannel, { policy: 'hedge', task: ctx.task, attempt, hedge: n }, run)
        : invoke(run)
      pending.then(
        (value) => {
          if (done) return
          live[n] = undefined
          link.dispose()
          const now = clock.now()
          if (n === 0) delay.observe(now - attemptStartedAt)
          else if (live[0] !== undefined) delay.observe(now - startedAt)
          finish(
            () =>
              new AbortedError(
                `"${ctx.task}": another attempt of this hedged call succeeded first`,
              ),
          )
          if (fired > 0 && ctx.trace.enabled)
            ctx.trace.emit({ type: 'hedge.won', task: ctx.task, at: now, winner: n })
          resolve(value)
        },
        (error: unknown) => {
          if (done) return
          live[n] = undefined
          link.dispose()
          running--
          if (n === 0) primaryError = error
          if (running > 0) return
          finish(() => undefined)
          reject(primaryError)
        },
      )
    }

    const onTimer = (): void => {
      timer = undefined
      if (done || ctx.signal.aborted || clock.now() >= ctx.deadlineAt || !load.tryHedge()) return
      fired++
      if (ctx.trace.enabled)
        ctx.trace.emit({
          type: 'hedge.fired',
          task: ctx.task,
          at: clock.now(),
          hedge: fired,
          afterMs: clock.now() - startedAt,
        })
      launch(fired)
      if (!done && fired < maxHedges && clock.now() + delayMs < ctx.deadlineAt)
        timer = clock.setTimeout(onTimer, delayMs)
    }

    launch(0)
    if (!done && startedAt + delayMs < ctx.deadlineAt) timer = clock.setTimeout(onTimer, delayMs)
  })
}

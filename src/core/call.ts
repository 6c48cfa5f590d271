/**
 * The central abstraction. Every piece of outbound work is a `Call`; every feature that changes
 * how a call runs (timeout, retry, limits, cache…) is a `Policy` that wraps one. A flow task is a
 * call too, so the same policies work standalone and inside flows.
 */
import type { Clock } from './clock.js'
import { field } from './own.js'
import type { Recorder } from './trace.js'

/** What every layer receives. Layers pass a copy downwards (`{ ...ctx, signal }`), never mutate it. */
export interface CallContext {
  /** Fires on flow failure, external abort, deadline or timeout. Pass it to `fetch` and friends. */
  readonly signal: AbortSignal
  /** Absolute time on `clock` by which everything must be done; `Infinity` when there is none. */
  readonly deadlineAt: number
  /** 1 for the first try; incremented by retrying policies. */
  readonly attempt: number
  /** Name of the task (or call) this work belongs to: trace label and default key prefix. */
  readonly task: string
  readonly clock: Clock
  readonly trace: Recorder
}

/** A unit of outbound work. */
export type Call<T, C extends CallContext = CallContext> = (ctx: C) => Promise<T>

/**
 * Wraps a call. `wrap` is called once per task definition, the returned call once per run, so
 * options bind at construction, `next` at wrap time and context per call.
 */
export interface Policy {
  /** Shown in traces and in `flow.describe()`. */
  readonly name: string
  wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C>
}

export interface Pipeline extends Policy {
  /** The policies in the order they run: first listed = outermost. */
  readonly policies: readonly Policy[]
}

/**
 * Composes policies. The first listed is the outermost: it sees the call first and its result
 * last, the way the code reads.
 *
 * @example
 * const resilient = pipe(timeout(500))
 */
export function pipe(...policies: Policy[]): Pipeline {
  const flat = policies.flatMap((p) => (isPipeline(p) ? p.policies : [p]))
  return {
    name: flat.map((p) => p.name).join(' → ') || 'identity',
    policies: Object.freeze(flat),
    wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
      let call = next
      for (let i = flat.length - 1; i >= 0; i--) call = (flat[i] as Policy).wrap(call)
      return call
    },
  }
}

function isPipeline(policy: Policy): policy is Pipeline {
  return Array.isArray(field(policy, 'policies'))
}

/**
 * Calls `fn` and always returns a promise: a synchronous throw becomes a rejection, so every
 * layer has one failure path to handle (a policy that throws must not skip the release of a
 * slot or the record of an outcome).
 */
export function invoke<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  try {
    return Promise.resolve(fn())
  } catch (error) {
    return Promise.reject(error)
  }
}

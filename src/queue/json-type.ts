/**
 * The compile-time check that a job's data and result are JSON, written so that interfaces pass:
 * `JobData`'s index signature rejects any `interface Report { id: string }` (interfaces have no
 * implicit index signature), which would force every caller into a cast. `Json<T>` instead maps
 * `T` member by member: JSON values pass as they are, a `Date`, a `Map` or a function turns into
 * `never` somewhere, and the argument no longer fits. What already is a `JobData` stops the walk
 * at once: `JobData` is recursive, and mapping it would never end.
 */
import type { JobData } from './job-queue.js'

export type Json<T> = [T] extends [JobData]
  ? T
  : T extends string | number | boolean | null
    ? T
    : T extends (...args: never[]) => unknown
      ? never
      : T extends readonly unknown[]
        ? { readonly [K in keyof T]: Json<T[K]> }
        : T extends object
          ? { readonly [K in keyof T]: K extends string ? JsonMember<T[K]> : never }
          : never

/** An object member: may be left out (`undefined` members are dropped, as JSON.stringify does). */
type JsonMember<V> = undefined extends V ? Json<Exclude<V, undefined>> | undefined : Json<V>

/**
 * `unknown` (no constraint) when `T` is JSON, else a shape no value has, whose name says why:
 * used as `data: D & IfJson<D>` so `D` is still inferred from the argument as written.
 */
export type IfJson<T> = [T] extends [JobData]
  ? unknown
  : [T] extends [Json<T>]
    ? unknown
    : { readonly 'must be JSON': never }

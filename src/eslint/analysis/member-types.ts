/**
 * What a group is made of: one member per awaited call (or per existing `Promise.all`), with what
 * the rewrite needs to know about its shape.
 */
import type { Operation } from './classify.js'
import type { Facts } from './facts.js'
import type { AnyNode } from './node.js'

export interface Member {
  readonly stmt: AnyNode
  readonly facts: Facts
  readonly op: Operation
  readonly await: AnyNode
  /** `const|let` of a single-declarator declaration. */
  readonly kind: 'const' | 'let'
  /** The binding pattern (`a`, `{ x }`), its annotation stripped in the fix text. */
  readonly pattern: AnyNode
  /** `const x = await f()`: the await is the whole initialiser. */
  readonly direct: boolean
  /** Synchronous calls around the await (`JSON.parse(await r.text())`): they run after it settles. */
  readonly wrapped: boolean
  /** One of those calls is a gate (`schema.parse(await req.json())`): nothing may start before it passes. */
  readonly gateWrapped: boolean
  /**
   * `const x = cond ? await f() : null` (or `a && await f()`, `||`, `??`): the call runs only under
   * its condition, so the element keeps it: `cond ? f() : null`. This is the initialiser.
   */
  readonly conditional?: AnyNode
  /**
   * `try { x = await read() } catch (e) { x = fallback }`: a call with its own fallback, assigned to
   * a `let` of the same block. Its failure never stops what follows, so it may run beside the others.
   */
  readonly caught?: CaughtAssignment
  /** `const [a, b] = await Promise.all([f(), g()])`: an existing group of reads others may join. */
  readonly joined?: JoinedAll
  /** One of several awaits nested in one statement (`return { a: await f(), b: await g() }`). */
  readonly spread?: true
  /**
   * The read whose result this one needs and nothing else does (`const res = await fetch(a)`
   * before `const user = await res.json()`): the element is `fetch(a).then((res) => res.json())`.
   */
  readonly then?: Member
}

export interface CaughtAssignment {
  /** The variable both branches assign. */
  readonly target: string
  /** The catch clause's parameter (an identifier), if any. */
  readonly param: AnyNode | null
  /** The value the catch branch assigns. */
  readonly fallback: AnyNode
  /** The statement in the try block, `x = await read(…)` (its text says whether the code uses semicolons). */
  readonly tried: AnyNode
  /** The type annotation of the target's `let`, if any: it types the fallback as the assignment did. */
  readonly type: AnyNode | null
}

export interface JoinedAll {
  /** The array's elements, each a read. */
  readonly elements: readonly AnyNode[]
  /** The array pattern's elements, one per element. */
  readonly slots: readonly AnyNode[]
}

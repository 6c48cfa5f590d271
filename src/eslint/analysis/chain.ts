/**
 * A read that needs only the read just before it — `const res = await fetch(a)` then
 * `const user = await res.json()` — is one step of a chain, not the end of the group: the two
 * become one element, `fetch(a).then((res) => res.json())`, and the group goes on. Two such
 * chains side by side are a waterfall of their own, which a group of single calls cannot see.
 *
 * Only when nothing else is lost: the first result is a plain name read by the second statement
 * and nowhere else, both statements are plain `const x = await call()` declarations, and the
 * second depends on nothing else in the group.
 */
import type { Member } from './member-types.js'
import { unwrapTs, type AnyNode } from './node.js'
import type { MemberOptions } from './operation.js'

function plain(m: Member): boolean {
  return (
    m.direct &&
    !m.caught &&
    !m.joined &&
    !m.spread &&
    !m.conditional &&
    !m.wrapped &&
    m.op.call !== null &&
    m.stmt.type === 'VariableDeclaration'
  )
}

/** The chain `prev` then `next`, as one member; null when `next` cannot ride on `prev`. */
export function fuse(prev: Member, next: Member, opts: MemberOptions): Member | null {
  if (!plain(next) || !(plain(prev) || prev.then)) return null
  const pattern = unwrapTs(prev.pattern)
  if (pattern.type !== 'Identifier') return null
  const name = pattern['name'] as string
  if (!next.facts.reads.has(name)) return null
  const declarator = (prev.stmt['declarations'] as AnyNode[])[0]!
  if (!opts.usedOnlyIn(declarator, next.stmt)) return null
  return {
    ...next,
    facts: {
      ...next.facts,
      reads: new Set([...prev.facts.reads, ...[...next.facts.reads].filter((n) => n !== name)]),
      exposes: new Set([...prev.facts.exposes, ...next.facts.exposes]),
      memberRoots: new Set([...prev.facts.memberRoots, ...next.facts.memberRoots]),
    },
    then: prev,
  }
}

/** The statements a member stands for, in order (a chain's earlier steps first). */
export function statementsOf(m: Member): AnyNode[] {
  return m.then ? [...statementsOf(m.then), m.stmt] : [m.stmt]
}

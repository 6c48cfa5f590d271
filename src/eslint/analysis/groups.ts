/**
 * Groups of awaits in one statement list that could start together. A linear pass over the list:
 * each statement is a member, a pure statement or a barrier (see `member.ts`). A member that
 * depends on the open group closes it and opens the next. Independence is checked against every
 * name the group binds, every object a member hands to a call (it may be mutated), and member
 * chains read from those objects. Pure statements between members that use no member's result
 * can run before the calls start (*hoisted*), so a later member may use what they compute; the
 * others run after the calls settle, and a member that needs them ends the group.
 */
import type { Facts } from './facts.js'
import { fuse } from './chain.js'
import { asMember, type Lets } from './member.js'
import type { Member } from './member-types.js'
import type { MemberOptions } from './operation.js'
import type { AnyNode } from './node.js'

export type { CaughtAssignment, JoinedAll, Member } from './member-types.js'
export type GroupOptions = MemberOptions

export interface Group {
  readonly members: Member[]
  /** Pure statements between the first and last member that use a member's result, in order: they run after the calls. */
  readonly between: AnyNode[]
  /** Pure statements between members that use no member's result, in order: they run before the calls. */
  readonly hoisted: AnyNode[]
}

/** Does `m` depend on anything the group (or the statements after it) produced or may have changed? */
function dependsOn(m: Member, members: readonly Member[], after: readonly Facts[]): boolean {
  for (const prev of members) {
    for (const name of prev.facts.binds) if (m.facts.reads.has(name)) return true
    // `f(store)` then `g(store.state.id)`: f may install the slot g reads.
    for (const root of prev.facts.exposes) {
      if (m.facts.memberRoots.has(root)) return true
    }
  }
  for (const b of after) for (const name of b.binds) if (m.facts.reads.has(name)) return true
  return false
}

const NO_LETS: Lets = new Map()

function isFacts(m: Member | Member[] | Facts): m is Facts {
  return !Array.isArray(m) && 'binds' in m
}

function letsOf(statements: readonly AnyNode[]): Lets {
  const lets = new Map<string, AnyNode | null>()
  for (const stmt of statements) {
    if (stmt.type !== 'VariableDeclaration' || stmt['kind'] !== 'let') continue
    for (const d of stmt['declarations'] as AnyNode[]) {
      const id = d['id'] as AnyNode
      if (id.type !== 'Identifier') continue
      const annotation = id['typeAnnotation'] as AnyNode | undefined
      lets.set(
        id['name'] as string,
        (annotation?.['typeAnnotation'] as AnyNode | undefined) ?? null,
      )
    }
  }
  return lets
}

interface Pure {
  readonly stmt: AnyNode
  readonly facts: Facts
}

/** The open group while the list is walked. */
class OpenGroup {
  constructor(private readonly opts: MemberOptions) {}
  members: Member[] = []
  after: Pure[] = []
  hoisted: Pure[] = []
  /** Pure statements after the last member, not yet known to be between members. */
  pending: Pure[] = []

  /** Does a pure statement use a member's result (directly or through another such statement)? */
  private usesResults(p: Pure, extra: readonly Pure[]): boolean {
    const reads = (names: ReadonlySet<string>): boolean =>
      [...names].some((name) => p.facts.reads.has(name))
    // A member may also have changed an object it handed to a call (`f(store)`).
    return (
      this.members.some((m) => reads(m.facts.binds) || reads(m.facts.exposes)) ||
      [...this.after, ...extra].some((a) => reads(a.facts.binds))
    )
  }

  /**
   * Try to add the members of one statement (several when awaits are nested in it); false when
   * one depends on the group (the caller starts a new one).
   */
  add(batch: readonly Member[]): boolean {
    let rest = batch
    if (this.members.length > 0) {
      const after: Pure[] = []
      const hoisted: Pure[] = []
      for (const p of this.pending) (this.usesResults(p, after) ? after : hoisted).push(p)
      const last = this.members[this.members.length - 1]!
      const produced = [...this.after, ...after].map((a) => a.facts)
      // A gate around an await (`schema.parse(await req.json())`) can end a group, never sit
      // before another member.
      if (last.gateWrapped) return false
      if (batch.some((m) => dependsOn(m, this.members, produced))) {
        // `res.json()` after `const res = await fetch(a)`: a chain, when that is all it needs.
        const others = this.members.slice(0, -1)
        const chained =
          batch.length === 1 && !dependsOn(batch[0]!, others, produced)
            ? fuse(last, batch[0]!, this.opts)
            : null
        if (!chained) return false
        this.members[this.members.length - 1] = chained
        rest = []
      }
      this.after.push(...after)
      this.hoisted.push(...hoisted)
      this.pending = []
    }
    this.members.push(...rest)
    return true
  }
}

/** Find the groups (2+ members) in one statement list. */
export function findGroups(statements: readonly AnyNode[], opts: GroupOptions): Group[] {
  const groups: Group[] = []
  // `let`s of this list: the only targets a caught member may assign (its write moves after the
  // group). Collected only for a list that has a `try`: most blocks never need them.
  const lets = statements.some((stmt) => stmt.type === 'TryStatement')
    ? letsOf(statements)
    : NO_LETS
  let open = new OpenGroup(opts)
  const close = (): void => {
    if (open.members.length >= 2)
      groups.push({
        members: open.members,
        between: open.after.map((p) => p.stmt),
        hoisted: open.hoisted.map((p) => p.stmt),
      })
    open = new OpenGroup(opts)
  }
  for (const stmt of statements) {
    const m = asMember(stmt, opts, lets)
    if (m === 'barrier') {
      close()
    } else if (isFacts(m)) {
      // A pure statement (its facts): between members, or after the last one so far.
      if (open.members.length > 0) open.pending.push({ stmt, facts: m })
    } else {
      const batch = Array.isArray(m) ? m : [m]
      if (!open.add(batch)) {
        close()
        open.add(batch)
      }
    }
  }
  close()
  return groups
}

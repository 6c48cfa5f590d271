/**
 * Groups of awaits in one statement list that could start together. A linear pass over the list:
 * each statement is a *member* (one await of a read), a *pure* statement that may sit between
 * members, or a *barrier* (a gate, a write, a guard, a loop, a call, a mutation: anything whose
 * order we cannot prove irrelevant). A member that depends on the open group closes it and
 * opens the next. Independence is checked against every name the group binds, every object a
 * member hands to a call (it may be mutated), and member chains read from those objects.
 */
import { classifyAwaited, classifyName, type Operation } from './classify.js'
import { statementFacts, type Facts } from './facts.js'
import { rangeOf, unwrapTs, type AnyNode } from './node.js'

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
}

export interface Group {
  readonly members: Member[]
  /** Pure statements between the first and last member, in order. */
  readonly between: AnyNode[]
}

export interface GroupOptions {
  readonly keys: Readonly<Record<string, readonly string[] | undefined>>
  /** Callee texts matching one of these are never grouped. */
  readonly ignore: readonly RegExp[]
  readonly text: (node: AnyNode) => string
}

const MOVABLE = new Set(['read', 'request'])
const LOGGERS = /^(console|logger|log)$/

function asMember(stmt: AnyNode, opts: GroupOptions): Member | 'pure' | 'barrier' {
  if (stmt.type === 'EmptyStatement') return 'pure'
  if (stmt.type !== 'VariableDeclaration' && stmt.type !== 'ExpressionStatement') return 'barrier'
  const facts = statementFacts(stmt, opts.keys)
  if (facts.mutates) return 'barrier'
  if (stmt.type === 'ExpressionStatement') {
    // A bare log line is pure enough to stay between members (only for suggestions).
    if (facts.awaits.length === 0 && facts.calls.length === 1) {
      const call = unwrapTs(stmt['expression'] as AnyNode)
      if (call.type === 'CallExpression') {
        const callee = unwrapTs(call['callee'] as AnyNode)
        if (callee.type === 'MemberExpression' && unwrapTs(callee['object'] as AnyNode).type === 'Identifier' &&
            LOGGERS.test((unwrapTs(callee['object'] as AnyNode))['name'] as string)) return 'pure'
      }
    }
    // `await f()` with its result discarded: a gate or an effect. Never moved.
    return 'barrier'
  }
  const kind = stmt['kind']
  const decls = stmt['declarations'] as AnyNode[]
  if (facts.awaits.length === 0) return facts.calls.length === 0 ? 'pure' : 'barrier'
  if ((kind !== 'const' && kind !== 'let') || decls.length !== 1 || facts.awaits.length !== 1) return 'barrier'
  const decl = decls[0]!
  const init = decl['init'] as AnyNode | null
  const awaitNode = facts.awaits[0]!
  if (!init) return 'barrier'
  const op = classifyAwaited(awaitNode['argument'] as AnyNode)
  if (!op || !MOVABLE.has(op.effect)) return 'barrier'
  if (op.call && opts.ignore.some((re) => re.test(opts.text(op.call!['callee'] as AnyNode)))) return 'barrier'
  const [as, ae] = rangeOf(awaitNode)
  const outside = facts.calls.filter((c) => {
    const [cs, ce] = rangeOf(c)
    return cs < as || ce > ae
  })
  const pattern = decl['id'] as AnyNode
  // Default values in a destructuring pattern run code after the await: not moved.
  if (outside.some((c) => rangeOf(c)[0] >= rangeOf(pattern)[0] && rangeOf(c)[1] <= rangeOf(pattern)[1])) return 'barrier'
  return {
    stmt, facts, op, await: awaitNode, kind, pattern,
    direct: unwrapTs(init) === awaitNode && init === awaitNode,
    wrapped: outside.length > 0,
    gateWrapped: outside.some((c) => isGateCall(c, opts)),
  }
}

function isGateCall(call: AnyNode, opts: GroupOptions): boolean {
  if (call.type !== 'CallExpression') return false
  const callee = unwrapTs(call['callee'] as AnyNode)
  const text = opts.text(callee)
  if (/^(JSON\.parse|String|Number|Boolean|Object\.(keys|values|entries|fromEntries)|Array\.from)$/.test(text)) return false
  const name = callee.type === 'Identifier' ? (callee['name'] as string)
    : callee.type === 'MemberExpression' && !callee['computed'] ? ((callee['property'] as AnyNode)['name'] as string) : ''
  return classifyName(name) === 'gate'
}

/** Does `m` depend on anything the group (or the statements between) produced or may have changed? */
function dependsOn(m: Member, members: readonly Member[], between: readonly Facts[]): boolean {
  for (const prev of members) {
    for (const name of prev.facts.binds) if (m.facts.reads.has(name)) return true
    // `f(store)` then `g(store.state.id)`: f may install the slot g reads.
    for (const root of prev.facts.exposes) {
      if (m.facts.memberRoots.has(root)) return true
    }
  }
  for (const b of between) for (const name of b.binds) if (m.facts.reads.has(name)) return true
  return false
}

/** Find the groups (2+ members) in one statement list. */
export function findGroups(statements: readonly AnyNode[], opts: GroupOptions): Group[] {
  const groups: Group[] = []
  let members: Member[] = []
  let between: AnyNode[] = []
  let betweenFacts: Facts[] = []
  let pending: AnyNode[] = [] // pure statements after the last member, not yet known to be "between"
  let pendingFacts: Facts[] = []
  const close = (): void => {
    if (members.length >= 2) groups.push({ members, between })
    members = []
    between = []
    betweenFacts = []
    pending = []
    pendingFacts = []
  }
  for (const stmt of statements) {
    const m = asMember(stmt, opts)
    if (m === 'barrier') {
      close()
      continue
    }
    if (m === 'pure') {
      if (members.length > 0) {
        pending.push(stmt)
        pendingFacts.push(statementFacts(stmt, opts.keys))
      }
      continue
    }
    const last = members[members.length - 1]
    // A gate around an await (`schema.parse(await req.json())`) can end a group, never sit before
    // another member.
    if (members.length > 0 && (last!.gateWrapped || dependsOn(m, members, [...betweenFacts, ...pendingFacts]))) {
      close()
      members = [m]
      continue
    }
    if (members.length > 0) {
      between.push(...pending)
      betweenFacts.push(...pendingFacts)
    }
    pending = []
    pendingFacts = []
    members.push(m)
  }
  close()
  return groups
}

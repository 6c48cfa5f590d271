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
  /**
   * `try { x = await read() } catch (e) { x = fallback }`: a call with its own fallback, assigned to
   * a `let` of the same block. Its failure never stops what follows, so it may run beside the others.
   */
  readonly caught?: CaughtAssignment
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

/** The `let`s of one statement list, with their type annotations. */
type Lets = ReadonlyMap<string, AnyNode | null>

function asMember(stmt: AnyNode, opts: GroupOptions, lets: Lets): Member | 'pure' | 'barrier' {
  if (stmt.type === 'EmptyStatement') return 'pure'
  if (stmt.type === 'TryStatement') return asCaughtMember(stmt, opts, lets) ?? 'barrier'
  if (stmt.type !== 'VariableDeclaration' && stmt.type !== 'ExpressionStatement') return 'barrier'
  const facts = statementFacts(stmt, opts.keys)
  if (facts.mutates) return 'barrier'
  if (stmt.type === 'ExpressionStatement') {
    // A bare log line is pure enough to stay between members (only for suggestions).
    if (facts.awaits.length === 0 && facts.calls.length === 1) {
      const call = unwrapTs(stmt['expression'] as AnyNode)
      if (call.type === 'CallExpression') {
        const callee = unwrapTs(call['callee'] as AnyNode)
        if (
          callee.type === 'MemberExpression' &&
          unwrapTs(callee['object'] as AnyNode).type === 'Identifier' &&
          LOGGERS.test(unwrapTs(callee['object'] as AnyNode)['name'] as string)
        )
          return 'pure'
      }
    }
    // `await f()` with its result discarded: a gate or an effect. Never moved.
    return 'barrier'
  }
  const kind = stmt['kind']
  const decls = stmt['declarations'] as AnyNode[]
  if (facts.awaits.length === 0) return facts.calls.length === 0 ? 'pure' : 'barrier'
  if ((kind !== 'const' && kind !== 'let') || decls.length !== 1 || facts.awaits.length !== 1)
    return 'barrier'
  const decl = decls[0]!
  const init = decl['init'] as AnyNode | null
  const awaitNode = facts.awaits[0]!
  if (!init) return 'barrier'
  const op = classifyAwaited(awaitNode['argument'] as AnyNode)
  if (!op || !MOVABLE.has(op.effect)) return 'barrier'
  if (op.call && opts.ignore.some((re) => re.test(opts.text(op.call!['callee'] as AnyNode))))
    return 'barrier'
  const [as, ae] = rangeOf(awaitNode)
  const outside = facts.calls.filter((c) => {
    const [cs, ce] = rangeOf(c)
    return cs < as || ce > ae
  })
  const pattern = decl['id'] as AnyNode
  // Default values in a destructuring pattern run code after the await: not moved.
  if (
    outside.some(
      (c) => rangeOf(c)[0] >= rangeOf(pattern)[0] && rangeOf(c)[1] <= rangeOf(pattern)[1],
    )
  )
    return 'barrier'
  return {
    stmt,
    facts,
    op,
    await: awaitNode,
    kind,
    pattern,
    direct: unwrapTs(init) === awaitNode && init === awaitNode,
    wrapped: outside.length > 0,
    gateWrapped: outside.some((c) => isGateCall(c, opts)),
  }
}

/** The only statement of a block, if it is `target = <expression>`. */
function soleAssignment(
  block: AnyNode,
): { stmt: AnyNode; left: AnyNode; target: string; value: AnyNode } | null {
  const body = block['body'] as AnyNode[]
  const stmt = body.length === 1 ? body[0]! : undefined
  if (stmt?.type !== 'ExpressionStatement') return null
  const e = unwrapTs(stmt['expression'] as AnyNode)
  if (e.type !== 'AssignmentExpression' || e['operator'] !== '=') return null
  const left = e['left'] as AnyNode
  if (left.type !== 'Identifier') return null
  return { stmt, left, target: left['name'] as string, value: e['right'] as AnyNode }
}

/**
 * `try { x = await read(…) } catch (e) { x = fallback }` with nothing else in either branch and no
 * `finally`; `x` a `let` of this block; the fallback runs no code (no call, await or assignment),
 * so evaluating it later, inside `.catch`, changes nothing. A catch that returns, throws or logs
 * is a gate or an effect, and stays where it is.
 */
function asCaughtMember(stmt: AnyNode, opts: GroupOptions, lets: Lets): Member | null {
  const handler = stmt['handler'] as AnyNode | null
  if (!handler || stmt['finalizer']) return null
  const tried = soleAssignment(stmt['block'] as AnyNode)
  const caught = soleAssignment(handler['body'] as AnyNode)
  if (!tried || !caught || tried.target !== caught.target || !lets.has(tried.target)) return null
  const param = (handler['param'] as AnyNode | null) ?? null
  if (param && param.type !== 'Identifier') return null
  const awaitNode = tried.value
  if (awaitNode.type !== 'AwaitExpression') return null
  const op = classifyAwaited(awaitNode['argument'] as AnyNode)
  if (!op || !MOVABLE.has(op.effect)) return null
  if (op.call && opts.ignore.some((re) => re.test(opts.text(op.call!['callee'] as AnyNode))))
    return null
  const argument = statementFacts(awaitNode['argument'] as AnyNode, opts.keys)
  const fallback = statementFacts(caught.value, opts.keys)
  if (
    argument.mutates ||
    argument.awaits.length > 0 ||
    fallback.mutates ||
    fallback.awaits.length > 0 ||
    fallback.calls.length > 0
  )
    return null
  const reads = new Set([
    ...argument.reads,
    ...[...fallback.reads].filter((n) => n !== (param?.['name'] as string | undefined)),
  ])
  const facts: Facts = {
    reads,
    // The target is what later members must not read before it is assigned.
    binds: new Set([tried.target]),
    mutates: false,
    awaits: [awaitNode],
    calls: argument.calls,
    memberRoots: new Set([...argument.memberRoots, ...fallback.memberRoots]),
    exposes: argument.exposes,
  }
  return {
    stmt,
    facts,
    op,
    await: awaitNode,
    kind: 'const',
    pattern: tried.left,
    direct: true,
    wrapped: false,
    gateWrapped: false,
    caught: {
      target: tried.target,
      param,
      fallback: caught.value,
      tried: tried.stmt,
      type: lets.get(tried.target) ?? null,
    },
  }
}

function isGateCall(call: AnyNode, opts: GroupOptions): boolean {
  if (call.type !== 'CallExpression') return false
  const callee = unwrapTs(call['callee'] as AnyNode)
  const text = opts.text(callee)
  if (
    /^(JSON\.parse|String|Number|Boolean|Object\.(keys|values|entries|fromEntries)|Array\.from)$/.test(
      text,
    )
  )
    return false
  const name =
    callee.type === 'Identifier'
      ? (callee['name'] as string)
      : callee.type === 'MemberExpression' && !callee['computed']
        ? ((callee['property'] as AnyNode)['name'] as string)
        : ''
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

const NO_LETS: Lets = new Map()

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

/** Find the groups (2+ members) in one statement list. */
export function findGroups(statements: readonly AnyNode[], opts: GroupOptions): Group[] {
  const groups: Group[] = []
  // `let`s of this list: the only targets a caught member may assign (its write moves after the
  // group). Collected only for a list that has a `try`: most blocks never need them.
  const lets = statements.some((stmt) => stmt.type === 'TryStatement')
    ? letsOf(statements)
    : NO_LETS
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
    const m = asMember(stmt, opts, lets)
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
    if (
      members.length > 0 &&
      (last!.gateWrapped || dependsOn(m, members, [...betweenFacts, ...pendingFacts]))
    ) {
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

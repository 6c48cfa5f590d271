/**
 * What one statement is to a group: a *member* (one await of a read, a read with its own
 * try/catch fallback, or an existing `Promise.all` of reads a new read may join), a *pure*
 * statement that may sit between members (returned as its facts, which the group needs), or a
 * *barrier* (a gate, a write, a guard, a loop, an
 * unknown call, a mutation: anything whose order we cannot prove irrelevant).
 */
import { calleeOf, type Operation } from './classify.js'
import { statementFacts, type Facts } from './facts.js'
import { rangeOf, unwrapTs, type AnyNode } from './node.js'
import type { Member } from './member-types.js'
import { callsOnlyPure, isLogCall, isPureCallee } from './pure.js'
import { asSpreadMembers } from './spread-member.js'
import { conditionOf, isGateCall, MOVABLE, operationOf, type MemberOptions } from './operation.js'

/** The `let`s of one statement list, with their type annotations. */
export type Lets = ReadonlyMap<string, AnyNode | null>

/**
 * Keys that tie a lookup to its owner (`{ id, ownerId: user.id }`): an `*OrThrow` lookup with one
 * beside another key is an ownership check, and what follows it is what it guards.
 */
const OWNER_KEY =
  /^(owner|user|author|creator|createdBy|tenant|org|organi[sz]ation|team|workspace|account|member|company|customer)(_?id)?$/i

export function asMember(
  stmt: AnyNode,
  opts: MemberOptions,
  lets: Lets,
): Member | Member[] | Facts | 'barrier' {
  if (stmt.type === 'EmptyStatement') return statementFacts(stmt, opts.keys)
  if (stmt.type === 'TryStatement') return asCaughtMember(stmt, opts, lets) ?? 'barrier'
  if (
    stmt.type !== 'VariableDeclaration' &&
    stmt.type !== 'ExpressionStatement' &&
    stmt.type !== 'ReturnStatement'
  )
    return 'barrier'
  const facts = statementFacts(stmt, opts.keys)
  if (facts.mutates) return 'barrier'
  if (stmt.type !== 'VariableDeclaration') {
    // A bare log line may stay between members (only for suggestions); `await f()` with its
    // result discarded is a gate or an effect, never moved.
    if (facts.awaits.length === 0)
      return stmt.type === 'ExpressionStatement' && isLogLine(stmt, facts, opts) ? facts : 'barrier'
    return asSpreadMembers(stmt, facts, opts) ?? 'barrier'
  }
  const kind = stmt['kind']
  const decls = stmt['declarations'] as AnyNode[]
  if (facts.awaits.length === 0) return callsOnlyPure(stmt, opts.keys) ? facts : 'barrier'
  if ((kind !== 'const' && kind !== 'let') || decls.length !== 1) return 'barrier'
  const decl = decls[0]!
  if (facts.awaits.length >= 2) {
    const either = facts.awaits.length === 2 ? asEitherMember(decl, facts, opts) : null
    if (either) return { ...either, stmt, kind }
    return asSpreadMembers(stmt, facts, opts) ?? 'barrier'
  }
  const init = decl['init'] as AnyNode | null
  const awaitNode = facts.awaits[0]!
  if (!init) return 'barrier'
  const joined = asJoinedAll(decl, awaitNode, opts)
  if (joined) return { ...joined, stmt, facts, kind }
  const op = operationOf(awaitNode['argument'] as AnyNode, opts)
  if (!op || !MOVABLE.has(op.effect) || isCheck(op, decl, opts)) return 'barrier'
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
  const condition = conditionOf(awaitNode, init)
  if (condition === 'nested' || (condition && outside.length > 0)) return 'barrier'
  // A call around the await that does more than compute must run after it, as it did: one that
  // runs before it (`f(track(), await g())`) would now run after every call of the group.
  const effects = outside.filter((c) => !isPureCallee(c, opts.keys))
  if (effects.some((c) => !(rangeOf(c)[0] <= as && rangeOf(c)[1] >= ae))) return 'barrier'
  return {
    stmt,
    facts,
    op,
    await: awaitNode,
    kind,
    pattern,
    direct: unwrapTs(init) === awaitNode && init === awaitNode,
    wrapped: outside.length > 0,
    // Nothing may start before a gate passes, or before an effect that used to run first.
    gateWrapped: effects.length > 0 || outside.some((c) => isGateCall(c, opts)),
    ...(condition ? { conditional: condition } : {}),
  }
}

/** A log line: `logger.info(…)` of computed values (`log(await …)` is not one). */
function isLogLine(stmt: AnyNode, facts: Facts, opts: MemberOptions): boolean {
  const call = unwrapTs(stmt['expression'] as AnyNode)
  if (call.type !== 'CallExpression' || !isLogCall(call)) return false
  return facts.calls.every((c) => c === call || callsOnlyPure(c, opts.keys))
}

/**
 * An `*OrThrow` read used as a check: its result is never read (it is there for its throw), or it
 * looks a row up by its owner (`{ id, ownerId }`), so the reads after it are the ones it guards.
 */
function isCheck(op: Operation, decl: AnyNode, opts: MemberOptions): boolean {
  if (!op.orThrow || !op.call) return false
  // Read nowhere but in its own declaration: kept only for its throw.
  if (opts.usedOnlyIn(decl, decl)) return true
  const stack = [...((op.call['arguments'] as AnyNode[] | undefined) ?? [])]
  while (stack.length > 0) {
    const n = unwrapTs(stack.pop()!)
    if (n.type !== 'ObjectExpression') continue
    const props = (n['properties'] as AnyNode[]).filter((p) => p.type === 'Property')
    const keyName = (p: AnyNode): string => {
      const k = p['key'] as AnyNode
      return k.type === 'Identifier' ? (k['name'] as string) : String(k['value'])
    }
    if (props.length >= 2 && props.some((p) => OWNER_KEY.test(keyName(p)))) return true
    for (const p of props) stack.push(p['value'] as AnyNode)
  }
  return false
}

/**
 * `const x = cond ? await f() : await g()`: exactly one of two reads runs, chosen by a condition
 * that calls nothing; the element is the same conditional without the awaits.
 */
function asEitherMember(
  decl: AnyNode,
  facts: Facts,
  opts: MemberOptions,
): Omit<Member, 'stmt' | 'kind'> | null {
  const init = decl['init'] as AnyNode | null
  if (init?.type !== 'ConditionalExpression') return null
  const branches = [init['consequent'], init['alternate']] as AnyNode[]
  if (!branches.every((b) => b.type === 'AwaitExpression')) return null
  if (statementFacts(init['test'] as AnyNode, opts.keys).calls.length > 0) return null
  const ops = branches.map((b) => operationOf(b['argument'] as AnyNode, opts))
  if (ops.some((op) => !op || !MOVABLE.has(op.effect) || op.orThrow)) return null
  return {
    facts,
    op: { ...ops[0]!, effect: ops.some((op) => op!.effect === 'read') ? 'read' : 'request' },
    await: branches[0]!,
    pattern: decl['id'] as AnyNode,
    direct: false,
    wrapped: false,
    gateWrapped: false,
    conditional: init,
  }
}

/**
 * `const [a, b] = await Promise.all([f(), g()])` where every element is a read and every slot
 * a plain binding: a read that does not depend on it may join it.
 */
function asJoinedAll(
  decl: AnyNode,
  awaitNode: AnyNode,
  opts: MemberOptions,
): Omit<Member, 'stmt' | 'facts' | 'kind'> | null {
  const init = decl['init'] as AnyNode
  const pattern = decl['id'] as AnyNode
  if (
    init !== awaitNode ||
    decl.parent?.['kind'] !== 'const' ||
    pattern.type !== 'ArrayPattern' ||
    pattern['typeAnnotation']
  )
    return null
  const call = unwrapTs(awaitNode['argument'] as AnyNode)
  if (call.type !== 'CallExpression' || opts.text(calleeOf(call)) !== 'Promise.all') return null
  const [array] = call['arguments'] as AnyNode[]
  if (!array || array.type !== 'ArrayExpression') return null
  const elements = array['elements'] as (AnyNode | null)[]
  const slots = pattern['elements'] as (AnyNode | null)[]
  if (
    elements.length < 2 ||
    slots.length !== elements.length ||
    slots.some((s) => !s || s.type === 'RestElement') ||
    elements.some((e) => !e || e.type === 'SpreadElement')
  )
    return null
  const ops = (elements as AnyNode[]).map((e) => operationOf(e, opts))
  if (ops.some((op) => !op || !MOVABLE.has(op.effect) || op.orThrow)) return null
  return {
    op: {
      element: call,
      call,
      name: 'Promise.all',
      root: 'Promise',
      effect: ops.some((op) => op!.effect === 'read') ? 'read' : 'request',
      orThrow: false,
    },
    await: awaitNode,
    pattern,
    direct: true,
    wrapped: false,
    gateWrapped: false,
    joined: { elements: elements as AnyNode[], slots: slots as AnyNode[] },
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
function asCaughtMember(stmt: AnyNode, opts: MemberOptions, lets: Lets): Member | null {
  const handler = stmt['handler'] as AnyNode | null
  if (!handler || stmt['finalizer']) return null
  const tried = soleAssignment(stmt['block'] as AnyNode)
  const caught = soleAssignment(handler['body'] as AnyNode)
  if (!tried || !caught || tried.target !== caught.target || !lets.has(tried.target)) return null
  const param = (handler['param'] as AnyNode | null) ?? null
  if (param && param.type !== 'Identifier') return null
  const awaitNode = tried.value
  if (awaitNode.type !== 'AwaitExpression') return null
  const op = operationOf(awaitNode['argument'] as AnyNode, opts)
  if (!op || !MOVABLE.has(op.effect) || op.orThrow) return null
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

/**
 * Awaits nested in one statement: `return Response.json({ user: await getUser(id), posts: await
 * getPosts(id) })` is a waterfall inside a single expression, and `return { a, b: await g() }`
 * can join the reads above it. Each await becomes a member of its own; all of a statement's
 * members join a group together, and the rewrite awaits them first and puts their results back
 * where the awaits were.
 *
 * Moving the calls earlier is safe only when nothing else in the statement runs between them:
 * every await unconditional, none inside another's argument, and every other call either pure or
 * one that receives all of the awaited values (it runs after them in both versions).
 */
import type { Operation } from './classify.js'
import { statementFacts, type Facts } from './facts.js'
import type { Member } from './member-types.js'
import { rangeOf, type AnyNode } from './node.js'
import { conditionOf, isGateCall, MOVABLE, operationOf, type MemberOptions } from './operation.js'
import { callsOnlyPure, isPureCallee } from './pure.js'

const within = (inner: AnyNode, outer: AnyNode): boolean =>
  rangeOf(inner)[0] >= rangeOf(outer)[0] && rangeOf(inner)[1] <= rangeOf(outer)[1]

/** The expression a statement evaluates, or null for a statement this does not handle. */
function expressionOf(stmt: AnyNode): AnyNode | null {
  if (stmt.type === 'ReturnStatement') return (stmt['argument'] as AnyNode | null) ?? null
  if (stmt.type === 'ExpressionStatement') return stmt['expression'] as AnyNode
  if (stmt.type !== 'VariableDeclaration') return null
  const decls = stmt['declarations'] as AnyNode[]
  if (decls.length !== 1) return null
  return (decls[0]!['init'] as AnyNode | null) ?? null
}

/**
 * The members of a statement with awaits nested in it; null when they cannot move (a condition,
 * a dependence, a call that runs between them, or an await whose result is the whole statement).
 */
export function asSpreadMembers(stmt: AnyNode, facts: Facts, opts: MemberOptions): Member[] | null {
  const expression = expressionOf(stmt)
  if (!expression) return null
  const awaits = [...facts.awaits].sort((a, b) => rangeOf(a)[0] - rangeOf(b)[0])
  // `await f()` as a statement is a gate or an effect; `return await f()` is one plain read.
  if (awaits.some((a) => a === expression)) return null
  if (awaits.some((a, i) => i > 0 && within(a, awaits[i - 1]!))) return null
  if (awaits.some((a) => conditionOf(a, expression) !== undefined)) return null
  const declared = stmt.type === 'VariableDeclaration'
  if (declared && hasDefaults(stmt)) return null
  const outside = facts.calls.filter((c) => !awaits.some((a) => within(c, a)))
  // A call that gets every awaited value runs after all of them, before and after the rewrite.
  if (outside.some((c) => !awaits.every((a) => within(a, c)) && !callsOnlyPure(c, opts.keys)))
    return null
  const ops: Operation[] = []
  for (const a of awaits) {
    const op = operationOf(a['argument'] as AnyNode, opts)
    if (!op || !MOVABLE.has(op.effect) || op.orThrow) return null
    ops.push(op)
  }
  const parts = awaits.map((a) => statementFacts(a['argument'] as AnyNode, opts.keys))
  // The awaited calls are evaluated one after another: a later one must not read what an
  // earlier one was handed (it may have been changed).
  if (
    parts.some((p, i) =>
      parts.slice(0, i).some((q) => [...q.exposes].some((name) => p.memberRoots.has(name))),
    )
  )
    return null
  // A consumer that does more than compute (`res.json(…)`) runs after the calls, as it did, but a
  // later read must not start before it: nothing may join after it.
  const gateWrapped = outside.some((c) => isGateCall(c, opts) || !isPureCallee(c, opts.keys))
  return awaits.map((a, i) => ({
    stmt,
    facts: { ...parts[i]!, binds: facts.binds },
    op: ops[i]!,
    await: a,
    kind: declared && stmt['kind'] === 'let' ? 'let' : 'const',
    pattern: declared ? ((stmt['declarations'] as AnyNode[])[0]!['id'] as AnyNode) : a,
    direct: false,
    wrapped: true,
    gateWrapped,
    spread: true,
  }))
}

/** A destructuring default runs code after the awaits: `const { a = f() } = …`. */
function hasDefaults(stmt: AnyNode): boolean {
  const stack = [(stmt['declarations'] as AnyNode[])[0]!['id'] as AnyNode]
  while (stack.length > 0) {
    const p = stack.pop()!
    if (p.type === 'AssignmentPattern') return true
    if (p.type === 'ObjectPattern')
      for (const prop of p['properties'] as AnyNode[])
        stack.push((prop.type === 'RestElement' ? prop['argument'] : prop['value']) as AnyNode)
    if (p.type === 'ArrayPattern')
      for (const el of p['elements'] as (AnyNode | null)[]) if (el) stack.push(el)
  }
  return false
}

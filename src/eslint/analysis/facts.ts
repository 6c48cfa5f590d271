/**
 * Facts about one statement, gathered in a single walk: the names it reads, binds and writes, its
 * `await`s, whether it calls anything outside the awaited operation, the roots of member chains
 * it reads (`store.state.id`), and the objects it hands whole to a call (which that call may mutate).
 */
import { children, FUNCTION_TYPES, isNode, unwrapTs, type AnyNode } from './node.js'

export interface Facts {
  readonly reads: Set<string>
  /** Names bound by a declaration statement's pattern. */
  readonly binds: Set<string>
  /** Any assignment, `++`/`--`, `delete` or `yield` anywhere (closures included): never moved. */
  readonly mutates: boolean
  /** Awaits outside nested functions. */
  readonly awaits: AnyNode[]
  /** Calls / `new` / tagged templates outside nested functions. */
  readonly calls: AnyNode[]
  /** Roots of member chains read as values (not called): `store` in `g(store.state.id)`. */
  readonly memberRoots: Set<string>
  /** Identifiers passed whole to a call, or used as the receiver root of a call. */
  readonly exposes: Set<string>
}

type Keys = Readonly<Record<string, readonly string[] | undefined>>

function bindNames(pattern: AnyNode, out: Set<string>): void {
  const p = pattern
  switch (p.type) {
    case 'Identifier':
      out.add(p['name'] as string)
      return
    case 'ObjectPattern':
      for (const prop of p['properties'] as AnyNode[])
        bindNames(
          prop.type === 'RestElement' ? (prop['argument'] as AnyNode) : (prop['value'] as AnyNode),
          out,
        )
      return
    case 'ArrayPattern':
      for (const el of p['elements'] as (AnyNode | null)[]) if (el) bindNames(el, out)
      return
    case 'RestElement':
      bindNames(p['argument'] as AnyNode, out)
      return
    case 'AssignmentPattern':
      bindNames(p['left'] as AnyNode, out)
      return
    default:
      return
  }
}

function rootOf(node: AnyNode): string {
  let n = unwrapTs(node)
  while (n.type === 'MemberExpression') n = unwrapTs(n['object'] as AnyNode)
  if (n.type === 'Identifier') return n['name'] as string
  if (n.type === 'ThisExpression' || n.type === 'Super') return 'this'
  return ''
}

type MutableFacts = { -readonly [K in keyof Facts]: Facts[K] }

export function statementFacts(stmt: AnyNode, keys: Keys): Facts {
  const facts: MutableFacts = {
    reads: new Set<string>(),
    binds: new Set<string>(),
    mutates: false,
    awaits: [],
    calls: [],
    memberRoots: new Set<string>(),
    exposes: new Set<string>(),
  }
  if (stmt.type === 'VariableDeclaration') {
    for (const d of stmt['declarations'] as AnyNode[]) bindNames(d['id'] as AnyNode, facts.binds)
  }
  // Iterative walk; `fn` counts enclosing nested functions.
  const stack: { node: AnyNode; fn: number }[] = [{ node: stmt, fn: 0 }]
  while (stack.length > 0) {
    const { node, fn } = stack.pop()!
    if (isTypeOnly(node.type)) continue // types, declare/interface/enum: no runtime reads we care about
    const only = record(facts, node, fn)
    if (only !== undefined) {
      for (const c of only) stack.push({ node: c, fn })
      continue
    }
    const inner = FUNCTION_TYPES.has(node.type) || node.type === 'ClassBody' ? fn + 1 : fn
    for (const c of children(node, keys)) stack.push({ node: c, fn: inner })
  }
  return facts
}

function isTypeOnly(t: string): boolean {
  return (
    t.startsWith('TS') &&
    t !== 'TSNonNullExpression' &&
    t !== 'TSAsExpression' &&
    t !== 'TSSatisfiesExpression' &&
    t !== 'TSTypeAssertion'
  )
}

/**
 * Records what `node` itself says (`fn`: how many functions enclose it). Returns the only
 * children to visit next, or undefined to visit all of them.
 */
function record(facts: MutableFacts, node: AnyNode, fn: number): AnyNode[] | undefined {
  switch (node.type) {
    case 'Identifier':
      facts.reads.add(node['name'] as string)
      return undefined
    case 'ThisExpression':
    case 'Super':
      facts.reads.add('this')
      return undefined
    case 'AssignmentExpression':
    case 'UpdateExpression':
    case 'YieldExpression':
      facts.mutates = true
      return undefined
    case 'UnaryExpression':
      if (node['operator'] === 'delete') facts.mutates = true
      return undefined
    case 'AwaitExpression':
      if (fn === 0) facts.awaits.push(node)
      return undefined
    case 'CallExpression':
    case 'NewExpression':
    case 'TaggedTemplateExpression':
      if (fn === 0) facts.calls.push(node)
      if (node.type !== 'TaggedTemplateExpression') recordExposed(facts, node)
      return undefined
    case 'MemberExpression':
      recordMemberRoot(facts, node)
      // Non-computed property names are not reads.
      return node['computed']
        ? [node['object'] as AnyNode, node['property'] as AnyNode]
        : [node['object'] as AnyNode]
    case 'Property':
    case 'PropertyDefinition':
    case 'MethodDefinition':
      return [
        ...(node['computed'] ? [node['key'] as AnyNode] : []),
        ...(isNode(node['value']) ? [node['value']] : []),
      ]
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return isNode(node['body']) ? [node['body']] : []
    default:
      return undefined
  }
}

/** The identifiers a call gets whole (arguments, and the root of its receiver): it may mutate them. */
function recordExposed(facts: MutableFacts, call: AnyNode): void {
  for (const a of call['arguments'] as AnyNode[]) {
    const arg = unwrapTs(a.type === 'SpreadElement' ? (a['argument'] as AnyNode) : a)
    if (arg.type === 'Identifier') facts.exposes.add(arg['name'] as string)
    else if (arg.type === 'ThisExpression') facts.exposes.add('this')
  }
  const callee = unwrapTs(call['callee'] as AnyNode)
  if (callee.type === 'MemberExpression') {
    const r = rootOf(callee)
    if (r !== '') facts.exposes.add(r)
  }
}

/** The root of a member chain read as a value: not a callee, and not inside a longer chain. */
function recordMemberRoot(facts: MutableFacts, node: AnyNode): void {
  const parent = node.parent
  const isCallee =
    parent &&
    (parent.type === 'CallExpression' || parent.type === 'NewExpression') &&
    parent['callee'] === node
  if (isCallee || (parent && parent.type === 'MemberExpression' && parent['object'] === node))
    return
  const r = rootOf(node)
  if (r !== '') facts.memberRoots.add(r)
}

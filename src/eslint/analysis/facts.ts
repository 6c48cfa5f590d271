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

export function statementFacts(stmt: AnyNode, keys: Keys): Facts {
  const facts = {
    reads: new Set<string>(),
    binds: new Set<string>(),
    mutates: false,
    awaits: [] as AnyNode[],
    calls: [] as AnyNode[],
    memberRoots: new Set<string>(),
    exposes: new Set<string>(),
  }
  if (stmt.type === 'VariableDeclaration') {
    for (const d of stmt['declarations'] as AnyNode[]) bindNames(d['id'] as AnyNode, facts.binds)
  }
  // Iterative walk; `depth` counts enclosing nested functions.
  const stack: { node: AnyNode; fn: number }[] = [{ node: stmt, fn: 0 }]
  while (stack.length > 0) {
    const { node, fn } = stack.pop()!
    const t = node.type
    if (
      t.startsWith('TS') &&
      t !== 'TSNonNullExpression' &&
      t !== 'TSAsExpression' &&
      t !== 'TSSatisfiesExpression' &&
      t !== 'TSTypeAssertion'
    ) {
      continue // types, declare/interface/enum: no runtime reads we care about
    }
    let inner = fn
    switch (t) {
      case 'Identifier':
        facts.reads.add(node['name'] as string)
        break
      case 'ThisExpression':
      case 'Super':
        facts.reads.add('this')
        break
      case 'AssignmentExpression':
      case 'UpdateExpression':
      case 'YieldExpression':
        facts.mutates = true
        break
      case 'UnaryExpression':
        if (node['operator'] === 'delete') facts.mutates = true
        break
      case 'AwaitExpression':
        if (fn === 0) facts.awaits.push(node)
        break
      case 'CallExpression':
      case 'NewExpression':
      case 'TaggedTemplateExpression': {
        if (fn === 0) facts.calls.push(node)
        if (t !== 'TaggedTemplateExpression') {
          for (const a of node['arguments'] as AnyNode[]) {
            const arg = unwrapTs(a.type === 'SpreadElement' ? (a['argument'] as AnyNode) : a)
            if (arg.type === 'Identifier') facts.exposes.add(arg['name'] as string)
            else if (arg.type === 'ThisExpression') facts.exposes.add('this')
          }
          const callee = unwrapTs(node['callee'] as AnyNode)
          if (callee.type === 'MemberExpression') {
            const r = rootOf(callee)
            if (r !== '') facts.exposes.add(r)
          }
        }
        break
      }
      case 'MemberExpression': {
        const parent = node.parent
        const isCallee =
          parent &&
          (parent.type === 'CallExpression' || parent.type === 'NewExpression') &&
          parent['callee'] === node
        if (
          !isCallee &&
          !(parent && parent.type === 'MemberExpression' && parent['object'] === node)
        ) {
          const r = rootOf(node)
          if (r !== '') facts.memberRoots.add(r)
        }
        // Non-computed property names are not reads.
        stack.push({ node: node['object'] as AnyNode, fn })
        if (node['computed']) stack.push({ node: node['property'] as AnyNode, fn })
        continue
      }
      case 'Property':
      case 'PropertyDefinition':
      case 'MethodDefinition':
        if (node['computed']) stack.push({ node: node['key'] as AnyNode, fn })
        if (isNode(node['value'])) stack.push({ node: node['value'], fn })
        continue
      case 'LabeledStatement':
      case 'BreakStatement':
      case 'ContinueStatement':
        if (isNode(node['body'])) stack.push({ node: node['body'], fn })
        continue
      default:
        if (FUNCTION_TYPES.has(t) || t === 'ClassBody') inner = fn + 1
    }
    for (const c of children(node, keys)) stack.push({ node: c, fn: inner })
  }
  return facts
}

/**
 * A loose view of ESTree / typescript-estree nodes: the analysis walks both without depending on
 * either package's types, so it works for JS (espree) and TS (typescript-eslint) alike.
 */
export interface AnyNode {
  type: string
  range?: [number, number]
  parent?: AnyNode | null
  [key: string]: unknown
}

/** Keys never followed: types (never runtime values), the link back up, and position and token data. */
const TYPE_KEYS = new Set([
  'typeAnnotation',
  'typeArguments',
  'typeParameters',
  'returnType',
  'parent',
  'loc',
  'range',
  'tokens',
  'comments',
])

export function isNode(value: unknown): value is AnyNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string'
  )
}

/** The runtime children of a node (type-only positions and `TS*` declarations left out). */
export function children(
  node: AnyNode,
  keys: Readonly<Record<string, readonly string[] | undefined>>,
): AnyNode[] {
  const out: AnyNode[] = []
  const names = keys[node.type] ?? Object.keys(node)
  for (const key of names) {
    if (TYPE_KEYS.has(key)) continue
    const value = node[key]
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) out.push(item)
    } else if (isNode(value)) {
      out.push(value)
    }
  }
  return out
}

export const FUNCTION_TYPES = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
])
export const LOOP_TYPES = new Set([
  'ForStatement',
  'ForInStatement',
  'ForOfStatement',
  'WhileStatement',
  'DoWhileStatement',
])

export function rangeOf(node: AnyNode): [number, number] {
  const r = node.range
  if (!r) throw new Error(`node ${node.type} has no range`)
  return r
}

/** A member's property name (`b` in `a.b`, `a['b']`), '' when computed. */
export function memberName(member: AnyNode): string {
  const p = member['property'] as AnyNode
  if (!member['computed'] && p.type === 'Identifier') return p['name'] as string
  if (isNode(p) && p.type === 'Literal' && typeof p['value'] === 'string') return p['value']
  return ''
}

/** TS wrappers that keep a runtime expression: `x!`, `x as T`, `x satisfies T`, `<T>x`. */
export function unwrapTs(node: AnyNode): AnyNode {
  let n = node
  while (
    (n.type === 'TSNonNullExpression' ||
      n.type === 'TSAsExpression' ||
      n.type === 'TSSatisfiesExpression' ||
      n.type === 'TSTypeAssertion' ||
      n.type === 'ChainExpression') &&
    isNode(n['expression'])
  ) {
    n = n['expression']
  }
  return n
}

/**
 * Small, rule-agnostic AST helpers shared by the fanout ESLint rules. Nothing here knows about
 * auth or loops: names of callees, walking subtrees, reading the identifiers an expression
 * uses, the names a pattern binds, and glob-style name patterns.
 */
import type * as ESTree from 'estree'
import { children as childNodes, unwrapTs, type AnyNode } from './analysis/node.js'

/** Any ESTree node, with the `parent` link ESLint adds while traversing. */
export type Node = ESTree.Node & { parent?: Node | null }

/** The child nodes of `node`, in source order (type annotations skipped). */
export function children(node: Node): Node[] {
  return childNodes(node as unknown as AnyNode, NO_VISITOR_KEYS) as unknown as Node[]
}
const NO_VISITOR_KEYS: Readonly<Record<string, readonly string[] | undefined>> = {}

/**
 * Visits `node` and its descendants depth-first. The visitor returns `false` to skip a node's
 * children. `intoFunctions: false` (the default) does not enter nested functions, whose bodies
 * run at another time.
 */
export function walk(
  node: Node,
  visit: (node: Node) => boolean | void,
  options: { intoFunctions?: boolean } = {},
): void {
  const stack: Node[] = [node]
  while (stack.length > 0) {
    const current = stack.pop() as Node
    if (visit(current) === false) continue
    if (current !== node && !options.intoFunctions && isFunction(current)) continue
    const kids = children(current)
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as Node)
  }
}

/** True when `node` is any kind of function. */
export function isFunction(node: Node): node is ESTree.Function & Node {
  return (
    node.type === 'FunctionDeclaration' ||
    node.type === 'FunctionExpression' ||
    node.type === 'ArrowFunctionExpression'
  )
}

/** Removes wrappers that do not change the value: TS casts, `!`, `satisfies`, optional chains. */
export function unwrap(node: Node): Node {
  return unwrapTs(node as unknown as AnyNode) as unknown as Node
}

/** The call inside `await call()`, `call()`, `(call() as T)`; otherwise undefined. */
export function callOf(node: Node | null | undefined): (ESTree.CallExpression & Node) | undefined {
  if (!node) return undefined
  let current = unwrap(node)
  if (current.type === 'AwaitExpression') current = unwrap(current.argument as Node)
  return current.type === 'CallExpression' ? (current as ESTree.CallExpression & Node) : undefined
}

/** The property name of a member expression (`a.b` → `b`, `a['b']` → `b`), if static. */
export function propertyName(member: ESTree.MemberExpression): string | undefined {
  if (!member.computed && member.property.type === 'Identifier') return member.property.name
  if (member.property.type === 'Literal' && typeof member.property.value === 'string')
    return member.property.value
  return undefined
}

/**
 * The dotted name segments of a callee: `verify()` → ['verify'], `sdk.access.check()` →
 * ['sdk', 'access', 'check'], `db.from('x').select()` → ['db', 'from', 'select'],
 * `this.repo.find()` → ['this', 'repo', 'find']. Unknown parts are skipped.
 */
export function calleeSegments(callee: Node): string[] {
  const node = unwrap(callee)
  if (node.type === 'Identifier') return [node.name]
  if (node.type === 'ThisExpression') return ['this']
  if (node.type === 'MemberExpression') {
    const name = propertyName(node)
    const object = calleeSegments(node.object as Node)
    return name === undefined ? object : [...object, name]
  }
  if (node.type === 'CallExpression') return calleeSegments(node.callee as Node)
  return []
}

/** The last name of a call's callee (`sdk.access.check()` → `check`), or undefined. */
export function calleeName(call: ESTree.CallExpression): string | undefined {
  const segments = calleeSegments(call.callee as Node)
  return segments[segments.length - 1]
}

/** Source-like short text of a call for messages: `sdk.verifyToken()`. */
export function callLabel(call: ESTree.CallExpression): string {
  const segments = calleeSegments(call.callee as Node)
  return `${segments.length > 0 ? segments.join('.') : '(call)'}()`
}

/** String literals anywhere in a call chain's receivers and arguments (`db.from('secrets')` → ['secrets']). */
export function chainStrings(call: ESTree.CallExpression): string[] {
  const out: string[] = []
  walk(call as Node, (node) => {
    if (node.type === 'Literal' && typeof node.value === 'string') out.push(node.value)
    if (node.type === 'TemplateElement') out.push(node.value.cooked ?? node.value.raw)
  })
  return out
}

/** `Promise.all(...)` and friends: the method name, or undefined. */
export function promiseCombinator(
  call: ESTree.CallExpression,
  methods: readonly string[] = ['all', 'allSettled', 'race', 'any'],
): string | undefined {
  const callee = unwrap(call.callee as Node)
  if (callee.type !== 'MemberExpression') return undefined
  const object = unwrap(callee.object as Node)
  if (object.type !== 'Identifier' || object.name !== 'Promise') return undefined
  const name = propertyName(callee)
  return name !== undefined && methods.includes(name) ? name : undefined
}

/**
 * Identifiers read in `node` (not property keys, not names declared inside it). With
 * `intoFunctions`, closures are searched too (what a callback reads when it runs later).
 */
export function readNames(node: Node, options: { intoFunctions?: boolean } = {}): Set<string> {
  const names = new Set<string>()
  walk(
    node,
    (current) => {
      if (current.type === 'Identifier') {
        const parent = current.parent
        if (
          parent &&
          parent.type === 'MemberExpression' &&
          parent.property === current &&
          !parent.computed
        )
          return
        if (
          parent &&
          parent.type === 'Property' &&
          parent.key === current &&
          !parent.computed &&
          !parent.shorthand
        )
          return
        names.add(current.name)
      }
    },
    options,
  )
  return names
}

/** Same as `readNames`, but works on detached subtrees (no `parent` links needed). */
export function usedNames(node: Node, options: { intoFunctions?: boolean } = {}): Set<string> {
  const names = new Set<string>()
  const visit = (current: Node, skipSelf: boolean): void => {
    if (current.type === 'Identifier') {
      if (!skipSelf) names.add(current.name)
      return
    }
    if (current !== node && !options.intoFunctions && isFunction(current)) return
    if (current.type === 'MemberExpression') {
      visit(current.object as Node, false)
      if (current.computed) visit(current.property as Node, false)
      return
    }
    if (current.type === 'Property') {
      if (current.computed) visit(current.key as Node, false)
      visit(current.value as Node, false)
      return
    }
    for (const child of children(current)) visit(child, false)
  }
  visit(node, false)
  return names
}

/** Names bound by a declaration target (`a`, `[a, b]`, `{ a, b: { c } }`, `...rest`, defaults). */
export function patternNames(pattern: Node | null | undefined): string[] {
  if (!pattern) return []
  switch (pattern.type) {
    case 'Identifier':
      return [pattern.name]
    case 'ArrayPattern':
      return pattern.elements.flatMap((element) => patternNames(element as Node | null))
    case 'ObjectPattern':
      return pattern.properties.flatMap((property) =>
        patternNames((property.type === 'RestElement' ? property : property.value) as Node),
      )
    case 'RestElement':
      return patternNames(pattern.argument as Node)
    case 'AssignmentPattern':
      return patternNames(pattern.left as Node)
    default:
      return []
  }
}

/** Names written in `node`: assignment targets and `++`/`--` operands (declarations excluded). */
export function writtenNames(
  node: Node,
  options: { intoFunctions?: boolean } = { intoFunctions: true },
): Set<string> {
  const names = new Set<string>()
  walk(
    node,
    (current) => {
      if (current.type === 'AssignmentExpression') {
        const left = unwrap(current.left as Node)
        if (
          left.type === 'Identifier' ||
          left.type === 'ArrayPattern' ||
          left.type === 'ObjectPattern'
        )
          for (const name of patternNames(left)) names.add(name)
      } else if (current.type === 'UpdateExpression') {
        const argument = unwrap(current.argument as Node)
        if (argument.type === 'Identifier') names.add(argument.name)
      }
    },
    options,
  )
  return names
}

/** A compiled glob: `*` matches any run of characters; matching ignores case of the first letter only. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')
  return new RegExp(`^${escaped}$`)
}

/** A predicate over names from a list of globs (`verify*Token`) or `/regex/flags` strings. */
export function nameMatcher(patterns: readonly string[]): (name: string) => boolean {
  const regexps = patterns.map((pattern) => {
    const literal = /^\/(.*)\/([a-z]*)$/.exec(pattern)
    return literal ? new RegExp(literal[1] ?? '', literal[2]) : globToRegExp(pattern)
  })
  return (name) => regexps.some((regexp) => regexp.test(name))
}

/** The statement list that directly contains `node` and its index, if it sits in one. */
export function statementSlot(node: Node): { list: Node[]; index: number } | undefined {
  const parent = node.parent
  if (!parent) return undefined
  const list =
    parent.type === 'BlockStatement' || parent.type === 'Program'
      ? (parent.body as Node[])
      : parent.type === 'SwitchCase'
        ? (parent.consequent as Node[])
        : undefined
  if (!list) return undefined
  const index = list.indexOf(node)
  return index < 0 ? undefined : { list, index }
}

/** The nearest ancestor that is a statement (including `node` itself). */
export function enclosingStatement(node: Node): Node | undefined {
  let current: Node | null | undefined = node
  while (current && !/Statement$|Declaration$/.test(current.type)) current = current.parent
  return current ?? undefined
}

/**
 * The combinator check of `fanout/no-parallel-auth`: an auth call in the array of
 * `Promise.all`/`allSettled`/`race`/`any` beside data calls it guards. Elements may be calls,
 * `const` promises started earlier, or `ids.map((id) => getItem(id))`.
 */
import type * as ESTree from 'estree'
import { awaitFirstFix } from './await-first-fix.js'
import { baseCall, type Call, type Member } from './classify.js'
import { callList, type AuthRule } from './report.js'
import {
  callLabel,
  calleeName,
  callOf,
  isFunction,
  patternNames,
  statementSlot,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'

/** Reports the first auth member of `Promise.<method>([...])` that guards a data member. */
export function checkCombinator(rule: AuthRule, node: Call, method: string): void {
  const array = node.arguments[0]
  if (!array || array.type !== 'ArrayExpression') return
  const members = combinatorMembers(rule, node, array as ESTree.ArrayExpression & Node)
  const auths = members.filter((m) => m.kind === 'gate' || m.kind === 'session')
  if (auths.length === 0) return
  const following = followingStatements(node)
  for (const auth of auths) {
    const data = rule.guarded(auth, members, following)
    if (data.length === 0) continue
    const authLabel = `\`${callLabel(baseCall(auth.call))}\``
    const suggest =
      method === 'all' && auths.length === 1
        ? awaitFirstFix(rule.context.sourceCode, node, auth, array as ESTree.ArrayExpression & Node)
        : undefined
    rule.context.report({
      node: auth.call,
      messageId: 'parallel',
      data: {
        auth: authLabel,
        data: callList(data),
        where: `in \`Promise.${method}\``,
        they: data.length === 1 ? 'it would' : 'they would',
      },
      ...(suggest
        ? { suggest: [{ messageId: 'awaitFirst', data: { auth: authLabel }, fix: suggest }] }
        : {}),
    })
    return
  }
}

/** The array's calls, classified, with the names `const [a, b] = await Promise.all(...)` binds. */
function combinatorMembers(
  rule: AuthRule,
  node: Call,
  array: ESTree.ArrayExpression & Node,
): Member[] {
  const pattern = bindingPattern(node)
  const members: Member[] = []
  array.elements.forEach((element, index) => {
    const call = elementCall(rule, element as Node | null)
    if (!call) return
    const bound = pattern?.elements[index]
    members.push({
      call,
      kind: rule.classify(call),
      names: patternNames(bound as Node | undefined),
    })
  })
  return members
}

/** The array pattern of `const [a, b] = await Promise.all([...])`, through casts. */
function bindingPattern(node: Call): ESTree.ArrayPattern | undefined {
  let parent = node.parent
  while (
    parent &&
    (parent.type === 'AwaitExpression' ||
      (parent.type as string) === 'TSAsExpression' ||
      (parent.type as string) === 'TSNonNullExpression')
  )
    parent = parent.parent
  if (parent && parent.type === 'VariableDeclarator' && parent.id.type === 'ArrayPattern')
    return parent.id
  return undefined
}

/** The call an element of a `Promise.all` array stands for (resolving `const p = call()`). */
function elementCall(rule: AuthRule, element: Node | null): Call | undefined {
  if (!element || element.type === 'SpreadElement') return undefined
  const node = unwrap(element)
  if (node.type === 'Identifier') {
    const init = constInit(rule, node)
    return init && init.type === 'CallExpression' ? (init as Call) : undefined
  }
  const call = callOf(node)
  if (!call) return undefined
  const name = calleeName(call)
  const callback = call.arguments[0] as Node | undefined
  if ((name === 'map' || name === 'flatMap') && callback && isFunction(callback)) {
    // `ids.map((id) => getItem(id))`: the first call the callback makes.
    let first: Call | undefined
    walk(callback.body as Node, (n) => {
      if (first) return false
      if (n.type === 'CallExpression') first = n as Call
      return undefined
    })
    return first
  }
  return call
}

/** The initialiser of the single `const` declaration `identifier` refers to. */
function constInit(rule: AuthRule, identifier: ESTree.Identifier & Node): Node | undefined {
  const sourceCode = rule.context.sourceCode
  let scope: ReturnType<typeof sourceCode.getScope> | null = sourceCode.getScope(
    identifier as unknown as ESTree.Node,
  )
  while (scope) {
    const variable = scope.set.get(identifier.name)
    if (variable) {
      const def = variable.defs[0]
      if (
        variable.defs.length !== 1 ||
        !def ||
        def.type !== 'Variable' ||
        def.parent.kind !== 'const'
      )
        return undefined
      const declarator = def.node as ESTree.VariableDeclarator
      if (declarator.id.type !== 'Identifier' || !declarator.init) return undefined
      return unwrap(declarator.init as Node)
    }
    scope = scope.upper
  }
  return undefined
}

/** The statements after the one holding `node`, in its block (none past a function boundary). */
function followingStatements(node: Node): Node[] {
  let current: Node | null | undefined = node
  while (current) {
    const slot = statementSlot(current)
    if (slot) return slot.list.slice(slot.index + 1)
    if (isFunction(current)) return []
    current = current.parent
  }
  return []
}

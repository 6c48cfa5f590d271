/**
 * The combinator check of `fanout/no-parallel-auth`: an auth call in the array of
 * `Promise.all`/`allSettled`/`race`/`any` beside data calls it guards. Elements may be calls,
 * `const` promises started earlier, or `ids.map((id) => getItem(id))`.
 */
import type * as ESTree from 'estree'
import { awaitFirstFix } from './await-first-fix.js'
import { isAuthKind, type Call, type Member } from './classify.js'
import { authLabel, callList, type AuthRule, type Guard } from './report.js'
import {
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
  const following = followingStatements(node)
  const guards = members
    .filter((m) => isAuthKind(m.kind))
    .map((auth) => ({ auth, guard: rule.guarded(auth, members, following) }))
    .filter((g): g is { auth: Member; guard: Guard } => g.guard !== undefined)
  const first = guards[0]
  if (!first) return
  const { auth, guard } = first
  const label = authLabel(auth.call)
  // Awaiting one check first is the whole fix only when it is the only check here.
  const fix =
    method === 'all' && guards.length === 1
      ? awaitFirstFix(rule.context.sourceCode, node, auth, array as ESTree.ArrayExpression & Node)
      : undefined
  const rest = members.filter((m) => m !== auth)
  rule.context.report({
    node: auth.call,
    messageId: 'parallel',
    data: {
      auth: label,
      data: callList(guard.data),
      where: `in \`Promise.${method}\``,
      they: guard.data.length === 1 ? 'it would' : 'they would',
      why: guard.why,
    },
    ...(fix
      ? {
          suggest: [
            {
              messageId: 'awaitFirst',
              data: {
                auth: label,
                rest: callList(rest),
                they: rest.length === 1 ? 'it starts' : 'they start',
              },
              fix,
            },
          ],
        }
      : {}),
  })
}

/** The array's calls, classified, with the names `const [a, b] = await Promise.all(...)` binds. */
function combinatorMembers(
  rule: AuthRule,
  node: Call,
  array: ESTree.ArrayExpression & Node,
): Member[] {
  const binding = resultBinding(node)
  const members: Member[] = []
  array.elements.forEach((element, index) => {
    const call = elementCall(rule, element as Node | null)
    if (!call) return
    const bound = elementBinding(binding, index)
    members.push({
      call,
      kind: rule.classify(call),
      names: patternNames(bound ?? undefined),
      discarded: bound === null,
    })
  })
  return members
}

/**
 * Where an element's result goes: its target in the array pattern, `null` when it is dropped
 * (the combinator's result is dropped, or the pattern has a hole there or ends before it), or
 * undefined when the combinator's result goes somewhere else (`const all = …`, `return …`).
 */
function elementBinding(binding: Binding, index: number): Node | null | undefined {
  if (binding === 'discarded') return null
  if (!binding) return undefined
  const elements = binding.elements as (Node | null)[]
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i]
    if (element?.type === 'RestElement') return element
    if (i === index) return element ?? null
  }
  return null
}

type Binding = ESTree.ArrayPattern | 'discarded' | undefined

/** The array pattern of `const [a, b] = await Promise.all([...])`, `'discarded'` for a bare statement. */
function resultBinding(node: Call): Binding {
  let parent = node.parent
  while (
    parent &&
    (parent.type === 'AwaitExpression' ||
      (parent.type as string) === 'TSAsExpression' ||
      (parent.type as string) === 'TSNonNullExpression')
  )
    parent = parent.parent
  if (parent && parent.type === 'ExpressionStatement') return 'discarded'
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

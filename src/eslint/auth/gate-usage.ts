/**
 * Whether a session call acts as a gate for `fanout/no-parallel-auth`: its result is tested later
 * and the test aborts (throw, redirect, 401/403, a return that does not show the data), or a data
 * call beside it is protected. Gate calls always guard every data call beside them.
 */
import { calleeName, walk, type Node } from '../rule-utils.js'
import type { Call, Member } from './classify.js'

const ABORT_CALLS = new Set([
  'redirect',
  'permanentRedirect',
  'notFound',
  'unauthorized',
  'forbidden',
  'signIn',
  'error',
])

/** True when one of `names` is tested in a later statement that then aborts (return/throw/redirect/401/403). */
function usedAsGate(names: string[], following: Node[], dataNames: Set<string>): boolean {
  if (names.length === 0) return false
  for (const statement of following) {
    let found = false
    walk(statement, (node) => {
      if (found) return false
      if (node.type !== 'IfStatement') return undefined
      const tested = new Set<string>()
      walk(node.test as Node, (n) => {
        if (n.type === 'Identifier') tested.add(n.name)
      })
      if (!names.some((name) => tested.has(name))) return undefined
      if (aborts(node.consequent as Node, dataNames)) found = true
      return undefined
    })
    if (found) return true
  }
  return false
}

/** True when `consequent` throws, redirects, answers 401/403, or returns something other than the data. */
function aborts(consequent: Node, dataNames: Set<string>): boolean {
  let result = false
  walk(consequent, (node) => {
    if (result) return false
    if (node.type === 'ThrowStatement') result = true
    else if (node.type === 'CallExpression') {
      const name = calleeName(node)
      if (name !== undefined && ABORT_CALLS.has(name)) result = true
    } else if (node.type === 'Literal' && (node.value === 401 || node.value === 403)) result = true
    else if (node.type === 'ReturnStatement') {
      // `return <Login />`, `return null`: aborts unless the returned value shows the data.
      let readsData = false
      if (node.argument)
        walk(
          node.argument as Node,
          (n) => {
            if (n.type === 'Identifier' && dataNames.has(n.name)) readsData = true
          },
          { intoFunctions: true },
        )
      if (!readsData) result = true
    }
    return undefined
  })
  return result
}

/** Decides which data calls make `auth` a gate here; empty when it is an attribute or there is no data. */
export function guarded(
  auth: Member,
  members: Member[],
  following: Node[],
  protectedData: (call: Call) => boolean,
): Member[] {
  const data = members.filter((m) => m.kind === 'data')
  if (data.length === 0) return []
  if (auth.kind === 'gate') return data
  const dataNames = new Set(data.flatMap((m) => m.names))
  if (usedAsGate(auth.names, following, dataNames)) return data
  return data.filter((m) => protectedData(m.call))
}

/** How `fanout/no-parallel-auth` names a call in a message. */
import type * as ESTree from 'estree'
import { calleeName, callLabel, unwrap, type Node } from '../rule-utils.js'

type Call = ESTree.CallExpression & Node

/**
 * A call as a message names it: `db.task.updateMany()`; a query chain by where it starts and
 * how it ends, `supabase.from('secrets').select()`, `db.selectFrom('membership')…execute()`.
 */
export function shortLabel(call: Call): string {
  let first = call
  let length = 1
  for (;;) {
    const callee = unwrap(first.callee as Node)
    const object = callee.type === 'MemberExpression' ? unwrap(callee.object as Node) : undefined
    if (object?.type !== 'CallExpression') break
    first = object as Call
    length++
  }
  if (length === 1) return callLabel(call)
  const arg = first.arguments[0]
  const literal =
    arg && arg.type === 'Literal' && typeof arg.value === 'string' ? `'${arg.value}'` : ''
  const start = `${callLabel(first).slice(0, -2)}(${literal})`
  return `${start}${length > 2 ? '…' : '.'}${calleeName(call) ?? ''}()`
}

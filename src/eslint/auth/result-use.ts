/**
 * How the code after a call uses the names its result is bound to, for
 * `fanout/no-parallel-auth`: a result that is never read or only tested makes the call a check;
 * one that is read as data makes it data.
 */
import { propertyName, walk, type Node } from '../rule-utils.js'

/**
 * - `unused`: never read;
 * - `tested`: read only in the test of an `if`, `switch` or `?:` (`if (project.ownerId !== userId)`);
 * - `keys`: read only in tests or for its ids (`project.id`, `team.orgId`);
 * - `data`: read in any other way (returned, spread, passed on).
 */
export type ResultUse = 'unused' | 'tested' | 'keys' | 'data'

const ID_FIELD = /^(id|_id|uuid|slug|key)$|(Id|_id|Ids)$/

/** How `following` (the statements after the call's own) reads `names`. */
export function resultUse(names: readonly string[], following: readonly Node[]): ResultUse {
  const wanted = new Set(names)
  let use = 'unused' as ResultUse
  for (const statement of following) {
    walk(
      statement,
      (node) => {
        if (use === 'data') return false
        if (node.type !== 'Identifier' || !wanted.has(node.name) || !isRead(node)) return undefined
        use = combine(use, readKind(node, statement))
        return undefined
      },
      { intoFunctions: true },
    )
    if (use === 'data') break
  }
  return use
}

const RANK: Record<ResultUse, number> = { unused: 0, tested: 1, keys: 2, data: 3 }
const combine = (a: ResultUse, b: ResultUse): ResultUse => (RANK[a] >= RANK[b] ? a : b)

/** False for names that are not reads: property keys, member names, declared names. */
function isRead(identifier: Node): boolean {
  const parent = identifier.parent
  if (!parent) return true
  if (parent.type === 'MemberExpression') return parent.object === identifier || parent.computed
  if (parent.type === 'Property')
    return parent.value === identifier || (parent.computed && parent.key === identifier)
  if (parent.type === 'VariableDeclarator') return parent.init === identifier
  return true
}

/** What one read does with the result: tests it, takes an id from it, or uses it as data. */
function readKind(identifier: Node, statement: Node): ResultUse {
  let child: Node = identifier
  let parent = identifier.parent
  const takesId =
    parent?.type === 'MemberExpression' &&
    parent.object === identifier &&
    ID_FIELD.test(propertyName(parent) ?? '')
  while (parent && child !== statement) {
    if (
      (parent.type === 'IfStatement' && parent.test === child) ||
      (parent.type === 'ConditionalExpression' && parent.test === child) ||
      (parent.type === 'SwitchStatement' && parent.discriminant === child)
    )
      return 'tested'
    child = parent
    parent = parent.parent
  }
  return takesId ? 'keys' : 'data'
}

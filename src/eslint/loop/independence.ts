/**
 * The independence proof of `fanout/no-await-in-loop-independent`: a loop body may run its
 * iterations concurrently when it has no early exit, no pacing, awaits only read-named calls,
 * and carries no value from one iteration to the next (results stored into an outer collection
 * that the loop never reads are allowed).
 */
import type * as ESTree from 'estree'
import {
  calleeSegments,
  isFunction,
  patternNames,
  propertyName,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'

/** How the rule judges awaited calls, from its options. */
export interface CallNames {
  /** A callee name that reads (so its order does not matter). */
  isRead: (name: string) => boolean
  /** A callee name that paces the loop (sleep, retry, poll…). */
  isPacing: (name: string) => boolean
}

const TRANSACTION_RECEIVERS = new Set(['tx', 'trx', 'transaction', 'txn', 't'])
/** Methods that store a result into a collection: `results.push(x)`, `map.set(k, v)`. */
export const RESULT_METHODS = new Set(['push', 'set', 'add'])

/**
 * Proves the iterations of a loop with this `body` independent; undefined when it cannot.
 * `perIteration` are the names the loop header binds afresh each iteration, `header` the
 * header expressions the body must not feed, and `skipUpdate` the counter update of a
 * `while` loop (the one write allowed).
 */
export function independent(
  body: Node,
  perIteration: Set<string>,
  header: Node[],
  names: CallNames,
  skipUpdate?: Node,
): { firstAwait: Node } | undefined {
  const firstAwait = firstAwaitIfPlain(body, names)
  if (!firstAwait) return undefined
  if (carriesValue(body, perIteration, header, skipUpdate)) return undefined
  return { firstAwait }
}

/** The body's first `await`, when nothing in it exits early, paces, writes or nests an awaiting loop. */
function firstAwaitIfPlain(body: Node, names: CallNames): Node | undefined {
  let firstAwait: Node | undefined
  let ok = true
  walk(body, (n) => {
    if (!ok) return false
    if (breaksProof(n, body, names)) {
      ok = false
      return false
    }
    if (n.type === 'AwaitExpression') firstAwait ??= n
    return undefined
  })
  return ok ? firstAwait : undefined
}

/** True when `n` alone rules the proof out. */
function breaksProof(n: Node, body: Node, names: CallNames): boolean {
  switch (n.type) {
    case 'BreakStatement':
    case 'ReturnStatement':
    case 'ThrowStatement':
    case 'YieldExpression':
    case 'LabeledStatement':
      return true
    case 'ContinueStatement':
      return n.label != null
    case 'AwaitExpression':
      // Awaiting an already-started promise is not a waterfall.
      return unwrap(n.argument as Node).type !== 'CallExpression'
    case 'CallExpression':
      return orderMatters(n, names)
    case 'ForOfStatement':
      if (n.await) return true
      break
  }
  // An inner loop that awaits has its own waterfall; this loop's rewrite would hide it.
  return n !== body && isLoop(n) && containsAwait(n)
}

/** True when the order of this call matters: pacing, a transaction, or an awaited non-read. */
function orderMatters(call: ESTree.CallExpression & Node, names: CallNames): boolean {
  const segments = calleeSegments(call.callee as Node)
  const last = segments[segments.length - 1] ?? ''
  if (segments.some((s) => names.isPacing(s))) return true
  if (segments.length > 1 && TRANSACTION_RECEIVERS.has(segments[0] ?? '')) return true
  return call.parent?.type === 'AwaitExpression' && !names.isRead(last)
}

function isLoop(n: Node): boolean {
  return (
    n.type === 'ForStatement' ||
    n.type === 'ForOfStatement' ||
    n.type === 'ForInStatement' ||
    n.type === 'WhileStatement' ||
    n.type === 'DoWhileStatement'
  )
}

/** True when `node` awaits outside nested functions. */
function containsAwait(node: Node): boolean {
  let found = false
  walk(node, (inner) => {
    if (inner.type === 'AwaitExpression') found = true
  })
  return found
}

/** What the carried-value check knows about the loop's names. */
interface LoopNames {
  /** Declared inside the body: written per iteration, not carried. */
  inside: Set<string>
  perIteration: Set<string>
  bodyReads: Map<string, Node[]>
  headerReads: Map<string, Node[]>
}

/** True when an iteration writes something declared outside the body that a later one may read. */
function carriesValue(
  body: Node,
  perIteration: Set<string>,
  header: Node[],
  skipUpdate: Node | undefined,
): boolean {
  const headerReads = new Map<string, Node[]>()
  for (const h of header)
    for (const [name, list] of reads(h))
      headerReads.set(name, [...(headerReads.get(name) ?? []), ...list])
  const names: LoopNames = {
    inside: declaredInside(body),
    perIteration,
    bodyReads: reads(body),
    headerReads,
  }
  let carried = false
  walk(
    body,
    (n) => {
      if (carried || n === skipUpdate) return false
      carried = writesOuter(n, names)
      return undefined
    },
    { intoFunctions: true },
  )
  return carried
}

const isOuter = (names: LoopNames, name: string): boolean =>
  !names.inside.has(name) && !names.perIteration.has(name)

/** True when `n` assigns, updates or stores into an outer name the loop also reads. */
function writesOuter(n: Node, names: LoopNames): boolean {
  if (n.type === 'AssignmentExpression' || n.type === 'UpdateExpression') {
    const target = unwrap((n.type === 'AssignmentExpression' ? n.left : n.argument) as Node)
    if (
      target.type === 'Identifier' ||
      target.type === 'ArrayPattern' ||
      target.type === 'ObjectPattern'
    )
      return patternNames(target).some((name) => isOuter(names, name))
    if (target.type !== 'MemberExpression') return false
    // `out[key] = await f(x)`: fine when the loop never reads `out` otherwise.
    const root = rootName(target)
    if (root === undefined || root === 'this') return true
    return isOuter(names, root) && !storeOnly(root, names)
  }
  if (n.type !== 'CallExpression') return false
  const callee = unwrap(n.callee as Node)
  if (callee.type !== 'MemberExpression' || !RESULT_METHODS.has(propertyName(callee) ?? ''))
    return false
  const object = unwrap(callee.object as Node)
  return (
    object.type === 'Identifier' && isOuter(names, object.name) && !storeOnly(object.name, names)
  )
}

function rootName(member: Node): string | undefined {
  let current = member
  while (current.type === 'MemberExpression') current = unwrap(current.object as Node)
  if (current.type === 'Identifier') return current.name
  if (current.type === 'ThisExpression') return 'this'
  return undefined
}

/** True when every read of `name` in the loop is as the store's own target (`name.push`, `name[k] =`). */
function storeOnly(name: string, { bodyReads, headerReads }: LoopNames): boolean {
  if (headerReads.has(name)) return false
  for (const id of bodyReads.get(name) ?? []) {
    const parent = id.parent
    if (!parent || parent.type !== 'MemberExpression' || parent.object !== id) return false
    const grand = parent.parent
    const isStoreCall =
      grand &&
      grand.type === 'CallExpression' &&
      grand.callee === parent &&
      RESULT_METHODS.has(propertyName(parent) ?? '')
    const isStoreAssign =
      grand &&
      grand.type === 'AssignmentExpression' &&
      grand.left === parent &&
      grand.operator === '='
    if (!isStoreCall && !isStoreAssign) return false
  }
  return true
}

/** Names declared inside `body` (so written per iteration, not carried). */
function declaredInside(body: Node): Set<string> {
  const names = new Set<string>()
  const add = (pattern: Node | null | undefined): void => {
    for (const name of patternNames(pattern)) names.add(name)
  }
  walk(
    body,
    (n) => {
      if (n.type === 'VariableDeclaration' && n.kind !== 'var')
        for (const d of n.declarations) add(d.id as Node)
      if (isFunction(n)) for (const p of n.params) add(p as Node)
      if (n.type === 'FunctionDeclaration' && n.id) names.add(n.id.name)
      if (n.type === 'CatchClause' && n.param) add(n.param as Node)
    },
    { intoFunctions: true },
  )
  return names
}

/** Identifier names read anywhere in `node`, functions included (property keys excluded). */
function reads(node: Node): Map<string, Node[]> {
  const out = new Map<string, Node[]>()
  walk(
    node,
    (n) => {
      if (n.type !== 'Identifier' || isPropertyKey(n)) return
      const list = out.get(n.name) ?? []
      list.push(n)
      out.set(n.name, list)
    },
    { intoFunctions: true },
  )
  return out
}

function isPropertyKey(n: Node): boolean {
  const parent = n.parent
  if (!parent) return false
  if (parent.type === 'MemberExpression') return parent.property === n && !parent.computed
  return parent.type === 'Property' && parent.key === n && !parent.computed && !parent.shorthand
}

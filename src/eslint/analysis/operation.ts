/**
 * The operation behind one `await` and what the user said about it: shared by the kinds of
 * member (a plain await, a conditional one, several in one statement, an existing Promise.all).
 */
import { calleeOf, classifyAwaited, type Operation } from './classify.js'
import { children, rangeOf, unwrapTs, type AnyNode } from './node.js'
import { isLogCall, isPureCall } from './pure.js'
import { classifyName } from './words.js'

export interface MemberOptions {
  readonly keys: Readonly<Record<string, readonly string[] | undefined>>
  /** Callee texts matching one of these are never grouped. */
  readonly ignore: readonly RegExp[]
  /** Callee texts the user declares reads, writes or gates (gates win, then writes). */
  readonly reads: readonly RegExp[]
  readonly writes: readonly RegExp[]
  readonly gates: readonly RegExp[]
  readonly text: (node: AnyNode) => string
  /** Is everything the declarator binds read only inside `node`? (Then a chain may hide it.) */
  readonly usedOnlyIn: (declarator: AnyNode, node: AnyNode) => boolean
}

export const MOVABLE: ReadonlySet<string> = new Set(['read', 'request'])
const COMBINATORS = /^Promise\.(all|allSettled|race|any)$/

/** The operation an await's argument is, with the user's own classes applied; null if never moved. */
export function operationOf(argument: AnyNode, opts: MemberOptions): Operation | null {
  const op = classifyAwaited(argument)
  if (!op?.call) return op
  const callee = opts.text(calleeOf(op.call))
  if (callee === 'Promise.all' && mapsReads(op.call, opts)) return { ...op, effect: 'read' }
  if (COMBINATORS.test(callee) || opts.ignore.some((re) => re.test(callee))) return null
  if (opts.gates.some((re) => re.test(callee))) return { ...op, effect: 'gate' }
  if (opts.writes.some((re) => re.test(callee))) return { ...op, effect: 'write' }
  const effect = opts.reads.some((re) => re.test(callee)) ? 'read' : op.effect
  // Whoever says the call reads, a handler chained on it still moves with it.
  if (MOVABLE.has(effect) && !handlersOnlyRead(op.element, opts))
    return { ...op, effect: 'unknown' }
  return effect === op.effect ? op : { ...op, effect }
}

/**
 * `Promise.all(ids.map((id) => getUser(id)))`: one read per item, started together. As a whole it
 * is a read beside other reads, when its callback only reads (and computes).
 */
function mapsReads(call: AnyNode, opts: MemberOptions): boolean {
  const args = call['arguments'] as AnyNode[]
  const mapped = args.length === 1 ? unwrapTs(args[0]!) : null
  if (mapped?.type !== 'CallExpression') return false
  const callee = unwrapTs(mapped['callee'] as AnyNode)
  const fn = (mapped['arguments'] as AnyNode[])[0]
  if (
    callee.type !== 'MemberExpression' ||
    (callee['property'] as AnyNode)['name'] !== 'map' ||
    !fn ||
    (fn.type !== 'ArrowFunctionExpression' && fn.type !== 'FunctionExpression')
  )
    return false
  const calls = callsIn(fn, opts)
  return calls.length > 0 && calls.every((c) => isReadOrPure(c))
}

/**
 * `getDoc(id).then((doc) => doc.save())`: a handler chained on the call runs with it, so what it
 * calls moves too. Only reads, pure code and log lines may (`res.json()`, `.catch(() => null)`).
 */
function handlersOnlyRead(element: AnyNode, opts: MemberOptions): boolean {
  for (let n = unwrapTs(element); n.type === 'CallExpression';) {
    const callee = unwrapTs(n['callee'] as AnyNode)
    if (callee.type !== 'MemberExpression') return true
    for (const arg of n['arguments'] as AnyNode[]) {
      if (arg.type !== 'ArrowFunctionExpression' && arg.type !== 'FunctionExpression') continue
      if (!callsIn(arg, opts).every((c) => isReadOrPure(c))) return false
    }
    n = unwrapTs(callee['object'] as AnyNode)
  }
  return true
}

function isReadOrPure(call: AnyNode): boolean {
  if (isPureCall(call) || isLogCall(call)) return true
  const op = call.type === 'NewExpression' ? null : classifyAwaited(call)
  return op !== null && MOVABLE.has(op.effect)
}

/** Every call, `new` and tagged template inside a node (nested functions included). */
function callsIn(node: AnyNode, opts: MemberOptions): AnyNode[] {
  const out: AnyNode[] = []
  const stack = [node]
  while (stack.length > 0) {
    const n = stack.pop()!
    if (
      n.type === 'CallExpression' ||
      n.type === 'NewExpression' ||
      n.type === 'TaggedTemplateExpression'
    )
      out.push(n)
    stack.push(...children(n, opts.keys))
  }
  return out
}

/**
 * Is the await evaluated only under a condition? `undefined`: no. The initialiser itself when it
 * is `cond ? await f() : value` or `a && await f()` (`||`, `??`): the element can keep the
 * condition. 'nested': any other conditional position (deeper in a branch, after `?.`), which no
 * rewrite can keep, so the statement stays where it is.
 */
export function conditionOf(awaitNode: AnyNode, init: AnyNode): AnyNode | 'nested' | undefined {
  let child = awaitNode
  let conditional: AnyNode | undefined
  for (let n = awaitNode.parent; n && child !== init; child = n, n = n.parent) {
    const branch =
      (n.type === 'ConditionalExpression' && n['test'] !== child) ||
      (n.type === 'LogicalExpression' && n['right'] === child) ||
      (n.type === 'ChainExpression' && !leftmostContains(n, awaitNode))
    if (!branch) continue
    if (conditional || n !== init || child !== awaitNode) return 'nested'
    conditional = n
  }
  return conditional
}

/** Is `node` inside the object an optional chain starts from (evaluated unconditionally)? */
function leftmostContains(chain: AnyNode, node: AnyNode): boolean {
  let n = unwrapTs(chain['expression'] as AnyNode)
  while (n.type === 'MemberExpression' || n.type === 'CallExpression')
    n = unwrapTs((n.type === 'MemberExpression' ? n['object'] : n['callee']) as AnyNode)
  const [s, e] = rangeOf(n)
  const [ns, ne] = rangeOf(node)
  return ns >= s && ne <= e
}

export function isGateCall(call: AnyNode, opts: MemberOptions): boolean {
  if (call.type !== 'CallExpression') return false
  const callee = unwrapTs(call['callee'] as AnyNode)
  const text = opts.text(callee)
  if (opts.gates.some((re) => re.test(text))) return true
  if (
    /^(JSON\.parse|String|Number|Boolean|Object\.(keys|values|entries|fromEntries)|Array\.from)$/.test(
      text,
    )
  )
    return false
  const name =
    callee.type === 'Identifier'
      ? (callee['name'] as string)
      : callee.type === 'MemberExpression' && !callee['computed']
        ? ((callee['property'] as AnyNode)['name'] as string)
        : ''
  return classifyName(name) === 'gate'
}

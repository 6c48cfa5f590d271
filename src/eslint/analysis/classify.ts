/**
 * What an awaited operation is, from its callee's shape and name: a cheap request-scoped read
 * (Next.js `headers()`, `request.json()`, `await params`), a network/database read, a gate
 * (auth, validation, `*OrThrow`, rate limit), a write, part of a transaction, or unknown.
 * Only reads and request-scoped reads may ever be grouped; everything else keeps its place.
 */
import { memberName, unwrapTs, type AnyNode } from './node.js'
import { classifyChain } from './data-layers.js'
import type { Effect } from './words.js'

export type { Effect } from './words.js'

export interface Operation {
  /** The call (or awaited identifier) that would go into `Promise.all`, `.catch`/`.then` kept. */
  readonly element: AnyNode
  /** The innermost call once `.catch`/`.then`/`.finally` are peeled off (null for `await params`). */
  readonly call: AnyNode | null
  /** Method or function name (`findMany`, `fetchUser`), '' when computed. */
  readonly name: string
  /** Root of the receiver chain (`db` in `db.user.findMany`, `this`), '' for a bare function. */
  readonly root: string
  readonly effect: Effect
  /** An `*OrThrow` read (`findUniqueOrThrow`): data, unless it is used as a check. */
  readonly orThrow: boolean
}

const REQUEST_FUNCTIONS = new Set(['headers', 'cookies', 'draftMode', 'connection'])
const REQUEST_PROMISES = new Set(['params', 'searchParams'])
const BODY_METHODS = new Set(['json', 'text', 'formData', 'arrayBuffer', 'blob'])
const REQUEST_NAMES = /^(req|request)$/i

const TRANSACTION_ROOT = /^(tx|trx|txn|t|transaction|trans|session)$/i
const TRANSACTION_NAME = /transaction/i
const GATE_ROOT =
  /^(auth|clerk|guard|limiter|ratelimit|ratelimiter|permissions?|acl|polic(y|ies)|captcha|csrf)$/i
/** Peel `.catch(...)`, `.then(...)`, `.finally(...)` off a call: `f().catch(h)` → `f()`. */
export function innerCall(node: AnyNode): AnyNode {
  let n = unwrapTs(node)
  for (;;) {
    if (n.type !== 'CallExpression') return n
    const callee = unwrapTs(n['callee'] as AnyNode)
    if (callee.type !== 'MemberExpression' || callee['computed']) return n
    const prop = callee['property'] as AnyNode
    const obj = unwrapTs(callee['object'] as AnyNode)
    if (
      prop.type === 'Identifier' &&
      ['catch', 'then', 'finally'].includes(prop['name'] as string) &&
      obj.type === 'CallExpression'
    ) {
      n = obj
      continue
    }
    return n
  }
}

/** The base of a member/call chain: `db` for `db.user.findMany`, `supabase` for `supabase.from('x').select()`. */
export function chainRoot(node: AnyNode): string {
  let n = unwrapTs(node)
  for (;;) {
    if (n.type === 'MemberExpression') n = unwrapTs(n['object'] as AnyNode)
    else if (n.type === 'CallExpression') n = unwrapTs(n['callee'] as AnyNode)
    else break
  }
  if (n.type === 'Identifier') return n['name'] as string
  if (n.type === 'ThisExpression' || n.type === 'Super') return 'this'
  return ''
}

/** Every name along a receiver chain (`db`, `user` for `db.user.findMany`), to spot `tx`/`auth` anywhere. */
function chainNames(node: AnyNode): string[] {
  const names: string[] = []
  let n = unwrapTs(node)
  for (;;) {
    if (n.type === 'MemberExpression') {
      const p = n['property'] as AnyNode
      if (!n['computed'] && p.type === 'Identifier') names.push(p['name'] as string)
      n = unwrapTs(n['object'] as AnyNode)
    } else if (n.type === 'CallExpression') {
      n = unwrapTs(n['callee'] as AnyNode)
    } else break
  }
  if (n.type === 'Identifier') names.push(n['name'] as string)
  return names
}

/** Classify the argument of one `await`; null when it is not an operation we could move. */
export function classifyAwaited(argument: AnyNode): Operation | null {
  const element = unwrapTs(argument)
  // `await params` / `await props.searchParams`: Next.js request-scoped promises.
  if (element.type === 'Identifier' || element.type === 'MemberExpression') {
    const last = element.type === 'Identifier' ? (element['name'] as string) : memberName(element)
    if (REQUEST_PROMISES.has(last))
      return {
        element,
        call: null,
        name: last,
        root: chainRoot(element),
        effect: 'request',
        orThrow: false,
      }
    return null // an already-started promise: awaiting it is not a waterfall
  }
  if (element.type !== 'CallExpression' && element.type !== 'TaggedTemplateExpression') return null
  const call = innerCall(element)
  if (call.type !== 'CallExpression' && call.type !== 'TaggedTemplateExpression') return null
  const callee = calleeOf(call)
  let name = ''
  if (callee.type === 'Identifier') name = callee['name'] as string
  else if (callee.type === 'MemberExpression') name = memberName(callee)
  const root = callee.type === 'Identifier' ? '' : chainRoot(callee)
  const names = callee.type === 'Identifier' ? [] : chainNames(callee).slice(1)
  let effect: Effect
  let orThrow = false
  if (callee.type === 'Identifier' && REQUEST_FUNCTIONS.has(name)) effect = 'request'
  else if (
    callee.type === 'MemberExpression' &&
    BODY_METHODS.has(name) &&
    REQUEST_NAMES.test(root) &&
    chainNames(callee).length === 2
  )
    effect = 'request'
  else if (names.some((n) => TRANSACTION_ROOT.test(n) || TRANSACTION_NAME.test(n)))
    effect = 'transaction'
  else if (names.some((n) => GATE_ROOT.test(n))) effect = 'gate'
  else ({ effect, orThrow } = classifyChain(call))
  return { element, call, name, root, effect, orThrow }
}

/** The function a call or tagged template calls. */
export function calleeOf(call: AnyNode): AnyNode {
  return unwrapTs(
    (call.type === 'TaggedTemplateExpression' ? call['tag'] : call['callee']) as AnyNode,
  )
}

/** Is this function the callback of an interactive transaction (`db.$transaction(async (tx) => ...)`)? */
export function isTransactionCallback(fn: AnyNode): boolean {
  const parent = fn.parent
  if (!parent || parent.type !== 'CallExpression' || parent['callee'] === fn) return false
  const callee = unwrapTs(parent['callee'] as AnyNode)
  const names = callee.type === 'Identifier' ? [callee['name'] as string] : chainNames(callee)
  if (
    names.some(
      (n) =>
        TRANSACTION_NAME.test(n) || /^(withTransaction|serializable|atomic|begin|tx)$/i.test(n),
    )
  )
    return true
  const params = fn['params'] as AnyNode[]
  return params.some((p) => p.type === 'Identifier' && TRANSACTION_ROOT.test(p['name'] as string))
}

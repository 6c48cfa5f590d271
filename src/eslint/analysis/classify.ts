/**
 * What an awaited operation is, from its callee's shape and name: a cheap request-scoped read
 * (Next.js `headers()`, `request.json()`, `await params`), a network/database read, a gate
 * (auth, validation, `*OrThrow`, rate limit), a write, part of a transaction, or unknown.
 * Only reads and request-scoped reads may ever be grouped; everything else keeps its place.
 */
import { isNode, unwrapTs, type AnyNode } from './node.js'

export type Effect = 'request' | 'read' | 'gate' | 'write' | 'transaction' | 'unknown'

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
}

const REQUEST_FUNCTIONS = new Set(['headers', 'cookies', 'draftMode', 'connection'])
const REQUEST_PROMISES = new Set(['params', 'searchParams'])
const BODY_METHODS = new Set(['json', 'text', 'formData', 'arrayBuffer', 'blob'])
const REQUEST_NAMES = /^(req|request)$/i

const TRANSACTION_ROOT = /^(tx|trx|txn|t|transaction|trans|session)$/i
const TRANSACTION_NAME = /transaction/i
const GATE_ROOT =
  /^(auth|clerk|guard|limiter|ratelimit|ratelimiter|permissions?|acl|polic(y|ies)|captcha|csrf)$/i
/** Words that make a call a gate wherever they appear in its name (camelCase / snake_case segments). */
const GATE_WORDS = new Set([
  'session',
  'sessions',
  'auth',
  'authenticate',
  'authorize',
  'authorise',
  'permission',
  'permissions',
  'access',
  'entitlement',
  'entitlements',
  'idempotency',
  'idempotent',
  'ratelimit',
  'csrf',
  'captcha',
  'token',
  'login',
  'signin',
])
/** First words of gate calls: `verifyUserToken`, `assertHasAiAccess`, `requireUser`, `checkQuota`. */
const GATE_FIRST = new Set([
  'auth',
  'authenticate',
  'authorize',
  'authorise',
  'validate',
  'assert',
  'check',
  'verify',
  'require',
  'ensure',
  'guard',
  'protect',
  'enforce',
  'must',
  'allow',
  'permit',
  'limit',
  'ratelimit',
  'throttle',
  'consume',
  'lock',
  'acquire',
  'login',
  'sign',
  'can',
  'is',
  'has',
  'parse',
  'deny',
  'reject',
])
/** Words that make a call a write wherever they appear: `getOrCreate`, `findOneAndUpdate`. */
const WRITE_WORDS = new Set([
  'create',
  'update',
  'upsert',
  'delete',
  'insert',
  'remove',
  'save',
  'increment',
  'decrement',
  'publish',
  'send',
  'write',
  'persist',
  'destroy',
  'replace',
  'append',
  'enqueue',
  'charge',
  'refund',
  'cancel',
  'submit',
  'revalidate',
  'refresh',
  'invalidate',
  'purge',
  'reset',
  'clear',
  'flush',
  'commit',
  'rollback',
  'upload',
  'notify',
  'emit',
  'dispatch',
  'trigger',
  'invoke',
  'execute',
  'exec',
  'mutate',
  'set',
  'put',
  'mark',
  'track',
  'patch',
  'store',
])
/** First words of writes. */
const WRITE_FIRST = new Set([
  ...WRITE_WORDS,
  'post',
  'add',
  'push',
  'pop',
  'shift',
  'del',
  'incr',
  'decr',
  'hset',
  'hdel',
  'sadd',
  'srem',
  'zadd',
  'zrem',
  'lpush',
  'rpush',
  'expire',
  'move',
  'copy',
  'rename',
  'mkdir',
  'unlink',
  'rm',
  'log',
  'start',
  'stop',
  'init',
  'setup',
  'pay',
  'book',
  'reserve',
  'claim',
  'approve',
  'archive',
  'restore',
  'enable',
  'disable',
  'toggle',
  'assign',
  'attach',
  'detach',
  'link',
  'run',
  'apply',
  'sync',
  'import',
  'register',
  'subscribe',
  'unsubscribe',
  'connect',
  'disconnect',
  'open',
  'close',
  'seed',
  'migrate',
  'record',
  'release',
  'unlock',
  'query',
  'sql',
  'raw',
  'call',
  'request',
  'send',
])
/** First words of reads: only these may ever be grouped. */
const READ_FIRST = new Set([
  'get',
  'fetch',
  'find',
  'load',
  'read',
  'list',
  'select',
  'count',
  'search',
  'lookup',
  'retrieve',
  'describe',
  'exists',
  'aggregate',
  'download',
  'stat',
  'readdir',
  'scan',
  'hget',
  'hgetall',
  'mget',
  'smembers',
  'zrange',
  'lrange',
  'sismember',
  'json',
  'text',
  'blob',
  'form',
  'array',
  'head',
  'compute',
  'calculate',
  'estimate',
  'render',
  'preview',
  'summarize',
  'summarise',
  'translate',
  'embed',
  'classify',
  'recommend',
  'suggest',
  'geocode',
  'group',
  'query',
])

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_$]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase())
}

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

/** Classify a callee by the words of its name; unknown unless a read is evident. */
export function classifyName(name: string): Effect {
  const ws = words(name)
  const first = ws[0]
  if (first === undefined) return 'unknown'
  if (/OrThrow$/.test(name) || GATE_FIRST.has(first) || ws.some((w) => GATE_WORDS.has(w)))
    return 'gate'
  if (ws.some((w, i) => w === 'current' && ws[i + 1] === 'user')) return 'gate'
  if (ws.includes('transaction')) return 'transaction'
  if (WRITE_FIRST.has(first) || ws.some((w) => WRITE_WORDS.has(w))) return 'write'
  if (READ_FIRST.has(first)) return first === 'query' && ws.length === 1 ? 'unknown' : 'read'
  return 'unknown'
}

/** `fetch(url)` or `fetch(url, { method: 'GET' })` reads; any other method, or an init we cannot see, does not. */
function fetchEffect(call: AnyNode): Effect {
  const args = call['arguments'] as AnyNode[]
  if (args.length <= 1) return args[0]?.type === 'SpreadElement' ? 'unknown' : 'read'
  const init = unwrapTs(args[1] as AnyNode)
  if (init.type !== 'ObjectExpression') return 'unknown'
  for (const p of init['properties'] as AnyNode[]) {
    if (p.type !== 'Property') return 'unknown'
    const key = p['key'] as AnyNode
    const keyName = key.type === 'Identifier' ? key['name'] : key['value']
    if (keyName === 'method') {
      const v = unwrapTs(p['value'] as AnyNode)
      if (
        v.type === 'Literal' &&
        typeof v['value'] === 'string' &&
        /^(get|head)$/i.test(v['value'])
      )
        continue
      return 'write'
    }
  }
  return 'read'
}

/** Classify the argument of one `await`; null when it is not an operation we could move. */
export function classifyAwaited(argument: AnyNode): Operation | null {
  const element = unwrapTs(argument)
  // `await params` / `await props.searchParams`: Next.js request-scoped promises.
  if (element.type === 'Identifier' || element.type === 'MemberExpression') {
    const last = element.type === 'Identifier' ? (element['name'] as string) : memberName(element)
    if (REQUEST_PROMISES.has(last))
      return { element, call: null, name: last, root: chainRoot(element), effect: 'request' }
    return null // an already-started promise: awaiting it is not a waterfall
  }
  if (element.type !== 'CallExpression') return null
  const call = innerCall(element)
  if (call.type !== 'CallExpression') return null
  const callee = unwrapTs(call['callee'] as AnyNode)
  let name = ''
  if (callee.type === 'Identifier') name = callee['name'] as string
  else if (callee.type === 'MemberExpression') name = memberName(callee)
  const root = callee.type === 'Identifier' ? '' : chainRoot(callee)
  const names = callee.type === 'Identifier' ? [] : chainNames(callee).slice(1)
  let effect: Effect
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
  else if (callee.type === 'Identifier' && name === 'fetch') effect = fetchEffect(call)
  else effect = classifyName(name)
  // A read whose chain goes through a write-named step (`db.update(t).set(v).where(...)`) is a write.
  if (
    effect === 'read' &&
    names.slice(1).some((n) => classifyName(n) === 'write' || classifyName(n) === 'gate')
  )
    effect = 'unknown'
  return { element, call, name, root, effect }
}

function memberName(member: AnyNode): string {
  const p = member['property'] as AnyNode
  if (!member['computed'] && p.type === 'Identifier') return p['name'] as string
  if (isNode(p) && p.type === 'Literal' && typeof p['value'] === 'string') return p['value']
  return ''
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

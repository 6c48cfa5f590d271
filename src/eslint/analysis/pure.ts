/**
 * Synchronous statements that may sit between the members of a group: they call nothing but
 * well-known side-effect-free functions (`rows.map(r => r.id)`, `new URL(req.url)`, a `Map.get`,
 * `Number(…)`, `JSON.stringify`), or functions of the same module that only compute. A statement
 * that calls anything else (a logger aside) might do I/O or change state a later call reads, so it
 * stays a barrier.
 */
import { children, isNode, memberName, unwrapTs, type AnyNode } from './node.js'
import { classifyName } from './words.js'

/** Methods that read their receiver and return a new value: arrays, strings, maps, URLs, dates, regexps. */
const PURE_METHODS = new Set([
  'map',
  'filter',
  'reduce',
  'reduceRight',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'some',
  'every',
  'forEach',
  'includes',
  'indexOf',
  'lastIndexOf',
  'slice',
  'concat',
  'join',
  'flat',
  'flatMap',
  'at',
  'keys',
  'values',
  'entries',
  'get',
  'getAll',
  'has',
  'toString',
  'toLowerCase',
  'toUpperCase',
  'toLocaleLowerCase',
  'toLocaleUpperCase',
  'trim',
  'trimStart',
  'trimEnd',
  'split',
  'startsWith',
  'endsWith',
  'replace',
  'replaceAll',
  'padStart',
  'padEnd',
  'substring',
  'charAt',
  'charCodeAt',
  'codePointAt',
  'normalize',
  'repeat',
  'match',
  'matchAll',
  'test',
  'localeCompare',
  'toFixed',
  'toPrecision',
  'toISOString',
  'toLocaleString',
  'toLocaleDateString',
  'toLocaleTimeString',
  'getTime',
  'valueOf',
  'toSorted',
  'toReversed',
  'toSpliced',
])
/** Global functions without side effects. */
const PURE_FUNCTIONS = new Set([
  'String',
  'Number',
  'Boolean',
  'BigInt',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
  'encodeURIComponent',
  'decodeURIComponent',
  'encodeURI',
  'decodeURI',
  'structuredClone',
])
/** `Namespace.fn(…)` without side effects. */
const PURE_STATICS: Readonly<Record<string, ReadonlySet<string> | 'all'>> = {
  Math: 'all',
  JSON: new Set(['parse', 'stringify']),
  Object: new Set(['keys', 'values', 'entries', 'fromEntries', 'freeze', 'hasOwn', 'is']),
  Array: new Set(['from', 'isArray', 'of']),
  Number: new Set(['parseInt', 'parseFloat', 'isInteger', 'isFinite', 'isNaN', 'isSafeInteger']),
  Date: new Set(['now', 'parse', 'UTC']),
}
/** Constructors of plain values. */
const PURE_CONSTRUCTORS = new Set([
  'URL',
  'URLSearchParams',
  'Date',
  'Map',
  'Set',
  'Headers',
  'RegExp',
  'Error',
  'TypeError',
  'RangeError',
  'TextEncoder',
  'TextDecoder',
  'Array',
])

export function isPureCall(call: AnyNode): boolean {
  if (call.type === 'TaggedTemplateExpression') return false
  const callee = unwrapTs(call['callee'] as AnyNode)
  if (call.type === 'NewExpression') {
    if (callee.type === 'Identifier') return PURE_CONSTRUCTORS.has(callee['name'] as string)
    // `new Intl.NumberFormat(…)`
    return (
      callee.type === 'MemberExpression' && unwrapTs(callee['object'] as AnyNode)['name'] === 'Intl'
    )
  }
  if (callee.type === 'Identifier') return PURE_FUNCTIONS.has(callee['name'] as string)
  if (callee.type !== 'MemberExpression' || callee['computed']) return false
  const method = (callee['property'] as AnyNode)['name'] as string
  const object = unwrapTs(callee['object'] as AnyNode)
  if (object.type === 'Identifier') {
    const statics = PURE_STATICS[object['name'] as string]
    if (statics !== undefined) return statics === 'all' || statics.has(method)
  }
  return PURE_METHODS.has(method)
}

/**
 * Does this statement call only side-effect-free functions, callbacks included? (Assignments are
 * checked separately: the caller's facts say whether anything is mutated.)
 */
export function callsOnlyPure(
  stmt: AnyNode,
  keys: Readonly<Record<string, readonly string[] | undefined>>,
): boolean {
  const stack: AnyNode[] = [stmt]
  while (stack.length > 0) {
    const node = stack.pop()!
    if (node.type === 'AwaitExpression' || node.type === 'YieldExpression') return false
    if (
      (node.type === 'CallExpression' ||
        node.type === 'NewExpression' ||
        node.type === 'TaggedTemplateExpression') &&
      !isPureCall(node) &&
      !isPureHelperCall(node, keys)
    )
      return false
    for (const c of children(node, keys)) if (isNode(c)) stack.push(c)
  }
  return true
}

type Keys = Readonly<Record<string, readonly string[] | undefined>>

const LOGGERS = /^(console|logger|log)$/

/** `console.log(…)`, `logger.info(…)`, `this.logger.debug(…)`, Fastify's `request.log.info(…)`. */
export function isLogCall(call: AnyNode): boolean {
  const callee = unwrapTs(call['callee'] as AnyNode)
  if (callee.type !== 'MemberExpression') return false
  const object = unwrapTs(callee['object'] as AnyNode)
  const name =
    object.type === 'Identifier'
      ? object['name']
      : object.type === 'MemberExpression'
        ? memberName(object)
        : undefined
  return typeof name === 'string' && LOGGERS.test(name)
}

/** Does this call itself (not its arguments) only compute? */
export function isPureCallee(call: AnyNode, keys: Keys): boolean {
  return isPureCall(call) || isPureHelperCall(call, keys)
}

/** Per helper function: does it only compute? (false while being checked: recursion is not pure.) */
const helpers = new WeakMap<AnyNode, boolean>()

/**
 * `buildWhere(filters)`, `toSlug(name)`: a call of a function declared at the top of this module
 * that only computes — not async, nothing assigned (its own locals included), no `throw` (a
 * function that throws is a check), no name that reads as a gate, and only pure calls inside.
 */
function isPureHelperCall(call: AnyNode, keys: Keys): boolean {
  const fn = call.type === 'CallExpression' ? localFunction(call) : null
  if (!fn || fn['async'] || fn['generator']) return false
  const known = helpers.get(fn)
  if (known !== undefined) return known
  helpers.set(fn, false)
  const body = fn['body'] as AnyNode
  const pure =
    !hasAny(body, keys, ['ThrowStatement', 'AssignmentExpression', 'UpdateExpression']) &&
    callsOnlyPure(body, keys)
  helpers.set(fn, pure)
  return pure
}

/** Per module: its top-level functions by name (`function f` and `const f = (…) => …`). */
const moduleFunctions = new WeakMap<AnyNode, ReadonlyMap<string, AnyNode>>()

function functionsOf(program: AnyNode): ReadonlyMap<string, AnyNode> {
  let found = moduleFunctions.get(program)
  if (found) return found
  const map = new Map<string, AnyNode>()
  for (const top of (program['body'] as AnyNode[] | undefined) ?? []) {
    const stmt =
      top.type === 'ExportNamedDeclaration' && top['declaration']
        ? (top['declaration'] as AnyNode)
        : top
    const id = stmt['id'] as AnyNode | null | undefined
    if (stmt.type === 'FunctionDeclaration' && id) map.set(id['name'] as string, stmt)
    if (stmt.type !== 'VariableDeclaration' || stmt['kind'] !== 'const') continue
    for (const d of stmt['declarations'] as AnyNode[]) {
      const init = d['init'] as AnyNode | null
      const fn = init ? unwrapTs(init) : null
      if (fn && (fn.type === 'ArrowFunctionExpression' || fn.type === 'FunctionExpression'))
        map.set((d['id'] as AnyNode)['name'] as string, fn)
    }
  }
  found = map
  moduleFunctions.set(program, found)
  return found
}

/** The top-level function of this module that a call calls, unless its name reads as a gate. */
function localFunction(call: AnyNode): AnyNode | null {
  const callee = unwrapTs(call['callee'] as AnyNode)
  if (callee.type !== 'Identifier') return null
  const name = callee['name'] as string
  if (classifyName(name) === 'gate') return null
  let program = call
  while (program.parent) program = program.parent
  return functionsOf(program).get(name) ?? null
}

function hasAny(node: AnyNode, keys: Keys, types: readonly string[]): boolean {
  const stack = [node]
  while (stack.length > 0) {
    const n = stack.pop()!
    if (types.includes(n.type)) return true
    if (n.type === 'UnaryExpression' && n['operator'] === 'delete') return true
    stack.push(...children(n, keys))
  }
  return false
}

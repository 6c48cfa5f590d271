/**
 * The start-early check of `fanout/no-parallel-auth`, within one block:
 * `const p = data(); await verify(); await p` (the data call started before the check finished)
 * and `const a = verify(); await data(); await a` (a data call awaited while the check is still
 * pending).
 */
import {
  callOf,
  patternNames,
  promiseCombinator,
  readNames,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'
import { baseCall, isAuthKind, isDataKind, type Call, type Kind, type Member } from './classify.js'
import { shortLabel } from './label.js'
import { authLabel, callList, type AuthRule, type Guard } from './report.js'

/** A call bound to a `const` without awaiting it, awaited in a later statement. */
interface Pending {
  name: string
  call: Call
  kind: Kind
  /** Index of the statement that started it. */
  index: number
  /** True when every later read is a bare `await name` statement: the result is dropped. */
  discarded: boolean
}

/** Checks the statements of one block. */
export function checkStartEarly(rule: AuthRule, body: Node[]): void {
  const awaited = body.map(awaitedIdentifiers)
  const awaitedIn = (name: string, from: number, to?: number): boolean =>
    awaited.slice(from, to).some((names) => names.has(name))
  const pending: Pending[] = []
  body.forEach((statement, index) => {
    // 1. Record un-awaited calls bound to a const that is awaited later.
    pending.push(...startedHere(rule, body, index, awaitedIn))
    // 2. An await of a call in this statement, while something started earlier is still pending:
    // started before this statement, not awaited since, and awaited after it.
    const open = pending.filter(
      (p) =>
        p.index < index &&
        !awaitedIn(p.name, p.index + 1, index + 1) &&
        awaitedIn(p.name, index + 1),
    )
    const names =
      statement.type === 'VariableDeclaration'
        ? statement.declarations.flatMap((d) => patternNames(d.id as Node))
        : []
    const following = body.slice(index + 1)
    for (const call of awaitedCalls(statement)) {
      const member: Member = { call, kind: rule.classify(call), names }
      // `await check()` as a statement of its own: the result is dropped.
      if (statement.type === 'ExpressionStatement' && callOf(statement.expression as Node) === call)
        member.discarded = true
      checkAwaitedCall(rule, member, open, following)
    }
  })
}

/** The calls `statement` binds to a `const` unawaited and that a later statement awaits. */
function startedHere(
  rule: AuthRule,
  body: Node[],
  index: number,
  awaitedIn: (name: string, from: number) => boolean,
): Pending[] {
  const statement = body[index] as Node
  if (statement.type !== 'VariableDeclaration' || statement.kind !== 'const') return []
  const started: Pending[] = []
  for (const declarator of statement.declarations) {
    if (declarator.id.type !== 'Identifier' || !declarator.init) continue
    const init = unwrap(declarator.init as Node)
    if (init.type !== 'CallExpression' || promiseCombinator(init)) continue
    if (!awaitedIn(declarator.id.name, index + 1)) continue
    const call = init as Call
    const name = declarator.id.name
    const discarded = onlyAwaitedBare(name, body.slice(index + 1))
    started.push({ name, call, kind: rule.classify(call), index, discarded })
  }
  return started
}

/** An awaited auth call while data runs, or an awaited data call while auth is pending. */
function checkAwaitedCall(
  rule: AuthRule,
  member: Member,
  open: Pending[],
  following: Node[],
): void {
  const asMember = (p: Pending): Member => ({
    call: p.call,
    kind: p.kind,
    names: [p.name],
    discarded: p.discarded,
  })
  if (isAuthKind(member.kind)) {
    const early = open.filter((p) => isDataKind(p.kind)).map(asMember)
    if (early.length > 0) {
      const guard = rule.guarded(member, [member, ...early], following)
      if (guard) reportEarly(rule, member.call, guard)
    }
  }
  if (isDataKind(member.kind)) {
    // An auth promise started earlier and awaited only later: this data call runs beside it.
    for (const p of open) {
      if (!isAuthKind(p.kind)) continue
      const auth = asMember(p)
      const guard = rule.guarded(auth, [auth, member], following)
      if (guard) reportEarly(rule, p.call, guard)
    }
  }
}

function reportEarly(rule: AuthRule, auth: Call, guard: Guard): void {
  if (rule.reportedEarly.has(auth)) return
  rule.reportedEarly.add(auth)
  const one = guard.data.length === 1
  rule.context.report({
    node: auth,
    messageId: 'startedEarly',
    data: {
      auth: authLabel(auth),
      awaitAuth: `\`await ${shortLabel(baseCall(auth))}\``,
      data: callList(guard.data),
      is: one ? 'is' : 'are',
      it: one ? 'it' : 'they',
      s: one ? 's' : '',
      why: guard.why,
    },
  })
}

/** True when `name` is read only as `await name;` statements in `statements`. */
function onlyAwaitedBare(name: string, statements: Node[]): boolean {
  let other = false
  for (const statement of statements) {
    const bare =
      statement.type === 'ExpressionStatement' &&
      statement.expression.type === 'AwaitExpression' &&
      statement.expression.argument.type === 'Identifier' &&
      statement.expression.argument.name === name
    if (!bare && readNames(statement, { intoFunctions: true }).has(name)) other = true
  }
  return !other
}

/** The calls `statement` awaits directly (not through a Promise combinator). */
function awaitedCalls(statement: Node): Call[] {
  const calls: Call[] = []
  walk(statement, (n) => {
    if (n.type === 'AwaitExpression') {
      const call = callOf(n.argument as Node)
      if (call && !promiseCombinator(call)) calls.push(call)
    }
  })
  return calls
}

/** Identifiers awaited in `statement`, alone or in `await Promise.all([a, b])`. */
function awaitedIdentifiers(statement: Node): Set<string> {
  const names = new Set<string>()
  walk(statement, (n) => {
    if (n.type !== 'AwaitExpression') return
    const argument = unwrap(n.argument as Node)
    if (argument.type === 'Identifier') names.add(argument.name)
    if (argument.type !== 'CallExpression' || !promiseCombinator(argument)) return
    const first = argument.arguments[0]
    if (first && first.type === 'ArrayExpression')
      for (const e of first.elements) if (e && e.type === 'Identifier') names.add(e.name)
  })
  return names
}

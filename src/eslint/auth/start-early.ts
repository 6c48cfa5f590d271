/**
 * The start-early check of `fanout/no-parallel-auth`, within one block:
 * `const p = data(); await verify(); await p` (the data call started before the check finished)
 * and `const a = verify(); await data(); await a` (a data call awaited while the check is still
 * pending).
 */
import {
  callLabel,
  callOf,
  patternNames,
  promiseCombinator,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'
import { baseCall, type Call, type Kind, type Member } from './classify.js'
import { callList, type AuthRule } from './report.js'

/** A call bound to a `const` without awaiting it, awaited in a later statement. */
interface Pending {
  name: string
  call: Call
  kind: Kind
  /** Index of the statement that started it. */
  index: number
}

/** Checks the statements of one block. */
export function checkStartEarly(rule: AuthRule, body: Node[]): void {
  const awaited = body.map(awaitedIdentifiers)
  const awaitedIn = (name: string, from: number, to?: number): boolean =>
    awaited.slice(from, to).some((names) => names.has(name))
  const pending: Pending[] = []
  body.forEach((statement, index) => {
    // 1. Record un-awaited calls bound to a const that is awaited later.
    pending.push(...startedHere(rule, statement, index, awaitedIn))
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
    for (const call of awaitedCalls(statement))
      checkAwaitedCall(rule, { call, kind: rule.classify(call), names }, open, following)
  })
}

/** The calls `statement` binds to a `const` unawaited and that a later statement awaits. */
function startedHere(
  rule: AuthRule,
  statement: Node,
  index: number,
  awaitedIn: (name: string, from: number) => boolean,
): Pending[] {
  if (statement.type !== 'VariableDeclaration' || statement.kind !== 'const') return []
  const started: Pending[] = []
  for (const declarator of statement.declarations) {
    if (declarator.id.type !== 'Identifier' || !declarator.init) continue
    const init = unwrap(declarator.init as Node)
    if (init.type !== 'CallExpression' || promiseCombinator(init)) continue
    if (!awaitedIn(declarator.id.name, index + 1)) continue
    const call = init as Call
    started.push({ name: declarator.id.name, call, kind: rule.classify(call), index })
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
  const asMember = (p: Pending): Member => ({ call: p.call, kind: p.kind, names: [p.name] })
  if (member.kind === 'gate' || member.kind === 'session') {
    const early = open.filter((p) => p.kind === 'data').map(asMember)
    if (early.length === 0) return
    const data = rule.guarded(member, early, following)
    if (data.length > 0) reportEarly(rule, member.call, data)
  } else if (member.kind === 'data') {
    // An auth promise started earlier and awaited only later: this data call runs beside it.
    for (const p of open) {
      if (p.kind !== 'gate' && p.kind !== 'session') continue
      const data = rule.guarded(asMember(p), [member], following)
      if (data.length > 0) reportEarly(rule, p.call, data)
    }
  }
}

function reportEarly(rule: AuthRule, auth: Call, data: Member[]): void {
  if (rule.reportedEarly.has(auth)) return
  rule.reportedEarly.add(auth)
  const one = data.length === 1
  rule.context.report({
    node: auth,
    messageId: 'startedEarly',
    data: {
      auth: callLabel(baseCall(auth)),
      data: callList(data),
      is: one ? 'is' : 'are',
      it: one ? 'it' : 'they',
      s: one ? 's' : '',
    },
  })
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

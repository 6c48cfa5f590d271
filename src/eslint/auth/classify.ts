/**
 * Classification of calls for `fanout/no-parallel-auth`: which calls are auth gates, session
 * lookups, public/request context or data reads, and whether a data read carries evidence that it
 * needs the gate (user-scoped arguments, private names, a write). Names come from the rule's
 * options (or the defaults in `auth-patterns`); session calls may also be found by return type.
 */
import type { Rule } from 'eslint'
import type * as ESTree from 'estree'
import {
  DEFAULT_GATE_PATTERNS,
  DEFAULT_MUTATION_PATTERNS,
  DEFAULT_PRIVATE_PATTERNS,
  DEFAULT_PUBLIC_PATTERNS,
  DEFAULT_SCOPE_PATTERNS,
  DEFAULT_SESSION_PATTERNS,
  DEFAULT_SESSION_TYPE_PATTERNS,
  DEFAULT_TASK_PATTERNS,
} from '../auth-patterns.js'
import {
  calleeSegments,
  chainStrings,
  nameMatcher,
  propertyName,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'
import type { NoParallelAuthOptions } from './options.js'
import { sessionTypeDetector } from './session-type.js'

export type Call = ESTree.CallExpression & Node

export type Kind = 'gate' | 'session' | 'public' | 'data'

/** A call started beside others, with its kind and the names its result is bound to. */
export interface Member {
  call: Call
  kind: Kind
  /** Names the element's result is bound to. */
  names: string[]
}

/** Matches a call by the last callee segment, or by a dotted suffix for patterns containing `.`. */
function segmentMatcher(patterns: readonly string[]): (segments: string[]) => boolean {
  const plain = nameMatcher(patterns.filter((p) => !p.includes('.') || p.startsWith('/')))
  const dotted = patterns
    .filter((p) => p.includes('.') && !p.startsWith('/'))
    .map((p) => ({ parts: p.split('.').length, match: nameMatcher([p]) }))
  return (segments) => {
    const last = segments[segments.length - 1]
    if (last !== undefined && plain(last)) return true
    return dotted.some(
      ({ parts, match }) => segments.length >= parts && match(segments.slice(-parts).join('.')),
    )
  }
}

/** `x().then(...)`/`.catch`/`.finally` → `x()`. */
export function baseCall(call: Call): Call {
  let current = call
  for (;;) {
    const callee = unwrap(current.callee as Node)
    if (callee.type !== 'MemberExpression') return current
    const name = propertyName(callee)
    const inner = unwrap(callee.object as Node)
    if (
      (name === 'then' || name === 'catch' || name === 'finally') &&
      inner.type === 'CallExpression'
    )
      current = inner as Call
    else return current
  }
}

/** The matchers and call classifiers built from one set of rule options. */
export interface AuthClassifier {
  /** True when a callee's segments name a gate call. */
  isGate(segments: string[]): boolean
  /** True when a flow task name means "auth". */
  isAuthTask(name: string): boolean
  classify(call: Call): Kind
  /** Evidence that a data call needs the gate: user-scoped arguments, private names, or a write. */
  protectedData(call: Call): boolean
}

export function authClassifier(
  options: NoParallelAuthOptions,
  sourceCode: Rule.RuleContext['sourceCode'],
): AuthClassifier {
  const isGate = segmentMatcher([
    ...(options.gatePatterns ?? DEFAULT_GATE_PATTERNS),
    ...(options.extraGatePatterns ?? []),
  ])
  const isSession = segmentMatcher([
    ...(options.sessionPatterns ?? DEFAULT_SESSION_PATTERNS),
    ...(options.extraSessionPatterns ?? []),
  ])
  const isPublic = segmentMatcher([
    ...(options.publicPatterns ?? DEFAULT_PUBLIC_PATTERNS),
    ...(options.extraPublicPatterns ?? []),
  ])
  const isPrivateName = nameMatcher([
    ...(options.privatePatterns ?? DEFAULT_PRIVATE_PATTERNS),
    ...(options.extraPrivatePatterns ?? []),
  ])
  const isScopeName = nameMatcher(options.scopePatterns ?? DEFAULT_SCOPE_PATTERNS)
  const isMutation = nameMatcher(options.mutationPatterns ?? DEFAULT_MUTATION_PATTERNS)
  const isAuthTask = nameMatcher(options.taskPatterns ?? DEFAULT_TASK_PATTERNS)
  const isSessionType = nameMatcher(options.sessionTypePatterns ?? DEFAULT_SESSION_TYPE_PATTERNS)
  const sessionByType = sessionTypeDetector(sourceCode, isSessionType)

  function classify(rawCall: Call): Kind {
    const call = baseCall(rawCall)
    const segments = calleeSegments(call.callee as Node)
    if (segments.length === 0) return 'data'
    if (isGate(segments)) return 'gate'
    if (isSession(segments)) return 'session'
    if (isPublic(segments)) return 'public'
    if (sessionByType(call)) return 'session'
    return 'data'
  }

  /** Evidence that a data call needs the gate: user-scoped arguments, private names, or a write. */
  function protectedData(rawCall: Call): boolean {
    const call = baseCall(rawCall)
    const segments = calleeSegments(call.callee as Node)
    const last = segments[segments.length - 1] ?? ''
    if (isMutation(last)) return true
    if (segments.some((segment) => isPrivateName(segment))) return true
    if (chainStrings(call).some((text) => isPrivateName(text))) return true
    let scoped = false
    const scan = (node: Node): void =>
      walk(node, (current) => {
        if (current.type === 'Identifier' && isScopeName(current.name)) scoped = true
      })
    for (const argument of call.arguments) scan(argument as Node)
    // Arguments of calls earlier in the chain: `db.from('x').eq('user_id', userId)`.
    let receiver = unwrap(call.callee as Node)
    while (receiver.type === 'MemberExpression') {
      const object = unwrap(receiver.object as Node)
      if (object.type === 'CallExpression') {
        for (const argument of object.arguments) scan(argument as Node)
        receiver = unwrap(object.callee as Node)
      } else receiver = object
    }
    return scoped
  }

  return { isGate, isAuthTask, classify, protectedData }
}
